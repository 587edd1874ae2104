"""The real kiosk window, offscreen, with real touches, a real server and a printer on a real pty.

Each case runs tests/kiosk/render_script.py in its own process (Kivy's global state stays out of
other tests) with a timeout; the script prints the facts it saw as JSON and the screenshots it
wrote, which are checked here to be real, non-blank PNGs of the asked size.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nummerlapp.config import load_settings
from nummerlapp.tests.kiosk.ptyprinter import PtyPair
from nummerlapp.tests.server.serverproc import SITE_TOML, ServerProcess, free_port

pytestmark = pytest.mark.render

SCRIPT = Path(__file__).with_name("render_script.py")
EXAMPLE_PIN_HASH = load_settings(None).kiosk.technician_pin_hash  # PIN 2468

KIOSK_TOML = f"""
[kiosk]
printer = "pty"
idle_timeout_s = 5
ticket_screen_s = 1
technician_pin_hash = "{EXAMPLE_PIN_HASH}"

[[printers]]
id = "pty"
type = "dummy"
qr = true
logo = "none"
"""


def site_file(path: Path) -> Path:
    path.write_text(SITE_TOML.format(kiosk_interval=0.2) + KIOSK_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("kiosk-render")
    proc = ServerProcess(site_file(tmp / "site.toml"), tmp / "ledger.db")
    proc.start()
    yield proc
    proc.stop()


def run_script(job: dict[str, Any], tmp: Path, timeout: float = 90) -> dict[str, Any]:
    with PtyPair(tmp) as pty:
        job = {**job, "pty_host": str(pty.host), "pty_device": str(pty.device)}
        done = subprocess.run(
            [sys.executable, str(SCRIPT), json.dumps(job)], capture_output=True, text=True, timeout=timeout
        )
    assert done.returncode == 0, done.stderr[-4000:]
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return facts


def assert_png(path: str, size: tuple[int, int]) -> None:
    with Image.open(path) as img:
        assert img.size == size
        colours = img.convert("RGB").resize((64, 64)).getcolors(64 * 64)
        assert colours is not None and len(colours) > 3, f"{path} looks blank"


def job(srv: ServerProcess, tmp: Path, **kw: Any) -> dict[str, Any]:
    base = {
        "server": srv.url.removesuffix("/api/v1"),
        "token": srv.token("kiosk", name="render kiosk"),
        "admin": srv.token("admin"),
        "config": str(srv.config),
        "size": [1080, 1920],
        "lang": "nb",
        "lang2": "en",
        "department": "bygg",
        "shots": str(tmp / "shots"),
    }
    return {**base, **kw}


def test_visit_prints_shows_number_and_returns_home(server: ServerProcess, tmp_path: Path) -> None:
    facts = run_script(job(server, tmp_path, scenario="visit", lang="en", size=[1280, 800]), tmp_path)
    assert facts["number"].startswith("B")
    assert facts["shown_number"] == facts["number"]
    assert facts["tickets_in_bytes"] == 1  # the double tap printed nothing extra
    assert facts["lang_sent"] in ("en", None)
    assert facts["back_home"] is True
    assert facts["touch_to_first_byte_ms"] is not None and facts["touch_to_first_byte_ms"] < 1000
    for shot in facts["shots"]:
        assert_png(shot, (1280, 800))


def test_faults_technician_and_closed(server: ServerProcess, tmp_path: Path) -> None:
    facts = run_script(job(server, tmp_path, scenario="faults", printer_s=600), tmp_path, timeout=120)
    assert facts["printer_fault_waiting_same"] is True  # no number was taken
    assert facts["reported"] == "paper_end"
    assert facts["failed_number"].startswith("A")
    assert facts["ask_reason"] == "queue_full"
    assert facts["test_print"] == "test print sent"
    assert set(facts["closed_departments"]) == {"nav", "bygg", "tiny"}
    assert len(facts["shots"]) == 7
    for shot in facts["shots"]:
        assert_png(shot, (1080, 1920))


def test_service_unreachable_then_ask_reception(server: ServerProcess, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    facts = run_script(
        job(server, tmp_path, scenario="unreachable", server=dead, size=[1920, 1080], grace=1.0), tmp_path
    )
    assert facts["ask_reason"] == "unreachable"
    for shot in facts["shots"]:
        assert_png(shot, (1920, 1080))


@pytest.fixture(scope="module")
def server_sv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The test site in Norwegian, Swedish and English (the booked-visit screens in all three)."""
    tmp = tmp_path_factory.mktemp("kiosk-render-sv")
    text = SITE_TOML.format(kiosk_interval=0.2).replace(
        'languages = ["nb", "en"]', 'languages = ["nb", "sv", "en"]'
    )
    swedish = {"NAV": "NAV", "Byggesak": "Bygglov", "Liten": "Liten"}
    text = re.sub(
        r'name = \{ nb = "([^"]+)", en = "([^"]+)" \}',
        lambda m: f'name = {{ nb = "{m[1]}", sv = "{swedish[m[1]]}", en = "{m[2]}" }}',
        text,
    )
    path = tmp / "site.toml"
    path.write_text(text + KIOSK_TOML, encoding="utf-8")
    proc = ServerProcess(path, tmp / "ledger.db")
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.parametrize(("lang", "size"), [("nb", [1080, 1920]), ("sv", [1080, 1920]), ("en", [1280, 800])])
def test_booked_visit_check_in_by_touch_and_scanners(
    server_sv: ServerProcess, tmp_path: Path, lang: str, size: list[int]
) -> None:
    srv = server_sv
    facts = run_script(
        job(srv, tmp_path, scenario="checkin", lang=lang, size=size, tag=f"-{lang}"), tmp_path, timeout=150
    )
    assert facts["lang"] == lang
    assert facts["typed"].replace(" ", "") == facts["early_reference"]  # the correction worked
    assert facts["early_printed"] and facts["early_number"].startswith("B")
    assert facts["due_call_text"] != facts["early_call_text"]  # "soon" for a visit whose time has come
    assert facts["late_screen"] is True and facts["serial_codes"] == 2
    assert facts["cancelled_problem"] == "cancelled"
    assert facts["unknown_problem"] == "unknown_appointment"
    assert len(facts["shots"]) == 8
    for shot in facts["shots"]:
        assert_png(shot, tuple(size))  # type: ignore[arg-type]
