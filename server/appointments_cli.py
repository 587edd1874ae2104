"""``main.py appointments``: booked visits from an iCalendar file, and the day's list.

    python main.py appointments import FILE.ics [--config PATH] [--db PATH]
    python main.py appointments list [--date YYYY-MM-DD] [--config PATH] [--db PATH]

The calendar is read with the ``icalendar`` library (RFC 5545). Of each VEVENT only DTSTART,
UID, SEQUENCE, STATUS and the key the site file maps to a department (CATEGORIES, LOCATION or a
UID prefix: ``[appointments] ics_match``) are read; SUMMARY, DESCRIPTION, ATTENDEE, ORGANIZER
and everything else are never looked at, so a visitor's name in a calendar cannot reach the
ledger. The UID is kept only as a hash (to recognise the event when the file comes again).

Time zones: a DTSTART with a TZID (an IANA name, or a Windows name that icalendar maps) or in
UTC is taken as that instant; a floating time (no zone) is the site's wall-clock time; a time
that does not exist on a spring-forward night is the instant an hour later and an ambiguous one
on a fall-back night its first occurrence (PEP 495 ``fold=0``), as the opening hours do. An
all-day event, a recurring one (RRULE) or an override of one instance (RECURRENCE-ID) is
skipped: a booked visit is one time on one day.

Cancelled and moved visits behave as a booking system sends them: ``STATUS:CANCELLED`` (or a
calendar with ``METHOD:CANCEL``) cancels; the same UID with a new DTSTART moves; a lower
SEQUENCE than the one stored is an old copy and changes nothing. Importing the same file again
changes nothing. The answer is one JSON line (docs/APPOINTMENTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nummerlapp.common.cli import add_site_options, db_path_from_args
from nummerlapp.common.errors import ConfigError
from nummerlapp.config import settings_from_args
from nummerlapp.config.model import Settings


@dataclass
class ParsedCalendar:
    """The bookings of one file and why the rest were skipped (counts per reason, no contents)."""

    bookings: list[Any] = field(default_factory=list)  # server.ledger.appointments.Booking
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def _start(value: object, tz: ZoneInfo) -> dt.datetime | None:
    """DTSTART as an aware instant; None for a date (an all-day event)."""
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:  # floating: the site's wall clock; fold=0 (PEP 495) gives the
        return value.replace(tzinfo=tz, fold=0)  # first 02:30 of a fall-back night, 03:30 for a gap
    return value


def _texts(value: object) -> tuple[str, ...]:
    """CATEGORIES as plain strings (one property or several, each a list)."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    out: list[str] = []
    for item in items:
        cats = getattr(item, "cats", None)
        out.extend(str(c) for c in (cats if cats is not None else [item]))
    return tuple(out)


def parse_calendar(raw: bytes, settings: Settings) -> ParsedCalendar:
    """Every VEVENT reduced to a :class:`Booking` (or a reason it was skipped)."""
    from icalendar import Calendar  # noqa: PLC0415  # start-up: the parser only for this command

    from nummerlapp.server.ledger.appointments import (  # noqa: PLC0415  # start-up: only for this command
        Booking,
        normalize_reference,
        uid_hash,
    )

    try:
        calendar = Calendar.from_ical(raw)
    except ValueError as exc:
        raise ConfigError("calendar", "", f"not an iCalendar file: {exc}") from None
    method_cancel = str(calendar.get("METHOD", "")).upper() == "CANCEL"
    tz = settings.site.tz
    parsed = ParsedCalendar()
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        prop = event.get("DTSTART")
        start = _start(getattr(prop, "dt", None), tz)
        if not uid:
            parsed.skip("no UID")
        elif start is None:
            parsed.skip("no start time (all-day or missing DTSTART)")
        elif event.get("RRULE") is not None or event.get("RECURRENCE-ID") is not None:
            parsed.skip("recurring event")
        else:
            dep = settings.appointments.department_for(
                _texts(event.get("CATEGORIES")), str(event.get("LOCATION", "")), uid
            )
            if dep is None:
                parsed.skip(f"no department for its {settings.appointments.ics_match}")
                continue
            parsed.bookings.append(
                Booking(
                    uid_hash=uid_hash(uid),
                    sequence=int(event.get("SEQUENCE", 0)),
                    start=start,
                    department=dep,
                    cancelled=method_cancel or str(event.get("STATUS", "")).upper() == "CANCELLED",
                    reference=normalize_reference(str(event.get("X-NUMMERLAPP-REFERENCE", ""))),
                )
            )
    return parsed


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "appointments", help="booked visits: import an iCalendar file, list a day's visits"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="import (or re-import) booked visits from an .ics file")
    imp.add_argument("file", type=Path, metavar="FILE.ics")
    add_site_options(imp)
    imp.set_defaults(func=run_import)
    lst = actions.add_parser("list", help="the booked visits of one service day (JSON lines)")
    lst.add_argument("--date", metavar="YYYY-MM-DD", help="service day (default: today)")
    add_site_options(lst)
    lst.set_defaults(func=run_list)


def run_import(args: argparse.Namespace) -> int:
    from nummerlapp.server.ledger import Ledger  # noqa: PLC0415  # start-up: the ledger only when run

    settings = settings_from_args(args)
    try:
        raw = Path(args.file).read_bytes()
    except OSError as exc:
        raise ConfigError(str(args.file), "", f"cannot read the calendar: {exc.strerror or exc}") from None
    parsed = parse_calendar(raw, settings)
    ledger = Ledger(db_path_from_args(args), settings)
    try:
        result = ledger.import_bookings(parsed.bookings, source="ics")
    finally:
        ledger.close()
    print(json.dumps({**result.summary(), "skipped": parsed.skipped}, ensure_ascii=False))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from nummerlapp.server.ledger import Ledger  # noqa: PLC0415  # start-up: the ledger only when run

    settings = settings_from_args(args)
    try:
        day = dt.date.fromisoformat(args.date) if args.date else dt.datetime.now(settings.site.tz).date()
    except ValueError:
        raise ConfigError("--date", "", f"{args.date!r} is not a date like 2026-12-03") from None
    ledger = Ledger(db_path_from_args(args), settings)
    try:
        for appointment in ledger.appointments_on(day):
            sys.stdout.write(appointment.encode_json() + "\n")
    finally:
        ledger.close()
    return 0
