"""The appliance's parts as real processes for the end-to-end test: site file, kiosk, board, desk.

Reuses the other areas' harnesses (tests/server/serverproc.py for the service,
tests/kiosk/ptyprinter.py for the printer on a pty, the kiosk's and board's rendered scripts in
their ``control`` mode, tests/web/conftest.py for Chromium and the sign-in form).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nummerlapp.config import load_settings
from nummerlapp.tests.e2e.jsonproc import JsonLineProcess
from nummerlapp.tests.server.serverproc import ROOT, SITE_TOML, ServerProcess, run_cli

KIOSK_SCRIPT = ROOT / "tests" / "kiosk" / "render_script.py"
BOARD_SCRIPT = ROOT / "tests" / "display" / "board_scenario.py"


def site_file(path: Path, printer_port: Path) -> Path:
    """The test site (open around the clock) whose kiosk prints on a serial printer at ``printer_port``."""
    pin_hash = load_settings(None).kiosk.technician_pin_hash
    kiosk = f"""
[kiosk]
printer = "pty"
idle_timeout_s = 30
ticket_screen_s = 1
technician_pin_hash = "{pin_hash}"

[[printers]]
id = "pty"
type = "serial"
qr = true
logo = "none"
[printers.options]
port = "{printer_port}"
baudrate = 9600
"""
    path.write_text(SITE_TOML.format(kiosk_interval=0.2) + kiosk, encoding="utf-8")
    return path


def cli(server: ServerProcess, *args: str, stdin: str | None = None) -> str:
    """``main.py ARGS --config … --db …`` on the server's files; its stdout."""
    done = run_cli(*args, "--config", str(server.config), "--db", str(server.db), stdin=stdin)
    assert done.returncode == 0, f"main.py {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def kivy_env(tmp: Path, name: str) -> dict[str, str]:
    """Offscreen Kivy with a home of its own (two Kivy processes never share a config file)."""
    home = Path(tempfile.mkdtemp(prefix=f"kivy-{name}-", dir=tmp))
    return {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
    }


def start_kiosk(server: ServerProcess, token: str, admin: str, tmp: Path) -> JsonLineProcess:
    """The real kiosk window offscreen, printing through the site file's serial printer."""
    job = {
        "server": server.url.removesuffix("/api/v1"),
        "token": token,
        "admin": admin,
        "config": str(server.config),
        "size": [800, 1000],
        "lang": "nb",
        "scenario": "control",
        "grace": 1.0,
        "printer_s": 1.0,
        "device": "kiosk-e2e",
        "shots": str(tmp / "shots"),
    }
    args = [sys.executable, str(KIOSK_SCRIPT), json.dumps(job)]
    return JsonLineProcess("kiosk", args, tmp / "kiosk.log", kivy_env(tmp, "kiosk"))


def start_board(server: ServerProcess, tmp: Path) -> JsonLineProcess:
    """The real board window offscreen, on the service's event stream, announcing into a recorder."""
    args = [sys.executable, str(BOARD_SCRIPT), "control", "--server", server.url, "--lang", "nb"]
    args += ["--out", str(tmp / "board.png"), "--wav-dir", str(tmp / "wav")]
    return JsonLineProcess("board", args, tmp / "board.log", kivy_env(tmp, "board"))


def today(server: ServerProcess) -> str:
    zone = load_settings(server.config).site.timezone
    return dt.datetime.now(ZoneInfo(zone)).date().isoformat()


def stats_today(server: ServerProcess) -> dict[str, Any]:
    """``main.py stats --format json`` for today's service day, the whole site in one row."""
    day = today(server)
    out = json.loads(cli(server, "stats", "--from", day, "--to", day, "--per", "site", "--format", "json"))
    rows: list[dict[str, Any]] = out["rows"]
    assert len(rows) == 1, out
    return rows[0]


def ledger_facts(db: Path) -> tuple[list[tuple[str, str, str]], list[int]]:
    """(id, number, status) of every ticket, and every event seq in order, read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        tickets = conn.execute("SELECT id, number, status FROM tickets ORDER BY issued_at").fetchall()
        seqs = [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]
    finally:
        conn.close()
    return tickets, seqs
