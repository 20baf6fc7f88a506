"""The understanding-failure policy, signal by signal."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.messages import HandoffSignal, IntentScore, Outbound, Turn, Understanding
from bot.core.reasons import Reason
from bot.gateway.policy import Memory, Verdict, exasperated, judge, shouting
from tests.support.builders import make_inbound, make_key

KEY = make_key("policy")


def turn(intent: str, *texts: str, slots: dict[str, Any] | None = None, **kw: Any) -> Turn:
    return Turn(
        replies=tuple(Outbound(KEY, t) for t in texts),
        understanding=Understanding(IntentScore(intent, 0.9)),
        slots=slots or {},
        **kw,
    )


def run(*steps: tuple[str, Turn]) -> list[Verdict]:
    memory, verdicts = Memory(), []
    for text, t in steps:
        verdict = judge(make_inbound(text, KEY), t, memory)
        verdicts.append(verdict)
        memory = verdict.memory
    return verdicts


def reason(verdict: Verdict) -> str | None:
    return verdict.handoff.reason if verdict.handoff else None


def test_understood_turns_never_hand_over() -> None:
    verdicts = run(
        ("halo", turn("greet", "Halo!")),
        ("mau beli token", turn("buy_token", "Nomor meter?", slots={"requested_slot": "meter"})),
        ("14234567890", turn("inform", "Berapa?", slots={"requested_slot": "amount"})),
    )
    assert [reason(v) for v in verdicts] == [None, None, None]


def test_not_understood_once_rephrases_twice_hands_over() -> None:
    verdicts = run(
        ("xyz", turn("nlu_fallback", "Maksudnya soal token atau tagihan?")),
        ("abc", turn("nlu_fallback", "Maksudnya soal gangguan atau pengaduan?")),
    )
    assert [reason(v) for v in verdicts] == [None, Reason.NOT_UNDERSTOOD]


def test_a_form_that_took_a_value_from_a_fallback_message_understood_it() -> None:
    verdicts = run(
        ("xyz", turn("nlu_fallback", "Maksudnya?", actions=("action_rephrase",))),
        ("14234567890", turn("nlu_fallback", "Berapa?", actions=("buy_token_form",))),
        ("abc", turn("nlu_fallback", "Maksudnya apa?", actions=("action_rephrase",))),
    )
    assert [reason(v) for v in verdicts] == [None, None, None]


def test_an_understood_turn_resets_the_count() -> None:
    verdicts = run(
        ("xyz", turn("nlu_fallback", "Maksudnya?")),
        ("mau beli token", turn("buy_token", "Nomor meter?")),
        ("abc", turn("out_of_scope", "Di luar layanan kami.")),
    )
    assert [reason(v) for v in verdicts] == [None, None, None]


def test_a_turn_the_bot_gave_no_answer_to_hands_over() -> None:
    # As Rasa answers when its action server is down: the action ran, its events are lost.
    silent = turn("check_transaction", actions=("action_check_transaction",))
    [verdict] = run(("cek transaksi TRX12345678", silent))
    assert reason(verdict) == Reason.BOT_UNAVAILABLE
    assert verdict.handoff is not None and "action_check_transaction" in verdict.handoff.detail


def test_asking_for_a_person_hands_over_at_once() -> None:
    [verdict] = run(("mau ngomong sama CS", turn("request_human", "Baik.")))
    assert reason(verdict) == Reason.ASKED_FOR_HUMAN


def test_an_action_signal_wins() -> None:
    signal = HandoffSignal("backend_failure", "provider timeout")
    [verdict] = run(("14234567890", turn("inform", "Maaf, sistem gangguan.", handoff=signal)))
    assert verdict.handoff == signal


@pytest.mark.parametrize(
    "text", ["kok jawabannya sama terus", "???", "?? ?", "TOKEN SAYA BELUM MASUK JUGA"]
)
def test_frustration(text: str) -> None:
    intent = "complain_bot" if text.startswith("kok") else "check_transaction"
    [verdict] = run((text, turn(intent, "...")))
    assert reason(verdict) == Reason.FRUSTRATED


@pytest.mark.parametrize("text", ["PLN", "cek ID PLN saya", "?", "token?", "Halo Kak"])
def test_not_frustration(text: str) -> None:
    assert not shouting(text) and not exasperated(text)


ASKING_ID = {"requested_slot": "customer_id"}


def test_bot_about_to_repeat_itself_hands_over() -> None:
    verdicts = run(
        ("cek tagihan", turn("check_bill", "ID pelanggan Anda?", slots=ASKING_ID)),
        ("yang kemarin", turn("check_bill", "ID pelanggan Anda?", slots=ASKING_ID)),
    )
    assert [reason(v) for v in verdicts] == [None, Reason.LOOPING]


@pytest.mark.parametrize("intent", ["check_bill", "check_transaction", "check_complaint"])
def test_a_status_asked_for_again_may_be_the_same_answer(intent: str) -> None:
    answer = "Tagihan 2026-11 sebesar Rp287.450, jatuh tempo 20 Des 2026."
    verdicts = run(
        ("tagihan saya 532100556677", turn(intent, answer)),
        ("kapan jatuh temponya?", turn(intent, answer)),
    )
    assert [reason(v) for v in verdicts] == [None, None]
    assert [r.text for r in verdicts[1].replies] == [answer]
    # Another request repeating the same text is still a loop.
    verdicts = run(("beli token", turn("buy_token", answer)), ("token", turn("buy_token", answer)))
    assert reason(verdicts[1]) == Reason.LOOPING


def test_a_question_just_asked_is_not_repeated_after_a_side_answer() -> None:
    verdicts = run(
        ("beli token", turn("buy_token", "Nomor meter?")),
        ("ini bot?", turn("bot_challenge", "Saya bot.", "Nomor meter?")),
    )
    assert reason(verdicts[1]) is None
    assert [r.text for r in verdicts[1].replies] == ["Saya bot."]


def test_saying_nothing_new_is_a_loop() -> None:
    verdicts = run(
        ("cek tagihan", turn("check_bill", "ID pelanggan?", "Contoh: 5321", slots=ASKING_ID)),
        ("hmm", turn("check_bill", "ID pelanggan?", slots=ASKING_ID)),
    )
    assert reason(verdicts[1]) == Reason.LOOPING


def test_small_talk_may_repeat() -> None:
    verdicts = run(
        ("makasih", turn("thank", "Sama-sama.")), ("makasih ya", turn("thank", "Sama-sama."))
    )
    assert [reason(v) for v in verdicts] == [None, None]


def test_corrections_at_the_same_question_are_progress_not_a_loop() -> None:
    def confirm(amount: str) -> Turn:
        slots = {"requested_slot": "confirm_purchase", "amount": amount}
        return turn("inform", f"Konfirmasi {amount} untuk BUDI?", slots=slots)

    verdicts = run(("50rb", confirm("50000")), ("eh 100rb", confirm("100000")),
                   ("eh 200rb", confirm("200000")))  # fmt: skip
    assert [reason(v) for v in verdicts] == [None, None, None]


def test_form_asking_for_the_same_slot_a_third_time_hands_over() -> None:
    ask = {"requested_slot": "meter_number"}
    verdicts = run(
        ("beli token", turn("buy_token", "Nomor meter?", slots=ask)),
        ("12345", turn("inform", "Itu bukan nomor meter. Nomor meter?", slots=ask)),
        ("99999999999", turn("inform", "Tidak terdaftar. Nomor meter?", slots=ask)),
    )
    assert [reason(v) for v in verdicts] == [None, None, Reason.LOOPING]


def test_a_turn_the_bot_cannot_help_with_counts_toward_the_handoff_whatever_the_intent() -> None:
    # "iya" with nothing to say yes to: understood as affirm, but no rule answers it.
    verdicts = run(
        (
            "iya",
            turn(
                "affirm", "Saya menangkap ini soal jawaban ya...", actions=("action_cannot_help",)
            ),
        ),
        ("oke", turn("affirm", "Saya belum menangkap...", actions=("action_cannot_help",))),
    )
    assert [reason(v) for v in verdicts] == [None, Reason.NOT_UNDERSTOOD]
    assert verdicts[0].failed_turns == 1


def test_an_offer_for_a_bare_number_is_understood() -> None:
    verdicts = run(
        (
            "14234567890",
            turn("inform", "Mau dipakai untuk apa?", actions=("action_offer_for_value",)),
        ),
        ("xyz", turn("nlu_fallback", "Maksudnya?", actions=("action_rephrase",))),
    )
    assert [reason(v) for v in verdicts] == [None, None]
