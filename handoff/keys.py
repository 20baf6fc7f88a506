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
    """Hash: channel, chat_id, created_at; status, assignee and the open handoff (handoff_id,
    reason, detail, language, summary JSON, handoff_at, resolution); the policy's memory; who
    the customer is: name (their channel profile), account (the name the provider gave); for
    a web-chat conversation, `secret`: the sha256 of the visitor's secret (handoff/guests.py)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}"


def handoff_history(conversation_id: str) -> str:
    """Hash: handoff id -> JSON {reason, language, at, brief, status, assignee, claimed_at,
    ended_at, outcome, ended_by, resolution, csat_asked_at, csat, csat_at}: every handoff of
    the conversation, kept by the transitions' script; the satisfaction question's fields by
    handoff/csat.py."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:handoffs"


def conversation_refs(conversation_id: str) -> str:
    """Hash: "<kind>:<value>" -> when last collected (ms), for every meter number, customer id,
    transaction and ticket the bot collected in the conversation (see handoff/index.py)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:refs"


def transcript(conversation_id: str) -> str:
    """Stream: every customer, bot, agent and system message of the conversation, in order."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:transcript"


def turn_lock(conversation_id: str) -> str:
    """String (redis-py Lock token): held while one turn of the conversation is processed."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:lock"


def public_conversations() -> str:
    """Sorted set: web-chat conversation ids scored by their last activity (ms since epoch);
    the retention sweep and the cap on their number read it (handoff/guests.py)."""
    return f"{PREFIX}:public-conversations"


def rate(bucket: str, subject: str) -> str:
    """String counter with a TTL: requests of one subject (a client address, a conversation)
    in the current window of one rate limit (handoff/limits.py)."""
    return f"{PREFIX}:rate:{bucket}:{subject}"


def rasa_tracker(conversation_id: str) -> str:
    """String (JSON), written by Rasa's RedisTrackerStore: the conversation's tracker."""
    return f"{RASA_PREFIX}:tracker:{conversation_id}"


def conversations_by_activity() -> str:
    """Sorted set: conversation id scored by its last activity (ms since epoch)."""
    return f"{PREFIX}:conversations"


def queue() -> str:
    """Sorted set: conversations waiting for an agent, scored by handoff time (oldest first)."""
    return f"{PREFIX}:queue"


# --- search indexes (handoff/index.py writes them, handoff/search.py reads them) -----------------


def search_word(word: str) -> str:
    """Sorted set: conversation ids whose customer wrote `word`, scored by when last (ms)."""
    return f"{PREFIX}:search:word:{word}"


def search_ref(kind: str, value: str) -> str:
    """Sorted set: conversation ids where the bot collected this meter number, customer id,
    transaction or ticket (`kind`: meter, customer, transaction, ticket), scored by when last."""
    return f"{PREFIX}:search:{kind}:{value}"


def search_agent(name: str) -> str:
    """Sorted set: conversation ids the agent was assigned (claim, transfer), scored by when."""
    return f"{PREFIX}:search:agent:{name}"


def search_reason(code: str) -> str:
    """Sorted set: conversation ids handed over for this reason, scored by the handoff's time."""
    return f"{PREFIX}:search:reason:{code}"


def search_scratch(token: str) -> str:
    """Sorted set with a 10 s TTL: one search's intermediate result (handoff/search.py)."""
    return f"{PREFIX}:search:scratch:{token}"


def search_built() -> str:
    """String: the index layout the stored indexes follow, set by the backfill (reindex)."""
    return f"{PREFIX}:search:built"


def search_backfill_lock() -> str:
    """String with a 1 h TTL: a gateway is backfilling the indexes (the others leave it be)."""
    return f"{PREFIX}:search:backfill-lock"


def inbox_events() -> str:
    """Stream (capped ~10k): handoffs, customer messages and transitions, for live inboxes."""
    return f"{PREFIX}:inbox:events"


def inbound() -> str:
    """Stream: messages accepted from channels' webhooks, processed by the router workers
    (consumer group `router`); an entry is acknowledged once its turn is done."""
    return f"{PREFIX}:inbound"


def inbound_order(conversation_id: str) -> str:
    """List: the conversation's inbound stream entry ids not yet through their turn, oldest
    first; a worker takes an entry only when it is at the head (order across replicas)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:inbound"


def inbound_seen(channel: str, message_id: str) -> str:
    """String with a 48 h TTL: this channel message id was already accepted (provider retries)."""
    return f"{PREFIX}:seen:{channel}:{message_id}"


def lease(stream: str, entry_id: str) -> str:
    """String with a TTL: a worker is processing this stream entry (others skip it meanwhile)."""
    return f"{stream}:lease:{entry_id}"


def outbox() -> str:
    """Stream: bot and agent messages to deliver on their channel (consumer group `senders`)."""
    return f"{PREFIX}:outbox"


def answer(conversation_id: str, message_id: str, part: str = "") -> str:
    """String with a 48 h TTL, written with the lines themselves: the router posted its answer
    to this channel message (`part` "kept": the replies before a handoff notice), so a turn
    replayed after a crash never posts it again."""
    suffix = f":{part}" if part else ""
    return f"{PREFIX}:conv:{{{conversation_id}}}:answer:{message_id}{suffix}"


def deliveries(conversation_id: str) -> str:
    """Hash: transcript entry id -> delivery JSON {state, reason, attempts, ts, message_ids}."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:deliveries"


def payment_seen(ref: str) -> str:
    """String with a 30 d TTL: the conversation id a provider's payment callback for this
    transaction reference was delivered to (the provider's retries are answered "duplicate")."""
    return f"{PREFIX}:payment:{ref}"


def sent_message(channel: str, message_id: str) -> str:
    """String with a 7 d TTL: "<conversation id> <entry id>" of a message the channel accepted,
    so its delivery receipts (delivered, read, failed) find the transcript line."""
    return f"{PREFIX}:sent:{channel}:{message_id}"


# --- the agents' inbox (handoff/inbox) ---------------------------------------------------------


def agents_online() -> str:
    """Sorted set: agent name scored by their last heartbeat (ms since epoch)."""
    return f"{PREFIX}:agents:online"


def agent(name: str) -> str:
    """Hash: one agent account: role, password (Argon2id hash), created_at, token (sha256 of
    the current API token, hex)."""
    return f"{PREFIX}:agent:{name}"


def agents() -> str:
    """Set: the names of all agent accounts."""
    return f"{PREFIX}:agents"


def agent_token(digest: str) -> str:
    """String: the agent name an API token (by its sha256, hex) belongs to."""
    return f"{PREFIX}:agent-token:{digest}"


def agent_sessions(name: str) -> str:
    """Set: sha256 digests of the agent's session tokens (ended together on remove/passwd)."""
    return f"{PREFIX}:agent:{name}:sessions"


# Set: conversation ids assigned to the agent. Kept by the handoff transitions' script, which
# builds the name from these two halves around the agent's name.
AGENT_CONVERSATIONS = (f"{PREFIX}:agent:", ":conversations")


def agent_conversations(name: str) -> str:
    """Set: conversation ids assigned to the agent (an index, checked against the conversation)."""
    return name.join(AGENT_CONVERSATIONS)


def agent_seen(name: str) -> str:
    """Hash: conversation id -> the last transcript entry id the agent has seen (unread counts)."""
    return f"{PREFIX}:agent:{name}:seen"


def inbox_session(digest: str) -> str:
    """Hash with an idle TTL: one browser session (agent, csrf, created_at), by the sha256 of its
    cookie token, so the stored key never works as a cookie."""
    return f"{PREFIX}:inbox:session:{digest}"


def login_failures(scope: str, value: str) -> str:
    """Failed logins with a TTL: for a name (scope "name"), a hash of `fails` (attempts not
    yet proven right, reserved before the password is checked) and `next_at` (ms: no attempt
    before); for a client address (scope "ip"), a string counter."""
    return f"{PREFIX}:inbox:login-failures:{scope}:{value}"


def canned() -> str:
    """Hash: canned reply key -> JSON {title, id, en} (the team's snippets)."""
    return f"{PREFIX}:inbox:canned"


def assign_cursor() -> str:
    """String: the agent who was auto-assigned last (round robin continues after them)."""
    return f"{PREFIX}:inbox:assign-cursor"


def typing_sent(conversation_id: str) -> str:
    """String with a short TTL: a typing signal went to this customer (one per few seconds)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:typing"


def read_marked(conversation_id: str) -> str:
    """String: the channel id of the customer's last message marked read (WhatsApp)."""
    return f"{PREFIX}:conv:{{{conversation_id}}}:read"


def canned_seeded() -> str:
    """String: set once the default canned replies were written (so deleting them all sticks)."""
    return f"{PREFIX}:inbox:canned:seeded"


# --- trainers' review (handoff/review_items.py) ------------------------------------------------


def review_item(item_id: str) -> str:
    """Hash: one message the bot did not understand (or an agent labelled): conversation,
    entry, text, ts, channel, language, why, guesses JSON, handoff; the trainer's decision
    (status open/labelled/dismissed, intent, example, path, line, by, decided_at); an agent's
    suggestion (suggested, suggested_by, suggested_at)."""
    return f"{PREFIX}:review:item:{item_id}"


def review_items() -> str:
    """Sorted set: every review item id, scored by its message's time (ms)."""
    return f"{PREFIX}:review:items"


def review_scanned() -> str:
    """String: ms since epoch up to which conversations' transcripts were scanned for review
    items (the next scan starts a little before it)."""
    return f"{PREFIX}:review:scanned"


# Models: which one the Rasa workers serve, switching them over, the jobs that do it
# (handoff/deploys.py).


def deploy_history() -> str:
    """List (newest first): JSON {id, kind (deploy|rollback), model, model_file, by, at,
    macro_f1, previous}: every model switch, kept at most 200."""
    return f"{PREFIX}:models:deploys"


def deploy_rechecks() -> str:
    """Hash: deploy id -> JSON {items, understood, labelled, labelled_right, unread, at}: the
    messages misunderstood before that deploy, read again by the model it deployed."""
    return f"{PREFIX}:models:rechecks"


def draining() -> str:
    """Set: Rasa worker URLs taking no new turns while they load another model."""
    return f"{PREFIX}:models:draining"


def in_flight() -> str:
    """Hash: Rasa worker URL -> turns the gateways have sent it that have not answered yet."""
    return f"{PREFIX}:models:in-flight"


def deploy_lock() -> str:
    """String (redis-py Lock token): held while one deploy or rollback switches the workers."""
    return f"{PREFIX}:models:lock"


def model_jobs() -> str:
    """List: ids of queued model jobs (train, deploy, rollback), oldest at the right."""
    return f"{PREFIX}:models:jobs"


def model_job(job_id: str) -> str:
    """Hash with a TTL: kind, model, by, status (queued|running|done|failed), created_at,
    steps (JSON list of progress lines), result (JSON), error."""
    return f"{PREFIX}:models:job:{job_id}"


def latest_model_job() -> str:
    """String: the id of the model job queued last (what the inbox shows)."""
    return f"{PREFIX}:models:job:latest"
