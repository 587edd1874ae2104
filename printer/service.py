"""``TicketPrinter``: print one ticket, checking the printer before and after, or raise.

    printer = TicketPrinter(settings.printer())
    result = await asyncio.to_thread(printer.print_ticket, view)   # the kiosk
    status = await asyncio.to_thread(printer.status)

Blocking by design (the kiosk runs it in a thread); every call is bounded: a status check by
``status_timeout_s`` (0.75 s), a write by ``write_timeout_s`` (1.5 s) plus the time the bytes
need on the wire (0.3 s for a ticket at 9600 baud), so a stalled printer fails within 2 s.
Calls from several threads are serialised by a lock, so a status poll never interleaves with a
ticket's bytes.

The order on the wire is: ``DLE EOT`` 1/2/4 → ticket bytes → ``DLE EOT`` 1/2/4. Paper end, cover
open or offline before printing raise without sending the ticket. A printer that does not answer
(``unknown``) is refused too, unless the site file says ``options.require_status = false`` for a
printer without a return line: a ticket sent into silence may be lost, and the visitor would not
know. Faults seen after the write raise with ``printed=True`` (the visitor may hold half a ticket).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.errors import CoverOpen, PaperOut, PrinterNotFound, PrinterOffline, PrinterTimeout
from nummerlapp.printer.layout import Op, TicketView, layout, to_escpos
from nummerlapp.printer.sample import sample_view
from nummerlapp.printer.status import PrinterStatus
from nummerlapp.printer.transports import Job, Transport, open_transport

log = logging.getLogger(__name__)

# A stalled write must fail within 2 s; this leaves room for the status query around it.
DEFAULT_WRITE_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class PrintResult:
    """What happened: bytes sent, status before and after, and our own timings."""

    job: str
    bytes_sent: int
    status_before: PrinterStatus
    status_after: PrinterStatus
    to_first_byte_s: float  # from the call to handing the first ticket byte to the transport
    duration_s: float

    @property
    def paper_near_end(self) -> bool:
        return self.status_before.paper_near_end or self.status_after.paper_near_end


def fault_for(status: PrinterStatus, printed: bool = False) -> Exception | None:
    """The typed error a status calls for (``None`` when a ticket may print)."""
    if status.paper_end:
        return PaperOut(f"paper end ({status.detail})" if status.detail else "paper end", status, printed)
    if status.cover_open:
        return CoverOpen("cover open", status, printed)
    if status.not_found:
        return PrinterNotFound(status.detail, status, printed)
    if status.offline:
        return PrinterOffline(
            f"printer offline ({status.detail})" if status.detail else "printer offline", status, printed
        )
    return None


class TicketPrinter:
    """One configured printer. Opens its transport lazily; reopens after an unplug."""

    def __init__(
        self,
        settings: PrinterSettings,
        transport: Transport | None = None,
        *,
        write_timeout_s: float | None = None,
        status_timeout_s: float = 0.75,
        logo_image: str | Path | None = None,
        languages: Sequence[str] = ("en",),
    ) -> None:
        self.settings = settings
        self._transport = transport
        opts = settings.options
        self.write_timeout_s = float(write_timeout_s or opts.get("write_timeout", DEFAULT_WRITE_TIMEOUT_S))  # type: ignore[arg-type]
        self.status_timeout_s = status_timeout_s
        self.require_status = bool(opts.get("require_status", True))
        raw_logo = logo_image or opts.get("logo_file")
        self.logo_image = str(raw_logo) if raw_logo else None
        self._lock = threading.Lock()
        self.last_status: PrinterStatus | None = None
        self.warm_up(languages)

    def warm_up(self, languages: Sequence[str]) -> None:
        """Render a sample ticket per language once, without I/O.

        The first ticket in a language loads its catalogue, Babel's locale data and the
        profile's code page tables (10-30 ms); doing it here keeps that out of the visitor's
        wait, so the request-to-first-byte time stays in single milliseconds.
        """

        for lang in languages:
            to_escpos(layout(sample_view(lang), self.settings), self.settings)

    @property
    def transport(self) -> Transport:
        """The transport (made on first use; options were checked when it was made)."""
        if self._transport is None:
            self._transport = open_transport(self.settings)
        return self._transport

    def _acquire(self) -> None:
        if not self._lock.acquire(timeout=self.write_timeout_s + 2 * self.status_timeout_s + 1.0):
            raise PrinterTimeout("printer is busy with another job")

    def _status(self) -> PrinterStatus:
        status = self.transport.status(time.monotonic() + self.status_timeout_s)
        if status != self.last_status and not status.ok:
            log.warning("printer %s: %s", self.settings.id, status)  # once per change, not per poll
        self.last_status = status
        return status

    def _wire_s(self, nbytes: int) -> float:
        """Time the bytes need on a slow link (serial), added to the stall timeout."""
        wire = getattr(self.transport, "wire_s", None)
        return float(wire(nbytes)) if wire is not None else 0.0

    def status(self) -> PrinterStatus:
        """Ask the printer now (bounded by ``status_timeout_s``)."""
        self._acquire()
        try:
            return self._status()
        finally:
            self._lock.release()

    def print_ticket(self, view: TicketView) -> PrintResult:
        """Print ``view``; raise a typed ``printer.errors`` error if it cannot or did not print."""
        name = f"{view.number}-{view.ticket_id or secrets.token_hex(4)}"
        return self.print_ops(layout(view, self.settings, self.logo_image), name)

    def print_ops(self, ops: Sequence[Op], name: str) -> PrintResult:
        """Print any layout (the ticket, the test page) with the same checks."""
        t0 = time.monotonic()
        data = to_escpos(ops, self.settings)
        self._acquire()
        try:
            before = self._status()
            fault = fault_for(before)
            if fault is None and before.unknown and self.require_status:
                fault = PrinterOffline(f"printer does not answer status queries: {before.detail}", before)
            if fault is not None:
                raise fault
            t_write = time.monotonic()
            deadline = t_write + self.write_timeout_s + self._wire_s(len(data))
            self.transport.write(data, deadline, Job(name, tuple(ops)))
            after = self._status()
            fault = fault_for(after, printed=True)
            if fault is None and after.unknown and self.require_status:
                fault = PrinterOffline(
                    f"printer stopped answering after the ticket was sent: {after.detail}",
                    after,
                    printed=True,
                )
            if fault is not None:
                raise fault
            return PrintResult(name, len(data), before, after, t_write - t0, time.monotonic() - t0)
        finally:
            self._lock.release()

    def send_raw(self, data: bytes, name: str = "raw") -> PrinterStatus:
        """Send bytes that are not a ticket (storing the logo) after the same status check."""
        self._acquire()
        try:
            before = self._status()
            fault = fault_for(before)
            if fault is not None:
                raise fault
            deadline = time.monotonic() + self.write_timeout_s + self._wire_s(len(data))
            self.transport.write(data, deadline, Job(name))
            return self._status()
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._transport is not None:
                self._transport.close()
