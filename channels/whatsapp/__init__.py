"""The WhatsApp channel: Cloud API webhooks in, Cloud API messages out (Meta or a bridge)."""

from channels.whatsapp.channel import install
from channels.whatsapp.sender import WhatsAppSender

__all__ = ["WhatsAppSender", "install"]
