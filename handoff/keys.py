"""Every Redis key Loket uses, in one place. Bump VERSION when a layout changes incompatibly.

`{...}` around the conversation id is a Redis Cluster hash tag: all keys of one conversation
live in the same slot, so one Lua script or MULTI may touch them together.
"""

VERSION = "v1"
PREFIX = f"loket:{VERSION}"

# Rasa's own stores, configured in bot/endpoints.yml (Rasa appends ":tracker:<sender>" and
# ":lock:<sender>"; it accepts only an alphanumeric prefix).
RASA_PREFIX = f"loket{VERSION}"


def conversation(conversation_id: str) -> str:
    """Hash: channel, chat_id, created_at, last_inbound_at (ms since epoch)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}"


def transcript(conversation_id: str) -> str:
    """Stream: every customer, bot, agent and system message of the conversation, in order."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:transcript"


def turn_lock(conversation_id: str) -> str:
    """String (redis-py Lock token): held while one turn of the conversation is processed."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:lock"


def conversations_by_activity() -> str:
    """Sorted set: conversation id scored by its last activity (ms since epoch)."""
    return f"{PREFIX}:conversations"
