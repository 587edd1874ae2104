"""The board rendered offscreen by real Kivy, each scenario in its own process, PNGs inspected.

The scenario script (board_scenario.py) prints what every label says; these tests check the
words and then look at the pixels, because a label can hold the right text and still be drawn
off-screen, clipped or in the wrong colour.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from nummerlapp.tests.server.serverproc import ServerProcess, run_cli, write_site

pytestmark = [pytest.mark.render, pytest.mark.timeout(120)]
SCRIPT = Path(__file__).with_name("board_scenario.py")
YELLOW = (0xFF, 0xD6, 0x0A)
AMBER = (0xFF, 0xB0, 0x00)


def scenario(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=90)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {out.returncode}): {out.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert out.returncode == 0 and "error" not in result, f"{result.get('error')}\n{out.stderr[-3000:]}"
    return result


def share(
    img: Image.Image, box: tuple[int, int, int, int], rgb: tuple[int, int, int], tol: int = 24
) -> float:
    """Fraction of the pixels in ``box`` within ``tol`` of colour ``rgb``."""
    region = img.convert("RGB").crop(box)
    hits = sum(
        count
        for count, (r, g, b) in cast(
            "list[tuple[int, tuple[int, int, int]]]", region.getcolors(region.width * region.height) or []
        )
        if abs(r - rgb[0]) <= tol and abs(g - rgb[1]) <= tol and abs(b - rgb[2]) <= tol
    )
    return hits / (region.width * region.height)


@pytest.mark.parametrize(("size", "lang"), [("1920x1080", "nb"), ("1080x1920", "en")])
def test_fixture_board_renders_words_and_pixels(tmp_path: Path, size: str, lang: str) -> None:
    png = tmp_path / "board.png"
    result = scenario("fixture", "--size", size, "--lang", lang, "--out", str(png))
    texts = result["texts"]
    # the service names counters in the site's language (nb); an English board says "Counter 2"
    counter = {"nb": "Skranke", "en": "Counter"}[lang]
    assert (texts["number"], texts["counter"]) == ("A012", f"{counter} 2")
    assert texts["previous"][:2] == [["B004", f"{counter} 3"], ["A010", f"{counter} 2"]]
    assert texts["status"] == ""
    closed = {"nb": "Stengt", "en": "Closed"}[lang]
    assert texts["departments"][3] == [{"nb": "Tolketjeneste", "en": "Interpreting"}[lang], "–", closed]
    assert texts["message"].startswith({"nb": "Velkommen", "en": "Welcome"}[lang])
    assert texts["portrait"] == (size == "1080x1920")
    img = Image.open(png)
    assert img.size == tuple(int(v) for v in size.split("x"))
    w, h = img.size
    latest = (40, 140, int(w * 0.55), int(h * 0.5)) if w > h else (40, 140, w - 40, int(h * 0.3))
    assert 0.05 < share(img, latest, YELLOW) < 0.5  # the yellow number is drawn, panel not highlighted


def test_new_call_is_highlighted_and_lost_link_is_marked(tmp_path: Path) -> None:
    png = tmp_path / "board.png"
    scenario("fixture", "--highlight", "--down", "--lang", "nb", "--out", str(png))
    img = Image.open(png)
    assert share(img, (60, 160, 1000, 680), YELLOW) > 0.6  # the panel itself turned yellow
    assert share(img, (0, 0, 1920, 120), AMBER) > 0.05  # the reconnecting pill


def test_identify_flashes_the_board_name(tmp_path: Path) -> None:
    png = tmp_path / "board.png"
    result = scenario("fixture", "--identify", "--lang", "nb", "--out", str(png))
    assert result["texts"]["identify"] == "Dette er tavle Venterom 1"
    assert share(Image.open(png), (760, 480, 1160, 600), YELLOW) > 0.5


def test_a_call_from_the_real_service_appears_and_is_announced(tmp_path: Path) -> None:
    server = ServerProcess(write_site(tmp_path / "site.toml"), tmp_path / "ledger.db")
    server.start()
    try:
        token = run_cli("token", "--role", "staff", "--config", str(server.config), "--db", str(server.db))
        assert token.returncode == 0, token.stderr
        png = tmp_path / "live.png"
        result = scenario(
            "server", "--server", server.url, "--token", token.stdout.strip(), "--out", str(png),
            "--wav-dir", str(tmp_path / "wav"),
        )  # fmt: skip
    finally:
        server.stop()
    assert result["before"]["number"] == "" and result["before"]["counter"] == "Ingen oppropte ennå"
    texts = result["texts"]
    assert texts["number"] == result["called"] == "A001" and texts["counter"] == "Skranke 2"
    assert texts["departments"][0][:2] == ["NAV", "1"]  # 2 issued, 1 called: the service's own count
    assert result["http_to_frame_s"] < 2.0
    assert result["played"][0] == "chime.wav" and len(result["played"]) == 3  # chime, nb, en
    assert all((tmp_path / "wav" / name).stat().st_size > 10_000 for name in result["played"])
    img = Image.open(png)
    assert share(img, (60, 160, 1000, 680), YELLOW) > 0.6  # drawn highlighted: a new call
