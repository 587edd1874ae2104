"""A serial barcode / QR scanner on the kiosk (``main.py kiosk --scanner PORT``), through pyserial.

Serial scanners send each code as ASCII text ended by CR (or CR LF, or LF). One daemon thread
reads the port (blocking IO stays off the loop, DESIGN.md) and hands each whole code to the
flow on the loop with ``call_soon_threadsafe`` (``KioskFlow.scanned``). A USB scanner needs none
of this: it types like a keyboard into the window (kiosk/app.py). ``PORT`` is anything pyserial's
``serial_for_url`` opens: ``/dev/ttyACM0``, ``/dev/ttyUSB0``, ``rfc2217://host:port``, a pty in
tests. A port that fails is logged once and opened again every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import serial

log = logging.getLogger(__name__)
MAX_CODE = 200  # longer "codes" are noise: dropped
REOPEN_S = 3.0


class SerialScanner:
    def __init__(
        self,
        port: str,
        on_code: Callable[[str], Any],
        loop: asyncio.AbstractEventLoop,
        baudrate: int = 9600,
    ) -> None:
        self.port, self.baudrate = port, baudrate
        self._on_code, self._loop = on_code, loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self.codes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        failed = False
        while not self._stop.is_set():
            try:
                with serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2) as line:
                    if failed:
                        log.info("scanner on %s is back", self.port)
                    failed = False
                    self._read(line)
            except (serial.SerialException, OSError) as exc:
                if not failed:  # a repeated fault is logged once
                    log.warning("scanner on %s: %s", self.port, exc)
                failed = True
                self._stop.wait(REOPEN_S)

    def _read(self, line: Any) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            chunk = line.read(64)
            for byte in chunk:
                if byte in (0x0D, 0x0A):
                    if buffer:
                        self._deliver(buffer.decode("ascii", "replace"))
                    buffer.clear()
                elif len(buffer) < MAX_CODE:
                    buffer.append(byte)

    def _deliver(self, code: str) -> None:
        self.codes += 1
        self._loop.call_soon_threadsafe(self._on_code, code)
