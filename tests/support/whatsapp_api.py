"""A local WhatsApp Cloud API for tests: Meta's documented wire format, on a free port.

`CloudApi` answers `POST /<version>/<phone_number_id>/messages` — messages (validating the
request as the Cloud API does, limits included), approved template messages, and marking a
received message read — `GET /<version>/<media_id>` and the media download URL, all behind the
bearer token; it records every call and can be told to fail the next N sends with a given error
code, or that a customer's 24-hour window has closed (then only templates reach them). The
builders at the end make webhook bodies and sign them as Meta does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from channels.whatsapp.signature import HEADER, sign

VERSION = "v21.0"
TOKEN = "test-whatsapp-token"
PHONE_NUMBER_ID = "106540352242922"
# The HTTP status Meta answers each error code with.
STATUSES = {131047: 400, 131026: 400, 130429: 400, 80007: 400, 4: 400, 131056: 400,
            190: 401, 10: 403, 100: 400, 131000: 500, 1: 500, 2: 503}  # fmt: skip
MESSAGES = {
    131047: "Re-engagement message",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    131026: "Message undeliverable",
    130429: "Rate limit hit",
    80007: "Rate limit issues",
    4: "Application request limit reached",
    190: "Error validating access token: Session has expired",
    10: "Application does not have permission for this action",
    131000: "Something went wrong",
}

Json = dict[str, Any]
_ids = itertools.count(1)


@dataclass
class Call:
    method: str
    path: str
    authorization: str
    body: Any = None


@dataclass
class Failure:
    code: int
    status: int
    message: str
    subcode: int | None
    retry_after: str | None


@dataclass
class CloudApi:
    token: str = TOKEN
    phone_number_id: str = PHONE_NUMBER_ID
    calls: list[Call] = field(default_factory=list)
    sent: list[Json] = field(default_factory=list)  # message requests accepted, in order
    media: dict[str, tuple[bytes, str, bytes]] = field(default_factory=dict)
    failures: list[Failure | None] = field(default_factory=list)  # None: accept this send
    # Approved templates: (name, language code) -> how many body parameters it takes.
    templates: dict[tuple[str, str], int] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)  # wa_ids whose 24-hour window has closed
    received: set[str] = field(default_factory=set)  # wamids of customers' messages (readable)
    read: list[str] = field(default_factory=list)  # wamids marked read, in order
    server: TestServer | None = None

    @property
    def url(self) -> str:
        """The base URL to configure as LOKET_WHATSAPP_API_URL."""
        assert self.server is not None, "start() first"
        return str(self.server.make_url(f"/{VERSION}"))

    async def start(self) -> CloudApi:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self._messages)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_info)
        app.router.add_get("/whatsapp_business/attachments/", self._download)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail(
        self,
        code: int,
        *,
        times: int = 1,
        status: int | None = None,
        message: str | None = None,
        subcode: int | None = None,
        retry_after: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer `times` sends with Meta's error `code`, once `after` more have been accepted."""
        failure = Failure(code, status or STATUSES.get(code, 400),
                          message or MESSAGES.get(code, "Error"), subcode, retry_after)  # fmt: skip
        self.failures.extend([None] * after + [failure] * times)

    def add_media(self, content: bytes, mime_type: str, *, served: bytes | None = None) -> str:
        """Store an upload; the download serves `served` instead when given (damaged media)."""
        media_id = str(1_000_000_000 + next(_ids))
        self.media[media_id] = (content, mime_type, content if served is None else served)
        return media_id

    def _record(self, request: web.Request, body: Any = None) -> bool:
        auth = request.headers.get("Authorization", "")
        self.calls.append(Call(request.method, request.path, auth, body))
        return auth == f"Bearer {self.token}"

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not self._record(request, body):
            return error(190, MESSAGES[190], 401, subcode=463)
        if request.match_info["number"] != self.phone_number_id:
            return error(100, "Unsupported post request. Object with ID does not exist", 400, 33)
        if isinstance(body, dict) and body.get("status") == "read":
            return self._mark_read(body)
        f = self.failures.pop(0) if self.failures else None
        if f is not None:
            headers = {"Retry-After": f.retry_after} if f.retry_after else {}
            return error(f.code, f.message, f.status, f.subcode, headers)
        problem = invalid(body)
        if problem:
            return error(100, "(#100) Invalid parameter", 400, details=problem)
        if body["type"] == "template":
            refused = self._template_problem(body["template"])
            if refused is not None:
                return refused
        elif body["to"] in self.closed:
            return error(131047, MESSAGES[131047], 400, details="Message failed to send "
                         "because more than 24 hours have passed since the customer last "
                         "replied to this number.")  # fmt: skip
        self.sent.append(body)
        return web.json_response({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.HBgN{next(_ids):012d}"}],
        })  # fmt: skip

    def _mark_read(self, body: Json) -> web.Response:
        """POST {messaging_product, status: "read", message_id}: a customer's message read."""
        message_id = body.get("message_id")
        if body.get("messaging_product") != "whatsapp" or not isinstance(message_id, str):
            return error(100, "(#100) Invalid parameter", 400, details="message_id is required")
        if message_id not in self.received:
            return error(100, "(#100) Invalid parameter", 400,
                         details=f"Invalid message_id {message_id}")  # fmt: skip
        self.read.append(message_id)
        return web.json_response({"success": True})

    def _template_problem(self, template: Json) -> web.Response | None:
        name, code = template.get("name"), (template.get("language") or {}).get("code")
        if (name, code) not in self.templates:
            return error(132001, f"(#132001) {MESSAGES[132001]}", 404,
                         details=f"template name ({name}) does not exist in {code}")  # fmt: skip
        params = [p for c in template.get("components") or [] if c.get("type") == "body"
                  for p in c.get("parameters") or []]  # fmt: skip
        expected = self.templates[(name, code)]
        if len(params) != expected or any(p.get("type") != "text" or not p.get("text")
                                          for p in params):  # fmt: skip
            return error(132000, f"(#132000) {MESSAGES[132000]}", 400,
                         details=f"body: number of localizable_params ({len(params)}) does not "
                                 f"match the expected number of params ({expected})")  # fmt: skip
        return None

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._record(request):
            return error(190, MESSAGES[190], 401, subcode=463)
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return error(100, f"Unsupported get request. Object with ID '{media_id}' does not "
                         "exist", 400, subcode=33)  # fmt: skip
        content, mime_type, _ = self.media[media_id]
        url = self.server.make_url("/whatsapp_business/attachments/") if self.server else ""
        return web.json_response({
            "messaging_product": "whatsapp",
            "url": f"{url}?mid={media_id}&ext=1700000000&hash=ATu",
            "mime_type": mime_type,
            "sha256": hashlib.sha256(content).hexdigest(),
            "file_size": len(content),
            "id": media_id,
        })  # fmt: skip

    async def _download(self, request: web.Request) -> web.Response:
        if not self._record(request):
            return web.Response(status=401)
        found = self.media.get(request.query.get("mid", ""))
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[2], content_type=found[1])


def error(
    code: int,
    message: str,
    status: int,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
    details: str = "",
) -> web.Response:
    """An error answer as the Graph API writes it."""
    body: Json = {"message": message, "type": "OAuthException", "code": code,
                  "fbtrace_id": "AbCdEf123"}  # fmt: skip
    if subcode is not None:
        body["error_subcode"] = subcode
    if details:
        body["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return web.json_response({"error": body}, status=status, headers=headers)


def invalid(body: Any) -> str:
    """What the Cloud API would refuse in a message request (its documented limits), or ""."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not str(body.get("to", "")).isdigit():
        return "to must be a phone number"
    if body.get("type") == "text":
        text = body["text"]["body"]
        return "" if 0 < len(text) <= 4096 else "text.body must be 1-4096 characters"
    if body.get("type") == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            return "template.name is required"
        if not isinstance(template.get("language"), dict) or not template["language"].get("code"):
            return "template.language.code is required"
        return ""
    if body.get("type") != "interactive":
        return f"unsupported type {body.get('type')}"
    interactive = body["interactive"]
    text = interactive["body"]["text"]
    if not 0 < len(text) <= 1024:
        return "interactive body must be 1-1024 characters"
    if interactive["type"] == "button":
        buttons = interactive["action"]["buttons"]
        titles = [b["reply"]["title"] for b in buttons]
        ids = [b["reply"]["id"] for b in buttons]
        if not 1 <= len(buttons) <= 3 or any(b["type"] != "reply" for b in buttons):
            return "1-3 reply buttons"
        if any(not 0 < len(t) <= 20 for t in titles) or len(set(titles)) < len(titles):
            return "button titles must be unique, 1-20 characters"
        if any(not 0 < len(i) <= 256 for i in ids) or len(set(ids)) < len(ids):
            return "button ids must be unique, 1-256 characters"
        return ""
    if interactive["type"] != "list":
        return "interactive type must be button or list"
    action = interactive["action"]
    rows = [row for section in action["sections"] for row in section["rows"]]
    if not 0 < len(action["button"]) <= 20:
        return "list button must be 1-20 characters"
    if not 1 <= len(action["sections"]) <= 10 or not 1 <= len(rows) <= 10:
        return "1-10 sections, 1-10 rows in all"
    if len(action["sections"]) > 1 and any("title" not in s for s in action["sections"]):
        return "sections need titles when there are several"
    if any(not 0 < len(r["title"]) <= 24 or len(r.get("description", "")) > 72 for r in rows):
        return "row title 1-24, description at most 72 characters"
    ids = [r["id"] for r in rows]
    if any(not 0 < len(i) <= 200 for i in ids) or len(set(ids)) < len(ids):
        return "row ids must be unique, 1-200 characters"
    return ""


# Webhook bodies, as Meta posts them.


def meta_json(payload: Json) -> bytes:
    """JSON the way Meta serialises webhooks: ASCII only (\\uXXXX escapes), "/" escaped."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def signed(body: bytes, app_secret: str) -> dict[str, str]:
    """The headers of a webhook POST of `body`."""
    return {HEADER: sign(app_secret, body), "Content-Type": "application/json"}


def webhook(value: Json, field_name: str = "messages") -> Json:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": field_name}]}],
    }


def messages_value(*messages: Json, name: str = "Budi Santoso") -> Json:
    senders = sorted({m["from"] for m in messages})
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": s} for s in senders],
        "messages": list(messages),
    }


def message(kind: str, content: Any, wa_id: str = "6281234567890", wamid: str = "") -> Json:
    """One `messages[]` item: `kind` is its type, `content` the object under that key."""
    return {
        "from": wa_id,
        "id": wamid or f"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQj{next(_ids):06d}",
        "timestamp": "1718000000",
        "type": kind,
        kind: content,
    }


def text_message(body: str, **kw: Any) -> Json:
    return message("text", {"body": body}, **kw)


def status(wamid: str, state: str, errors: list[Json] | None = None) -> Json:
    item: Json = {"id": wamid, "status": state, "timestamp": "1718000100",
                  "recipient_id": "6281234567890"}  # fmt: skip
    if errors is not None:
        item["errors"] = errors
    return item


def statuses_value(*items: Json) -> Json:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": list(items),
    }
