"""The trainers' review over HTTP against real Redis: the list grouped by similar text, labels
written into a copy of nlu_data/ as one line, refusals, dismissals, agents' "the customer
meant", and the handoff record keeping the ids of the review items it produced."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.core.messages import ConversationKey
from bot.nlu import NluBook
from handoff import keys
from handoff.contacts import Contacts
from handoff.handoffs import Handoffs
from handoff.review_items import ReviewItems, item_id
from handoff.store import Store, now_ms
from handoff.transcript import Entry, Role, Transcript
from tests.support.inbox import Browser, add_agent, make_app, make_services, make_summary
from tests.support.nlu import DOMAIN, copy_nlu_data, diff

SignIn = Callable[..., Awaitable[Browser]]
ANA = ConversationKey("webchat", "ana")
BUDI = ConversationKey("telegram", "42")


def customer(text: str) -> Entry:
    return Entry(Role.CUSTOMER, text)


def bot(text: str, intent: str, confidence: float, **meta: object) -> Entry:
    return Entry(Role.BOT, text, intent=intent, confidence=confidence, meta=meta)


async def say(transcript: Transcript, key: ConversationKey, *entries: Entry) -> list[str]:
    ids = []
    for entry in entries:
        ids += await transcript.append(key, [entry])
    return ids


async def seed(store: Store) -> dict[str, str]:
    """Ana's PDAM question fell back; Budi asked it too (out of scope), then wrote "asdf"
    twice and was handed over as not understood. Their ids by name."""
    transcript = Transcript(store)
    pdam_ana, *_ = await say(
        transcript, ANA, customer("tagihan pdam brp"),
        bot("Maaf, maksudnya?", "nlu_fallback", 0.31,
            guesses=[["check_bill", 0.31], ["out_of_scope", 0.29]]),
        customer("makasih"), bot("Sama-sama", "thank", 0.98),
    )  # fmt: skip
    pdam_budi, _, asdf, _ = await say(
        transcript, BUDI, customer("Tagihan PDAM  brp ya"),
        bot("Maaf, itu di luar layanan kami", "out_of_scope", 0.81,
            guesses=[["out_of_scope", 0.81], ["check_bill", 0.12]]),
        customer("asdf"),
        bot("Maaf, belum paham", "nlu_fallback", 0.2, guesses=[["greet", 0.2], ["inform", 0.1]]),
    )  # fmt: skip
    handoffs = Handoffs(store)
    outcome = await handoffs.request(
        BUDI, reason="not_understood", detail="", language="id", summary=make_summary(),
        note="Handed over: the bot did not understand twice in a row",
    )  # fmt: skip
    await say(transcript, BUDI, bot("Saya sambungkan ke petugas", "nlu_fallback", 0.2,
                                    handoff="not_understood"))  # fmt: skip
    makasih = (await transcript.read(ANA))[2].id
    return {"pdam_ana": pdam_ana, "pdam_budi": pdam_budi, "asdf": asdf,
            "handoff": outcome.handoff_id, "makasih": makasih}  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return copy_nlu_data(tmp_path)


@pytest.fixture
async def server(store: Store, folder: Path) -> AsyncIterator[TestServer]:
    book = NluBook(folder, DOMAIN)
    server = TestServer(make_app(make_services(store, examples=book)))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def sign_in(store: Store, server: TestServer) -> AsyncIterator[SignIn]:
    opened: list[Browser] = []

    async def go(name: str, role: str) -> Browser:
        await add_agent(store, name, role)
        browser = Browser(server)
        opened.append(browser)
        assert (await browser.login(name)).status == 303
        return browser

    yield go
    for b in opened:
        await b.close()


async def test_the_handoff_record_keeps_the_ids_of_the_items_it_produced(store: Store) -> None:
    ids = await seed(store)
    review = ReviewItems(store)
    assert await review.scan_conversation(BUDI) == 2
    assert await review.scan_conversation(BUDI) == 0  # found again, stored once
    record = json.loads(await store.redis.hget(keys.handoff_history(BUDI.id), ids["handoff"]))
    produced = {item_id(BUDI.id, ids["pdam_budi"]), item_id(BUDI.id, ids["asdf"])}
    assert set(record["review_items"]) == produced
    assert record["reason"] == "not_understood"  # the rest of the record is untouched
    items = await review.get(record["review_items"])
    assert {(i.text, i.handoff, i.conversation) for i in items} == {
        ("Tagihan PDAM  brp ya", ids["handoff"], BUDI.id),
        ("asdf", ids["handoff"], BUDI.id),
    }
    # The customer panel's list of handoffs shows them too.
    (shown,) = (await Contacts(store).story(BUDI, now_ms()))["handoffs"]
    assert set(shown["review_items"]) == produced
    # The bot's answer before the handoff: both of its best guesses, with confidence.
    asdf = next(i for i in items if i.text == "asdf")
    assert asdf.guesses == (("greet", 0.2), ("inform", 0.1))


async def test_trainers_see_misses_grouped_by_similar_text(store: Store, sign_in: SignIn) -> None:
    ids = await seed(store)
    rina = await sign_in("rina", "trainer")
    status, body = await rina.call("GET", "review")
    assert status == 200
    groups = body["groups"]
    assert groups[0]["count"] == 2
    pdam = groups[0]
    assert {pdam["text"]} <= {"tagihan pdam brp", "Tagihan PDAM  brp ya"}
    assert pdam["channels"] == {"webchat": 1, "telegram": 1}
    assert pdam["languages"] == {"id": 2}
    assert sorted(pdam["reasons"]) == ["nlu_fallback", "out_of_scope"]
    # Both answers named both intents: the mean confidence orders them.
    assert pdam["guesses"] == [{"intent": "out_of_scope", "confidence": 0.55},
                               {"intent": "check_bill", "confidence": 0.215}]  # fmt: skip
    links = {i["conversation"]: i["link"] for i in pdam["items"]}
    assert links == {"webchat:ana": "/inbox#conversation=webchat:ana",
                     "telegram:42": "/inbox#conversation=telegram:42"}  # fmt: skip
    assert {i["entry"] for i in pdam["items"]} == {ids["pdam_ana"], ids["pdam_budi"]}
    asdf = groups[1]
    assert (asdf["text"], asdf["reasons"], asdf["items"][0]["handoff"]) == (
        "asdf", ["not_understood"], ids["handoff"],
    )  # fmt: skip
    # Filters: channel, reason, dates.
    _, body = await rina.call("GET", "review?channel=webchat")
    assert [g["count"] for g in body["groups"]] == [1]
    _, body = await rina.call("GET", "review?reason=not_understood")
    assert [g["text"] for g in body["groups"]] == ["asdf"]
    _, body = await rina.call("GET", "review?to=2020-01-01")
    assert body["groups"] == []
    status, body = await rina.call("GET", "review?from=yesterday")
    assert (status, body["code"]) == (400, "bad_date")
    status, body = await rina.call("GET", "review?reason=bored")
    assert (status, body["code"]) == (400, "bad_filter")


async def test_agents_may_not_review(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana", "agent")
    status, body = await ana.call("GET", "review")
    assert (status, body["code"]) == (403, "trainers_only")
    status, body = await ana.call("POST", "review/dismiss", {"items": ["x"]})
    assert (status, body["code"]) == (403, "trainers_only")


async def test_a_label_is_one_line_in_the_right_file_and_links_back(
    store: Store, sign_in: SignIn, folder: Path
) -> None:
    await seed(store)
    admin = await sign_in("budi", "admin")
    _, body = await admin.call("GET", "review")
    pdam = body["groups"][0]
    status, body = await admin.call("POST", "review/label", {
        "items": pdam["ids"], "intent": "out_of_scope", "example": "tagihan [pdam](area) brp",
    })  # fmt: skip
    assert status == 201, body
    assert diff(folder) == ["+      - tagihan [pdam](area) brp"]
    assert body["placed"]["path"] == "nlu_data/out_of_scope.yml"
    line = body["placed"]["line"]
    text = (folder / "out_of_scope.yml").read_text(encoding="utf-8").splitlines()
    assert text[line - 1] == "      - tagihan [pdam](area) brp"
    _, body = await admin.call("GET", "review")
    assert [g["text"] for g in body["groups"]] == ["asdf"]  # no longer open
    _, body = await admin.call("GET", "review?status=labelled")
    (done,) = body["groups"]
    assert {i["status"] for i in done["items"]} == {"labelled"}
    item = done["items"][0]
    assert item["intent"] == "out_of_scope" and item["by"] == "budi"
    assert item["written_to"] == f"nlu_data/out_of_scope.yml:{line}"
    assert item["link"].startswith("/inbox#conversation=")


async def test_duplicates_and_conflicts_are_refused_with_where(
    store: Store, sign_in: SignIn, folder: Path
) -> None:
    await seed(store)
    rina = await sign_in("rina", "trainer")
    _, body = await rina.call("GET", "review")
    asdf = next(g for g in body["groups"] if g["text"] == "asdf")
    refusals = [
        ("check_bill", "tagihan listrik bulan ini berapa", "example_duplicate"),
        ("check_bill", "tagihan listrik bulan ini berapa kak", "example_near_duplicate"),
        ("buy_token", "Tagihan listrik bulan ini berapa?", "example_other_intent"),
        ("check_bill", "cek [Depok](area", "example_malformed_entity"),
        ("check_bill", "cek [Depok](kota)", "example_unknown_entity"),
        ("check_billing", "cek tagihan saya", "example_unknown_intent"),
    ]
    for intent, example, code in refusals:
        status, body = await rina.call(
            "POST", "review/label", {"items": asdf["ids"], "intent": intent, "example": example}
        )
        assert (status, body["code"]) == (409, code), example
    assert body["params"] == {"intent": "check_billing"}
    status, body = await rina.call("POST", "review/label", {
        "items": asdf["ids"], "intent": "check_bill", "example": "tagihan listrik bulan ini berapa",
    })  # fmt: skip
    assert body["params"]["where"] == "nlu_data/bill.yml:9"
    assert diff(folder) == []
    _, body = await rina.call("GET", "review")
    assert "asdf" in [g["text"] for g in body["groups"]]  # still open
    status, body = await rina.call("POST", "review/label", {"items": ["nope"], "intent": "x"})
    assert (status, body["code"]) == (404, "no_review_item")
    status, body = await rina.call("POST", "review/label", {"items": [], "intent": "x"})
    assert (status, body["code"]) == (400, "review_items")


async def test_dismissed_items_leave_the_open_list(store: Store, sign_in: SignIn) -> None:
    await seed(store)
    rina = await sign_in("rina", "trainer")
    _, body = await rina.call("GET", "review")
    asdf = next(g for g in body["groups"] if g["text"] == "asdf")
    status, body = await rina.call("POST", "review/dismiss", {"items": asdf["ids"]})
    assert status == 200 and body["items"][0]["status"] == "dismissed"
    _, body = await rina.call("GET", "review")
    assert "asdf" not in [g["text"] for g in body["groups"]]
    _, body = await rina.call("GET", "review?status=dismissed")
    assert [(g["text"], g["items"][0]["by"]) for g in body["groups"]] == [("asdf", "rina")]


async def test_an_agents_the_customer_meant_lands_in_the_list(
    store: Store, sign_in: SignIn
) -> None:
    ids = await seed(store)
    ana = await sign_in("ana", "agent")
    path = f"conversations/{ANA.id}/meant"
    status, body = await ana.call("POST", path, {"entry": ids["makasih"], "intent": "thank"})
    assert status == 201
    assert body["item"]["suggested"] == "thank" and body["item"]["suggested_by"] == "ana"
    bot_line = (await Transcript(store).read(ANA))[1].id
    status, body = await ana.call("POST", path, {"entry": bot_line, "intent": "thank"})
    assert (status, body["code"]) == (400, "not_customer_line")
    status, body = await ana.call("POST", path, {"entry": "1-1", "intent": "thank"})
    assert (status, body["code"]) == (404, "no_message")
    status, body = await ana.call("POST", path, {"entry": ids["makasih"], "intent": "nope"})
    assert (status, body["code"]) == (400, "label_intent")
    rina = await sign_in("rina", "trainer")
    _, body = await rina.call("GET", "review?reason=agent_label")
    (group,) = body["groups"]
    assert group["text"] == "makasih"
    assert group["suggested"] == [{"intent": "thank", "count": 1, "by": ["ana"]}]
    assert group["guesses"] == [{"intent": "thank", "confidence": 0.98}]
    # An agent's word on a message the bot also missed joins that item.
    await ana.call("POST", path, {"entry": ids["pdam_ana"], "intent": "out_of_scope"})
    _, body = await rina.call("GET", "review?channel=webchat&reason=nlu_fallback")
    (pdam,) = body["groups"]
    assert pdam["items"][0]["suggested"] == "out_of_scope"


async def test_the_intents_a_label_may_name(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana", "agent")
    status, body = await ana.call("GET", "review/intents")
    assert status == 200 and body["writable"] is True
    assert "check_transaction" in body["intents"] and "out_of_scope" in body["intents"]
    assert "area" in body["entities"]
