"""The NLU training data (nlu_data/): reading it line by line, adding a labelled example as one
new line, and checking the whole for trainers' mistakes."""

from bot.nlu.book import NluBook, read_domain
from bot.nlu.checks import Finding, check_folder

__all__ = ["Finding", "NluBook", "check_folder", "read_domain"]
