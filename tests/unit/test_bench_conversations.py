"""The conversation benchmark's checks and the xSID probe's reading, without a running Loket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.conversations import (
    DATASET,
    BotTurn,
    DatasetError,
    Played,
    Script,
    check,
    created,
    creation_patterns,
    dead_end_texts,
    read_scripts,
    repeated_texts,
    summary,
)
from bench.xsid import read_conll, report
from bot.core.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
FIXED = dead_end_texts(DOMAIN)


def played(script: Script, *turns: tuple[list[str], int], reason: str | None = None) -> Played:
    p = Played(script, [BotTurn(texts, buttons) for texts, buttons in turns])
    p.reason = reason
    p.handoff_turn = len(turns) if reason else None
    return p


def test_the_shipped_set_has_at_least_sixty_conversations_with_checks() -> None:
    scripts = read_scripts(DATASET)
    assert len(scripts) >= 60
    assert all(s.mentions or s.absent or s.tickets or s.orders or s.handoff or s.buttons_at
               or len(s.turns) > 1 for s in scripts)  # fmt: skip


def test_bad_lines_are_all_named(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join([
            json.dumps({"id": "a", "turns": ["halo"]}),
            "{not json",
            json.dumps({"id": "a", "turns": ["halo"]}),
            json.dumps({"id": "b", "turns": []}),
            json.dumps({"id": "c", "turns": ["x"], "handoff": "frustrated"}),
            json.dumps({"id": "d", "turns": ["x"], "colour": "red"}),
        ]),
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(DatasetError) as error:
        read_scripts(path)
    message = str(error.value)
    assert "5 bad line(s)" in message
    for where in ("c.jsonl:2", "c.jsonl:3", "c.jsonl:4", "c.jsonl:5", "c.jsonl:6"):
        assert where in message


def test_the_fixed_cannot_help_sentences_come_from_the_domain() -> None:
    assert "Maaf, saya belum bisa membantu untuk itu." in FIXED
    assert "Sorry, I can't help with that yet." in FIXED


def test_a_fixed_sentence_without_buttons_is_a_dead_end_and_fails_the_conversation() -> None:
    p = played(Script("x", ("halo", "14234567890")), (["Halo!"], 0),
               (["Maaf, saya belum bisa membantu untuk itu."], 0))  # fmt: skip
    check(p, FIXED)
    assert p.dead_ends == [2] and not p.ok


def test_the_same_sentence_with_buttons_or_a_silent_handoff_is_no_dead_end() -> None:
    p = played(Script("x", ("a", "b"), handoff="not_understood", by_turn=2),
               (["Maaf, saya belum bisa membantu untuk itu."], 2), ([], 0),
               reason="not_understood")  # fmt: skip
    check(p, FIXED)
    assert p.dead_ends == [] and p.ok


def test_every_expectation_is_checked() -> None:
    script = Script("x", ("beli", "ya"), mentions=("Rp50.000",), absent=("Mau beli token berapa?",),
                    tickets=1, orders=1, buttons_at=(1,))  # fmt: skip
    p = played(script, (["Mau beli token berapa?"], 0), (["ok"], 0), reason="frustrated")
    check(p, FIXED)
    assert p.failures == [
        "never said 'Rp50.000'",
        "said 'Mau beli token berapa?'",
        "0 ticket(s) filed, expected 1",
        "0 order(s) created, expected 1",
        "handed over (frustrated) at turn 2",
        "no buttons at turn 1",
    ]


def test_a_handoff_too_late_or_for_another_reason_fails() -> None:
    late = played(Script("x", ("a", "b", "c"), handoff="frustrated", by_turn=2),
                  (["1"], 0), (["2"], 0), (["3"], 0), reason="frustrated")  # fmt: skip
    check(late, FIXED)
    assert late.failures == ["handed over at turn 3, expected by 2"]
    other = played(Script("x", ("a",), handoff="frustrated", by_turn=1), (["1"], 0),
                   reason="looping")  # fmt: skip
    check(other, FIXED)
    assert other.failures == ["handoff looping, expected frustrated"]


def test_created_references_are_read_from_the_answers_that_create_them() -> None:
    patterns = creation_patterns(DOMAIN)
    texts = [
        "Pesanan TRXO13PTICC sudah dibuat. Bayar Rp52.500 ke virtual account 123.",
        "Transaksi TRXZABLJJ8J (token Rp50.000 untuk meter 1) belum dibayar.",
        "Laporan Anda tercatat dengan nomor TKT787486. Simpan nomor ini.",
        "Laporan Anda untuk Coblong sudah tercatat dengan nomor TKT787486, jadi tidak ...",
        "Your report is registered as TKT111222. Our field team will follow it up.",
    ]
    assert created(texts, patterns["order"]) == {"TRXO13PTICC"}
    assert created(texts, patterns["ticket"]) == {"TKT787486", "TKT111222"}


def test_texts_sent_more_than_twice_are_counted() -> None:
    p = played(Script("x", ("a", "b", "c")), (["Sama-sama"], 0), (["Sama-sama"], 0),
               (["Sama-sama", "x"], 0))  # fmt: skip
    assert repeated_texts(p) == {"Sama-sama": 3}
    last = summary([p]).splitlines()[-1]
    assert last.startswith("bot texts sent more than twice") and last.endswith(" 3")


def test_read_conll_takes_text_and_intent(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text(
        "# id = 1\n# text-en = wake me up\n# text = bangunkan saya\n# intent = alarm/set_alarm\n"
        "1\tbangunkan\talarm/set_alarm\tO\n\n# id = 2\n# text = putar lagu\n# intent = PlayMusic\n",
        encoding="utf-8",
    )
    utterances = read_conll(path)
    assert [(u.text, u.source_intent) for u in utterances] == [
        ("bangunkan saya", "alarm/set_alarm"), ("putar lagu", "PlayMusic"),
    ]  # fmt: skip
    (tmp_path / "empty.conll").write_text("nothing\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no '# text ='"):
        read_conll(tmp_path / "empty.conll")


def test_the_probe_report_flags_request_intents_above_one_percent(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    lines = [f"# text = kalimat {i}\n# intent = weather/find\n\n" for i in range(50)]
    path.write_text("".join(lines), encoding="utf-8")
    utterances = read_conll(path)
    predicted = ["out_of_scope"] * 47 + ["nlu_fallback", "buy_token", "cancel"]
    shown = report(utterances, predicted, examples=1)
    assert "96.0% (48/50)" in shown
    assert "REQUEST > 1%" in shown.split("buy_token")[1].splitlines()[0]
    assert "REQUEST" not in shown.split("cancel")[1].splitlines()[0]
    assert "largest request intent share: 2.0%" in shown
