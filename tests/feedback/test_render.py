"""The real exit terminal window, offscreen, with real touches and a real server.

Each case runs tests/feedback/render_script.py in its own process (Kivy's global state stays out
of other tests) against one ``main.py server`` process; answers go through the real outbox and
HTTP client, and are read back from the ledger file. Screenshots are checked to be real PNGs of
the asked size; ``NUMMERLAPP_SCREENSHOTS=docs/img`` writes them where the docs show them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nummerlapp.config import load_settings
from nummerlapp.tests.server.serverproc import SITE_TOML, ServerProcess

pytestmark = [pytest.mark.render, pytest.mark.timeout(240)]

SCRIPT = Path(__file__).with_name("render_script.py")
EXAMPLE = load_settings(None)
PORTRAIT, LANDSCAPE = (800, 1280), (1280, 800)
IMG = Path(os.environ.get("NUMMERLAPP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "nummerlapp-screenshots")


def feedback_toml() -> str:
    """The example site's questions, with a short idle time so the idle test is quick."""
    lines = ["", "[feedback]", "idle_timeout_s = 5", "thanks_s = 2", ""]
    for q in EXAMPLE.feedback.questions:
        text = ", ".join(f'{lang} = "{q.text[lang]}"' for lang in ("nb", "en"))
        lines += [
            "[[feedback.questions]]",
            f'id = "{q.id}"',
            f'scale = "{q.scale}"',
            f"text = {{ {text} }}",
            "",
        ]
    return "\n".join(lines)


def site_text() -> str:
    return SITE_TOML.format(kiosk_interval=0.2).replace(
        'languages = ["nb", "en"]', 'languages = ["nb", "sv", "en"]'
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    tmp = tmp_path_factory.mktemp("feedback-render")
    site = tmp / "site.toml"
    # three languages: every name also in Swedish
    text = site_text().replace('{ nb = "NAV", en = "NAV" }', '{ nb = "NAV", sv = "NAV", en = "NAV" }')
    text = text.replace(
        '{ nb = "Byggesak", en = "Building" }', '{ nb = "Byggesak", sv = "Bygglov", en = "Building" }'
    )
    text = text.replace('{ nb = "Liten", en = "Tiny" }', '{ nb = "Liten", sv = "Liten", en = "Tiny" }')
    questions = feedback_toml()
    for q in EXAMPLE.feedback.questions:
        questions = questions.replace(
            f'en = "{q.text["en"]}"', f'sv = "{q.text["sv"]}", en = "{q.text["en"]}"'
        )
    site.write_text(text + questions, encoding="utf-8")
    proc = ServerProcess(site, tmp / "ledger.db")
    proc.start()
    yield proc, site
    proc.stop()


def run(
    server: tuple[ServerProcess, Path], tmp: Path, scenario: str, size: tuple[int, int], **kw: Any
) -> dict[str, Any]:
    proc, site = server
    job = {
        "server": proc.url.removesuffix("/api/v1"),
        "token": proc.token("feedback", name="exit"),
        "site": str(site),
        "outbox": str(tmp / "outbox"),
        "size": list(size),
        "scenario": scenario,
        "shots": str(IMG),
        **kw,
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), json.dumps(job)], capture_output=True, text=True, timeout=200
    )
    assert done.returncode == 0, done.stderr[-4000:]
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for shot in facts["shots"]:
        with Image.open(shot) as img:
            assert img.size == size
            colours = img.convert("RGB").resize((64, 64)).getcolors(64 * 64)
            assert colours is not None and len(colours) > 3, f"{shot} looks blank"
    return facts


def answers(server: tuple[ServerProcess, Path]) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(f"file:{server[0].db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT lang, question, answer FROM feedback WHERE source = 'terminal'"
        ).fetchall()
    finally:
        conn.close()
    return sorted(rows)


def clear(server: tuple[ServerProcess, Path]) -> None:
    conn = sqlite3.connect(server[0].db)
    try:
        conn.execute("DELETE FROM feedback")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_a_whole_visit_with_real_touches(
    server: tuple[ServerProcess, Path], tmp_path: Path, size: tuple[int, int]
) -> None:
    clear(server)
    tag = "landscape" if size == LANDSCAPE else "portrait"
    facts = run(server, tmp_path, "visit", size, tag=tag)
    assert facts["window"] == list(size)
    assert facts["resting_text"] == "Hvor fornøyd er du med besøket i dag?"
    assert facts["after_hammer"] == ["question", 0, 5]  # twelve taps: still the first question
    assert facts["screens"] == ["overall", "wait", "staff", "solved"]
    assert facts["thanks_text"] == "Takk!"
    assert facts["sent"] == 1 and facts["visits"] == 1
    # one answer per question; the changed mind (2, then 3) stored as 3
    assert answers(server) == [
        ("nb", "overall", 5),
        ("nb", "solved", 1),
        ("nb", "staff", 4),
        ("nb", "wait", 3),
    ]
    # back at the start for the next visitor: first question, normal text, nothing chosen
    assert (
        facts["reset_text"] == "Hvor fornøyd er du med besøket i dag?" and facts["reset_large_text"] is False
    )
    assert len(facts["shots"]) == 5


def test_idle_reset_sends_and_forgets(server: tuple[ServerProcess, Path], tmp_path: Path) -> None:
    clear(server)
    facts = run(server, tmp_path, "idle", LANDSCAPE)
    assert facts["english"] == "How satisfied are you with your visit today?"
    assert 4 <= facts["idle_after_s"] <= 8  # idle_timeout_s = 5
    assert answers(server) == [("en", "overall", 4), ("en", "wait", 1)]
    assert facts["reset_text"] == "Hvor fornøyd er du med besøket i dag?" and facts["reset_lang"] == "nb"


def test_skip_everything_in_swedish(server: tuple[ServerProcess, Path], tmp_path: Path) -> None:
    clear(server)
    facts = run(server, tmp_path, "skip", PORTRAIT)
    assert facts["swedish"] == "Hur nöjd är du med ditt besök i dag?"
    assert facts["swedish_skip"] == "Hoppa över"
    assert facts["screens"] == ["overall", "overall", "wait", "staff", "solved"]
    assert facts["thanks_text"] == "Tack!"
    assert facts["sent"] == 0 and facts["pending"] == 0 and answers(server) == []
