"""What the gateway itself tells customers about handoffs, in their language.

The bot's own sentences live in bot/domain.yml; these are the few the gateway says when it
takes the conversation away from the bot, so they must be honest about what happens next.
"""

from __future__ import annotations

from bot.core import reasons
from bot.core.messages import Button

BACK_TO_BOT = "/loket_back_to_bot"  # a customer in the queue may return to the bot

_NEXT = {
    "id": {
        "now": "Saya sambungkan ke petugas kami; Anda di antrean nomor {position}. "
        "Petugas akan membalas di chat ini.",
        "assigned": "Saya sambungkan ke petugas kami, yang akan segera membalas di chat ini.",
        "nobody": "Saat ini belum ada petugas yang online. Permintaan Anda sudah masuk antrean "
        "nomor {position} dan akan dibalas di chat ini begitu petugas tersedia "
        "(jam layanan {hours}).",
        "closed": "Petugas kami melayani {hours}, jadi saat ini belum ada yang bisa membalas. "
        "Permintaan Anda tersimpan di antrean nomor {position} dan akan dijawab di chat ini "
        "pada jam layanan berikutnya.",
    },
    "en": {
        "now": "I'm passing you to our staff; you are number {position} in the queue. "
        "They will answer in this chat.",
        "assigned": "I'm passing you to a member of our staff, who will answer in this chat "
        "shortly.",
        "nobody": "No one from our staff is online right now. Your request is number "
        "{position} in the queue and will be answered in this chat as soon as someone is "
        "available (service hours {hours}).",
        "closed": "Our staff work {hours}, so no one can answer right now. Your request is "
        "saved as number {position} in the queue and will be answered in this chat during "
        "the next service hours.",
    },
}

_BACK = {"id": "Kembali ke bot", "en": "Back to the bot"}
_RESUMED = {
    "id": "Baik, Anda kembali dengan asisten otomatis. Ada yang bisa saya bantu?",
    "en": "OK, you're back with the automated assistant. What can I do for you?",
}

_TEXT_ONLY = {
    "id": "Maaf, asisten otomatis hanya bisa membaca pesan teks. Silakan ketik pertanyaan Anda, "
    'misalnya "cek status token" atau "lapor gangguan". Jika perlu petugas, ketik "petugas".',
    "en": "Sorry, the automated assistant can only read text. Please type your question, for "
    'example "check my token" or "report an outage". To reach a person, type "agent".',
}


def _lang(language: str) -> str:
    return "en" if language == "en" else "id"


def handoff_notice(
    reason: str,
    language: str,
    *,
    position: int,
    open_now: bool,
    online: bool,
    hours: str,
    explained: bool = False,
    assigned: bool = False,
) -> tuple[str, tuple[Button, ...]]:
    """The sentence (and buttons) that tell the customer a person takes over, and when.

    `explained`: the bot already said why (an action's own words), so say it only once.
    `assigned`: an agent has it already (auto-assignment), so no queue to speak of.
    """
    lang = _lang(language)
    when = "now" if open_now and online else ("nobody" if open_now else "closed")
    if assigned:
        when = "assigned"
    why = "" if explained else reasons.apology(reason, lang)
    text = " ".join(p for p in (why, _NEXT[lang][when].format(position=position, hours=hours)) if p)
    buttons = () if when in ("now", "assigned") else (Button(_BACK[lang], BACK_TO_BOT),)
    return text, buttons


def resumed(language: str) -> str:
    return _RESUMED[_lang(language)]


def text_only(language: str) -> str:
    """Told when the customer sends a photo, voice note or sticker to the bot."""
    return _TEXT_ONLY[_lang(language)]
