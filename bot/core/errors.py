"""Errors raised by the gateway's own code; the web edge turns them into HTTP answers."""


class LoketError(Exception):
    """Base class of every error Loket raises on purpose."""


class ConfigError(LoketError):
    """Raised at start when a setting is missing or malformed; the message names the variable."""


class BadMessage(LoketError):
    """Raised when an inbound message cannot be accepted (empty, too long, not text)."""


class MessageTooLong(BadMessage):
    """Raised when an inbound message is longer than any channel can carry."""


class EmptyText(BadMessage):
    """Raised when a text holds nothing to read (only spaces or invisible characters)."""


class UnknownReference(BadMessage):
    """Raised when a provider's payment callback names no conversation of this gateway."""


class BotUnavailable(LoketError):
    """Raised when the Rasa server cannot be reached or does not answer within the timeout."""


class ConversationBusy(LoketError):
    """Raised when a conversation stays locked by another turn longer than a turn may take."""


class ProcessFailed(LoketError):
    """Raised when a child process (Redis, Rasa, the action server) fails to start."""


class TrainingFailed(LoketError):
    """Raised when `rasa train` exits with an error."""


class EncoderUnavailable(LoketError):
    """The pretrained sentence encoder's weights could not be fetched or verified."""


class BotUnreachable(BotUnavailable):
    """Raised when no connection to a Rasa server could be made at all: the message never
    reached it, so another Rasa server may safely take it."""


class SecretMissing(LoketError):
    """Raised when a request for a web-chat conversation carries no conversation secret."""


class NotAllowed(LoketError):
    """Raised when a request's secret or token does not open what it asks for."""


class UnknownConversation(LoketError):
    """Raised for a web-chat conversation that was never opened, or was deleted after its
    retention period."""


class ConversationTaken(LoketError):
    """Raised when a web-chat conversation is opened under an id that is already in use."""


class TooManyRequests(LoketError):
    """Raised when a client or conversation went over its rate limit; retry after
    `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ChatFull(LoketError):
    """Raised when the web chat keeps as many conversations as it may and none can make room."""


class ExampleRefused(LoketError):
    """Raised when a training example cannot be added to nlu_data/: a duplicate, the same text
    under another intent, a malformed entity annotation, an unknown intent or entity. `code`
    is stable (the inbox translates it), `params` fill its sentence."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class EvaluationFailed(LoketError):
    """Raised when a model cannot be scored: the held-out set is malformed, or the model does
    not load or cannot parse the held-out messages."""


class DeployRefused(LoketError):
    """Raised when a model is not switched to: it scores worse than the serving one beyond the
    tolerance, it failed to load on a Rasa worker, or another deploy is under way."""
