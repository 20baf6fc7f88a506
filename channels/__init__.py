"""Customer channels: each translates its wire format to and from bot.core.messages, and
nothing else."""
