"""`python -m bench.screenshots` takes the docs' pictures for real: every screen, as a PNG."""

from __future__ import annotations

from pathlib import Path

from bench.screenshots import SHOTS
from tests.browser.conftest import NEEDS_BROWSER
from tests.support.cli import run_bench

pytestmark = NEEDS_BROWSER


def test_the_script_saves_every_screen(tmp_path: Path) -> None:
    result = run_bench("screenshots", "--out", str(tmp_path), timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in SHOTS:
        picture = tmp_path / f"{name}.png"
        data = picture.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name
        assert str(picture) in result.stdout
