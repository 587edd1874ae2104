"""The reception prints a booked visit's slip at the entrance kiosk (real processes, loopback).

``main.py server`` with a site file whose kiosk printer is a serial port (one end of a socat pty
pair, a fake thermal printer on the other: tests/kiosk/ptyprinter.py); ``main.py kiosk`` (Kivy
offscreen) with NO site file, only ``--server``, enrolled with ``main.py device approve
--printer``. A staff token books a visit and asks for its slip at that kiosk: the kiosk's own
event socket carries ``appointment.slip`` and its printer gets the slip's bytes, the reference
and its QR code among them. The kiosk keeps working: a touch still prints a ticket after it.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from nummerlapp.tests.discovery.observed import Observed, kivy_env
from nummerlapp.tests.enrolment.test_kiosk_enrolment_netns import _site_with_printer
from nummerlapp.tests.kiosk.ptyprinter import FakeThermalPrinter, PtyPair
from nummerlapp.tests.server.serverproc import ServerProcess, run_cli

pytestmark = [pytest.mark.render, pytest.mark.timeout(150)]

ROOT = Path(__file__).resolve().parents[2]


class Kiosk(Observed):
    name = "kiosk"

    def __init__(self, base: str, workdir: Path) -> None:
        super().__init__(workdir, "kiosk.log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nummerlapp.tests.enrolment.devices", "kiosk", str(workdir),
             "kiosk", "--server", base, "--no-mdns", "--state-dir", str(workdir / "state"),
             "--id", "kiosk-entrance", "--name", "Kiosk ved inngangen", "--size", "1280x800"],
            cwd=ROOT, env=kivy_env(workdir), stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),  # noqa: SIM115
        )  # fmt: skip

    def touch(self, department: str) -> None:
        (self.dir / f"touch-{department}").touch()

    def stop(self) -> None:
        (self.dir / "stop").touch()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def qr_store(data: bytes) -> bytes:
    size = len(data) + 3
    return b"\x1d(k" + bytes([size % 256, size // 256]) + b"1P0" + data


def test_a_slip_asked_at_the_desk_prints_at_the_entrance_kiosk(tmp_path: Path) -> None:
    with PtyPair(tmp_path) as pty:
        printer = FakeThermalPrinter(pty.device)
        try:
            _run(tmp_path, pty.host, printer)
        finally:
            printer.close()


def _run(tmp_path: Path, port: Path, printer: FakeThermalPrinter) -> None:
    site, db = _site_with_printer(tmp_path / "site.toml", port), tmp_path / "ledger.db"
    opts = ["--config", str(site), "--db", str(db)]
    server = ServerProcess(site, db)
    server.start()
    kiosk: Kiosk | None = None
    try:
        kiosk = Kiosk(server.url.removesuffix("/api/v1"), tmp_path / "kiosk")
        shown = kiosk.wait_for(
            "its code", lambda r: r["screen"] == "enrolment" and bool(r["texts"].get("code"))
        )
        code = shown["texts"]["code"].replace(" ", "")
        approved = run_cli("device", "approve", code, *opts, "--printer", "entrance", cwd=tmp_path)
        assert approved.returncode == 0, approved.stderr
        kiosk.wait_for("the printer's state", lambda r: r["screen"] == "home" and r["printer"] == "ok")
        staff = {"Authorization": f"Bearer {server.token('staff')}"}
        with httpx.Client(base_url=server.url, headers=staff, timeout=10) as http:
            start = (dt.datetime.now(ZoneInfo("Europe/Oslo")) + dt.timedelta(minutes=40)).replace(
                second=0, microsecond=0
            )
            made = http.post("/appointments", json={"department": "bygg", "start": start.isoformat()})
            assert made.status_code == 201, made.text
            reference = made.json()["appointment"]["reference"]
            before = len(printer.data)
            asked = http.post(
                f"/appointments/{reference}/slip", json={"kiosk": "kiosk-entrance", "lang": "nb"}
            )
            assert asked.status_code == 202, asked.text
            grouped = f"{reference[:4]} {reference[4:]}".encode()
            assert printer.wait_for(qr_store(reference.encode()), timeout=10), bytes(printer.data[-300:])
            slip = bytes(printer.data[before:])
            assert grouped in slip and f"{start:%H:%M}".encode() in slip
            assert b"Timebestilling" in slip and b"Byggesak" in slip and b"Servicetorget Nordby" in slip
            # the kiosk goes on serving visitors: a touch prints a ticket after the slip
            time.sleep(2.2)  # the one-touch guard after coming home
            kiosk.touch("nav")
            kiosk.wait_for("a ticket", lambda r: r["screen"] == "ticket" and r["ticket"] == "A001")
            assert printer.wait_for(b"A001", timeout=10)
            assert reference.encode() not in (tmp_path / "kiosk" / "kiosk.log").read_bytes()  # not logged
    finally:
        if kiosk is not None:
            kiosk.stop()
        server.stop()
