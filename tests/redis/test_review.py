"""`loket review`: misunderstood customer messages read back from real transcripts in Redis."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.messages import ConversationKey
from handoff.deploys import Deploys, Recheck
from handoff.review import collect, misses_in
from handoff.store import Store
from handoff.transcript import Entry, Role, Transcript
from tests.support.cli import loket

WEEK_AGO = int(time.time() * 1000) - 7 * 24 * 3600 * 1000


def customer_says(text: str, payload: str | None = None) -> Entry:
    return Entry(Role.CUSTOMER, text, payload=payload)


def bot_says(text: str, intent: str | None, confidence: float | None, **meta: str) -> Entry:
    return Entry(Role.BOT, text, intent=intent, confidence=confidence, meta=meta)


async def test_only_what_the_bot_did_not_understand_is_collected(store: Store) -> None:
    transcript = Transcript(store)
    ana, budi = ConversationKey("webchat", "ana"), ConversationKey("telegram", "42")
    await transcript.append(ana, [customer_says("tagihan pdam brp")])
    await transcript.append(ana, [bot_says("Maaf, itu di luar layanan", "out_of_scope", 0.81)])
    await transcript.append(ana, [customer_says("halo")])
    await transcript.append(ana, [bot_says("Halo!", "greet", 0.99)])
    await transcript.append(budi, [customer_says("Tagihan  PDAM brp")])
    await transcript.append(budi, [bot_says("Maaf, bisa diulang?", "nlu_fallback", 0.31)])
    await transcript.append(budi, [customer_says("asdf")])
    notice = bot_says("Saya sambungkan ke petugas", "nlu_fallback", 0.22, handoff="not_understood")
    await transcript.append(budi, [notice])
    await transcript.append(budi, [customer_says("mau ngomong sama orang")])
    asked = bot_says("Saya sambungkan", "request_human", 0.97, handoff="asked_for_human")
    await transcript.append(budi, [asked])

    rows = await collect(store, since_ms=WEEK_AGO)

    # The same text in other case and spacing is one row.
    pdam = rows[0]
    assert (" ".join(pdam.text.lower().split()), pdam.times) == ("tagihan pdam brp", 2)
    assert set(pdam.guesses) == {"out_of_scope", "nlu_fallback"}
    assert pdam.lowest_confidence == pytest.approx(0.31)
    assert pdam.reasons == ["nlu_fallback", "out_of_scope"]
    assert [(r.text, r.reasons) for r in rows[1:]] == [("asdf", ["not_understood"])]
    line = pdam.as_json()
    assert line["intent"] == "" and line["times"] == 2
    assert line["conversations"] == ["telegram:42", "webchat:ana"]


def test_before_frustration_or_a_loop_the_lead_up_is_what_went_wrong() -> None:
    frustrated = [
        customer_says("mau ganti nama pemilik meteran"),
        bot_says("Untuk beli token, nomor meternya?", "buy_token", 0.62),
        customer_says("bukan beli, ganti nama"),
        bot_says("Nomor meternya?", "inform", 0.58),
        customer_says("ga nyambung bgt"),
        bot_says("Maaf, saya sambungkan", "complain_bot", 0.95, handoff="frustrated"),
    ]
    misses = misses_in("webchat:x", frustrated)
    # The complaint itself was understood; the two messages before it were not.
    assert [(m.text, m.guess, m.why) for m in misses] == [
        ("mau ganti nama pemilik meteran", "buy_token", "frustrated"),
        ("bukan beli, ganti nama", "inform", "frustrated"),
    ]
    looping = [
        customer_says("cek status"),
        bot_says("Nomor transaksinya?", "check_transaction", 0.9),
        customer_says("yg kemarin"),
        bot_says("Nomor transaksinya?", "inform", 0.6),
        customer_says("yang kemarin kak"),
        bot_says("Saya sambungkan", "inform", 0.6, handoff="looping"),
    ]
    assert [m.text for m in misses_in("webchat:y", looping)] == ["yg kemarin", "yang kemarin kak"]
    # A loop closed by a message the model did not understand keeps both findings.
    fell_back = [*looping[:4], customer_says("kmrn sore"),
                 bot_says("Saya sambungkan", "nlu_fallback", 0.3, handoff="looping")]  # fmt: skip
    assert [(m.text, m.why) for m in misses_in("webchat:z", fell_back)] == [
        ("yg kemarin", "looping"), ("kmrn sore", "nlu_fallback")
    ]  # fmt: skip


async def test_old_conversations_and_button_presses_are_left_out(store: Store) -> None:
    transcript = Transcript(store)
    key = ConversationKey("webchat", "old")
    await transcript.append(key, [customer_says("blah")])
    await transcript.append(key, [bot_says("Maaf?", "nlu_fallback", 0.2)])
    later = int(time.time() * 1000) + 60_000  # only conversations active from then on
    assert await collect(store, since_ms=later) == []
    pressed = [
        customer_says("Beli token", payload='/buy_token{"x": 1}'),
        bot_says("Nomor meter?", "nlu_fallback", 0.4),
    ]
    assert misses_in("webchat:x", pressed) == []


def test_the_command_prints_and_exports(redis_url: str, tmp_path: Path) -> None:
    env = {"REDIS_URL": redis_url}
    empty = loket("review", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "0 misunderstood message(s)" in empty.stdout
    out = tmp_path / "review.jsonl"
    exported = loket("review", "--days", "1", "--export", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert out.read_text() == "" and "fill in each" in exported.stderr
    bad = loket("review", "--days", "0", env=env)
    assert bad.returncode == 2 and "must be more than 0" in bad.stderr
    unwritable = loket("review", "--export", str(tmp_path / "no" / "dir.jsonl"), env=env)
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


async def test_the_command_shows_per_deployed_model_the_earlier_misses_now_understood(
    store: Store, redis_url: str
) -> None:
    deploys = Deploys(store)
    first = await deploys.record("deploy", "aaa111", "/m/loket-aaa111.tar.gz", "tia", 0.9, "")
    await deploys.save_recheck(first.id, Recheck(40, 12, 10, 9, 0, first.at))
    await deploys.record("deploy", "bbb222", "/m/loket-bbb222.tar.gz", "tia", 0.91, "")
    shown = loket("review", env={"REDIS_URL": redis_url})
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("earlier misses read again by each deployed model, newest first:")
    # The newer deploy was not read again (yet): only the first has a line.
    assert len(lines) == at + 2 and "aaa111" in lines[at + 1]
    assert lines[at + 1].endswith(
        "12 of 40 earlier misses now understood (9 of 10 labelled ones get their label)"
    )


async def test_exported_lines_are_json_a_trainer_can_label(store: Store, tmp_path: Path) -> None:
    from bot.ops.commands.review import export

    transcript = Transcript(store)
    key = ConversationKey("whatsapp", "6281")
    await transcript.append(key, [customer_says("token pln sy ga bs dipake")])
    await transcript.append(key, [bot_says("Maaf?", "nlu_fallback", 0.42)])
    out = tmp_path / "review.jsonl"
    export(await collect(store, since_ms=WEEK_AGO), out)
    [line] = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["text"] == "token pln sy ga bs dipake" and line["intent"] == ""
    assert line["guess"] == "nlu_fallback" and line["confidence"] == pytest.approx(0.42)
    assert line["why"] == ["nlu_fallback"] and line["conversations"] == ["whatsapp:6281"]
