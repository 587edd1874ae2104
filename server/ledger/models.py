"""Plain values the ledger hands out: tickets, events and counter states.

They are frozen snapshots of rows, made inside the ledger's transaction and safe to pass to any
thread. Times are aware datetimes already converted to the site's time zone, so ``to_json()``
needs no settings and writes ISO 8601 with the site's UTC offset, as PROTOCOL.md shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
DONE = "done"
NO_SHOW = "no_show"
VOID = "void"
STATUSES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, VOID)
LIVE = (WAITING, CALLED, SERVING)  # a live ticket's number may not be reused

# SQL fragment matching LIVE; the partial unique index in schema.py uses the same text so that
# SQLite can use that index for the "is this number live?" lookup.
LIVE_SQL = "status IN ('waiting', 'called', 'serving')"


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 to the second with the value's own offset (the site's, for ledger values)."""
    return None if value is None else value.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Ticket:
    """One visitor's ticket. ``number`` is what people see; ``id`` is unguessable and permanent.

    ``ahead`` and ``estimated_wait_s`` are computed when the value is made: 0 for a ticket being
    called or served, ``None`` once the ticket is finished.
    """

    id: str
    number: str
    department: str
    status: str
    issued_at: dt.datetime
    order_at: dt.datetime
    lang: str
    service_day: dt.date
    seq: int = 0
    counter: str | None = None
    called_at: dt.datetime | None = None
    serving_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    transferred_from: str | None = None
    transfers: int = 0
    ahead: int | None = None
    estimated_wait_s: int | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def to_json(self) -> dict[str, Any]:
        """PROTOCOL.md's ticket, plus ``lang`` (the language the visitor chose)."""
        return {
            "id": self.id,
            "number": self.number,
            "department": self.department,
            "status": self.status,
            "issued_at": iso(self.issued_at),
            "ahead": self.ahead,
            "estimated_wait_s": self.estimated_wait_s,
            "counter": self.counter,
            "called_at": iso(self.called_at),
            "lang": self.lang,
        }

    def brief(self) -> dict[str, Any]:
        """The short form carried by call events and counters: enough to show and announce."""
        return {"id": self.id, "number": self.number, "department": self.department}


@dataclass(frozen=True)
class Event:
    """One change, numbered by the site-wide ``seq`` (+1 per event, no gaps)."""

    seq: int
    type: str
    at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"type", "seq", "at", ...data}``: the payload keys sit beside the envelope keys."""
        out: dict[str, Any] = {"type": self.type, "seq": self.seq, "at": iso(self.at)}
        out.update(self.data)
        return out


@dataclass(frozen=True)
class CounterState:
    """A desk: whether it takes calls and which ticket it is serving (if any)."""

    id: str
    name: str
    departments: tuple[str, ...]
    state: str  # open | paused
    ticket: Ticket | None = None

    def to_json(self) -> dict[str, Any]:
        ticket = None
        if self.ticket is not None:
            ticket = {**self.ticket.brief(), "status": self.ticket.status}
        return {
            "id": self.id,
            "name": self.name,
            "departments": list(self.departments),
            "state": self.state,
            "ticket": ticket,
        }
