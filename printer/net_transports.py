"""Network and USB printers.

Network: raw TCP (port 9100, "JetDirect"), the way Ethernet receipt printers take jobs; status
with the same ``DLE EOT`` queries on the same socket. USB: python-escpos' ``Usb`` (pyusb) does
the device work; status again with our own queries and short timeouts.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Mapping
from typing import Any

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer import status as st
from nummerlapp.printer.errors import PrinterNotFound, PrinterOffline, PrinterTimeout
from nummerlapp.printer.status import PrinterStatus
from nummerlapp.printer.transport_base import Job, opt, query_timeout, remaining


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
        port = opt(settings, "port", int, 9100)
        if not 0 < port < 65536:
            raise ConfigError(
                "site file", f"printers.{settings.id}.options.port", f"{port} is not a TCP port"
            )
        return cls(opt(settings, "host", str, required=True), port)

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
            left = remaining(deadline)
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
            sock.settimeout(max(0.001, remaining(deadline)))
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
            left = remaining(until)
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
            return st.query(lambda q, until: self.write(q, until), read_byte, drain, query_timeout(deadline))
        except (PrinterOffline, PrinterTimeout, OSError) as exc:
            self.close()
            return PrinterStatus.not_connected(f"status query failed: {exc}")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def usb_parameters(options: Mapping[str, object], printer_id: str = "?") -> dict[str, Any]:
    """Map site-file options to python-escpos ``Usb(...)`` keyword arguments."""
    settings = PrinterSettings(id=printer_id, type="usb", options=options)
    return {
        "idVendor": opt(settings, "vendor_id", int, required=True),
        "idProduct": opt(settings, "product_id", int, required=True),
        "in_ep": opt(settings, "in_ep", int, 0x82),
        "out_ep": opt(settings, "out_ep", int, 0x01),
        "timeout": opt(settings, "timeout_ms", int, 2000),
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
        from escpos.exceptions import DeviceNotFoundError  # noqa: PLC0415  # start-up: pyusb and python-escpos's Usb only when a USB printer is opened
        from escpos.printer import Usb  # noqa: PLC0415  # start-up: pyusb and python-escpos's Usb only when a USB printer is opened

        printer = Usb(profile=self.profile, **self.params)
        try:
            printer.open(raise_not_found=True)
        except (DeviceNotFoundError, ImportError, OSError) as exc:
            raise PrinterNotFound(f"{self._name()}: {exc}") from exc
        self._printer = printer
        return printer

    def _ms(self, deadline: float) -> int:
        return max(1, int(remaining(deadline) * 1000))

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None:
        import usb.core  # noqa: PLC0415  # start-up: pyusb and python-escpos's Usb only when a USB printer is opened

        printer = self._open()
        try:
            printer.device.write(self.params["out_ep"], data, self._ms(deadline))
        except usb.core.USBTimeoutError as exc:
            raise PrinterTimeout(f"{self._name()} stopped taking data", printed=True) from exc
        except usb.core.USBError as exc:
            self.close()
            raise PrinterOffline(f"{self._name()} failed: {exc}") from exc

    def status(self, deadline: float) -> PrinterStatus:
        import usb.core  # noqa: PLC0415  # start-up: pyusb and python-escpos's Usb only when a USB printer is opened

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
                lambda q, until: self.write(q, until), read_byte, lambda: None, query_timeout(deadline)
            )
        except (PrinterOffline, PrinterTimeout, usb.core.USBError) as exc:
            return PrinterStatus.not_connected(f"status query failed: {exc}")

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            with contextlib.suppress(Exception):
                printer.close()
