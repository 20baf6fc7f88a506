"""Every drill in bench/, run small against one Loket: it runs its fault, counts, and finds no
acknowledged message lost, duplicated or out of order.

The drills share one whole Loket (bench.harness.running: its own Redis, sandbox, action server,
Rasa with the REST channel) started once for this module; each starts its own gateway. The
Redis drill comes last but one: it stops that Redis. `loket run`'s drill starts its own
`loket run` (and kills it) with this module's Rasa server instead of a second one.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import (
    drill_backend,
    drill_channel_api,
    drill_kill_gateway,
    drill_kill_loket,
    drill_load,
    drill_redis,
)
from bench.harness import Running, running
from bench.traffic import Tally


@pytest.fixture(scope="module")
def loket(model: Path) -> Iterator[Running]:
    with running(rest_channel=True, gateway=False, bot_timeout=20) as whole:
        yield whole


def args(parser: argparse.ArgumentParser, *argv: str) -> argparse.Namespace:
    return parser.parse_args(argv)


def exactly_once(tally: Tally) -> None:
    assert tally.acknowledged == tally.sent > 0
    assert tally.answered + tally.to_people == tally.acknowledged, tally
    assert (tally.lost, tally.duplicated, tally.out_of_order) == (0, 0, 0), tally


async def test_the_load_drill_compares_the_gateway_with_rasa_rest(
    loket: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    a = args(drill_load.parser(), "--conversations", "4", "--turns", "2", "--rate", "2",
             "--seconds", "3")  # fmt: skip
    phases = await drill_load.drill(a, loket)
    assert [(p.name.split()[0], p.path) for p in phases] == [
        ("burst", "gateway"), ("burst", "REST"), ("sustained", "gateway"), ("sustained", "REST"),
    ]  # fmt: skip
    for phase in phases:
        exactly_once(phase.tally)
        assert phase.tally.to_people == 0 and len(phase.tally.latencies) == phase.tally.sent
    out = capsys.readouterr().out
    assert "ratio gateway / Rasa REST" in out and "peak resident memory" in out


async def test_the_gateway_killed_mid_load_answers_everything_once(loket: Running) -> None:
    a = args(drill_kill_gateway.parser(), "--conversations", "6", "--turns", "3", "--gap", "1",
             "--kills", "1", "--every", "3", "--down", "1")  # fmt: skip
    exactly_once(await drill_kill_gateway.drill(a, loket))


async def test_channel_apis_refusing_for_a_while_deliver_everything_once(loket: Running) -> None:
    a = args(drill_channel_api.parser(), "--conversations", "6", "--turns", "3", "--gap", "1",
             "--at", "2", "--down", "4", "--between", "2")  # fmt: skip
    exactly_once(await drill_channel_api.drill(a, loket))


async def test_a_backend_down_gets_every_customer_an_answer(loket: Running) -> None:
    a = args(drill_backend.parser(), "--how", "kill", "--down", "3", "--at", "2",
             "--conversations", "4", "--turns", "3", "--gap", "1", "--patience", "60")  # fmt: skip
    phases = await drill_backend.drill(a, loket)
    assert [(p.target, p.how) for p in phases] == [("actions", "kill"), ("provider", "kill")]
    for phase in phases:
        assert phase.answers and all(a.answered is not None for a in phase.answers)
        exactly_once(phase.tally)


async def test_redis_restarted_mid_load_loses_nothing(loket: Running) -> None:
    a = args(drill_redis.parser(), "--conversations", "6", "--turns", "3", "--gap", "1",
             "--handoffs", "2", "--at", "3", "--down", "2")  # fmt: skip
    outcome = await drill_redis.drill(a, loket)
    exactly_once(outcome.tally)
    assert outcome.handoffs[0] >= 2 and outcome.handoffs[0] == outcome.handoffs[1]
    assert outcome.lines[0] > 0 and outcome.lines[0] == outcome.lines[1]
    assert outcome.lost_writes == 0


async def test_loket_run_killed_leaves_no_child_and_answers_everything_once(
    loket: Running, tmp_path: Path
) -> None:
    a = args(drill_kill_loket.parser(), "--conversations", "4", "--turns", "3", "--gap", "1",
             "--at", "3", "--down", "1", "--rasa-url", loket.settings.rasa_url or "",
             "--rasa-token", loket.settings.rasa_token)  # fmt: skip
    outcome = await drill_kill_loket.drill(a, tmp_path)
    assert outcome.children == 3 and outcome.survivors == 0 and outcome.ports_freed
    exactly_once(outcome.tally)
