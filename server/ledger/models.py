"""Plain values the ledger hands out: tickets, events and counter states.

They are frozen snapshots of rows, made inside the ledger's transaction and safe to pass to any
thread. Times are aware datetimes already converted to the site's time zone. A row value holds
what the ledger needs beyond the wire (ordering, service day, transfers); its wire form is built
by the protocol module (``wire()``; ``to_json()`` is that, encoded). Events are the protocol's
own event classes (``Event`` is :data:`nummerlapp.common.protocol.Change`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nummerlapp.common import protocol as P
from nummerlapp.common.protocol import Change as Event
from nummerlapp.common.protocol import iso

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
PARKED = "parked"
DONE = "done"
NO_SHOW = "no_show"
VOID = "void"
STATUSES = (WAITING, CALLED, SERVING, PARKED, DONE, NO_SHOW, VOID)
LIVE = (WAITING, CALLED, SERVING, PARKED)  # a live ticket's number may not be reused

# SQL fragment matching LIVE; the partial unique index in schema.py uses the same text so that
# SQLite can use that index for the "is this number live?" lookup.
LIVE_SQL = "status IN ('waiting', 'called', 'serving', 'parked')"


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
    counter: P.CounterRef | None = None
    called_at: dt.datetime | None = None
    serving_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    transferred_from: str | None = None
    transfers: int = 0
    ahead: int | None = None
    estimated_wait_s: int | None = None
    # The follow secret (PROTOCOL.md v1.1), only on the value ``issue`` returns: the ledger keeps
    # its hash, so no later read can give it back.
    follow: str | None = field(default=None, repr=False)
    # The booked visit this ticket was checked in for (None: a walk-in); on the wire as
    # ``appointment: {reference, start}`` (PROTOCOL.md v1.1, server/ledger/appointments.py).
    appointment: P.AppointmentRef | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def _wire_fields(self) -> dict[str, Any]:
        issued_at = iso(self.issued_at)
        assert issued_at is not None
        fields: dict[str, Any] = {
            "id": self.id,
            "number": self.number,
            "department": self.department,
            "status": self.status,
            "issued_at": issued_at,
            "counter": self.counter,
            "called_at": iso(self.called_at),
            "lang": self.lang,
        }
        if self.appointment is not None:  # absent on a walk-in's ticket
            fields["appointment"] = self.appointment
        return fields

    def wire(self) -> P.Ticket:
        """PROTOCOL.md's ticket (with ``lang``, the language the visitor chose)."""
        return P.Ticket(**self._wire_fields(), ahead=self.ahead, estimated_wait_s=self.estimated_wait_s)

    def issued(self) -> P.IssuedTicket:
        """The ticket as the answer to issuing it (the only answer that may carry ``follow``)."""
        extra: dict[str, Any] = {} if self.follow is None else {"follow": self.follow}
        return P.IssuedTicket(
            **self._wire_fields(), ahead=self.ahead, estimated_wait_s=self.estimated_wait_s, **extra
        )

    def follow_view(self) -> P.FollowTicket:
        """The ticket as a visitor's phone sees it (no id, no times): the follow view."""
        return P.FollowTicket(
            number=self.number,
            department=self.department,
            status=self.status,  # type: ignore[arg-type]
            ahead=self.ahead,
            estimated_wait_s=self.estimated_wait_s,
            counter=self.counter,
        )

    def wire_base(self) -> P.TicketBase:
        """The ticket without the fresh ``ahead`` / ``estimated_wait_s`` (a counter's in the snapshot)."""
        return P.TicketBase(**self._wire_fields())

    def to_json(self) -> dict[str, Any]:
        return self.wire().encode()


@dataclass(frozen=True)
class CounterState:
    """A desk: whether it takes calls and which ticket it is serving (if any)."""

    id: str
    name: str
    departments: tuple[str, ...]
    state: P.CounterStateWord
    ticket: Ticket | None = None
    names: tuple[tuple[str, str], ...] = ()  # (lang, name) from the site file's name table, if any

    def wire(self) -> P.Counter:
        counter = P.Counter(
            id=self.id,
            name=self.name,
            departments=list(self.departments),
            state=self.state,
            ticket=None if self.ticket is None else self.ticket.wire_base(),
        )
        # ``names`` goes on the wire only when the site file names the counter per language
        return counter.model_copy(update={"names": dict(self.names)}) if self.names else counter

    @property
    def ref(self) -> P.CounterRef:
        return P.CounterRef(id=self.id, name=self.name)

    def to_json(self) -> dict[str, Any]:
        return self.wire().encode()


__all__ = ["LIVE", "LIVE_SQL", "STATUSES", "CounterState", "Event", "Ticket", "iso"]
