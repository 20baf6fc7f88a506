"""The NLU files as lines: where each intent's block and each example stands, so an example can
be added as one new line and every other byte of the file stays as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ITEM = re.compile(r"^(?P<indent>\s*)- (?P<kind>intent|regex|synonym|lookup):\s*(?P<name>.*?)\s*$")
_EXAMPLES = re.compile(r"^(?P<indent>\s*)examples:\s*\|[-+]?\s*(#.*)?$")
_EXAMPLE = re.compile(r"^(?P<indent>\s*)- (?P<text>.*?)\s*$")
_COMMENT = re.compile(r"\s+#.*$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(frozen=True, slots=True)
class Example:
    """One example line: its intent, text as written (with entity marks), file and line."""

    intent: str
    text: str
    path: Path
    line: int  # 1-based


@dataclass(slots=True)
class Block:
    """One `- intent:` item's `examples: |` block in a file."""

    intent: str
    path: Path
    line: int  # the `- intent:` line, 1-based
    examples_line: int  # the `examples: |` line, 1-based
    examples: list[Example]


@dataclass(slots=True)
class NluFile:
    path: Path
    lines: list[str]  # with their line endings
    blocks: list[Block]
    # Which line declares a regex or lookup for which name (regexes count as entity sources).
    regexes: dict[str, int]


def _name(raw: str) -> str:
    name = _COMMENT.sub("", raw).strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1]
    return name


def read(path: Path) -> NluFile:
    """The blocks of one NLU YAML file, found line by line (Rasa's own layout: `- intent: X`,
    then `examples: |` and one `- example` per line)."""
    with path.open(encoding="utf-8", newline="") as source:  # line endings as they are
        # Lines end at "\n" only, as YAML counts them (str.splitlines would also split at
        # U+2028 and other separators a customer's text may hold).
        lines = _LINE.findall(source.read())
    blocks: list[Block] = []
    regexes: dict[str, int] = {}
    item: tuple[str, str, int] | None = None  # kind, name, line
    block: Block | None = None
    block_indent = -1
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if block is not None:
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            if indent > block_indent:
                example = _EXAMPLE.match(line)
                if example and example["text"]:
                    block.examples.append(Example(block.intent, example["text"], path, number))
                continue
            block = None
        found = _ITEM.match(line)
        if found:
            item = (found["kind"], _name(found["name"]), number)
            if item[0] in ("regex", "lookup"):
                regexes.setdefault(item[1], number)
            continue
        header = _EXAMPLES.match(line)
        if header and item is not None and item[0] == "intent":
            block = Block(item[1], path, item[2], number, [])
            block_indent = len(header["indent"])
            blocks.append(block)
    return NluFile(path, lines, blocks, regexes)


def read_folder(folder: Path) -> list[NluFile]:
    """Every `*.yml` / `*.yaml` file under `folder`, in name order."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    return [read(p) for p in paths]
