"""How one Loket message is laid out as Cloud API message requests within WhatsApp's limits.

Up to 3 short buttons become reply buttons; more, or longer titles, an interactive list of up
to 10 rows (the rest listed in the text); long texts are split, and a text too long for an
interactive body is sent first, followed by the choices under a short prompt.
"""

from __future__ import annotations

from typing import Any

from bot.core.messages import Button

Json = dict[str, Any]

TEXT_MAX = 4096  # a text message's body
BODY_MAX = 1024  # an interactive message's body
REPLY_BUTTONS_MAX = 3
REPLY_TITLE_MAX = 20
REPLY_ID_MAX = 256
ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
# The text's language is unknown here, so both of the customers' languages.
LIST_BUTTON = "Pilih / Choose"
PROMPT = "Pilih salah satu / Choose one:"


def message_requests(to: str, text: str, buttons: list[Button]) -> list[Json]:
    """Requests for `text` with `buttons` (payloads unique) to the WhatsApp user `to`."""
    if not buttons:
        return [_text(to, part) for part in split_text(text, TEXT_MAX)]
    if _fit_reply_buttons(buttons):
        rows: list[Button] = []
        rest: list[Button] = []
    else:
        fitting = [b for b in buttons if len(b.payload) <= ROW_ID_MAX]
        rows = fitting[:ROWS_MAX]
        rest = [b for b in buttons if b not in rows]
    if rest:  # choices a list cannot carry: the customer can still type them
        listed = "\n".join(f"• {b.title or b.payload}" for b in rest)
        text = f"{text}\n\n{listed}" if text else listed
    requests = []
    if len(text) > BODY_MAX:
        requests = [_text(to, part) for part in split_text(text, TEXT_MAX)]
        text = PROMPT
    body = text or PROMPT
    if rows:
        requests.append(_interactive(to, _list(body, rows)))
    elif not rest:
        requests.append(_interactive(to, _reply_buttons(body, buttons)))
    elif not requests:
        requests.append(_text(to, body))
    return requests


def _fit_reply_buttons(buttons: list[Button]) -> bool:
    titles = {b.title.strip() for b in buttons}  # WhatsApp wants them distinct
    return (
        len(buttons) <= REPLY_BUTTONS_MAX
        and len(titles) == len(buttons)
        and all(
            0 < len(b.title.strip()) <= REPLY_TITLE_MAX and len(b.payload) <= REPLY_ID_MAX
            for b in buttons
        )
    )


def _envelope(to: str) -> Json:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def _text(to: str, body: str) -> Json:
    return {**_envelope(to), "type": "text", "text": {"preview_url": False, "body": body}}


def _interactive(to: str, interactive: Json) -> Json:
    return {**_envelope(to), "type": "interactive", "interactive": interactive}


def _reply_buttons(body: str, buttons: list[Button]) -> Json:
    return {
        "type": "button",
        "body": {"text": body},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": b.payload, "title": b.title.strip()}}
                for b in buttons
            ]
        },
    }


def _list(body: str, buttons: list[Button]) -> Json:
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": LIST_BUTTON, "sections": [{"rows": [_row(b) for b in buttons]}]},
    }


def _row(button: Button) -> Json:
    title, rest = _cut(button.title.strip() or button.payload, ROW_TITLE_MAX)
    row: Json = {"id": button.payload, "title": title}
    if rest:
        row["description"] = _cut(rest, ROW_DESCRIPTION_MAX)[0]
    return row


def _cut(text: str, limit: int) -> tuple[str, str]:
    """`text` cut to `limit` characters at a word boundary (or with "…" inside a long word),
    and what is left of it."""
    if len(text) <= limit:
        return text, ""
    space = text.rfind(" ", 0, limit + 1)
    if space > 0:
        return text[:space].rstrip(), text[space:].strip()
    return text[: limit - 1] + "…", "…" + text[limit - 1 :]


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at paragraph, line or word ends."""
    parts = []
    rest = text.strip()
    while len(rest) > limit:
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = rest.rfind(separator, 0, limit + 1)
            if cut > limit // 2:
                break
        if cut <= limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
