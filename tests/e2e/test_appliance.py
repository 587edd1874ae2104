"""The whole appliance across real processes, as a site runs it, including a crash of the service.

Service (``main.py server``), kiosk and board (Kivy, offscreen, driven over a JSON-lines control
channel), a serial thermal printer on a socat pty pair answering ``DLE EOT``, and the desk page in
Chromium signed in as a staff user made with ``main.py user add``. A visitor takes a ticket by
touch, the bytes reach the printer, the desk presses Next, the board shows and announces the call,
the statistics count it. Then the service is SIGKILLed and restarted on the same port and ledger:
board and desk reconnect by themselves, the kiosk prints the next number, the desk calls it, and
the ledger holds exactly the two tickets that were handed out.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from nummerlapp.tests.e2e.appliance import cli, ledger_facts, site_file, start_board, start_kiosk, stats_today
from nummerlapp.tests.e2e.jsonproc import JsonLineProcess
from nummerlapp.tests.kiosk.ptyprinter import FakeThermalPrinter, PtyPair
from nummerlapp.tests.server.serverproc import ServerProcess
from nummerlapp.tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in, wait_live

pytestmark = [pytest.mark.render, pytest.mark.browser, pytest.mark.timeout(180)]

PASSWORD = "e2e-desk-password"
CHIME_AND_TWO_VOICES = 3  # chime.wav, then the number in nb and en


@contextlib.contextmanager
def desk_page(base: str, username: str) -> Iterator[Any]:
    """Chromium (Debian's) with the desk page signed in; closed on the way out."""

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, base, username, PASSWORD)
            page.wait_for_url(base + "/desk")
            wait_live(page)
            yield page
        finally:
            browser.close()


def now_number(page: Any, number: str) -> None:
    page.wait_for_function(
        "n => document.getElementById('now-number').textContent.trim() === n", arg=number, timeout=15_000
    )


def test_ticket_call_announce_stats_and_service_crash(tmp_path: Path) -> None:
    t0 = time.monotonic()
    stack = contextlib.ExitStack()
    with stack:
        pty = stack.enter_context(PtyPair(tmp_path))
        fake = FakeThermalPrinter(pty.device, "ok")
        stack.callback(fake.close)
        server = ServerProcess(site_file(tmp_path / "site.toml", pty.host), tmp_path / "ledger.db")
        # accounts through the real command line, on the ledger the service will open
        cli(server, "user", "add", "desk1", "--role", "staff", "--counter", "1", "--password-stdin",
            stdin=PASSWORD + "\n")  # fmt: skip
        kiosk_token = cli(server, "token", "--role", "kiosk", "--name", "e2e kiosk")
        admin_token = cli(server, "token", "--role", "admin", "--name", "e2e admin")
        server.start()
        stack.callback(lambda: server.stop(signal.SIGTERM))
        base = server.url.removesuffix("/api/v1")

        # kiosk and board start in parallel with the browser (each takes seconds on this machine)
        kiosk: JsonLineProcess = start_kiosk(server, kiosk_token, admin_token, tmp_path)
        stack.callback(kiosk.stop)
        board: JsonLineProcess = start_board(server, tmp_path)
        stack.callback(board.stop)
        desk = stack.enter_context(desk_page(base, "desk1"))
        desk.evaluate("window.__sameDocument = true")  # a reload would lose this
        kiosk.ask("ready", timeout=40)
        board.ask("connected", timeout=40)
        started = time.monotonic() - t0

        # 1. a visitor touches NAV: the ticket's bytes reach the printer, the number is on screen
        first = kiosk.ask("take", department="nav")
        assert first["number"] == "A001" and first["shown_number"] == "A001"
        assert fake.wait_for(b"A001", timeout=10), f"printer got {bytes(fake.data)[:200]!r}"
        assert fake.queries > 0  # the kiosk asked the printer's status over DLE EOT

        # 2. the desk presses Next (key N); the desk and the board show it, the board announces it
        desk.keyboard.press("n")
        now_number(desk, "A001")
        called = board.ask("call", number="A001")
        assert called["texts"]["number"] == "A001" and called["texts"]["counter"] == "Skranke 1"
        assert called["announced"] == ["A001"]
        assert called["played"][0] == "chime.wav" and len(called["played"]) == CHIME_AND_TWO_VOICES
        assert all((tmp_path / "wav" / name).stat().st_size > 10_000 for name in called["played"])

        # 3. the statistics count it
        figures = stats_today(server)
        assert figures["issued"] >= 1 and figures["called"] == 1, figures

        # 4. the service dies without warning; board, desk and kiosk notice
        port = server.port
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        board.ask("down", timeout=15)
        desk.wait_for_selector("#live:not([data-state=live])", timeout=15_000)
        kiosk.ask("wait", screens=["unreachable", "ask_reception"], timeout=15)

        # 5. it comes back on the same port and ledger; everything reconnects by itself
        server = ServerProcess(server.config, server.db, port=port)
        server.start()
        stack.callback(lambda: server.stop(signal.SIGTERM))
        board.ask("connected", timeout=20)
        wait_live(desk)
        assert desk.evaluate("window.__sameDocument === true")  # reconnected, not reloaded
        ticket = httpx.get(
            f"{server.url}/tickets/{first['id']}",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=5,
        )
        assert ticket.status_code == 200, ticket.text
        assert (ticket.json()["number"], ticket.json()["status"]) == ("A001", "called")

        # 6. the kiosk is back; the next visitor gets the next number, printed once; the desk calls
        # it; the board shows it
        kiosk.ask("wait", screens=["home"], timeout=20)
        second = kiosk.ask("take", department="nav", timeout=20)
        assert second["number"] == "A002" and second["shown_number"] == "A002"
        assert fake.wait_for(b"A002", timeout=10)
        assert bytes(fake.data).count(b"A001") == 1 and bytes(fake.data).count(b"A002") == 1
        desk.keyboard.press("n")
        now_number(desk, "A002")
        called = board.ask("call", number="A002")
        assert called["announced"] == ["A001", "A002"]  # the reconnect did not repeat A001 aloud
        assert len(called["played"]) == 2 * CHIME_AND_TWO_VOICES
        board.ask("shot", out=str(tmp_path / "board-after-restart.png"))

        # 7. the ledger holds exactly what was handed out: unique numbers, events without a gap
        tickets, seqs = ledger_facts(server.db)
        assert [(t[0], t[1]) for t in tickets] == [(first["id"], "A001"), (second["id"], "A002")]
        assert [t[2] for t in tickets] == ["done", "called"]
        assert seqs == list(range(1, len(seqs) + 1))
        figures = stats_today(server)
        assert (figures["issued"], figures["called"]) == (2, 2), figures

    elapsed = time.monotonic() - t0
    print(f"e2e: parts up in {started:.1f} s, whole scenario {elapsed:.1f} s")
    assert kiosk.proc.returncode is not None and board.proc.returncode is not None
