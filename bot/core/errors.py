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
