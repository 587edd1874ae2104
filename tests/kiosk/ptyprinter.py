"""A thermal printer on the far end of a real pty pair (socat), for the kiosk's rendered tests.

The kiosk writes to one end through pyserial exactly as to /dev/ttyUSB0; ``FakeThermalPrinter``
reads the other end, keeps the ticket bytes (and when the first one arrived), and answers
``DLE EOT n`` status queries like an Epson-class printer in the chosen condition:
``ok``, ``paper_end``, ``cover_open``, ``offline``, or ``runs_out`` (fine until a ticket's bytes
arrive, then out of paper: the "printing failed after the number was taken" case).
The kiosk side is the real ``printer.TicketPrinter`` with its serial transport on the other end.
(tests/printer/fakeprinter.py is the printer package's richer fake; this one adds the
"runs out mid-ticket" condition and the arrival time of the first ticket byte, which the
touch-to-printer benchmark needs.)
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import serial

from nummerlapp.config.model import PrinterSettings, Settings

# answers to DLE EOT 1, 2, 4 per condition (fixed bits xxx1 xx10)
ANSWERS = {
    "ok": (0x12, 0x12, 0x12),
    "paper_end": (0x1A, 0x32, 0x72),
    "cover_open": (0x1A, 0x16, 0x12),
    "offline": (0x1A, 0x52, 0x12),
}


class PtyPair:
    """``socat pty,raw,echo=0 pty,raw,echo=0`` with stable link names; stopped by PID."""

    def __init__(self, directory: Path) -> None:
        self.host = directory / "ttyKIOSK"
        self.device = directory / "ttyPRINTER"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PtyPair:
        socat = shutil.which("socat")
        assert socat, "socat is required (Debian package socat)"
        self.proc = subprocess.Popen(
            [socat, f"pty,raw,echo=0,link={self.host}", f"pty,raw,echo=0,link={self.device}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (self.host.exists() and self.device.exists()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("socat did not make the pty pair")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)


class FakeThermalPrinter:
    """Reads the printer end of the pty in a thread; answers status queries; keeps the data."""

    def __init__(self, device: Path, condition: str = "ok") -> None:
        self.condition = condition
        self.data = bytearray()
        self.first_byte_at: float | None = None  # time.monotonic() of the first ticket byte
        self.queries = 0
        self._port = serial.Serial(str(device), 9600, timeout=0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-printer", daemon=True)
        self._thread.start()

    def _answer(self, n: int) -> None:
        self.queries += 1
        state = "paper_end" if self.condition == "runs_out" and self.data else self.condition
        if state == "runs_out":
            state = "ok"
        byte = ANSWERS[state][{1: 0, 2: 1, 4: 2}.get(n, 0)]
        self._port.write(bytes([byte]))

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            chunk = self._port.read(max(1, self._port.in_waiting))  # return as soon as bytes come
            if not chunk:
                continue
            now = time.monotonic()
            pending += chunk
            while pending:
                if pending.startswith(b"\x10\x04"):
                    if len(pending) < 3:
                        break
                    self._answer(pending[2])
                    pending = pending[3:]
                    continue
                if pending == b"\x10":
                    break  # maybe the start of a query: wait for the next byte
                cut = pending.find(b"\x10\x04", 1)
                if cut == -1 and pending.endswith(b"\x10"):
                    cut = len(pending) - 1  # maybe the start of a query
                body, pending = (pending, b"") if cut == -1 else (pending[:cut], pending[cut:])
                if body and self.first_byte_at is None:
                    self.first_byte_at = now
                self.data += body

    def wait_for(self, text: bytes, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.data:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._port.close()


def on_pty(settings: Settings, port: str) -> PrinterSettings:
    """The site's first printer as a serial printer on ``port`` (the pty's kiosk end)."""
    return dataclasses.replace(settings.printers[0], type="serial", options={"port": port, "baudrate": 9600})
