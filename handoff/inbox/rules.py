"""Who may do what in the inbox, in one place.

Agents work the conversations assigned to them (and claim, hand back or close waiting ones);
admins may act on any conversation people own; trainers only read.
"""

from __future__ import annotations

from handoff.conversations import State
from handoff.errors import TransitionRefused
from handoff.inbox.accounts import Agent
from handoff.inbox.errors import Conflict, Forbidden
from handoff.status import WITH_PEOPLE, Status


def conflict(exc: TransitionRefused, agent: Agent) -> Conflict:
    if exc.assignee and exc.status == Status.ASSIGNED.value:
        if exc.assignee == agent.name:
            return Conflict("claimed_by_you", exc.assignee)
        return Conflict("already_claimed", exc.assignee, name=exc.assignee)
    return Conflict("wrong_status", action=exc.transition.replace("_", " "), status=exc.status)


def _not_trainer(agent: Agent) -> None:
    if not agent.works_queue:
        raise Forbidden("trainer_read_only")


def may_write(agent: Agent, state: State) -> None:
    """Reply, retry a delivery: the assignee, or an admin while people own the conversation."""
    _not_trainer(agent)
    if state.status not in WITH_PEOPLE:
        raise Conflict("no_reply_now", status=state.status.value)
    if agent.is_admin or (state.status is Status.ASSIGNED and state.assignee == agent.name):
        return
    if state.status is Status.WAITING:
        raise Forbidden("claim_first")
    raise Forbidden("assigned_to", name=state.assignee)


def may_note(agent: Agent, state: State) -> None:
    """Notes: the assignee; admins on any conversation."""
    _not_trainer(agent)
    if agent.is_admin:
        return
    may_write(agent, state)


def may_transfer(agent: Agent, state: State) -> None:
    _not_trainer(agent)
    if state.status is not Status.ASSIGNED:
        raise Conflict("transfer_status", status=state.status.value)
    if not agent.is_admin and state.assignee != agent.name:
        raise Forbidden("assigned_to", name=state.assignee)


def may_resolve(agent: Agent, state: State) -> None:
    """Hand back or close: anyone working the queue while it waits; then its assignee or admins."""
    _not_trainer(agent)
    if state.status not in WITH_PEOPLE:
        raise Conflict("already_status", status=state.status.value)
    if state.status is Status.ASSIGNED and not agent.is_admin and state.assignee != agent.name:
        raise Forbidden("assigned_to", name=state.assignee)
