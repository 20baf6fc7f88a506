"""The inbox's dictionaries: both languages have every word the page and the login page use,
every API error code and every delivery failure code, with the same placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.channel import DeliveryState, FailureCode
from handoff.contacts import Contact
from handoff.inbox.accounts import AgentRole
from handoff.inbox.desk import RESOLUTIONS
from handoff.inbox.errors import MESSAGES
from handoff.inbox.language import LANGUAGES, text
from handoff.index import REF_KINDS
from handoff.status import Status
from handoff.summary import Summary

STATIC = Path(__file__).resolve().parents[2] / "handoff" / "static"
WORDS = {lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text()) for lang in LANGUAGES}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def used_keys() -> set[str]:
    """Every key the page's modules, its HTML and the login page (and its view) name
    literally."""
    found: set[str] = set()
    groups = {key.split(".")[0] for key in WORDS["en"]}
    for script in (STATIC / "js").glob("*.js"):
        for literal in re.findall(r'"([a-z_]+\.[a-z_.-]+)"', script.read_text()):
            if literal.split(".")[0] in groups and not literal.endswith("."):
                found.add(literal)
    web = (STATIC.parent / "inbox" / "web.py").read_text()  # the login page's messages
    found |= set(re.findall(r'"(login\.[a-z_]+)"', web)) - {"login.html"}
    for page in ("inbox.html", "login.html", "review.html"):
        source = (STATIC / page).read_text()
        found |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', source))
        found |= {k for k in re.findall(r"\{\{([a-z_.]+)\}\}", source) if "." in k}
    return found


def families() -> set[str]:
    """The keys the page builds from codes the server sends."""
    found = {f"errors.{code}" for code in MESSAGES}
    found |= {f"delivery.{code.value}" for code in FailureCode}
    found |= {f"delivery.state.{s.value}" for s in DeliveryState}
    found |= {f"status.{s.value}" for s in Status} | {f"state.{s.value}" for s in Status}
    found |= {f"resolution.{r}" for r in RESOLUTIONS}
    found |= {f"role.{r.value}" for r in AgentRole}
    found |= {f"contact.ref.{kind}" for kind in REF_KINDS}
    found |= {f"fact.{fact.key}" for fact in Summary().facts()}
    found |= {f"channel.{c}" for c in ("webchat", "telegram", "whatsapp")}
    found |= {f"alert.{kind}.{part}" for kind in ("waiting", "message", "assigned")
              for part in ("title", "body")}  # fmt: skip
    found |= {f"settings.permission.{p}" for p in ("default", "granted", "denied", "unsupported")}
    found |= {f"language.{lang}" for lang in LANGUAGES}
    return found


def test_both_languages_have_the_same_words() -> None:
    assert set(WORDS["id"]) == set(WORDS["en"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_the_page_uses_is_in_the_dictionary(lang: str) -> None:
    missing = (used_keys() | families()) - set(WORDS[lang])
    assert not missing, f"{lang}.json lacks {sorted(missing)}"


def test_every_error_code_is_translated_and_nothing_else_claims_to_be_one() -> None:
    for lang in LANGUAGES:
        codes = {k.removeprefix("errors.") for k in WORDS[lang] if k.startswith("errors.")}
        assert codes == set(MESSAGES)


@pytest.mark.parametrize("key", sorted(WORDS["en"]))
def test_translations_fill_only_the_placeholders_they_are_given(key: str) -> None:
    if key.startswith("errors."):
        given = set(PLACEHOLDER.findall(MESSAGES[key.removeprefix("errors.")]))
    else:
        given = set(PLACEHOLDER.findall(WORDS["en"][key]))
    assert set(PLACEHOLDER.findall(WORDS["id"][key])) <= given


def test_the_login_page_and_variables_come_from_the_same_words() -> None:
    assert text("id", "login.sign_in") == "Masuk" and text("en", "login.sign_in") == "Sign in"
    assert text("id", "login.too_many", minutes=3) == (
        "Terlalu banyak percobaan gagal. Coba lagi dalam 3 menit."
    )
    assert text("fr", "login.name") == "Nama"  # an unknown language falls back to Indonesian
    assert set(Contact.__annotations__) >= {"name", "account", "refs"}
