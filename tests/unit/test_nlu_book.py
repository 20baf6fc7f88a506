"""Adding a labelled example to nlu_data/: one new line in the right file, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.errors import ExampleRefused
from bot.nlu import NluBook, check_folder
from bot.nlu.marks import parse
from tests.support.nlu import DOMAIN, copy_nlu_data, diff


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return copy_nlu_data(tmp_path)


@pytest.fixture
def book(folder: Path) -> NluBook:
    return NluBook(folder, DOMAIN)


def examples_of(path: Path, intent: str) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    block = next(item for item in data["nlu"] if item.get("intent") == intent)
    return [line[2:] for line in block["examples"].splitlines()]


def test_a_labelled_example_is_one_added_line_in_its_intents_file(
    folder: Path, book: NluBook
) -> None:
    placed = book.add("check_bill", "tagihan listrik rumah nenek di [Depok](area) brp")
    assert (placed.path, placed.intent) == ("nlu_data/bill.yml", "check_bill")
    assert diff(folder) == ["+      - tagihan listrik rumah nenek di [Depok](area) brp"]
    lines = (folder / "bill.yml").read_text(encoding="utf-8").splitlines()
    assert lines[placed.line - 1] == "      - tagihan listrik rumah nenek di [Depok](area) brp"
    assert "tagihan listrik rumah nenek di [Depok](area) brp" in examples_of(
        folder / "bill.yml", "check_bill"
    )


def test_an_english_example_lands_among_the_english_ones(folder: Path, book: NluBook) -> None:
    placed = book.add("check_bill", "how much is my electricity bill for june")
    lines = (folder / "bill.yml").read_text(encoding="utf-8").splitlines()
    assert lines[placed.line - 2].strip() == "- how much is my electricity bill this month"


def test_out_of_scope_goes_to_its_own_file(folder: Path, book: NluBook) -> None:
    placed = book.add("out_of_scope", "tagihan air pdam naik terus")
    assert placed.path == "nlu_data/out_of_scope.yml"
    assert diff(folder) == ["+      - tagihan air pdam naik terus"]


@pytest.mark.parametrize(
    ("intent", "text", "code", "says"),
    [
        ("check_bill", "tagihan listrik bulan ini berapa", "duplicate", "nlu_data/bill.yml:9"),
        ("check_bill", "Tagihan listrik bulan ini berapa?", "duplicate", "bill.yml:9"),
        ("check_bill", "tagihan listrik bulan ini berapa kak", "near_duplicate", "bill.yml:9"),
        ("buy_token", "tagihan listrik bulan ini berapa", "other_intent", "check_bill at"),
        ("buy_token", "tagihan listrik bulan ini berapa dong", "other_intent", "check_bill"),
        ("check_bill", "cek [Depok](area", "malformed_entity", "'['"),
        ("check_bill", "cek [ Depok](area)", "malformed_entity", "spaces"),
        ("check_bill", "cek [](area)", "malformed_entity", "empty"),
        ("check_bill", 'cek [Depok]{"entity": 1}', "malformed_entity", '"entity"'),
        ("check_bill", "cek [Depok](kota)", "unknown_entity", "'kota'"),
        ("check_billing", "cek tagihan saya", "unknown_intent", "check_bill,"),
        ("check_bill", "", "example_empty", "empty"),
        ("check_bill", "x" * 301, "example_long", "300"),
    ],
)
def test_refused_with_the_reason_and_nothing_written(
    folder: Path, book: NluBook, intent: str, text: str, code: str, says: str
) -> None:
    with pytest.raises(ExampleRefused) as refused:
        book.add(intent, text)
    assert refused.value.code == code
    assert says in str(refused.value)
    assert diff(folder) == []


def test_comments_and_every_other_byte_survive(folder: Path, book: NluBook) -> None:
    before = {p.name: p.read_bytes() for p in folder.glob("*.yml")}
    book.add("report_outage", "lampu di rumah [Bogor](area) kedip kedip terus")
    after = {p.name: p.read_bytes() for p in folder.glob("*.yml")}
    assert [name for name in before if before[name] != after[name]] == ["complaint.yml"]
    old, new = before["complaint.yml"].splitlines(), after["complaint.yml"].splitlines()
    assert len(new) == len(old) + 1
    assert [line for line in new if line not in old] == [
        b"      - lampu di rumah [Bogor](area) kedip kedip terus"
    ]


def test_twenty_labels_are_twenty_lines_and_the_data_stays_clean(
    folder: Path, book: NluBook
) -> None:
    texts = [f"token sy ga masuk padahal udah bayar di loket nomor {word}" for word in
             "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh".split()]  # fmt: skip
    texts += [f"my token never arrived after paying at the {place}" for place in
              "bank atm shop minimarket post office kiosk counter app website".split()]  # fmt: skip
    for text in texts:
        book.add("check_transaction", text)
    assert sorted(diff(folder)) == sorted(f"+      - {text}" for text in texts)
    errors = [f for f in check_folder(folder, DOMAIN) if f.level == "error"]
    assert errors == []


def test_marks_parse_into_plain_text_and_spans() -> None:
    parsed = parse('beli [50rb]{"entity": "amount", "value": "50000"} di [Depok](area)')
    assert parsed.plain == "beli 50rb di Depok"
    assert [(s.entity, parsed.plain[s.start : s.end]) for s in parsed.spans] == [
        ("amount", "50rb"),
        ("area", "Depok"),
    ]


def test_check_names_file_and_line(folder: Path) -> None:
    bill = folder / "bill.yml"
    text = bill.read_text(encoding="utf-8")
    text = text.replace("      - cek bill dong\n", "      - cek bill dong\n      - beli token\n")
    text = text.replace("      - lihat tagihan\n", "      - lihat [tagihan](tagihan\n")
    bill.write_text(text, encoding="utf-8")
    found = [str(f) for f in check_folder(folder, DOMAIN, root=folder.parent)]
    conflict = next(f for f in found if "'beli token' is under buy_token here" in f)
    assert conflict.startswith("nlu_data/token.yml:")
    assert "error: " in conflict
    assert "under check_bill at nlu_data/bill.yml:" in conflict
    assert any(f.startswith("nlu_data/bill.yml:") and "malformed" in f for f in found)


def test_crlf_comments_and_a_missing_last_newline_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "nlu_data"
    folder.mkdir()
    text = (
        'version: "3.1"\r\n'
        "# Bills.\r\n"
        "nlu:\r\n"
        "  - intent: check_bill   # the utility's own bill\r\n"
        "    examples: |\r\n"
        "      - cek tagihan\r\n"
        "      # a comment inside the block stays where it is\r\n"
        "      - berapa tagihan listrik saya"
    )
    (folder / "bill.yml").write_bytes(text.encode())
    placed = NluBook(folder, DOMAIN).add("check_bill", "berapa tagihan listrik rumah ortu")
    after = (folder / "bill.yml").read_bytes().decode()
    assert after == text + "\r\n      - berapa tagihan listrik rumah ortu\r\n"
    assert placed.line == 9
    assert examples_of(folder / "bill.yml", "check_bill")[-1] == "berapa tagihan listrik rumah ortu"


def test_an_intent_block_without_examples_gets_its_first(tmp_path: Path) -> None:
    folder = tmp_path / "nlu_data"
    folder.mkdir()
    text = 'version: "3.1"\nnlu:\n  - intent: check_bill\n    examples: |\n  - intent: greet\n'
    (folder / "x.yml").write_text(text + "    examples: |\n      - halo\n", encoding="utf-8")
    NluBook(folder, DOMAIN).add("check_bill", "cek tagihan")
    assert examples_of(folder / "x.yml", "check_bill") == ["cek tagihan"]
    assert examples_of(folder / "x.yml", "greet") == ["halo"]


def test_a_line_separator_is_a_space_or_refused(folder: Path) -> None:
    book = NluBook(folder, DOMAIN)
    spaced = book.add("check_bill", "tagihan listrik kos\u2028an saya brp")
    assert spaced.text == "tagihan listrik kos an saya brp"  # whitespace, as everywhere
    with pytest.raises(ExampleRefused) as refused:
        book.check("check_bill", "kos\u2029an")  # YAML would read a line break
    assert refused.value.code == "example_control"
