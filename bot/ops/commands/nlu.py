"""`loket nlu add INTENT "example"` and `loket nlu check`: the training data from a terminal.

`add` writes one example into the right file under nlu_data/ as one new line (beside the
closest existing example of that intent; comments and formatting untouched), or says why not:
a duplicate or near duplicate (which example, where), the same text under another intent, an
unknown intent or entity, a malformed entity mark. Mark entities as `[Depok](area)`.

`check` runs Rasa's own `rasa data validate` on the project's files, then Loket's checks, each
finding with its file and line: an example under two intents, duplicates, malformed or unknown
entity marks, intents with too few examples in a language, intents and entities declared but
unused. It exits 1 when there is an error (warnings alone exit 0).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bot.core.errors import ExampleRefused, LoketError
from bot.core.settings import PROJECT_ROOT, Settings
from bot.nlu import NluBook, check_folder
from bot.ops.model import ModelInputs, rasa_env

DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
STORIES = PROJECT_ROOT / "bot" / "data"


def book(settings: Settings) -> NluBook:
    folder = settings.nlu_data_dir
    if not folder.is_dir():
        raise LoketError(f"no NLU data folder at {folder} (LOKET_NLU_DATA_DIR)")
    return NluBook(folder, DOMAIN, root=PROJECT_ROOT)


def add(settings: Settings, args: argparse.Namespace) -> None:
    try:
        placed = book(settings).add(args.intent, args.example)
    except ExampleRefused as exc:
        raise LoketError(f"not added: {exc}") from None
    print(f"added to {placed.path}:{placed.line} under {placed.intent}: {placed.text}")


def rasa_validate(folder: Path) -> int:
    """Rasa's own validation of domain, stories, rules and examples; its exit status."""
    command = [
        sys.executable, "-m", "rasa", "data", "validate", "--domain", str(DOMAIN),
        "--config", str(ModelInputs(PROJECT_ROOT).config), "--data", str(STORIES), str(folder),
    ]  # fmt: skip
    print("==> rasa data validate (Rasa's own checks)", flush=True)
    try:
        return subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_env(), timeout=600).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LoketError(f"cannot run `rasa data validate`: {exc}") from exc


def check(settings: Settings, args: argparse.Namespace) -> int:
    folder = book(settings).folder
    status = 0
    if not args.no_rasa and rasa_validate(folder) != 0:
        print("rasa data validate found errors (above)")
        status = 1
    print("==> Loket's checks", flush=True)
    findings = check_folder(
        folder, DOMAIN, stories=STORIES, root=PROJECT_ROOT, min_per_language=args.min_per_language
    )
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if f.level == "error")
    print(f"{errors} error(s), {len(findings) - errors} warning(s)")
    return 1 if errors else status


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.nlu_command == "add":
        add(settings, args)
        return 0
    return check(settings, args)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    nlu = sub.add_parser(
        "nlu",
        help="add a training example, or check the training data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = nlu.add_subparsers(dest="nlu_command", required=True, metavar="ACTION")
    adding = actions.add_parser(
        "add", help="write one example under an intent in nlu_data/ (refused with the reason)"
    )
    adding.add_argument("intent", help="the intent, e.g. check_bill, or out_of_scope")
    adding.add_argument("example", help='the text; mark entities as "[Depok](area)"')
    checking = actions.add_parser(
        "check", help="rasa data validate, then Loket's checks, each with file and line"
    )
    checking.add_argument(
        "--no-rasa", action="store_true", help="only Loket's checks (Rasa's take a minute)"
    )
    checking.add_argument(
        "--min-per-language", type=_count, default=10, metavar="N",
        help="warn about an intent with fewer examples than this in a language (default 10)",
    )  # fmt: skip
    return nlu
