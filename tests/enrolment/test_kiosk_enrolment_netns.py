"""A kiosk with no site file and no token joins the site on its own (real processes, real mDNS).

Network namespaces on a bridge (tests/discovery/netns.py; root): host 0 runs ``main.py server``
with the site file (its kiosk printer is a serial port: one end of a pty pair, a fake thermal
printer on the other, tests/kiosk/ptyprinter.py); host 1 runs ``main.py kiosk`` (Kivy offscreen)
with NO ``--config``, NO token and NO ``--server``: it finds the service by mDNS, shows its code
(screenshot), is approved with ``main.py device approve CODE --printer``, and a real touch on a
department prints a ticket; ``main.py config reload`` with a department gone reaches it with no
restart; revoked, it shows its enrolment screen again. The kiosk process records what its window
shows (tests/enrolment/devices.py); the test believes those records, the printer and the shots.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nummerlapp.tests.discovery.netns import Lan
from nummerlapp.tests.discovery.observed import Observed, kivy_env
from nummerlapp.tests.discovery.test_board_netns import Desk, make_token
from nummerlapp.tests.enrolment.test_board_enrolment_netns import (
    _share,
    _without_department,
    cli,
    lan,
    start_service,
)
from nummerlapp.tests.kiosk.ptyprinter import FakeThermalPrinter, PtyPair
from nummerlapp.tests.server.serverproc import write_site
from nummerlapp.tests.web.conftest import IMG

pytestmark = [pytest.mark.netns, pytest.mark.render, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
# docs/img only when asked (NUMMERLAPP_SCREENSHOTS=docs/img): a test run rewrites no tracked file
DOCS_IMG = IMG
__all__ = ["lan"]  # the fixture, shared with the board's test


class Kiosk(Observed):
    name = "kiosk"

    def __init__(self, lan: Lan, host: int, workdir: Path) -> None:
        super().__init__(workdir, "kiosk.log")
        self.proc = lan.popen(
            host,
            [sys.executable, "-m", "nummerlapp.tests.enrolment.devices", "kiosk", str(workdir),
             "kiosk", "--mdns-interface", lan.address(host), "--state-dir", str(workdir / "state"),
             "--id", "kiosk-entrance", "--name", "Kiosk ved inngangen", "--size", "1280x800"],
            cwd=ROOT, env=kivy_env(workdir), stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),  # noqa: SIM115
        )  # fmt: skip

    def touch(self, department: str) -> None:
        (self.dir / f"touch-{department}").touch()


def _site_with_printer(path: Path, port: Path) -> Path:
    write_site(path)
    text = path.read_text(encoding="utf-8").replace('name = "Test site"', 'name = "Servicetorget Nordby"', 1)
    text = text.replace("[site.hours]", '[kiosk]\nprinter = "entrance"\n\n[site.hours]', 1)
    text += (
        '\n[[printers]]\nid = "entrance"\ntype = "serial"\nqr = true\nlogo = "none"\n'
        f'[printers.options]\nport = "{port}"\nbaudrate = 9600\n'
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_a_kiosk_enrols_prints_follows_the_site_file_and_is_revoked(lan: Lan, tmp_path: Path) -> None:
    with PtyPair(tmp_path) as pty:
        printer = FakeThermalPrinter(pty.device)
        try:
            _run(lan, tmp_path, pty.host, printer)
        finally:
            printer.close()


def _run(lan: Lan, tmp_path: Path, port: Path, printer: FakeThermalPrinter) -> None:
    site, db = _site_with_printer(tmp_path / "site.toml", port), tmp_path / "ledger.db"
    opts = ["--config", str(site), "--db", str(db)]
    base = start_service(lan, tmp_path, opts)
    desk = Desk(lan, 2)
    try:
        desk.healthy(base)
        kiosk = Kiosk(lan, 1, tmp_path / "kiosk")
        # 1. no site file, no token, no --server: it found the service by mDNS and shows a code
        shown = kiosk.wait_for("its code", lambda r: r["screen"] == "enrolment" and r["texts"].get("code"))
        code = shown["texts"]["code"].replace(" ", "")
        assert shown["texts"]["site"] == "Servicetorget Nordby" and len(code) == 6
        assert "main.py device approve " + code in shown["texts"]["how"]
        assert "Kiosk ved inngangen" in shown["texts"]["device"]
        assert _share(shown["png"], (0.25, 0.35, 0.75, 0.65), (0xFF, 0xD2, 0x3F)) > 0.04  # the code, large
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shown["png"], DOCS_IMG / "kiosk-enrolment.png")
        # 2. approved on the command line with its printer: at work within two seconds
        approved = cli(lan, 0, "device", "approve", code, *opts, "--name", "Kiosk ved inngangen",
                       "--printer", "entrance")  # fmt: skip
        assert approved.returncode == 0, approved.stderr
        t_approved = time.monotonic()
        working = kiosk.wait_for("the visitor screen", lambda r: r["screen"] == "home", after=shown["t"])
        assert working["t"] - t_approved < 2.0 + 0.6  # + the observer's sampling and frame wait
        assert [d[0] for d in working["departments"]] == ["nav", "bygg", "tiny"]
        token_file = tmp_path / "kiosk" / "state" / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        # Identify: the technician asks which kiosk this is; it names itself in its top bar
        asked = desk.ask(
            op="post", url=f"{base}/devices/kiosk-entrance/identify", token=make_token(db, "admin"), json=None
        )
        assert asked["status"] == 202, asked
        named = kiosk.wait_for(
            "its name", lambda r: r.get("identify") == "Kiosk ved inngangen", after=working["t"]
        )
        assert _share(named["png"], (0.0, 0.0, 1.0, 0.03), (0xFF, 0xD2, 0x3F)) > 0.5  # the yellow bar
        # 3. a real touch prints a ticket on the pty printer
        kiosk.wait_for("the printer's state", lambda r: r["screen"] == "home" and r["printer"] == "ok")
        time.sleep(2.2)  # the one-touch guard after coming home (site.kiosk_interval_s)
        kiosk.touch("nav")
        ticket = kiosk.wait_for("a ticket", lambda r: r["screen"] == "ticket" and r["ticket"] == "A001")
        assert printer.wait_for(b"A001", timeout=10), bytes(printer.data[-200:])
        # 4. a changed site file (a department gone) reaches it without a restart
        site.write_text(_without_department(site.read_text(encoding="utf-8"), "tiny"), encoding="utf-8")
        reload = cli(lan, 0, "config", "reload", *opts)
        assert reload.returncode == 0 and "applied" in reload.stdout, reload.stderr
        fewer = kiosk.wait_for(
            "one department fewer",
            lambda r: (
                r.get("departments") is not None and [d[0] for d in r["departments"]] == ["nav", "bygg"]
            ),
            after=ticket["t"],
        )
        assert kiosk.proc.poll() is None
        # 5. revoked: it shows its enrolment screen again
        t_revoke = time.monotonic()
        revoked = cli(lan, 0, "device", "revoke", "kiosk-entrance", *opts)
        assert revoked.returncode == 0, revoked.stderr
        again = kiosk.wait_for(
            "its enrolment screen",
            lambda r: r["screen"] == "enrolment" and bool(r["texts"].get("code")),
            after=max(t_revoke, fewer["t"]),
        )
        assert again["texts"]["code"].replace(" ", "") != code and not token_file.exists()
    finally:
        desk.close()
