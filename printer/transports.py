"""Connections to a printer, chosen by ``PrinterSettings.type`` through one seam.

    transport = open_transport(settings)      # serial | usb | network | file | dummy
    transport.status(deadline) -> PrinterStatus
    transport.write(data, deadline, job=None)
    transport.close()

``deadline`` is an absolute ``time.monotonic()`` value (see ``transport_base``). Opening is
lazy: a transport is cheap to make and touches the device on first use; after an I/O error it
drops its handle and reopens on the next call (a USB-serial adapter unplugged and plugged back
in). Serial lives in ``serial_transport``, network and USB in ``net_transports``; this module
holds the seam and the two virtual printers, and re-exports the rest.

The file and dummy backends are real backends, not mocks: the demo and other parts' tests
print through the same path as production.
"""

from __future__ import annotations

import difflib
import os
import threading
import time
from pathlib import Path
from typing import Any

from nummerlapp.common.errors import ConfigError
from nummerlapp.common.protocol import PRINTER_STATES
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.errors import PrinterOffline
from nummerlapp.printer.net_transports import NetworkTransport, UsbTransport, usb_parameters
from nummerlapp.printer.preview import render_png
from nummerlapp.printer.serial_transport import SerialTransport
from nummerlapp.printer.status import PrinterStatus
from nummerlapp.printer.transport_base import Job, Transport, opt

__all__ = [
    "DummyTransport",
    "FileTransport",
    "Job",
    "NetworkTransport",
    "SerialTransport",
    "Transport",
    "UsbTransport",
    "open_transport",
    "status_from_word",
    "usb_parameters",
]


# ------------------------------------------------------------------------------- file / dummy

STATUS_WORDS = PRINTER_STATES  # the protocol's printer-state words


def status_from_word(word: str, detail: str = "") -> PrinterStatus:
    """``"paper_end"`` etc. → a status (the file and dummy printers' way to play a fault)."""
    word = word.strip().lower() or "ok"
    if word not in STATUS_WORDS:
        raise ValueError(f"unknown printer status {word!r}: use one of {', '.join(STATUS_WORDS)}")
    if word == "ok":
        return PrinterStatus.fine(detail)
    if word == "unknown":
        return PrinterStatus.unknown_status(detail or "simulated: no answer")
    flags = {word: True}
    return PrinterStatus(
        ok=word == "paper_near_end", unknown=False, detail=detail or f"simulated {word}", **flags
    )


class FileTransport:
    """The demo's virtual printer: each job becomes ``<name>.bin`` and ``<name>.png`` in ``directory``.

    A file named ``status`` in the directory holding one of STATUS_WORDS makes the printer
    report that state, so a technician (or a test) can play "paper end" on the demo.
    """

    kind = "file"

    def __init__(self, directory: Path, settings: PrinterSettings) -> None:
        self.directory = directory
        self.settings = settings
        self._count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> FileTransport:
        return cls(Path(opt(settings, "directory", str, required=True)), settings)

    def _name(self, job: Job | None) -> str:
        with self._lock:
            self._count += 1
            count = self._count
        if job is None or not job.name:
            return f"job-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{count}"
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in job.name)

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        name = self._name(job)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.bin.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.directory / f"{name}.bin")
        except OSError as exc:
            raise PrinterOffline(f"cannot write to {self.directory}: {exc}") from exc
        if job is not None and job.ops:
            logo = self.directory / "logo.png"
            render_png(
                job.ops, self.settings, self.directory / f"{name}.png", logo if logo.is_file() else None
            )

    def status(self, deadline: float) -> PrinterStatus:
        marker = self.directory / "status"
        if marker.is_file():
            try:
                return status_from_word(marker.read_text(encoding="utf-8"), f"from {marker}")
            except (OSError, ValueError) as exc:
                return PrinterStatus.unknown_status(str(exc))
        existing = self.directory.absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent  # write() makes the missing folders
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            return PrinterStatus.not_connected(f"{self.directory} is not writable")
        return PrinterStatus.fine(f"virtual printer in {self.directory}")

    def close(self) -> None:
        pass


class DummyTransport:
    """In memory: ``jobs`` holds every write as (name, bytes); ``state`` is what status() answers."""

    kind = "dummy"

    def __init__(self, state: PrinterStatus | None = None) -> None:
        self.jobs: list[tuple[str, bytes]] = []
        self.state = state or PrinterStatus.fine("dummy printer")
        self.closed = False

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> DummyTransport:
        word = opt(settings, "status", str, "ok")
        try:
            return cls(status_from_word(word))
        except ValueError as exc:
            raise ConfigError("site file", f"printers.{settings.id}.options.status", str(exc)) from None

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        self.jobs.append((job.name if job else "", bytes(data)))

    def status(self, deadline: float) -> PrinterStatus:
        return self.state

    def close(self) -> None:
        self.closed = True


# -------------------------------------------------------------------------------------- seam

_KINDS: dict[str, Any] = {
    "serial": SerialTransport,
    "network": NetworkTransport,
    "usb": UsbTransport,
    "file": FileTransport,
    "dummy": DummyTransport,
}


def open_transport(settings: PrinterSettings) -> Transport:
    """The transport for ``settings.type``; options are checked now, the device is touched lazily."""
    cls = _KINDS.get(settings.type)
    if cls is None:
        raise ConfigError(
            "site file",
            f"printers.{settings.id}.type",
            f"{settings.type!r} is not a printer type (use {', '.join(_KINDS)})",
        )
    _check_option_names(settings)
    transport: Transport = cls.from_settings(settings)
    return transport


# Option keys each printer type reads, and those every type accepts (read by the layout and by
# TicketPrinter). A misspelt key is refused rather than silently ignored: "baudrat = 19200" would
# otherwise print garbage at the default 9600 baud in front of a queue of people.
COMMON_OPTIONS = frozenset({"codepage", "raster_qr", "require_status", "write_timeout", "logo_file"})
TYPE_OPTIONS: dict[str, frozenset[str]] = {
    "serial": frozenset({"port", "baudrate", "flow", "rtscts", "xonxoff"}),
    "network": frozenset({"host", "port"}),
    "usb": frozenset({"vendor_id", "product_id", "in_ep", "out_ep", "timeout_ms"}),
    "file": frozenset({"directory"}),
    "dummy": frozenset({"status"}),
}


def _check_option_names(settings: PrinterSettings) -> None:
    known = COMMON_OPTIONS | TYPE_OPTIONS.get(settings.type, frozenset())
    for key in settings.options:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else f" (a {settings.type} printer takes {', '.join(sorted(known))})"
            )
            raise ConfigError(
                "site file",
                f"printers.{settings.id}.options.{key}",
                f"unknown option for a {settings.type} printer{hint}",
            )
