"""Errors raised by the agents' inbox, each with a stable code; the web layer turns each class
into one HTTP status, and the page shows its own translation of the code.

`MESSAGES` is the one list of codes: the English sentence an integration reads in `error`
(its `{placeholders}` come from the error's params, sent along as `params`). The page's
dictionaries (handoff/static/i18n/*.json, "errors.<code>") translate every code; a test keeps
the three in step.
"""

from __future__ import annotations

from typing import Any

from handoff.errors import HandoffError

MESSAGES: dict[str, str] = {
    # the request itself
    "bad_json": "the body must be UTF-8 JSON",
    "not_object": "the body must be a JSON object",
    "body_too_large": "request body too large (at most {limit} bytes)",
    "text_empty": "message is empty",
    "text_too_long": "{detail}",
    "text_invalid": "the text cannot be sent: {detail}",
    "bad_filter": "{name} must be one of: {choices}",
    "bad_date": "{name} must be a date like 2026-03-31",
    "bad_period": "{detail}",
    "query_too_long": "the search is too long: at most {limit} characters",
    "preference": "{name} must be one of: {choices}",
    # who is asking
    "sign_in": "sign in first",
    "token_scheme": "use Authorization: Bearer <API token>",
    "token_invalid": "this API token is not valid",
    "csrf": "missing or wrong X-CSRF-Token header",
    "trainer_read_only": "trainers can read conversations but not act on them",
    "admins_only": "only admins edit canned replies",
    "analytics_roles": "only trainers and admins see the analytics",
    "too_many_logins": "Too many failed logins. Try again in {minutes} minute(s).",
    "too_many_logins_seconds": "Too many failed logins. Try again in {seconds} second(s).",
    # accounts
    "agent_name": "an agent name is 1-32 letters, digits or _.- (starting with a letter or digit)",
    "password_short": "the password must have at least {limit} characters",
    "password_long": "the password must have at most {limit} characters",
    "agent_exists": "there is already an agent called {name}",
    "no_agent": "there is no agent called {name}",
    # what is asked for
    "no_conversation": "there is no conversation {id}",
    "no_message": "there is no message {entry} in {id}",
    "no_attachment": "this message has no attachment",
    "media_gone": "the attachment is not available any more: {detail}",
    "no_canned": "there is no canned reply {key}",
    "no_template": "{key} is not an approved template for {channel}",
    "template_variable": "the template needs the customer's {name}, which is not known yet",
    # the conversation's state
    "already_claimed": "already claimed by {name}",
    "claimed_by_you": "already claimed by you",
    "wrong_status": "cannot {action}: the conversation is {status}",
    "no_reply_now": "the conversation is {status}: nobody can reply in it now",
    "claim_first": "claim the conversation first",
    "assigned_to": "this conversation is assigned to {name}",
    "transfer_status": "only an assigned conversation can be transferred, not a {status} one",
    "already_status": "the conversation is already {status}",
    "not_retryable": "only a failed message can be retried; this one is {state}",
    # actions' input
    "transfer_to": 'name the agent to transfer to: "to" in the body',
    "transfer_trainer": "{name} is a trainer and cannot take conversations",
    "transfer_same": "the conversation is already with {name}",
    "resolution": "resolution must be one of: {choices}",
    "canned_key": "a canned reply key is 1-40 lowercase letters, digits, _ or -",
    "canned_body": "the body must be a JSON object with title, id and/or en",
    "canned_title": "title must be text of at most {limit} characters",
    "canned_text": "give the reply's text in Indonesian (id), English (en) or both",
    "canned_variable": "unknown variable {{{name}}} in the text (known: {known})",
    # trainers' review and labels
    "trainers_only": "only trainers and admins review the bot's misses and change its models",
    "no_review_item": "there is no review item {id}",
    "review_items": 'name the review items: "items", a list of 1 to {limit} ids',
    "label_intent": 'name the intent: "intent" in the body, one of the domain\'s intents',
    "no_examples": "this gateway has no NLU data folder to write examples into",
    "not_customer_line": "{entry} is not a customer's message in {id}",
    "example_duplicate": "already an example of {intent} at {where}: {example}",
    "example_near_duplicate": "a near duplicate of {example} ({intent}, {where})",
    "example_other_intent": "the same text is an example of {intent} at {where}: {example}",
    "example_malformed_entity": "malformed entity mark: {detail}; mark one as [words](entity)",
    "example_unknown_intent": "unknown intent {intent}",
    "example_unknown_entity": "unknown entity {entity}",
    "example_empty": "the example is empty",
    "example_long": "an example has at most {limit} characters",
    "example_lines": "an example is one line",
    "example_control": "the example holds control characters",
    "example_no_block": "no file under nlu_data/ has examples of {intent} yet",
    "example_breaks_file": "the example would break {file}",
    # the bot's models (trainers and admins)
    "model_name": "name a model: the id or file name `loket models` shows",
    "model_job_busy": "a {kind} is already under way (started by {by}); wait until it ends",
    "no_model_job": "there is no model job {id}",
    "no_report": "model {id} has no held-out report yet",
}


class InboxError(HandoffError):
    """Base class of the inbox's errors: `code` (a key of MESSAGES) and its `params`."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(MESSAGES[code].format(**params))


class Invalid(InboxError):
    """Raised when a request or a command's input is malformed (a bad name, an empty reply)."""


class NotSignedIn(InboxError):
    """Raised when a request carries no valid session cookie or API token."""


class Forbidden(InboxError):
    """Raised when the agent may not do this: a trainer replying, a conversation assigned to
    someone else, a missing or wrong CSRF token."""


class NotFound(InboxError):
    """Raised for an unknown conversation, transcript line, agent, canned reply or template."""


class Conflict(InboxError):
    """Raised when the conversation is not in a state that allows the action; `assignee`
    names who holds it when that is the reason (two agents claiming at once)."""

    def __init__(self, code: str, assignee: str = "", **params: Any) -> None:
        super().__init__(code, **params)
        self.assignee = assignee


class AgentExists(Conflict):
    """Raised when adding an account under a name that is taken."""


class TooManyAttempts(InboxError):
    """Raised when an account must wait before its next login attempt, or an address tried
    too often; retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        if retry_after < 60:
            super().__init__("too_many_logins_seconds", seconds=retry_after)
        else:
            super().__init__("too_many_logins", minutes=(retry_after + 59) // 60)
        self.retry_after = retry_after


class TooLarge(InboxError):
    """Raised when a request body is larger than the inbox accepts (413)."""


class MediaUnavailable(InboxError):
    """Raised when a customer's attachment cannot be fetched from its channel any more."""
