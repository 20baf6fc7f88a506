"""The sandbox provider: a stand-in for the utility's customer systems, spoken to over HTTP.

The custom actions call it exactly as they would call the real provider API; a deployment
points LOKET_PROVIDER_URL at its own provider instead.
"""

from bot.sandbox.app import create_app
from bot.sandbox.utility import Utility

__all__ = ["Utility", "create_app"]
