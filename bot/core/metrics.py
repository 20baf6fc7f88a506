"""What Loket counts for Prometheus: one registry per app, handed to whoever records.

Created by the composition root and passed down; a component built without one (a test, a
terminal command) gets its own throwaway registry, so recording never needs a check.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds: a turn is a Rasa round trip plus a few Redis writes; Rasa alone takes 30-40 ms.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_in = Counter(
            "loket_messages_in", "Customer messages that reached the router", ["channel"],
            registry=r,
        )  # fmt: skip
        self.accepted = Counter(
            "loket_inbound_accepted", "Channel messages this gateway persisted and acknowledged",
            ["channel"], registry=r,
        )  # fmt: skip
        self.duplicates = Counter(
            "loket_inbound_duplicates", "Channel retries of a message already accepted",
            ["channel"], registry=r,
        )  # fmt: skip
        self.messages_out = Counter(
            "loket_messages_out", "Bot and agent messages queued for the customer",
            ["channel", "role"], registry=r,
        )  # fmt: skip
        self.deliveries = Counter(
            "loket_deliveries", "Delivery outcomes on the channels", ["channel", "outcome"],
            registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "loket_turn_seconds", "One customer message through the router, lock to replies",
            ["outcome"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rasa_seconds = Histogram(
            "loket_rasa_seconds", "One message's round trip to a Rasa worker", ["worker"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rasa_errors = Counter(
            "loket_rasa_errors", "Rasa workers that failed a message", ["worker", "kind"],
            registry=r,
        )  # fmt: skip
        self.rasa_workers_up = Gauge(
            "loket_rasa_workers_up", "Rasa workers the gateway currently sends to", registry=r
        )
        self.understanding = Counter(
            "loket_understanding", "Bot turns by whether the model understood the message "
            "(fallback: nlu_fallback or out_of_scope)", ["result"], registry=r,
        )  # fmt: skip
        self.handoffs = Counter(
            "loket_handoffs", "Conversations handed to people, by reason", ["reason"], registry=r
        )
        self.backlog = Gauge(
            "loket_stream_backlog", "Stream entries not yet finished", ["stream"], registry=r
        )

    def exposition(self) -> bytes:
        """The Prometheus text format of everything recorded."""
        return generate_latest(self.registry)
