"""The transcript in real Redis: order, cursors, atomic appends, durability across restarts."""

from __future__ import annotations

from pathlib import Path

from bot.core.messages import Button
from bot.ops.embedded_redis import EmbeddedRedis
from handoff import Entry, Role, Transcript
from handoff.store import Store
from tests.support.builders import make_key


async def test_entries_come_back_in_order_with_their_details(store: Store) -> None:
    transcript = Transcript(store)
    key = make_key()
    await transcript.append(key, [Entry(Role.CUSTOMER, "mau beli token 50rb")])
    await transcript.append(
        key,
        [
            Entry(Role.BOT, "Nomor meternya?", buttons=(Button("Batal", "/cancel"),),
                  intent="buy_token", confidence=0.91),
            Entry(Role.SYSTEM, "handed over", meta={"reason": "asked_for_human"}),
        ],
    )  # fmt: skip
    entries = await transcript.read(key)
    assert [(e.role, e.text) for e in entries] == [
        (Role.CUSTOMER, "mau beli token 50rb"),
        (Role.BOT, "Nomor meternya?"),
        (Role.SYSTEM, "handed over"),
    ]
    bot = entries[1]
    assert bot.intent == "buy_token" and bot.confidence == 0.91
    assert bot.buttons == (Button("Batal", "/cancel"),)
    assert entries[2].meta == {"reason": "asked_for_human"}
    assert all(e.ts > 0 and e.id for e in entries)


async def test_read_after_a_cursor_returns_only_newer_entries(store: Store) -> None:
    transcript = Transcript(store)
    key = make_key()
    first, second = await transcript.append(key, [Entry(Role.CUSTOMER, "a"), Entry(Role.BOT, "b")])
    await transcript.append(key, [Entry(Role.CUSTOMER, "c")])
    assert [e.text for e in await transcript.read(key, after=first)] == ["b", "c"]
    assert [e.text for e in await transcript.read(key, after=second)] == ["c"]
    assert await transcript.length(key) == 3


async def test_conversations_are_kept_apart(store: Store) -> None:
    transcript = Transcript(store)
    a, b = make_key(), make_key()
    await transcript.append(a, [Entry(Role.CUSTOMER, "for a")])
    await transcript.append(b, [Entry(Role.CUSTOMER, "for b")])
    assert [e.text for e in await transcript.read(a)] == ["for a"]


async def test_transcript_survives_a_redis_restart(tmp_path: Path) -> None:
    """AOF persistence: what was acknowledged before a clean stop is there after start."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    key = make_key()
    try:
        store = Store.from_url(server.url)
        await Transcript(store).append(key, [Entry(Role.CUSTOMER, "udh bayar tp token blm masuk")])
        await store.close()
    finally:
        server.stop()
    assert (tmp_path / "redis" / "appendonly.aof").exists()

    server = EmbeddedRedis(tmp_path / "redis", port=server.port).start()
    try:
        store = Store.from_url(server.url)
        entries = await Transcript(store).read(key)
        await store.close()
    finally:
        server.stop()
    assert [e.text for e in entries] == ["udh bayar tp token blm masuk"]
