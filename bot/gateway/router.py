"""The router: every inbound message goes through here, is recorded, and reaches the bot.

Unless a person owns the conversation: then the bot is never asked (and Rasa's tracker is
paused too), the message goes to the agents' inbox, and nothing automatic is sent back.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from bot.core import reasons
from bot.core.errors import BotUnavailable
from bot.core.hours import ServiceHours
from bot.core.log_context import about
from bot.core.messages import (
    ConversationKey,
    HandoffSignal,
    Inbound,
    Outbound,
    Turn,
    Understanding,
)
from bot.core.metrics import Metrics
from bot.core.reasons import NOT_UNDERSTOOD_INTENTS, Reason
from bot.gateway import notices
from bot.gateway.policy import Memory, judge
from handoff import Entry, Role, Transcript, csat
from handoff.assignment import Assigner
from handoff.conversations import Conversations, State
from handoff.handoffs import Handoffs, Outcome
from handoff.outbox import Outbox
from handoff.presence import Presence
from handoff.review_items import ReviewItems
from handoff.status import WITH_PEOPLE, Status
from handoff.summary import summarize

log = logging.getLogger(__name__)


class Bot(Protocol):
    async def send(self, inbound: Inbound) -> Turn: ...
    async def pause(self, conversation: ConversationKey) -> None: ...
    async def resume(self, conversation: ConversationKey) -> None: ...


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Team:
    """Who can take over, and when."""

    hours: ServiceHours
    presence: Presence
    clock: Callable[[], datetime] = field(default=_utc_now)


class Router:
    def __init__(
        self,
        conversations: Conversations,
        transcript: Transcript,
        handoffs: Handoffs,
        bot: Bot,
        team: Team,
        *,
        outbox: Outbox,
        timeout: float,
        metrics: Metrics | None = None,
        assigner: Assigner | None = None,
        surveys: csat.Surveys | None = None,
        review: ReviewItems | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._conversations = conversations
        self._transcript = transcript
        self._outbox = outbox
        self._handoffs = handoffs
        self._bot = bot
        self._team = team
        self._timeout = timeout
        self._assigner = assigner  # round robin, when LOKET_AUTO_ASSIGN asks for it
        self._surveys = surveys  # records taps on the satisfaction question
        self._review = review  # the trainers' list: a handoff records the misses behind it

    async def handle(self, inbound: Inbound) -> Turn:
        started = time.perf_counter()
        with about(inbound.conversation.id):
            turn = await self._handle(inbound)
        outcome = "handed_over" if turn.handoff else ("with_people" if turn.paused else "bot")
        self._metrics.turn_seconds.labels(outcome).observe(time.perf_counter() - started)
        return turn

    async def _handle(self, inbound: Inbound) -> Turn:
        conversation = inbound.conversation
        # The lock outlives the bot's timeout a little so a slow turn never overlaps the next.
        async with self._conversations.turn(
            conversation, ttl=self._timeout + 5, wait=self._timeout + 5
        ):
            state = await self._conversations.state(conversation)
            if inbound.message_id and (
                inbound.message_id == state.answered
                or await self._outbox.answered(conversation, inbound.message_id)
            ):
                # Processed before a crash that came before its acknowledgement: not again.
                log.info("%s: message %s was answered already", conversation.id,
                         inbound.message_id)  # fmt: skip
                await self._conversations.mark_answered(conversation, inbound.message_id)
                return Turn(replies=(), understanding=Understanding(None))
            self._metrics.messages_in.labels(conversation.channel).inc()
            turn = await self._turn(inbound, state)
            if inbound.message_id:
                await self._conversations.mark_answered(conversation, inbound.message_id)
            return turn

    async def _turn(self, inbound: Inbound, state: State) -> Turn:
        conversation = inbound.conversation
        meta: dict[str, object] = {}
        if inbound.message_id:
            meta["message_id"] = inbound.message_id
        if inbound.attachment is not None:
            a = inbound.attachment
            meta["attachment"] = {"kind": a.kind, "ref": a.ref, "caption": a.caption}
        # A turn run again (Redis or Rasa failed part-way) finds its message recorded already.
        found = inbound.message_id and await self._transcript.customer_line(
            conversation, inbound.message_id
        )
        if found:
            entry_id = found
        else:
            [entry_id] = await self._transcript.append(
                conversation,
                [Entry(Role.CUSTOMER, inbound.text, payload=inbound.payload, meta=meta)],
                name=str(inbound.metadata.get("name") or ""),
            )
        if csat.is_answer(inbound.payload):
            return await self._rated(inbound, state, entry_id)
        if state.status in WITH_PEOPLE:
            return await self._with_people(inbound, state, entry_id)
        if inbound.attachment is not None:
            # The bot reads text; an agent sees the attachment if the customer is handed over.
            reply = Outbound(conversation, notices.text_only(state.language))
            await self._answer(inbound, [Entry(Role.BOT, reply.text)])
            return Turn(replies=(reply,), understanding=Understanding(None))
        try:
            if state.rasa_paused:  # handed back while Rasa could not be told
                await self._resume(conversation)
            turn = await self._bot.send(inbound)
        except BotUnavailable as exc:
            log.warning("%s: bot unavailable: %s", conversation.id, exc)
            silent = Turn(replies=(), understanding=Understanding(None))
            signal = HandoffSignal(Reason.BOT_UNAVAILABLE, str(exc)[:200])
            return await self._hand_over(inbound, silent, signal, state.language, failed=0)
        verdict = judge(inbound, turn, Memory.from_json(state.memory))
        intent = turn.understanding.intent
        fell_back = intent is None or intent.name in NOT_UNDERSTOOD_INTENTS
        self._metrics.understanding.labels("fallback" if fell_back else "understood").inc()
        language = str(turn.slots.get("language") or state.language)
        if verdict.handoff is not None:
            return await self._hand_over(
                inbound, turn, verdict.handoff, language, failed=verdict.failed_turns
            )
        await self._answer(inbound, [_bot_line(turn, reply) for reply in verdict.replies])
        await self._conversations.remember(
            conversation, verdict.memory.to_json(), language, turn.slots
        )
        log.info(
            "%s: intent=%s confidence=%.2f replies=%d",
            conversation.id,
            intent.name if intent else None,
            intent.confidence if intent else 0.0,
            len(verdict.replies),
        )
        return dataclasses.replace(turn, replies=verdict.replies)

    async def hand_back(
        self, conversation: ConversationKey, by: str, *, only_assignee: str = ""
    ) -> Outcome:
        """Give the conversation back to the bot; Rasa resumes with its context."""
        outcome = await self._handoffs.hand_back(conversation, by, only_assignee=only_assignee)
        try:
            await self._resume(conversation)
        except BotUnavailable as exc:
            # The next message resumes it: the router, not Rasa, decides who answers.
            log.warning("%s: could not resume Rasa yet: %s", conversation.id, exc)
        return outcome

    async def _resume(self, conversation: ConversationKey) -> None:
        await self._bot.resume(conversation)
        await self._conversations.mark_rasa_paused(conversation, False)

    async def _with_people(self, inbound: Inbound, state: State, entry_id: str) -> Turn:
        conversation = inbound.conversation
        if inbound.payload == notices.BACK_TO_BOT and state.status is Status.WAITING:
            await self.hand_back(conversation, by="the customer")
            reply = Outbound(conversation, notices.resumed(state.language))
            await self._answer(inbound, [Entry(Role.BOT, reply.text)])
            return Turn(replies=(reply,), understanding=Understanding(None))
        log.info("%s: with %s; the bot stays silent", conversation.id, state.status.value)
        await self._handoffs.customer_wrote(conversation, entry_id, assignee=state.assignee)
        return Turn(replies=(), understanding=Understanding(None), paused=True)

    async def _rated(self, inbound: Inbound, state: State, entry_id: str) -> Turn:
        """A tap on the satisfaction question: recorded, thanked for, never a turn for Rasa."""
        conversation = inbound.conversation
        vote = csat.parse(inbound.payload)
        answer = csat.Answer.UNKNOWN
        if vote is not None and self._surveys is not None:
            answer = await self._surveys.answer(conversation, *vote)
        log.info("%s: satisfaction answer %s", conversation.id, answer.value)
        if state.status in WITH_PEOPLE:  # a new handoff is open: its agent sees the tap
            await self._handoffs.customer_wrote(conversation, entry_id, assignee=state.assignee)
            return Turn(replies=(), understanding=Understanding(None), paused=True)
        reply = Outbound(conversation, csat.thanks(state.language))
        await self._answer(inbound, [Entry(Role.BOT, reply.text)])
        return Turn(replies=(reply,), understanding=Understanding(None))

    async def _hand_over(
        self, inbound: Inbound, turn: Turn, signal: HandoffSignal, language: str, *, failed: int
    ) -> Turn:
        conversation = inbound.conversation
        # An action that asked for the handoff already said why; inferred ones replace the
        # bot's answer, which is exactly what must not reach the customer again.
        kept = turn.replies if turn.handoff is not None else ()
        await self._answer(inbound, [_bot_line(turn, reply) for reply in kept], part="kept")
        summary = summarize(await self._transcript.read(conversation), turn, failed_turns=failed)
        self._metrics.handoffs.labels(signal.reason).inc()
        outcome = await self._handoffs.request(
            conversation,
            reason=signal.reason,
            detail=signal.detail,
            language=language,
            summary=summary,
            note=reasons.note(signal.reason),
        )
        assigned = ""
        if self._assigner is not None and outcome.changed:
            assigned = await self._assigner.assign(conversation)
        now = self._team.clock()
        online = bool(await self._team.presence.online(int(now.timestamp() * 1000)))
        text, buttons = notices.handoff_notice(
            signal.reason,
            language,
            position=outcome.position,
            open_now=self._team.hours.is_open(now),
            online=online,
            hours=self._team.hours.describe(language),
            explained=bool(kept),
            assigned=bool(assigned),
        )
        notice = Outbound(conversation, text, buttons)
        # The notice carries what the bot made of the message, so trainers can review it.
        await self._answer(inbound, [_bot_line(turn, notice, meta={"handoff": signal.reason})])
        await self._conversations.remember(conversation, Memory().to_json(), language, turn.slots)
        if self._review is not None and signal.reason in reasons.ABOUT_UNDERSTANDING:
            # Only these handoffs come from misunderstandings: their records list the review
            # items behind them. Other misses are found when the review list is read.
            await self._review.scan_conversation(conversation)
        if signal.reason != Reason.BOT_UNAVAILABLE:
            try:
                await self._bot.pause(conversation)
                await self._conversations.mark_rasa_paused(conversation, True)
            except BotUnavailable as exc:
                log.warning("%s: could not pause Rasa: %s", conversation.id, exc)
        log.info("%s: handed over (%s), queue position %d", conversation.id, signal.reason,
                 outcome.position)  # fmt: skip
        return Turn(
            replies=(*kept, notice),
            understanding=turn.understanding,
            slots=turn.slots,
            latest_action=turn.latest_action,
            handoff=signal,
        )

    async def _answer(self, inbound: Inbound, lines: list[Entry], part: str = "") -> None:
        """Post the answer to `inbound`. A channel message is answered once: after a crash
        that came before its turn was marked finished, the replayed turn finds the answer
        posted and stops there (`handle`)."""
        posted = await self._outbox.post_answer(
            inbound.conversation, lines, message_id=inbound.message_id, part=part
        )
        if posted is None:
            log.info("%s: the answer to message %s was posted before; not again",
                     inbound.conversation.id, inbound.message_id)  # fmt: skip


def _bot_line(turn: Turn, reply: Outbound, meta: dict[str, object] | None = None) -> Entry:
    """A transcript line for a bot reply, with what the bot made of the customer's message."""
    intent = turn.understanding.intent
    # The two best real intents, for trainers reviewing what the bot did not understand.
    guesses = [[s.name, round(s.confidence, 4)] for s in turn.understanding.ranking
               if s.name != "nlu_fallback"][:2]  # fmt: skip
    return Entry(
        Role.BOT,
        reply.text,
        buttons=reply.buttons,
        intent=intent.name if intent else None,
        confidence=intent.confidence if intent else None,
        meta={**(meta or {}), **({"guesses": guesses} if guesses else {})},
    )
