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
        who = "you" if exc.assignee == agent.name else exc.assignee
        return Conflict(f"already claimed by {who}", exc.assignee)
    return Conflict(f"cannot {exc.transition.replace('_', ' ')}: the conversation is {exc.status}")


def _not_trainer(agent: Agent) -> None:
    if not agent.works_queue:
        raise Forbidden("trainers can read conversations but not act on them")


def may_write(agent: Agent, state: State) -> None:
    """Reply, retry a delivery: the assignee, or an admin while people own the conversation."""
    _not_trainer(agent)
    if state.status not in WITH_PEOPLE:
        raise Conflict(f"the conversation is {state.status.value}: nobody can reply in it now")
    if agent.is_admin or (state.status is Status.ASSIGNED and state.assignee == agent.name):
        return
    if state.status is Status.WAITING:
        raise Forbidden("claim the conversation first")
    raise Forbidden(f"this conversation is assigned to {state.assignee}")


def may_note(agent: Agent, state: State) -> None:
    """Notes: the assignee; admins on any conversation."""
    _not_trainer(agent)
    if agent.is_admin:
        return
    may_write(agent, state)


def may_transfer(agent: Agent, state: State) -> None:
    _not_trainer(agent)
    if state.status is not Status.ASSIGNED:
        raise Conflict(
            f"only an assigned conversation can be transferred, not a {state.status.value} one"
        )
    if not agent.is_admin and state.assignee != agent.name:
        raise Forbidden(f"this conversation is assigned to {state.assignee}")


def may_resolve(agent: Agent, state: State) -> None:
    """Hand back or close: anyone working the queue while it waits; then its assignee or admins."""
    _not_trainer(agent)
    if state.status not in WITH_PEOPLE:
        raise Conflict(f"the conversation is already {state.status.value}")
    if state.status is Status.ASSIGNED and not agent.is_admin and state.assignee != agent.name:
        raise Forbidden(f"this conversation is assigned to {state.assignee}")
