"""Connections to a printer, chosen by ``PrinterSettings.type`` through one seam.

    transport = open_transport(settings)      # serial | usb | network | file | dummy
    transport.status(deadline) -> PrinterStatus
    transport.write(data, deadline, job=None)
    transport.close()

``deadline`` is an absolute ``time.monotonic()`` value: every call returns or raises a typed
error (printer.errors) by then, so a stalled printer never hangs the kiosk. (A serial status
query waits additionally for bytes still queued in the UART; ``wire_s(n)``, where a transport
has it, is the time ``n`` bytes need on its wire, which callers add to write deadlines.) Opening is lazy —
a transport is cheap to make and touches the device on first use; after an I/O error it drops
its handle and reopens on the next call (a USB-serial adapter unplugged and plugged back in).

Why our own serial code and not python-escpos' ``Serial``: its status reads report "paper OK"
with no answer and wait the whole timeout (DESIGN.md). We still use python-escpos for USB,
where pyusb does the work and there is nothing to gain by rewriting it.

The file and dummy backends are real backends, not mocks: the demo and other parts' tests
print through the same path as production.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import termios
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from common.errors import ConfigError
from config.model import PrinterSettings
from printer import status as st
from printer.errors import PrinterNotFound, PrinterOffline, PrinterTimeout
from printer.status import PrinterStatus

if TYPE_CHECKING:
    from printer.layout import Op


@dataclass(frozen=True)
class Job:
    """What a write is: ``name`` (``<number>-<id>``) and the ops, for backends that keep a preview."""

    name: str
    ops: tuple[Op, ...] = ()


class Transport(Protocol):
    kind: str

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None: ...

    def status(self, deadline: float) -> PrinterStatus: ...

    def close(self) -> None: ...


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _query_timeout(deadline: float) -> float:
    """Split what is left of a status deadline over the three queries."""
    return max(0.02, min(st.DEFAULT_QUERY_TIMEOUT_S, _remaining(deadline) / 3))


# ------------------------------------------------------------------------------------ options


def _opt(settings: PrinterSettings, key: str, kind: type, default: Any = None, required: bool = False) -> Any:
    value = settings.options.get(key, default)
    where = f"printers.{settings.id}.options.{key}"
    if value is None:
        if required:
            raise ConfigError("site file", where, f"is required for a {settings.type} printer")
        return None
    if kind is int and isinstance(value, str):
        try:
            value = int(value, 0)  # "0x04b8" as well as "1208"
        except ValueError:
            raise ConfigError("site file", where, f"{value!r} is not a whole number") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError("site file", where, f"{value!r} is not a {kind.__name__}")
    return value


# ------------------------------------------------------------------------------------- serial


class SerialTransport:
    """A serial printer through pyserial: port, baud rate, RTS/CTS or XON/XOFF flow control."""

    kind = "serial"

    def __init__(self, port: str, baudrate: int = 9600, rtscts: bool = False, xonxoff: bool = False) -> None:
        self.port = port
        self.baudrate = baudrate
        self.rtscts = rtscts
        self.xonxoff = xonxoff
        self._ser: Any = None
        self._busy_until = 0.0  # monotonic time the line has sent all we wrote

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> SerialTransport:
        flow = _opt(settings, "flow", str, "none")
        if flow not in ("none", "rtscts", "xonxoff"):
            raise ConfigError(
                "site file", f"printers.{settings.id}.options.flow", f"{flow!r}: use none, rtscts or xonxoff"
            )
        return cls(
            port=_opt(settings, "port", str, required=True),
            baudrate=_opt(settings, "baudrate", int, 9600),
            rtscts=bool(_opt(settings, "rtscts", bool, flow == "rtscts")),
            xonxoff=bool(_opt(settings, "xonxoff", bool, flow == "xonxoff")),
        )

    def _open(self) -> Any:
        if self._ser is not None:
            return self._ser
        import serial

        try:
            self._ser = serial.Serial(
                port=self.port,
                baudrate=self.baudrate,
                rtscts=self.rtscts,
                xonxoff=self.xonxoff,
                timeout=0,
                write_timeout=2.0,
                exclusive=True,
            )
        except serial.SerialException as exc:
            if getattr(exc, "errno", None) in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
                raise PrinterNotFound(f"serial port {self.port} is not there: {exc}") from exc
            raise PrinterOffline(f"cannot open serial port {self.port}: {exc}") from exc
        return self._ser

    def wire_s(self, nbytes: int) -> float:
        """Seconds ``nbytes`` need on the wire (8N1: 10 bits a byte). Deadlines add this, so a
        ticket at 9600 baud is not mistaken for a stalled printer."""
        return nbytes * 10 / self.baudrate

    def _broken(self, exc: BaseException) -> PrinterOffline:
        self.close()
        return PrinterOffline(f"serial port {self.port} failed: {exc}")

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        """Write with our own select loop on the (non-blocking) descriptor pyserial opened.

        Why not ``ser.write``: it cannot say how much went out before a timeout, and it
        reconfigures the port each time ``write_timeout`` changes. Here the count is exact, so
        ``printed`` tells the caller whether part of a ticket reached the printer.
        """
        ser = self._open()
        sent = 0
        start = time.monotonic()
        try:
            while sent < len(data):
                left = _remaining(deadline)
                if left <= 0:
                    raise TimeoutError
                _, ready, _ = select.select([], [ser.fd], [], left)
                if not ready:
                    continue
                try:
                    n = os.write(ser.fd, data[sent : sent + 4096])
                except BlockingIOError:
                    continue
                sent += n
                # The UART sends at the baud rate whatever the kernel accepted: remember when
                # the line will be free, so a status query after a ticket waits long enough.
                self._busy_until = max(self._busy_until, start) + self.wire_s(n)
        except TimeoutError as exc:
            with contextlib.suppress(Exception):
                ser.reset_output_buffer()  # don't let half a ticket start the next one
            raise PrinterTimeout(
                f"printer on {self.port} took {sent} of {len(data)} bytes before the deadline "
                "(stalled, flow control held, or unplugged)",
                printed=sent > 0,
            ) from exc
        except (OSError, termios.error) as exc:
            raise self._broken(exc) from exc

    def status(self, deadline: float) -> PrinterStatus:
        import serial

        try:
            ser = self._open()
        except PrinterNotFound as exc:
            return PrinterStatus.not_connected(str(exc))
        except PrinterOffline as exc:
            return PrinterStatus.not_connected(str(exc))

        def read_byte(until: float) -> int | None:
            # Our own select on the descriptor: setting ``ser.timeout`` would re-run tcsetattr
            # on every query (USB-serial drivers turn that into USB control transfers).
            while (left := _remaining(until)) > 0:
                ready, _, _ = select.select([ser.fd], [], [], left)
                if not ready:
                    return None
                try:
                    got = os.read(ser.fd, 1)
                except BlockingIOError:
                    continue
                if not got:
                    raise OSError(errno.EIO, "serial port hung up")
                return got[0]
            return None

        try:
            # a ticket still leaving the UART: the answer cannot come before it is out
            backlog_s = max(self.wire_s(ser.out_waiting), self._busy_until - time.monotonic(), 0.0)
            return st.query(
                lambda q, until: self.write(q, until + backlog_s),
                read_byte,
                ser.reset_input_buffer,
                _query_timeout(deadline),
                first_extra_s=backlog_s,
            )
        except PrinterTimeout as exc:
            return PrinterStatus.unknown_status(f"status query could not be sent: {exc}")
        except PrinterOffline as exc:
            return PrinterStatus.not_connected(str(exc))
        except (serial.SerialException, OSError, termios.error) as exc:
            return PrinterStatus.not_connected(str(self._broken(exc)))

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()


# ------------------------------------------------------------------------------------ network


class NetworkTransport:
    """Raw TCP (port 9100, "JetDirect"), the way Ethernet receipt printers take jobs.

    The connection is kept between tickets for at most ``keep_s`` seconds and checked for a
    close by the printer before reuse, so a printer that rebooted does not swallow a ticket
    into a dead socket.
    """

    kind = "network"

    def __init__(self, host: str, port: int = 9100, keep_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.keep_s = keep_s
        self._sock: socket.socket | None = None
        self._used = 0.0

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> NetworkTransport:
        port = _opt(settings, "port", int, 9100)
        if not 0 < port < 65536:
            raise ConfigError(
                "site file", f"printers.{settings.id}.options.port", f"{port} is not a TCP port"
            )
        return cls(_opt(settings, "host", str, required=True), port)

    def _stale(self, sock: socket.socket) -> bool:
        if time.monotonic() - self._used > self.keep_s:
            return True
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _open(self, deadline: float) -> socket.socket:
        if self._sock is not None and self._stale(self._sock):
            self.close()
        if self._sock is None:
            left = _remaining(deadline)
            if left <= 0:
                raise PrinterTimeout(f"no time left to connect to {self.host}:{self.port}")
            try:
                sock = socket.create_connection((self.host, self.port), timeout=left)
            except TimeoutError as exc:
                raise PrinterTimeout(
                    f"printer {self.host}:{self.port} did not accept a connection in time"
                ) from exc
            except ConnectionRefusedError as exc:
                raise PrinterNotFound(f"printer {self.host}:{self.port} refused the connection") from exc
            except OSError as exc:
                raise PrinterNotFound(f"printer {self.host}:{self.port} is not reachable: {exc}") from exc
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        self._used = time.monotonic()
        return self._sock

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        sock = self._open(deadline)
        try:
            sock.settimeout(max(0.001, _remaining(deadline)))
            sock.sendall(data)  # the timeout bounds the whole sendall (Python >= 3.5)
        except TimeoutError as exc:
            self.close()
            raise PrinterTimeout(
                f"printer {self.host}:{self.port} stopped taking data", printed=True
            ) from exc
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"connection to printer {self.host}:{self.port} broke: {exc}") from exc

    def status(self, deadline: float) -> PrinterStatus:
        try:
            sock = self._open(deadline)
        except (PrinterNotFound, PrinterTimeout) as exc:
            return PrinterStatus.not_connected(str(exc))

        def drain() -> None:
            sock.setblocking(False)
            try:
                while sock.recv(256):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            finally:
                sock.setblocking(True)

        def read_byte(until: float) -> int | None:
            left = _remaining(until)
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                got = sock.recv(1)
            except TimeoutError:
                return None
            if not got:
                raise ConnectionResetError("printer closed the connection")
            return got[0]

        try:
            return st.query(lambda q, until: self.write(q, until), read_byte, drain, _query_timeout(deadline))
        except (PrinterOffline, PrinterTimeout, OSError) as exc:
            self.close()
            return PrinterStatus.not_connected(f"status query failed: {exc}")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


# ---------------------------------------------------------------------------------------- usb


def usb_parameters(options: Mapping[str, object], printer_id: str = "?") -> dict[str, Any]:
    """Map site-file options to python-escpos ``Usb(...)`` keyword arguments."""
    settings = PrinterSettings(id=printer_id, type="usb", options=options)
    return {
        "idVendor": _opt(settings, "vendor_id", int, required=True),
        "idProduct": _opt(settings, "product_id", int, required=True),
        "in_ep": _opt(settings, "in_ep", int, 0x82),
        "out_ep": _opt(settings, "out_ep", int, 0x01),
        "timeout": _opt(settings, "timeout_ms", int, 2000),
    }


class UsbTransport:
    """A USB printer through python-escpos' ``Usb`` (pyusb). Status uses our DLE EOT queries."""

    kind = "usb"

    def __init__(self, params: dict[str, Any], profile: str) -> None:
        self.params = params
        self.profile = profile
        self._printer: Any = None

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> UsbTransport:
        return cls(usb_parameters(settings.options, settings.id), settings.profile)

    def _name(self) -> str:
        return f"USB {self.params['idVendor']:04x}:{self.params['idProduct']:04x}"

    def _open(self) -> Any:
        if self._printer is not None:
            return self._printer
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        printer = Usb(profile=self.profile, **self.params)
        try:
            printer.open(raise_not_found=True)
        except (DeviceNotFoundError, ImportError, OSError) as exc:
            raise PrinterNotFound(f"{self._name()}: {exc}") from exc
        self._printer = printer
        return printer

    def _ms(self, deadline: float) -> int:
        return max(1, int(_remaining(deadline) * 1000))

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        import usb.core

        printer = self._open()
        try:
            printer.device.write(self.params["out_ep"], data, self._ms(deadline))
        except usb.core.USBTimeoutError as exc:
            raise PrinterTimeout(f"{self._name()} stopped taking data", printed=True) from exc
        except usb.core.USBError as exc:
            self.close()
            raise PrinterOffline(f"{self._name()} failed: {exc}") from exc

    def status(self, deadline: float) -> PrinterStatus:
        import usb.core

        try:
            printer = self._open()
        except PrinterNotFound as exc:
            return PrinterStatus.not_connected(str(exc))

        def read_byte(until: float) -> int | None:
            try:
                got = printer.device.read(self.params["in_ep"], 16, self._ms(until))
            except usb.core.USBTimeoutError:
                return None
            return int(got[-1]) if len(got) else None

        try:
            return st.query(
                lambda q, until: self.write(q, until), read_byte, lambda: None, _query_timeout(deadline)
            )
        except (PrinterOffline, PrinterTimeout, usb.core.USBError) as exc:
            return PrinterStatus.not_connected(f"status query failed: {exc}")

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            with contextlib.suppress(Exception):
                printer.close()


# ------------------------------------------------------------------------------- file / dummy

STATUS_WORDS = ("ok", "paper_near_end", "paper_end", "cover_open", "offline", "unknown")


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
        return cls(Path(_opt(settings, "directory", str, required=True)), settings)

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
            from printer.preview import render_png

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
        word = _opt(settings, "status", str, "ok")
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
    transport: Transport = cls.from_settings(settings)
    return transport
