"""Customer channels: each translates its wire format to and from bot.messages, nothing else."""
