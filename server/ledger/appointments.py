"""Booked visits (PROTOCOL.md v1.1 "Booked visits"): booking, cancelling, check-in, no-shows.

A booked visit is a row of ``appointments``: a reference the visitor types or scans, a department
and a start. Nothing else about the visitor exists anywhere: no name, phone number, e-mail address
or free text has a column to go into (schema.py, migration 5).

- **Reference**: 8 characters from :data:`ALPHABET` (no 0/O, 1/I/L: a reference read aloud or
  typed from paper cannot be mistaken), 31⁸ ≈ 8.5·10¹¹ of them, drawn with ``secrets``.
- **Check-in** makes the visit's ticket in its department (a number like any other, so the board
  shows it like any number), with ``tickets.appointment`` / ``appt_start`` set. Until it is
  first called such a ticket is *held* (:data:`HELD_SQL`): ``next`` never takes it as a walk-in;
  once its start has come, ``next`` calls it before any walk-in of the counter's departments, the
  oldest start first (:meth:`AppointmentOps._due_appointment`, the one hook in ``next``).
- **Grace**: a check-in later than start + ``appointments.grace_min`` is refused (``too_late``;
  the kiosk then offers an ordinary ticket), and a visit not checked in by then is a no-show:
  written by :meth:`AppointmentOps.tick` each minute, and derived on every read meanwhile.
- **Status** on the wire: ``booked``, ``cancelled`` and ``no_show`` are the row's; once checked in,
  the ticket tells how it went on (:func:`wire_status`).
- **Import** (``main.py appointments import``, server/appointments_ics.py) hands over plain
  :class:`Booking` values; UIDs arrive hashed, SEQUENCE orders the versions of one event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.config.hours import service_day
from nummerlapp.config.model import Department
from nummerlapp.server.ledger.models import Event, Ticket
from nummerlapp.server.ledger.reads import InvalidArgument, db_time
from nummerlapp.server.ledger.site import SiteOps
from nummerlapp.server.ledger.tx import Tx

ALPHABET, REFERENCE_LEN, normalize_reference = P.REFERENCE_ALPHABET, P.REFERENCE_LEN, P.normalize_reference
# A checked-in visit's ticket that has not been called yet: it waits for its time, not in line.
HELD_SQL = "(appt_start IS NOT NULL AND first_called_at IS NULL)"
SOURCES_MAX = 100


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LEN))


def uid_hash(uid: str) -> str:
    """What the ledger keeps of an iCalendar UID: its hex SHA-256 (a UID may name a host or a mail box)."""
    return hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()


def wire_status(row_status: str, ticket_status: str | None, called: bool) -> P.AppointmentStatus:
    """The protocol's status of a visit from its row and (once checked in) its ticket."""
    if row_status != "checked_in" or ticket_status is None:
        return row_status  # type: ignore[return-value]  # booked | cancelled | no_show
    if ticket_status == "waiting" and not called:
        return "checked_in"
    if ticket_status in ("waiting", "called", "parked"):
        return "called"  # a visit called and then handed on or parked has had its call
    if ticket_status in ("serving", "done", "no_show"):
        return ticket_status  # type: ignore[return-value]
    return "done" if called else "no_show"  # void: the day ended (or a reset) with the ticket


@dataclass(frozen=True)
class Booking:
    """One event from a calendar, reduced to what the ledger may know."""

    uid_hash: str
    sequence: int
    start: dt.datetime  # aware
    department: str
    cancelled: bool = False
    reference: str | None = None  # the booking system's own reference, if it sent one


@dataclass
class ImportResult:
    """What an import did, per event (no personal data: references and counts only)."""

    created: list[str] = field(default_factory=list)  # references of new visits
    moved: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # already checked in: not moved or cancelled
    stale: int = 0  # an older SEQUENCE than the one stored

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "moved": self.moved,
            "cancelled": self.cancelled,
            "unchanged": self.unchanged,
            "kept_checked_in": self.kept,
            "stale": self.stale,
        }


_COLUMNS = (
    "a.id, a.reference, a.department, a.start, a.status, a.ticket, a.source, t.status, t.first_called_at"
)


class AppointmentOps(SiteOps):
    """The appointment operations of :class:`server.ledger.Ledger` (see the module docstring)."""

    def _issue_in(
        self, tx: Tx, dep: Department, lang: str, source: str | None, booked: P.AppointmentRef | None = None
    ) -> Ticket:
        raise NotImplementedError  # server.ledger.operations.Ledger

    def _issue_args(self, lang: str | None, source: str | None) -> str:
        raise NotImplementedError  # server.ledger.operations.Ledger

    @property
    def grace(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.appointments.grace_min)

    # -- reading ------------------------------------------------------------------------------

    def _appointment(self, row: tuple[Any, ...], now: dt.datetime) -> P.Appointment:
        ap_id, reference, department, start, status, ticket, source, t_status, first_called = row
        when = dt.datetime.fromisoformat(start)
        if status == "booked" and now > when + self.grace:
            status = "no_show"  # lazily, until the next tick writes it
        return P.Appointment(
            id=ap_id,
            reference=reference,
            department=department,
            start=P.iso(when.astimezone(self.tz)) or "",
            status=wire_status(status, t_status, first_called is not None),
            ticket=ticket,
            source=source,
        )

    def _appointment_row(self, reference: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._conn.execute(
            f"SELECT {_COLUMNS} FROM appointments a LEFT JOIN tickets t ON t.id = a.ticket WHERE a.reference = ?",
            (reference,),
        ).fetchone()
        return row

    def appointment(self, reference: str) -> P.Appointment:
        """One visit by reference (NotFound ``unknown_appointment``)."""
        ref = normalize_reference(reference)
        with self._read():
            row = None if ref is None else self._appointment_row(ref)
            if row is None:
                raise NotFound("no booked visit has this reference", code="unknown_appointment")
            return self._appointment(row, self._now())

    def appointments_on(self, day: dt.date) -> list[P.Appointment]:
        """The visits of one service day, by start."""
        if not isinstance(day, dt.date):
            raise InvalidArgument("day must be a date")
        with self._read():
            now = self._now()
            rows = self._conn.execute(
                f"""SELECT {_COLUMNS} FROM appointments a LEFT JOIN tickets t ON t.id = a.ticket
                    WHERE a.service_day = ? ORDER BY a.start, a.reference""",
                (day.isoformat(),),
            ).fetchall()
            return [self._appointment(row, now) for row in rows]

    # -- booking ------------------------------------------------------------------------------

    def _start(self, start: object) -> dt.datetime:
        if not isinstance(start, dt.datetime) or start.tzinfo is None:
            raise InvalidArgument("start must be a date and time with a UTC offset")
        return start.astimezone(dt.UTC)

    def book(
        self, department_id: str, start: dt.datetime, reference: str | None = None, source: str = "api"
    ) -> P.Appointment:
        """A new booked visit (404 ``unknown_department``, 409 ``duplicate_reference``)."""
        dep = self.settings.department(department_id) if isinstance(department_id, str) else None
        if dep is None:
            raise NotFound(f"unknown department {department_id!r}", code="unknown_department")
        when = self._start(start)
        ref = None
        if reference is not None:
            ref = normalize_reference(reference)
            if ref is None or ref != reference:
                raise InvalidArgument(f"a reference is {REFERENCE_LEN} characters of {ALPHABET}")
        if not isinstance(source, str) or not source or len(source) > SOURCES_MAX:
            raise InvalidArgument(f"source must be a string of 1 to {SOURCES_MAX} characters")
        with self._tx() as tx:
            ref = self._insert_appointment(tx, dep.id, when, ref, source)
            row = self._appointment_row(ref)
            assert row is not None
            return self._appointment(row, tx.now)

    def _insert_appointment(
        self,
        tx: Tx,
        department: str,
        start: dt.datetime,
        reference: str | None,
        source: str,
        uid: str | None = None,
        sequence: int = 0,
        status: str = "booked",
    ) -> str:
        if reference is not None and self._appointment_row(reference) is not None:
            raise Conflict(f"the reference {reference} is already in use", code="duplicate_reference")
        while reference is None:
            candidate = new_reference()
            if self._appointment_row(candidate) is None:
                reference = candidate
        self._conn.execute(
            """INSERT INTO appointments (id, reference, department, start, service_day, status, source,
                   uid_hash, sequence, created_at, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                "ap_" + secrets.token_urlsafe(12),
                reference,
                department,
                db_time(start),
                service_day(start, self.tz).isoformat(),
                status,
                source,
                uid,
                sequence,
                db_time(tx.now),
                db_time(tx.now) if status == "cancelled" else None,
            ),
        )
        return reference

    def cancel_appointment(self, reference: str) -> P.Appointment:
        """Cancel a visit not checked in yet (cancelling twice changes nothing).

        404 ``unknown_appointment``; 409 ``already_checked_in`` (its ticket is in the queue:
        the counter finishes it like any ticket)."""
        ref = normalize_reference(reference)
        with self._tx() as tx:
            row = None if ref is None else self._appointment_row(ref)
            if row is None or ref is None:
                raise NotFound("no booked visit has this reference", code="unknown_appointment")
            if row[4] == "checked_in":
                raise Conflict(
                    "this visit is checked in: its ticket is in the queue", code="already_checked_in"
                )
            self._conn.execute(
                """UPDATE appointments SET status = 'cancelled', cancelled_at = COALESCE(cancelled_at, ?)
                   WHERE reference = ?""",
                (db_time(tx.now), ref),
            )
            after = self._appointment_row(ref)
            assert after is not None
            return self._appointment(after, tx.now)

    # -- check-in -----------------------------------------------------------------------------

    def check_in(self, reference: str, lang: str | None = None, source: str | None = None) -> Ticket:
        """The visitor is here: the visit's ticket, in its department (PROTOCOL.md v1.1).

        404 ``unknown_appointment``; 409 ``cancelled``, ``already_checked_in``, ``not_today``
        (another service day), ``too_late`` (past start + grace, or marked a no-show).
        """
        ref = normalize_reference(reference)
        if ref is None:
            raise NotFound("no booked visit has this reference", code="unknown_appointment")
        with self._tx() as tx:
            row = self._appointment_row(ref)
            if row is None:
                raise NotFound("no booked visit has this reference", code="unknown_appointment")
            lang = self._issue_args(lang, source)  # after the look-up: an unknown visit is a 404
            _, _, department, start, status, ticket_id, _, _, _ = row
            when = dt.datetime.fromisoformat(start)
            self._check_in_refusal(tx, status, ticket_id, when)
            dep = self.settings.department(department)
            if dep is None:  # the site file no longer has it
                raise NotFound(f"unknown department {department!r}", code="unknown_department")
            booked = P.AppointmentRef(reference=ref, start=P.iso(when.astimezone(self.tz)) or "")
            ticket = self._issue_in(tx, dep, lang, source, booked)
            self._conn.execute(
                "UPDATE appointments SET status = 'checked_in', ticket = ?, checked_in_at = ? WHERE reference = ?",
                (ticket.id, db_time(tx.now), ref),
            )
        return ticket

    def _check_in_refusal(self, tx: Tx, status: str, ticket_id: str | None, start: dt.datetime) -> None:
        if status == "cancelled":
            raise Conflict("this visit was cancelled", code="cancelled")
        if status == "checked_in" or ticket_id is not None:
            raise Conflict("this visit is already checked in", code="already_checked_in")
        if service_day(start, self.tz).isoformat() != tx.day:
            raise Conflict(f"this visit is on {service_day(start, self.tz)}, not today", code="not_today")
        if status == "no_show" or tx.now > start + self.grace:
            raise Conflict(
                f"the visit started at {start.astimezone(self.tz):%H:%M}: more than "
                f"{self.settings.appointments.grace_min} min ago",
                code="too_late",
            )

    # -- calling and time ---------------------------------------------------------------------

    def _due_appointment(self, tx: Tx, departments: Iterable[str]) -> str | None:
        """The held ticket of a visit whose start has come, oldest start first (the hook in ``next``)."""
        deps = tuple(departments)
        marks = ",".join("?" * len(deps))
        row = self._conn.execute(
            f"""SELECT id FROM tickets WHERE department IN ({marks}) AND status = 'waiting'
                AND {HELD_SQL} AND appt_start <= ? ORDER BY appt_start, order_seq LIMIT 1""",
            (*deps, db_time(tx.now)),
        ).fetchone()
        return None if row is None else str(row[0])

    def tick(self) -> list[Event]:
        """The hours' tick (site.py), then visits not checked in by start + grace → ``no_show``."""
        events = super().tick()
        with self._tx() as tx:
            self._conn.execute(
                "UPDATE appointments SET status = 'no_show' WHERE status = 'booked' AND start < ?",
                (db_time(tx.now - self.grace),),
            )
        return events

    # -- import ---------------------------------------------------------------------------------

    def import_bookings(self, bookings: Iterable[Booking], source: str = "ics") -> ImportResult:
        """Take in a calendar's events; running it again with the same file changes nothing.

        Per UID (hashed): unknown → a new visit (cancelled ones are recorded as cancelled, so an
        older copy of the event cannot bring them back); a lower SEQUENCE than stored → ignored;
        otherwise start, department and cancellation follow the event, except for a visit already
        checked in (its ticket is in the queue), which is kept and reported.
        """
        result = ImportResult()
        with self._tx() as tx:
            for booking in bookings:
                self._import_one(tx, booking, source, result)
        return result

    def _import_one(self, tx: Tx, b: Booking, source: str, result: ImportResult) -> None:
        start = self._start(b.start)
        row = self._conn.execute(
            "SELECT reference, department, start, status, sequence FROM appointments WHERE uid_hash = ?",
            (b.uid_hash,),
        ).fetchone()
        if row is None:
            status = "cancelled" if b.cancelled else "booked"
            reference = b.reference if b.reference and self._appointment_row(b.reference) is None else None
            ref = self._insert_appointment(
                tx, b.department, start, reference, source, b.uid_hash, b.sequence, status
            )
            (result.cancelled if b.cancelled else result.created).append(ref)
            return
        reference, department, stored_start, status, sequence = row
        if b.sequence < sequence:
            result.stale += 1
            return
        wanted = "cancelled" if b.cancelled else "booked"
        same_status = status == wanted or (wanted == "booked" and status == "no_show")
        if same_status and department == b.department and stored_start == db_time(start):
            result.unchanged += 1
            return
        if status == "checked_in":
            result.kept.append(reference)
            return
        self._conn.execute(
            """UPDATE appointments SET department = ?, start = ?, service_day = ?, status = ?, sequence = ?,
                   cancelled_at = CASE WHEN ? = 'cancelled' THEN COALESCE(cancelled_at, ?) END
               WHERE uid_hash = ?""",
            (
                b.department,
                db_time(start),
                service_day(start, self.tz).isoformat(),
                wanted,
                b.sequence,
                wanted,
                db_time(tx.now),
                b.uid_hash,
            ),
        )
        (result.cancelled if b.cancelled else result.moved).append(reference)


__all__ = [
    "ALPHABET",
    "HELD_SQL",
    "REFERENCE_LEN",
    "AppointmentOps",
    "Booking",
    "ImportResult",
    "new_reference",
    "normalize_reference",
    "uid_hash",
    "wire_status",
]
