"""Through the real gateway (Rasa included): an agent closes a conversation over the JSON API,
and when the customer writes again and the bot cannot help, a new handoff opens."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from handoff.inbox import Accounts
from handoff.store import Store
from tests.support.chat import Customer
from tests.support.inbox import add_agent


async def test_closed_conversation_reopens_as_a_new_handoff(
    client: TestClient, store: Store
) -> None:
    await add_agent(store, "ana")
    auth = {"Authorization": f"Bearer {await Accounts(store).issue_token('ana')}"}
    customer = Customer(client, "reopen-1")
    assert "antrean nomor 1" in await customer.say("mau ngomong sama CS aja")
    path = "/inbox/api/conversations/webchat:reopen-1"

    resp = await client.post(f"{path}/claim", headers=auth)
    assert resp.status == 200
    resp = await client.post(f"{path}/reply", headers=auth, json={"text": "Sudah beres ya"})
    assert resp.status == 201
    resp = await client.post(f"{path}/close", headers=auth, json={"resolution": "solved"})
    assert resp.status == 200
    first = (await (await client.get(path, headers=auth)).json())["conversation"]

    assert "antrean nomor 1" in await customer.say("mau ngomong sama CS lagi")
    resp = await client.get("/inbox/api/queue", headers=auth)
    [card] = (await resp.json())["conversations"]
    assert card["id"] == "webchat:reopen-1" and card["status"] == "waiting"
    assert card["created_at"] > first["created_at"]
