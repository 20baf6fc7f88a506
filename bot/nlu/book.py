"""Adding one labelled example to the right file under nlu_data/ as one new line.

The example goes into the block of its intent, right after the existing example closest to
it (so Indonesian lands among Indonesian, a paraphrase beside its kin), with that line's
indentation; every other byte of the file stays as it was, comments included, and `git diff`
shows one added line. It is refused, saying why and where, when it is an exact or near
duplicate of an example, the same text under another intent, an unknown intent or entity, or
a malformed entity mark. Writes are serialised by a lock file and atomic (a temporary file
renamed over the old one), then read back with a YAML parser; a file that would not parse is
put back as it was.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from bot.core.errors import ExampleRefused
from bot.core.examples import Placed
from bot.core.messages import MAX_TEXT_CHARS
from bot.core.similar import closeness, exact_key, near_key
from bot.nlu import marks
from bot.nlu.files import Block, Example, NluFile, read_folder

MAX_EXAMPLE = 300  # characters: a training example is a message, not a letter
LOCK = ".loket-nlu.lock"


def read_domain(domain: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The intents and entities `domain` declares (names only)."""
    data = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}

    def names(items: object) -> tuple[str, ...]:
        found: list[str] = []
        for item in items or []:  # type: ignore[attr-defined]
            found.append(next(iter(item)) if isinstance(item, dict) else str(item))
        return tuple(found)

    return names(data.get("intents")), names(data.get("entities"))


class NluBook:
    """The examples under `folder` (nlu_data/), checked against the domain file's intents and
    entities; `root` is what the paths it reports are relative to."""

    def __init__(self, folder: Path, domain: Path, *, root: Path | None = None) -> None:
        self.folder = folder
        self.domain = domain
        self.root = root or folder.parent

    def intents(self) -> tuple[str, ...]:
        return read_domain(self.domain)[0]

    def entities(self) -> tuple[str, ...]:
        return read_domain(self.domain)[1]

    def where(self, example: Example) -> str:
        return f"{self._relative(example.path)}:{example.line}"

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.folder / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def check(self, intent: str, text: str) -> marks.Annotated:
        """The example's parts, or ExampleRefused saying what is wrong with it on its own."""
        if "\n" in text or "\r" in text:
            raise ExampleRefused("example_lines", "an example is one line")
        if not text:
            raise ExampleRefused("example_empty", "the example is empty")
        if len(text) > min(MAX_EXAMPLE, MAX_TEXT_CHARS):
            raise ExampleRefused(
                "example_long", f"an example has at most {MAX_EXAMPLE} characters",
                limit=str(MAX_EXAMPLE),
            )  # fmt: skip
        if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
            raise ExampleRefused(
                "example_control", "the example holds control characters or line separators"
            )
        intents, entities = read_domain(self.domain)
        if intent not in intents:
            raise ExampleRefused(
                "unknown_intent",
                f"unknown intent {intent!r}; the domain ({self._relative(self.domain)}) has: "
                + ", ".join(intents),
                intent=intent,
            )
        parsed = marks.parse(text)
        for span in parsed.spans:
            if span.entity not in entities:
                raise ExampleRefused(
                    "unknown_entity",
                    f"unknown entity {span.entity!r}; the domain has: " + ", ".join(entities),
                    entity=span.entity,
                )
        return parsed

    def _refuse_clash(self, intent: str, plain: str, files: list[NluFile]) -> None:
        exact, near = exact_key(plain), near_key(plain)
        clash: tuple[str, Example] | None = None
        for nlu in files:
            for block in nlu.blocks:
                for example in block.examples:
                    other = marks.parse_loose(example.text)
                    if exact_key(other) == exact:
                        clash = ("exact", example)
                        break
                    if clash is None and near_key(other) == near:
                        clash = ("near", example)
                if clash and clash[0] == "exact":
                    break
        if clash is None:
            return
        kind, example = clash
        where = self.where(example)
        if example.intent != intent:
            raise ExampleRefused(
                "other_intent",
                f"the same text is an example of {example.intent} at {where} "
                f"({example.text!r}); one text cannot teach two intents",
                intent=example.intent, where=where, example=example.text,
            )  # fmt: skip
        if kind == "exact":
            raise ExampleRefused(
                "duplicate", f"already an example of {intent} at {where} ({example.text!r})",
                intent=intent, where=where, example=example.text,
            )  # fmt: skip
        raise ExampleRefused(
            "near_duplicate",
            f"a near duplicate of {example.text!r} ({intent}, {where}): it differs only in "
            "case, punctuation, numbers or filler words, which teaches the model nothing new",
            intent=intent, where=where, example=example.text,
        )  # fmt: skip

    def add(self, intent: str, text: str) -> Placed:
        """Write `text` (Rasa's example syntax) under `intent`; ExampleRefused says why not."""
        text = " ".join(text.split()) if "\n" not in text else text
        parsed = self.check(intent, text)
        with self._locked():
            files = read_folder(self.folder)
            self._refuse_clash(intent, parsed.plain, files)
            target = _block_for(intent, parsed.plain, files)
            if target is None:
                raise ExampleRefused(
                    "no_block",
                    f"no file under {self._relative(self.folder)} has a `- intent: {intent}` "
                    "block with `examples: |`; add one first",
                    intent=intent,
                )
            nlu, block, after = target
            line = _insert(nlu, block, after, text)
        return Placed(intent, text, self._relative(nlu.path), line)


def _block_for(
    intent: str, plain: str, files: list[NluFile]
) -> tuple[NluFile, Block, Example | None] | None:
    """The intent's block holding the example closest to `plain` (the first block if it has
    none), and that example."""
    best: tuple[float, NluFile, Block, Example | None] | None = None
    for nlu in files:
        for block in nlu.blocks:
            if block.intent != intent:
                continue
            if best is None:
                best = (-1.0, nlu, block, block.examples[-1] if block.examples else None)
            for example in block.examples:
                score = closeness(plain, marks.parse_loose(example.text))
                if score > best[0]:
                    best = (score, nlu, block, example)
    return None if best is None else best[1:]


def _insert(nlu: NluFile, block: Block, after: Example | None, text: str) -> int:
    """Write `text` as a new line after `after` (or first in the block); its 1-based line."""
    lines = nlu.lines
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if after is not None:
        anchor = lines[after.line - 1]
        indent = anchor[: len(anchor) - len(anchor.lstrip())]
        index = after.line
    else:
        header = lines[block.examples_line - 1]
        indent = header[: len(header) - len(header.lstrip())] + "  "
        index = block.examples_line
    if index > 0 and not lines[index - 1].endswith(("\n", "\r")):
        lines = [*lines[: index - 1], lines[index - 1] + newline, *lines[index:]]
    updated = [*lines[:index], f"{indent}- {text}{newline}", *lines[index:]]
    original = "".join(nlu.lines)
    content = "".join(updated)
    _replace(nlu.path, content)
    try:
        _verify(nlu.path, block.intent, text)
    except ExampleRefused:
        _replace(nlu.path, original)
        raise
    return index + 1


def _replace(path: Path, content: str) -> None:
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _verify(path: Path, intent: str, text: str) -> None:
    """The file still parses as YAML and now lists `text` under `intent`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ExampleRefused(
            "breaks_file", f"the example would break {path.name}: {exc}", file=path.name
        ) from None
    for item in data.get("nlu") or []:
        if isinstance(item, dict) and item.get("intent") == intent:
            lines = str(item.get("examples", "")).splitlines()
            if any(line.strip() == f"- {text}" for line in lines):
                return
    raise ExampleRefused(
        "breaks_file", f"the example would not read back from {path.name}", file=path.name
    )
