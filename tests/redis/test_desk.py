"""`loket handoffs ...` against real Redis, as an operator runs it."""

from __future__ import annotations

from bot.core.messages import IntentScore
from handoff import Entry, Role, Transcript
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.status import Status
from handoff.store import Store
from handoff.summary import Summary
from tests.support.builders import make_key
from tests.support.cli import loket


async def test_list_show_hand_back_and_close(store: Store, redis_url: str) -> None:
    key = make_key("desk1")
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, "mau ngomong sama CS")])
    summary = Summary(
        wanted=(IntentScore("buy_token", 0.88),), collected={"meter_number": "14234567890"}
    )
    await Handoffs(store).request(key, reason="asked_for_human", detail="", language="id",
                                  summary=summary, note="Handed over: asked")  # fmt: skip
    env = {"REDIS_URL": redis_url}

    listed = loket("handoffs", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "webchat:desk1" in listed.stdout and "asked_for_human" in listed.stdout
    assert "meter_number=14234567890" in listed.stdout

    shown = loket("handoffs", "show", "webchat:desk1", env=env)
    assert "buy_token (0.88)" in shown.stdout and "mau ngomong sama CS" in shown.stdout

    assert loket("handoffs", "hand-back", "webchat:desk1", "--by", "ana", env=env).returncode == 0
    assert (await Conversations(store).state(key)).status is Status.BOT
    refused = loket("handoffs", "close", "webchat:desk1", "--resolution", "done", env=env)
    assert refused.returncode == 2 and "cannot close" in refused.stderr


def test_unknown_conversation_is_a_clear_error(redis_url: str) -> None:
    result = loket("handoffs", "show", "webchat:nobody", env={"REDIS_URL": redis_url})
    assert result.returncode == 2 and "no conversation webchat:nobody" in result.stderr
