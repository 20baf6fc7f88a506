"""Payment callbacks from the utility's provider: the paid token goes to the customer's chat.

The provider POSTs a signed `payment.settled` event when a token order is paid
(docs/provider.md). The view checks the signature on the raw bytes before anything else; the
event becomes a `Settlement`, is deduplicated by the provider's transaction reference and is
posted as a bot line to the conversation named in the order's `reference`, through the outbox —
so it leaves on the customer's own channel, with its delivery state, like any bot message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.core.errors import BadMessage, UnknownReference
from bot.core.messages import ConversationKey
from bot.core.wire import read_json_object
from handoff import Entry, Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.outbox import Outbox

log = logging.getLogger(__name__)

PATH = "/provider/payments"
SIGNATURE_HEADER = "X-Loket-Signature"
EVENT = "payment.settled"
SETTLED = frozenset({"paid", "token_issued"})  # other statuses are acknowledged and ignored
SEEN_TTL_S = 30 * 24 * 3600  # a provider's retries of one event are answered "duplicate"
TOKEN_DIGITS = 20
_REF = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

_NOTICE = {
    "id": "Pembayaran {ref} untuk token Rp{amount} sudah kami terima. Token listrik Anda: "
    "{token}. Masukkan 20 angka ini ke meteran Anda.",
    "en": "We have received your payment {ref} for a Rp{amount} token. Your electricity token: "
    "{token}. Enter these 20 digits on your meter.",
}


@dataclass(frozen=True, slots=True)
class Settlement:
    """A paid token order to announce: `token` is its 20 digits in groups of four."""

    ref: str
    conversation: ConversationKey
    amount: int
    token: str


def signed(secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is "sha256=" + the hex HMAC-SHA256 of the raw `body` with `secret`."""
    if not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode(errors="replace"))


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BadMessage(f"the field {field!r} is required and must be a string")
    return value.strip()


def _token(raw: object) -> str:
    digits = re.sub(r"[\s-]", "", raw) if isinstance(raw, str) else ""
    if len(digits) != TOKEN_DIGITS or not digits.isascii() or not digits.isdigit():
        raise BadMessage(f"token must be {TOKEN_DIGITS} digits (spaces or dashes allowed)")
    return "-".join(digits[i : i + 4] for i in range(0, TOKEN_DIGITS, 4))


def settlement(body: bytes) -> Settlement | None:
    """The event in `body`, or None when it announces no token (another event or status).

    Raises BadMessage for a malformed event, UnknownReference when its `reference` is not a
    conversation id.
    """
    data = read_json_object(body)
    event, ref, status = (_text(data, f) for f in ("event", "ref", "status"))
    if not _REF.fullmatch(ref):
        raise BadMessage("ref must be 1 to 64 letters, digits or _.-")
    if event != EVENT or status not in SETTLED or data.get("token") is None:
        return None
    reference = _text(data, "reference")
    try:
        conversation = ConversationKey.parse(reference)
    except BadMessage as exc:
        raise UnknownReference(
            f"reference must be the conversation id given with the order "
            f"(<channel>:<chat id>, e.g. telegram:777001): {exc}"
        ) from None
    amount = data.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise BadMessage("amount must be a positive whole number of rupiah")
    return Settlement(ref, conversation, amount, _token(data.get("token")))


def notice(settlement: Settlement, language: str) -> str:
    """What the customer reads, in their language ("id" unless it is "en")."""
    lang = "en" if language == "en" else "id"
    amount = f"{settlement.amount:,}".replace(",", "." if lang == "id" else ",")
    return _NOTICE[lang].format(ref=settlement.ref, amount=amount, token=settlement.token)


class PaymentNotices:
    """Tells a customer, in their chat, that their payment arrived and what their token is."""

    def __init__(
        self, conversations: Conversations, transcript: Transcript, outbox: Outbox
    ) -> None:
        self._conversations = conversations
        self._transcript = transcript
        self._outbox = outbox

    async def deliver(self, settlement: Settlement) -> bool:
        """Post the notice once per transaction; False when it was posted before.

        Raises UnknownReference when the conversation has no transcript here.
        """
        conversation = settlement.conversation
        if not await self._transcript.length(conversation):
            raise UnknownReference(f"there is no conversation {conversation.id} here")
        language = (await self._conversations.state(conversation)).language
        entry = Entry(Role.BOT, notice(settlement, language), meta={"payment": settlement.ref})
        posted = await self._outbox.post_once(
            conversation, [entry], once=keys.payment_seen(settlement.ref), ttl=SEEN_TTL_S
        )
        return posted is not None


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def setup(app: web.Application, secret: str, notices: Callable[[], PaymentNotices]) -> None:
    """Adds POST /provider/payments; `notices` gives the service once the app has started."""

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header.strip():
            return _refuse(401, f"the {SIGNATURE_HEADER} header is missing")
        if not signed(secret, body, header):
            log.warning("payment callback with a wrong signature refused")
            return _refuse(403, f"the {SIGNATURE_HEADER} signature does not match")
        try:
            found = settlement(body)
            if found is None:
                return web.json_response({"ignored": True})
            delivered = await notices().deliver(found)
        except UnknownReference as exc:
            log.warning("payment callback for an unknown conversation refused: %s", exc)
            return _refuse(422, str(exc))
        log.info("%s: payment %s %s", found.conversation.id, found.ref,
                 "announced" if delivered else "was announced before")  # fmt: skip
        return web.json_response({"delivered": True} if delivered else {"duplicate": True})

    app.router.add_post(PATH, callback)
