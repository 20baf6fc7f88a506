"""The assistant and its runtime: message types, router, Rasa client, app wiring, CLI.

Only the light, channel-neutral names are exported here; importing `bot` never starts or
loads anything.
"""

from bot.core.errors import BadMessage, BotUnavailable, ConfigError, LoketError
from bot.core.messages import Button, ConversationKey, Inbound, Outbound, Turn
from bot.core.settings import Settings

__all__ = [
    "BadMessage",
    "BotUnavailable",
    "Button",
    "ConfigError",
    "ConversationKey",
    "Inbound",
    "LoketError",
    "Outbound",
    "Settings",
    "Turn",
]
