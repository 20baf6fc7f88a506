"""`loket nlu check`'s own findings over nlu_data/, each with its file and line: an example
under two intents, duplicates, malformed or unknown entity marks, intents with too few
examples in a language, intents and entities declared but never used (or used but not
declared)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from actions.language import detect
from bot.core.errors import ExampleRefused
from bot.core.similar import exact_key
from bot.nlu import marks
from bot.nlu.book import read_domain
from bot.nlu.files import Example, read_folder

# Intents the gateway's policy acts on without any story naming them.
POLICY_INTENTS = frozenset({"out_of_scope", "nlu_fallback", "request_human", "complain_bot"})
_STORY_INTENT = re.compile(r"^\s*-?\s*intent:\s*([A-Za-z0-9_]+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: `level` is "error" (wrong data) or "warning" (worth a look)."""

    level: str
    where: str  # "nlu_data/bill.yml:12", or the domain file
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check_folder(
    folder: Path,
    domain: Path,
    *,
    stories: Path | None = None,
    root: Path | None = None,
    min_per_language: int = 10,
) -> list[Finding]:
    """Every finding over the examples under `folder`, errors first, then by place."""
    root = root or folder.parent
    intents, entities = read_domain(domain)
    files = read_folder(folder)
    found: list[Finding] = []

    def at(example: Example) -> str:
        return f"{_rel(example.path, root)}:{example.line}"

    seen: dict[str, Example] = {}
    per_language: dict[str, dict[str, int]] = defaultdict(lambda: {"id": 0, "en": 0})
    used_entities: set[str] = set()
    first_block: dict[str, str] = {}
    for nlu in files:
        for name in nlu.regexes:
            used_entities.add(name)
        for block in nlu.blocks:
            # A retrieval intent's examples ("faq/power_cost") teach the domain's "faq".
            intent = block.intent.partition("/")[0]
            first_block.setdefault(intent, f"{_rel(nlu.path, root)}:{block.line}")
            if intent not in intents:
                found.append(Finding("error", f"{_rel(nlu.path, root)}:{block.line}",
                                     f"intent {block.intent} is not in the domain"))  # fmt: skip
            for example in block.examples:
                try:
                    parsed = marks.parse(example.text)
                except ExampleRefused as exc:
                    found.append(Finding("error", at(example), str(exc)))
                    continue
                for span in parsed.spans:
                    used_entities.add(span.entity)
                    if span.entity not in entities:
                        problem = f"entity {span.entity} is not in the domain"
                        found.append(Finding("error", at(example), problem))
                per_language[intent][detect(parsed.plain)] += 1
                key = exact_key(parsed.plain)
                earlier = seen.get(key)
                if earlier is None:
                    seen[key] = example
                elif earlier.intent != example.intent:
                    found.append(Finding(
                        "error", at(example),
                        f"{example.text!r} is under {example.intent} here and under "
                        f"{earlier.intent} at {at(earlier)}",
                    ))  # fmt: skip
                else:
                    problem = f"duplicate of {at(earlier)} ({earlier.intent})"
                    found.append(Finding("warning", at(example), problem))
    domain_at = _rel(domain, root)
    story_intents = _story_intents(stories, domain) if stories is not None else None
    for intent in intents:
        if intent not in per_language:
            found.append(Finding("error", domain_at, f"intent {intent} has no examples"))
            continue
        for lang, count in sorted(per_language[intent].items()):
            if count < min_per_language:
                word = "Indonesian" if lang == "id" else "English"
                found.append(Finding(
                    "warning", first_block[intent],
                    f"intent {intent} has {count} {word} example(s); at least "
                    f"{min_per_language} are needed to learn it in {word}",
                ))  # fmt: skip
        if story_intents is not None and intent not in story_intents | POLICY_INTENTS:
            found.append(Finding("warning", domain_at,
                                 f"intent {intent} is used by no story or rule"))  # fmt: skip
    for entity in entities:
        if entity not in used_entities:
            problem = f"entity {entity} is marked in no example and has no regex"
            found.append(Finding("warning", domain_at, problem))
    return sorted(found, key=lambda f: (f.level != "error", _place(f.where)))


def _place(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (where, 0)


def _story_intents(folder: Path, domain: Path) -> set[str]:
    """Intents named by stories and rules, or by the domain's slot mappings."""
    found: set[str] = set()
    for path in [*sorted(folder.rglob("*.yml")), domain]:
        text = path.read_text(encoding="utf-8")
        found.update(_STORY_INTENT.findall(text))
    return found
