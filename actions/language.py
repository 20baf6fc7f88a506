"""Which language a customer writes in: Indonesian (the default) or English.

A word-list vote is enough here: the two languages share few function words, and a short
message with no signal ("50rb", "ok", a meter number) keeps the language already in use.
"""

from __future__ import annotations

import re

INDONESIAN = "id"
ENGLISH = "en"

_WORD = re.compile(r"[a-z']+")

_EN = frozenset(
    """
    i i'm i'd me my mine you your we our is are was were am be been the a an of to for with
    and or but not no yes please thanks thank hello hi hey morning afternoon evening how what
    when where why who which do does did can could would should will want need like buy get
    have has my it this that there here help electricity bill payment paid
    received yet still complaint power outage bye goodbye see later done sorry
    """.split()
)

_ID = frozenset(
    """
    saya aku gue gw kamu anda kak kakak min admin mas mbak pak bu bapak ibu yang dan atau tapi
    tp tidak tdk ga gak nggak enggak ngga belum blm sudah udah udh sdh mau pengen ingin ingin
    beli bli isi bayar sudah bagaimana gimana gmn gmana cara caranya apa kenapa knp kapan dimana
    mana berapa brp dong deh ya yah nih tuh sih kok kah lah dengan dgn untuk utk buat dari ke di
    ini itu ada bisa tolong mohon minta terima kasih makasih mksh halo hai pagi siang sore malam
    selamat listrik token tagihan meteran nomor masuk mati padam pulsa lagi juga aja saja sama
    tolong dadah sampai jumpa permisi nominal rb ribu juta jt cek transaksi laporan
    pengaduan gangguan pasang baru daya bulan tadi pagi kemarin nomornya tokennya
    """.split()
)


def detect(text: str, current: str | None = None) -> str:
    """The language of `text`; `current` (or Indonesian) when the text gives no clear signal."""
    words = _WORD.findall(text.lower())
    en = sum(1 for w in words if w in _EN and w not in _ID)
    id_ = sum(1 for w in words if w in _ID and w not in _EN)
    if en > id_:
        return ENGLISH
    if id_ > en:
        return INDONESIAN
    return current if current in (INDONESIAN, ENGLISH) else INDONESIAN
