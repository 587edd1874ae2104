"""The kiosk's printer seam: the printer package behind ``kiosk.ports.PrinterPort``.

Why a lock: the flow polls the status in the background and prints when a visitor touches, each
from a worker thread (``asyncio.to_thread``); a serial line carries one conversation at a time, so
a ``DLE EOT`` query must never interleave with a ticket's bytes.

The ticket is laid out in the visitor's chosen language: department name, footer and the printed
words all follow ``lang``, so the paper matches the screen the visitor just read.

A booked visit's slip (``appointment.slip``, sent by the reception: kiosk/device.py) goes through
the same lock and the same printer checks as a ticket (:meth:`KioskPrinter.print_slip`), so a
visitor's ticket and a slip never interleave their bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from typing import Any

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import PrinterError
from nummerlapp.config.model import PrinterSettings, Settings

log = logging.getLogger(__name__)


class KioskPrinter:
    """Adapts ``printer.TicketPrinter`` (status + print) to what the kiosk flow needs."""

    def __init__(self, settings: Settings, printer_settings: PrinterSettings, backend: Any = None) -> None:
        self.settings = settings
        self.printer_settings = printer_settings
        if backend is None:
            from nummerlapp.printer import TicketPrinter  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415  # start-up: python-escpos (250 ms) only when the kiosk has a printer

            # Rendering one sample per language now spares the first visitor of each language a wait.
            backend = TicketPrinter(printer_settings, languages=settings.site.languages)
        self._backend = backend
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        return self.printer_settings.id

    def status(self) -> P.PrinterReport:
        with self._lock:
            status = self._backend.status()
        state, detail = status.summary, str(getattr(status, "detail", ""))[:200]
        if state == "unknown" and getattr(self._backend, "require_status", False):
            state = "offline"  # the printer would refuse the job: take no number
        return P.PrinterReport(state=state, detail=detail)

    def view(self, ticket: P.Ticket, lang: str) -> Any:
        """The printer's ``TicketView`` for this ticket, in ``lang``."""
        from nummerlapp.printer.layout import TicketView  # noqa: PLC0415  # start-up: python-escpos (250 ms) only when the kiosk has a printer

        site = self.settings.site
        dep = self.settings.department(ticket.department)
        try:
            issued = dt.datetime.fromisoformat(ticket.issued_at).astimezone(site.tz)
        except ValueError:
            issued = dt.datetime.now(site.tz)
        # The QR code opens the ticket's page by its follow secret (PROTOCOL.md v1.1), which only
        # the issue answer carries; no public_url (or no secret) prints no QR code.
        follow = ticket.follow if isinstance(ticket, P.IssuedTicket) else None
        qr = f"{site.public_url.rstrip('/')}/t/{follow}" if site.public_url and follow else None
        return TicketView(
            site_name=site.name,
            department_name=dep.label(lang) if dep is not None else ticket.department,
            number=ticket.number,
            issued_at=issued,
            ahead=ticket.ahead,
            estimated_wait_s=ticket.estimated_wait_s,
            qr_url=qr,
            footer=site.footer.get(lang, ""),
            lang=lang,
            logo=self.printer_settings.logo != "none",
            ticket_id=ticket.id,
            **self._booked(ticket),
        )

    def _booked(self, ticket: P.Ticket) -> dict[str, Any]:
        """A checked-in visit prints its time and when it is called (printer/layout.py)."""
        if ticket.appointment is None:
            return {}
        start = dt.datetime.fromisoformat(ticket.appointment.start).astimezone(self.settings.site.tz)
        return {
            "booked_at": start,
            "called_soon": start <= dt.datetime.now(start.tzinfo) + dt.timedelta(minutes=1),
        }

    def print_ticket(self, ticket: P.Ticket, lang: str) -> None:
        view = self.view(ticket, lang)
        with self._lock:
            self._backend.print_ticket(view)
        log.info("printed %s (%s)", ticket.number, lang)

    def slip_view(self, slip: P.AppointmentSlip) -> Any:
        """The printer's ``SlipView`` for a booked visit (its language, else the site's first)."""
        from nummerlapp.printer.slip import SlipView  # noqa: PLC0415  # start-up: python-escpos (250 ms) only when the kiosk has a printer

        site = self.settings.site
        lang = slip.lang if slip.lang in site.languages else site.default_language
        visit = slip.appointment
        dep = self.settings.department(visit.department)
        reference = P.normalize_reference(visit.reference)
        if reference is None:
            raise P.ProtocolError("appointment.slip: the reference is not one")
        return SlipView(
            site_name=site.name,
            department_name=dep.label(lang) if dep is not None else visit.department,
            start=dt.datetime.fromisoformat(visit.start).astimezone(site.tz),
            reference=reference,
            lang=lang,
            logo=self.printer_settings.logo != "none",
        )

    def print_slip(self, slip: P.AppointmentSlip) -> None:
        """Print a booked visit's slip (blocking: call it from a thread); a fault raises the
        printer's typed error, as for a ticket."""
        from nummerlapp.printer.slip import slip_layout  # noqa: PLC0415  # start-up: as above

        view = self.slip_view(slip)
        ops = slip_layout(view, self.printer_settings, getattr(self._backend, "logo_image", None))
        name = f"slip-{view.start:%H%M}-{secrets.token_hex(3)}"  # no reference in a file name
        with self._lock:
            self._backend.print_ops(ops, name)
        log.info("printed a booked visit's slip (%s %s)", visit_label(view.start), view.lang)

    def close(self) -> None:
        close = getattr(self._backend, "close", None)
        if close is not None:
            close()

    def test_print(self) -> None:
        """A sample ticket marked as a test, so nobody mistakes it for a real number."""
        now = dt.datetime.now(self.settings.site.tz)
        sample = P.Ticket(
            id="test",
            number="TEST",
            department=self.settings.departments[0].id,
            status="waiting",
            issued_at=now.isoformat(timespec="seconds"),
            counter=None,
            called_at=None,
            lang=self.settings.site.default_language,
            ahead=0,
            estimated_wait_s=None,
        )
        self.print_ticket(sample, self.settings.site.default_language)


def visit_label(start: dt.datetime) -> str:
    """How the log names a visit: its day and time (never its reference, a check-in credential)."""
    return f"{start:%Y-%m-%d %H:%M}"


class NoPrinter:
    """A kiosk configured without a printer: numbers are shown on screen only."""

    id = "none"

    def status(self) -> P.PrinterReport:
        return P.PrinterReport(state="unknown", detail="no printer configured")

    def print_ticket(self, ticket: P.Ticket, lang: str) -> None:
        log.info("no printer: %s shown on screen only", ticket.number)

    def test_print(self) -> None:
        raise PrinterError("no printer configured for this kiosk")
