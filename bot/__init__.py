"""The assistant and its runtime: message types, router, Rasa client, app wiring, CLI.

Only the light, channel-neutral names are exported here; importing `bot` never starts or
loads anything.
"""

from bot.errors import BadMessage, BotUnavailable, ConfigError, LoketError
from bot.messages import Button, ConversationKey, Inbound, Outbound, Turn
from bot.settings import Settings

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
