"""`loket nlu add` and `loket nlu check` as a trainer runs them."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import loket
from tests.support.nlu import copy_nlu_data, diff


def test_nlu_add_writes_one_line_and_says_where(tmp_path: Path) -> None:
    folder = copy_nlu_data(tmp_path)
    env = {"LOKET_NLU_DATA_DIR": str(folder)}
    done = loket("nlu", "add", "check_transaction", "udh bayar di [Bogor](area) kok token ga ada",
                 env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "transaction.yml:" in done.stdout and "under check_transaction" in done.stdout
    assert diff(folder) == ["+      - udh bayar di [Bogor](area) kok token ga ada"]
    again = loket("nlu", "add", "buy_token", "udh bayar di Bogor kok token ga ada", env=env)
    assert again.returncode == 2
    assert "not added: the same text is an example of check_transaction at" in again.stderr
    assert diff(folder) == ["+      - udh bayar di [Bogor](area) kok token ga ada"]


def test_nlu_check_reports_file_and_line_and_fails_on_errors(tmp_path: Path) -> None:
    folder = copy_nlu_data(tmp_path)
    env = {"LOKET_NLU_DATA_DIR": str(folder)}
    clean = loket("nlu", "check", "--no-rasa", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 error(s)" in clean.stdout
    token = folder / "token.yml"
    text = token.read_text(encoding="utf-8")
    text = text.replace("      - beli token\n", "      - beli token\n      - cek [tagihan](bill\n")
    token.write_text(text, encoding="utf-8")
    broken = loket("nlu", "check", "--no-rasa", env=env)
    assert broken.returncode == 1
    assert "token.yml:9: error: malformed entity annotation" in broken.stdout
    assert "1 error(s)" in broken.stdout
