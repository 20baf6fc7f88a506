"""Rasa custom actions (rasa_sdk). They import nothing of Loket's other packages."""

from actions.slots import ValidateSlotMappings

__all__ = ["ValidateSlotMappings"]
