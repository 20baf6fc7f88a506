"""Entity annotations in Rasa's example syntax: `[Depok](area)` or
`[50rb]{"entity": "amount", "value": "50000"}`, parsed strictly so a half-typed one is refused."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.core.errors import ExampleRefused

# The two forms Rasa 3 reads; anything else with a bracket is a mistake.
_MARK = re.compile(r"\[(?P<text>[^\[\]]*)\](?:\((?P<name>[^()]*)\)|(?P<dict>\{[^{}]*\}))")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_KEYS = frozenset({"entity", "value", "role", "group"})


@dataclass(frozen=True, slots=True)
class Span:
    """One marked entity: its name, the marked words and where they stand in the plain text."""

    entity: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Annotated:
    """An example split into its plain text and its marked entities."""

    plain: str
    spans: tuple[Span, ...]


def _refuse(detail: str, example: str) -> ExampleRefused:
    return ExampleRefused(
        "malformed_entity",
        f"malformed entity annotation in {example!r}: {detail}; mark an entity as [words](entity)",
        detail=detail,
    )


def _entity_of(match: re.Match[str], example: str) -> str:
    if match["name"] is not None:
        name = match["name"].strip()
    else:
        try:
            fields = json.loads(match["dict"])
        except ValueError:
            raise _refuse(f"{match['dict']} is not JSON", example) from None
        if not isinstance(fields, dict) or not isinstance(fields.get("entity"), str):
            raise _refuse(f'{match["dict"]} needs "entity"', example)
        unknown = sorted(set(fields) - _KEYS)
        if unknown:
            raise _refuse(f"unknown key {unknown[0]!r} in {match['dict']}", example)
        name = fields["entity"]
    if not _NAME.fullmatch(name):
        raise _refuse(f"{name!r} is not an entity name", example)
    return name


def parse(example: str) -> Annotated:
    """The plain text and marked entities of `example`; ExampleRefused if a mark is malformed
    (unbalanced brackets, an empty mark, a mark with spaces at its ends, a bad name)."""
    plain: list[str] = []
    spans: list[Span] = []
    at = 0
    length = 0
    for match in _MARK.finditer(example):
        between = example[at : match.start()]
        plain.append(between)
        length += len(between)
        words = match["text"]
        if not words.strip():
            raise _refuse("an empty [ ]", example)
        if words != words.strip():
            raise _refuse(f"spaces inside [{words}]", example)
        name = _entity_of(match, example)
        spans.append(Span(name, words, length, length + len(words)))
        plain.append(words)
        length += len(words)
        at = match.end()
    plain.append(example[at:])
    text = "".join(plain)
    outside = _MARK.sub(" ", example)
    for stray in "[]":
        if stray in outside:
            raise _refuse(f"a {stray!r} that opens or closes no [words](entity)", example)
    return Annotated(text, tuple(spans))


def parse_loose(example: str) -> str:
    """The plain text of an example already in the files, without judging its marks."""
    try:
        return parse(example).plain
    except ExampleRefused:  # `loket nlu check` reports it
        return _MARK.sub(lambda m: m["text"], example)
