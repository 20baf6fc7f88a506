"""The Telegram channel: webhook or long polling in, Bot API out (python-telegram-bot 22)."""

from channels.telegram.channel import install, make_bot
from channels.telegram.convert import CHANNEL, inbound_from_update, send_requests
from channels.telegram.sender import TelegramSender
from channels.telegram.webhook import PATH as WEBHOOK_PATH
from channels.telegram.webhook import webhook_secret

__all__ = [
    "CHANNEL",
    "WEBHOOK_PATH",
    "TelegramSender",
    "inbound_from_update",
    "install",
    "make_bot",
    "send_requests",
    "webhook_secret",
]
