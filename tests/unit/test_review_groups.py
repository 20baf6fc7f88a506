"""The trainers' review list groups alike texts: fillers, case and "brp"/"berapa" aside, but
another company's bill is not the utility's."""

from __future__ import annotations

from handoff.review_items import Item, group


def test_review_groups_alike_texts_and_keeps_different_requests_apart() -> None:
    def item(n: int, text: str) -> Item:
        return Item(str(n), "webchat:x", f"{n}-0", text, n, "webchat", "id", "nlu_fallback")

    texts = ["tagihan pdam bulan ini brp", "Tagihan PDAM bulan ini berapa ya",
             "tagihan listrik bulan ini", "TAGIHAN PDAM BULAN INI BRP!!", "asdf"]  # fmt: skip
    groups = group(item(n, t) for n, t in enumerate(texts))
    assert [sorted(i.text for i in g.items) for g in groups] == [
        ["TAGIHAN PDAM BULAN INI BRP!!", "Tagihan PDAM bulan ini berapa ya",
         "tagihan pdam bulan ini brp"],
        ["asdf"],
        ["tagihan listrik bulan ini"],
    ]  # fmt: skip
