"""Write docs/img/*-{fi,uk,ar}.png: kiosk, ticket, board and phone page in Finnish, Ukrainian
and Arabic, from examples/site-fi.toml on a believable morning (the clocks say 10:24).

    .venv/bin/python tests/common/make_language_screenshots.py [OUT_DIR] [--only kiosk,ticket,board,phone]

Same machinery as the rendered tests: the real server process, the kiosk driven by real touches
with its printer on a pty (tests/kiosk/render_script.py), the board app offscreen fed with
protocol messages, the ticket preview from the printer's own layout, the phone page in Debian's
Chromium. Look at every picture before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import sync_playwright

from nummerlapp.config import load_settings
from nummerlapp.printer.layout import TicketView, layout
from nummerlapp.printer.preview import render_png
from nummerlapp.tests.kiosk.test_render import run_script
from nummerlapp.tests.server.serverproc import ServerProcess
from nummerlapp.tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "site-fi.toml"
LANGS = ("fi", "uk", "ar")
MORNING = "2026-11-30T10:24:00+02:00"  # a Monday, within opening hours


def open_site(tmp: Path) -> Path:
    """The example site open around the clock (the pictures must not depend on the hour they
    are made at), printing to a folder in ``tmp``."""
    text = SITE.read_text(encoding="utf-8")
    site, rest = text.split("[[departments]]", 1)
    site = re.sub(r"^(mon|tue|wed|thu|fri) = .*$", "", site, flags=re.M)
    site = site.replace(
        "[site.hours]\n",
        "[site.hours]\n"
        + "".join(f'{d} = ["00:00-23:59"]\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    )
    site = site.replace("last_ticket_min = 10", "last_ticket_min = 0\nkiosk_interval_s = 0")
    rest = re.sub(r"\[departments\.hours\]\n(?:(?:mon|wed) = .*\n)*", "", rest)
    rest = rest.replace('directory = "var/tickets"', f'directory = "{tmp / "tickets"}"')
    path = tmp / "site.toml"
    path.write_text(site + "[[departments]]" + rest, encoding="utf-8")
    return path


def tickets(out: Path) -> None:

    settings = load_settings(SITE)
    printer = settings.printer()
    assert printer is not None
    dep = settings.department("asuminen")
    assert dep is not None
    for lang in LANGS:
        view = TicketView(
            site_name=settings.site.name,
            department_name=dep.label(lang),
            number="B014",
            issued_at=dt.datetime(2026, 11, 30, 10, 24, tzinfo=ZoneInfo(settings.site.timezone)),
            ahead=3,
            estimated_wait_s=640,
            qr_url=f"{settings.site.public_url}/t/Xq3v9LpR2mKw7TtZbN4c",
            footer=settings.site.footer.get(lang, ""),
            lang=lang,
        )
        print(render_png(layout(view, printer), printer, out / f"ticket-{lang}-80mm.png"))


def kiosks(out: Path, tmp: Path) -> None:

    site = open_site(tmp)
    srv = ServerProcess(site, tmp / "ledger.db")
    srv.start()
    try:
        for lang in LANGS:
            job = {
                "server": srv.url.removesuffix("/api/v1"),
                "token": srv.token("kiosk", name="kiosk-1"),
                "admin": srv.token("admin"),
                "config": str(site),
                "lang": lang,
                "lang2": "sv",
                "department": "asuminen",
                "shots": str(tmp / "kiosk"),
                "printer_s": 600,
                "scenario": "visit",
                "size": [1080, 1920],
                "tag": f"-portrait-{lang}",
                "now": MORNING,
            }
            facts = run_script(job, tmp, timeout=120)
            for shot in facts["shots"]:
                name = Path(shot).name
                os.replace(shot, out / name)
                print(out / name)
    finally:
        srv.stop()


BOARD = r"""
import asyncio, json, os, sys, time
from pathlib import Path
from nummerlapp.config import load_settings
from nummerlapp.display.app import BoardApp, BoardOptions, configure_window, run_board
from nummerlapp.display.announce import RecordingPlayer

lang, out, size, site_file, server = sys.argv[1:6]
width, height = (int(v) for v in size.split("x"))
configure_window(width, height)
time.strftime = lambda fmt, *a: "10:24"  # the board's clock, within opening hours
settings = load_settings(Path(site_file))
options = BoardOptions.from_settings(settings, lang=lang, mdns=False, announce=False, server_url=server,
                                     board_id="board-odotustila", board_name="Odotustila")
app = BoardApp(options, player=RecordingPlayer())

async def drive():
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not (app.state.connected and app.screen.number.text):
        assert loop.time() < deadline, app.screen.texts()
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # the first refresh of counts and estimates
    await app.drawn()
    from kivy.core.window import Window
    written = Window.screenshot(name=str(out))
    os.replace(written, out)
    print(json.dumps(app.screen.texts(), ensure_ascii=False))

asyncio.run(run_board(app, [drive]))
"""


def populate(srv: object, http: object) -> None:
    """A believable morning: a dozen visitors in five languages, some already called."""
    kiosk = {"Authorization": f"Bearer {srv.token('kiosk', name='kiosk-1')}"}  # type: ignore[attr-defined]
    visits = [
        ("sosiaali", "fi"),
        ("asuminen", "uk"),
        ("sosiaali", "ar"),
        ("rakentaminen", "fi"),
        ("asuminen", "sv"),
        ("sosiaali", "fi"),
        ("asuminen", "ar"),
        ("sosiaali", "uk"),
        ("rakentaminen", "en"),
        ("asuminen", "fi"),
        ("sosiaali", "fi"),
        ("asuminen", "uk"),
        ("sosiaali", "ar"),
        ("asuminen", "fi"),
    ]
    for dep, lang in visits:
        http.post("/tickets", json={"department": dep, "lang": lang}, headers=kiosk).raise_for_status()  # type: ignore[attr-defined]
    for counter in ("1", "3", "2", "1", "2"):
        desk = {"Authorization": f"Bearer {srv.token('staff', counter=counter)}"}  # type: ignore[attr-defined]
        http.post(f"/counters/{counter}/done", headers=desk)  # type: ignore[attr-defined]
        http.post(f"/counters/{counter}/next", headers=desk).raise_for_status()  # type: ignore[attr-defined]


def boards(out: Path, tmp: Path) -> None:
    site = open_site(tmp)
    srv = ServerProcess(site, tmp / "board.db")
    srv.start()
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": tempfile.mkdtemp(prefix="nummerlapp-kivy-"),
    }
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as http:
            populate(srv, http)
        for lang, size in [(lang, "1920x1080") for lang in LANGS] + [("ar", "1080x1920")]:
            orient = "landscape" if size == "1920x1080" else "portrait"
            target = out / f"board-{orient}-{lang}.png"
            done = subprocess.run(
                [sys.executable, "-c", BOARD, lang, str(target), size, str(site), srv.url],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                cwd=ROOT.parent,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            print(target, done.stdout.strip().splitlines()[-1])
    finally:
        srv.stop()


def phones(out: Path, tmp: Path) -> None:
    site = open_site(tmp)
    srv = ServerProcess(site, tmp / "phone.db")
    srv.start()
    try:
        kiosk = {"Authorization": f"Bearer {srv.token('kiosk', name='kiosk-1')}"}
        desk = {"Authorization": f"Bearer {srv.token('staff', counter='2')}"}
        with httpx.Client(base_url=srv.url, timeout=10) as http, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            base = srv.url.removesuffix("/api/v1")
            for _ in range(3):  # people ahead
                http.post("/tickets", json={"department": "asuminen", "lang": "fi"}, headers=kiosk)
            for lang in LANGS:
                ticket = http.post("/tickets", json={"department": "asuminen", "lang": lang}, headers=kiosk)
                ticket.raise_for_status()
                tid = ticket.json()["follow"]  # the page is found by the follow secret (QR code)
                page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
                page.goto(f"{base}/t/{tid}")
                page.wait_for_selector("#live[data-state=live]", timeout=10000)
                page.wait_for_function("document.getElementById('t-ahead').textContent.length > 0")
                page.screenshot(path=str(out / f"phone-waiting-{lang}.png"))
                print(out / f"phone-waiting-{lang}.png")
                page.close()
            # a called number, in Arabic (the Go-to line names the counter in Arabic)
            ticket = http.post(
                "/tickets", json={"department": "asuminen", "lang": "ar"}, headers=kiosk
            ).json()
            for _ in range(20):
                if http.get(f"/tickets/{ticket['id']}", headers=kiosk).json()["status"] == "called":
                    break
                http.post("/counters/2/done", headers=desk)
                http.post("/counters/2/next", headers=desk)
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
            page.goto(f"{base}/t/{ticket['follow']}")
            page.wait_for_selector("#ticket[data-status=called]", timeout=10000)
            page.screenshot(path=str(out / "phone-called-ar.png"))
            print(out / "phone-called-ar.png")
            browser.close()
    finally:
        srv.stop()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    only = next(
        (a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), "kiosk,ticket,board,phone"
    )
    out = Path(args[0]) if args else ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="language-shots-"))
    if "ticket" in only:
        tickets(out)
    if "board" in only:
        boards(out, tmp)
    if "kiosk" in only:
        kiosks(out, tmp)
    if "phone" in only:
        phones(out, tmp)
    print(json.dumps({"out": str(out)}))


if __name__ == "__main__":
    main()
