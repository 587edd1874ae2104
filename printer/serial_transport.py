"""A serial printer through pyserial: port, baud rate, RTS/CTS or XON/XOFF flow control.

Why our own reads and writes on the descriptor pyserial opened, and not python-escpos'
``Serial``: its status reads report "paper OK" with no answer and wait the whole timeout
(DESIGN.md); and pyserial's own ``write`` cannot say how much went out before a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import termios
import time
from typing import Any

import serial

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer import status as st
from nummerlapp.printer.errors import PrinterNotFound, PrinterOffline, PrinterTimeout
from nummerlapp.printer.status import PrinterStatus
from nummerlapp.printer.transport_base import Job, opt, query_timeout, remaining


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
        flow = opt(settings, "flow", str, "none")
        if flow not in ("none", "rtscts", "xonxoff"):
            raise ConfigError(
                "site file", f"printers.{settings.id}.options.flow", f"{flow!r}: use none, rtscts or xonxoff"
            )
        return cls(
            port=opt(settings, "port", str, required=True),
            baudrate=opt(settings, "baudrate", int, 9600),
            rtscts=bool(opt(settings, "rtscts", bool, flow == "rtscts")),
            xonxoff=bool(opt(settings, "xonxoff", bool, flow == "xonxoff")),
        )

    def _open(self) -> Any:
        if self._ser is not None:
            return self._ser

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
                left = remaining(deadline)
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
        try:
            ser = self._open()
        except PrinterNotFound as exc:
            return PrinterStatus.not_connected(str(exc))
        except PrinterOffline as exc:
            return PrinterStatus.not_connected(str(exc))

        def read_byte(until: float) -> int | None:
            # Our own select on the descriptor: setting ``ser.timeout`` would re-run tcsetattr
            # on every query (USB-serial drivers turn that into USB control transfers).
            while (left := remaining(until)) > 0:
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
                query_timeout(deadline),
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
