"""Approved WhatsApp message templates the inbox may send, and the contact variables that fill
them and the canned replies ({name}, {meter}, {ticket}).

WhatsApp lets a business write outside the 24-hour reply window only with a template Meta has
approved. Operators name the approved ones in LOKET_WHATSAPP_TEMPLATES; the inbox offers them
when the window has closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a canned reply or a template's body parameters may refer to, filled from the contact.
VARIABLES = ("name", "meter", "ticket")

_NAME = re.compile(r"[a-z0-9_]{1,512}")  # Meta: lowercase letters, digits and underscores
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")  # "id", "en", "en_US", "pt_BR"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One approved template in one language; `variables` fill its body's {{1}}, {{2}} …"""

    name: str
    language: str
    variables: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """How the inbox names it: "reopen_chat:id"."""
        return f"{self.name}:{self.language}"

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "name": self.name, "language": self.language,
                "variables": list(self.variables)}  # fmt: skip


def parse_templates(spec: str) -> tuple[TemplateSpec, ...]:
    """'reopen_chat:id reopen_chat:en follow_up:id:name+ticket' (spaces or commas between
    templates); raises ValueError saying which entry is wrong."""
    found: dict[str, TemplateSpec] = {}
    for raw in re.split(r"[\s,]+", spec.strip()):
        if not raw:
            continue
        name, _, rest = raw.partition(":")
        language, _, variables = rest.partition(":")
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"{raw!r}: a template name is lowercase letters, digits and underscores"
            )
        if not _LANGUAGE.fullmatch(language):
            raise ValueError(f"{raw!r}: give the template's language code, e.g. {name}:id")
        names = tuple(v for v in variables.split("+") if v) if variables else ()
        unknown = [v for v in names if v not in VARIABLES]
        if unknown:
            raise ValueError(
                f"{raw!r}: unknown variable {unknown[0]!r} (known: {', '.join(VARIABLES)})"
            )
        template = TemplateSpec(name, language, names)
        found[template.key] = template
    return tuple(found.values())
