"""The ledger's reads: tickets with their place in the queue, the board snapshot, event catch-up.

Shared by :class:`server.ledger.Ledger` (inside its write transactions, on its own connection)
and :class:`server.ledger.LedgerReader` (a separate read-only connection, for another thread or
process). Public reads open a plain ``BEGIN`` so everything they return comes from one consistent
view of the file (WAL readers never block the writer).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import LedgerError, NotFound
from nummerlapp.config.hours import SiteHours, day_start, service_day
from nummerlapp.config.model import Department, Settings
from nummerlapp.server.ledger import messages as board_messages
from nummerlapp.server.ledger import schema
from nummerlapp.server.ledger.estimate import estimate_wait_s, mean_service_s
from nummerlapp.server.ledger.models import CounterState, Event, Ticket, iso
from nummerlapp.server.ledger.upgrade import upgrade_v10

CALLS_SHOWN = 12  # snapshot "calls": at least 10 by the protocol

TICKET_COLUMNS = (
    "id, number, department, status, issued_at, order_at, lang, service_day, seq, counter, "
    "called_at, serving_at, done_at, transferred_from, transfers, order_seq, "
    "appointment, appt_start, first_called_at"
)


_FOLLOW_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_follow() -> str:
    """A ticket's follow secret (PROTOCOL.md v1.1): 128 random bits, 22 url-safe characters."""
    return secrets.token_urlsafe(16)


def looks_like_follow(value: object) -> bool:
    return isinstance(value, str) and bool(_FOLLOW_RE.match(value))


def follow_hash(follow: str) -> str:
    """What the ledger stores of a follow secret (hex SHA-256: see schema.py's migration 3)."""
    return hashlib.sha256(follow.encode("ascii")).hexdigest()


class InvalidArgument(LedgerError):
    """An argument of the wrong type or shape (the API answers 422). Also ``server.ledger.InvalidArgument``."""

    status = 422
    code = "invalid_argument"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def db_time(value: dt.datetime) -> str:
    """The stored form of an instant: UTC, fixed width, so text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Reads:
    """Read operations over one connection; subclasses decide how the connection is opened."""

    def __init__(
        self, conn: sqlite3.Connection, settings: Settings, clock: Callable[[], dt.datetime]
    ) -> None:
        self._conn = conn
        self._clock = clock
        # Values derived from rarely changing rows (override, open counters, mean service time),
        # kept until this connection writes something other than an issue or another connection
        # commits (``PRAGMA data_version`` changes): the issue path then reads none of them.
        self._cache: dict[tuple[str, str], Any] = {}
        self._data_version: int | None = None
        self._derive(settings)

    def _derive(self, settings: Settings) -> None:
        """Take ``settings`` and what is derived from them (also a reload's: ``use_settings``)."""
        self.settings = settings
        self.tz = settings.site.tz
        self._hours = SiteHours(settings)
        self._serving: dict[str, tuple[str, ...]] = {
            d.id: tuple(c.id for c in settings.counters if d.id in c.departments)
            for d in settings.departments
        }
        self._cache.clear()

    def use_settings(self, settings: Settings) -> None:
        """A reloaded site file (server/api/config_api.py): the reads follow it from now on."""
        self._derive(settings)

    def _now(self) -> dt.datetime:
        return self._clock().astimezone(dt.UTC)

    def _local(self, stored: str | None) -> dt.datetime | None:
        return None if stored is None else dt.datetime.fromisoformat(stored).astimezone(self.tz)

    def _check_cache(self) -> None:
        """Drop cached values if another connection has committed since they were read."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._cache.clear()
            self._data_version = version

    @contextmanager
    def _read(self) -> Iterator[None]:
        """A consistent read view, unless already inside the writer's transaction."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            self._check_cache()
            yield
        finally:
            self._conn.execute("COMMIT")

    # ----------------------------------------------------------------- building blocks

    def _override(self, day: str) -> bool | None:
        """Today's manual open/close, if one was set for this service day."""
        key = ("override", day)
        if key not in self._cache:
            self._cache[key] = self._read_override(day)
        return self._cache[key]  # type: ignore[no-any-return]

    def _read_override(self, day: str) -> bool | None:
        row = self._conn.execute("SELECT value FROM site_state WHERE key = 'override'").fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        return bool(value["open"]) if value.get("day") == day else None

    def _department_override(self, day: str, department_id: str) -> bool | None:
        """A manager's open/close of one department for the rest of service day ``day``."""
        key = ("department_override", day)
        if key not in self._cache:
            row = self._conn.execute(
                "SELECT value FROM site_state WHERE key = 'department_override'"
            ).fetchone()
            value = json.loads(row[0]) if row is not None else {}
            self._cache[key] = value.get("departments", {}) if value.get("day") == day else {}
        found = self._cache[key].get(department_id)
        return None if found is None else bool(found)

    def _open_counters(self, department_id: str) -> int:
        key = ("open_counters", department_id)
        if key not in self._cache:
            serving = self._serving.get(department_id, ())
            marks = ",".join("?" * len(serving))
            row = self._conn.execute(
                f"SELECT COUNT(*) FROM counters WHERE state = 'open' AND id IN ({marks})", serving
            ).fetchone()
            self._cache[key] = int(row[0])
        return self._cache[key]  # type: ignore[no-any-return]

    def _queue(self, department_id: str) -> tuple[int, str | None]:
        """(tickets waiting, stored order_at of the oldest) in the department.

        Cached like the rest; ``issue`` updates it in place (a new ticket is always the newest).
        """
        key = ("queue", department_id)
        if key not in self._cache:
            count, oldest = self._conn.execute(
                "SELECT COUNT(*), MIN(order_at) FROM tickets WHERE department = ? AND status = 'waiting'",
                (department_id,),
            ).fetchone()
            self._cache[key] = (int(count), oldest)
        return self._cache[key]  # type: ignore[no-any-return]

    def _estimate(self, department_id: str, ahead: int, day: str) -> int:
        key = ("mean:" + day, department_id)
        if key not in self._cache:
            self._cache[key] = mean_service_s(self._conn, department_id, day)
        mean = self._cache[key]
        return estimate_wait_s(ahead, mean, self._open_counters(department_id))

    def _ticket_from_row(self, row: tuple[Any, ...], now: dt.datetime) -> Ticket:
        (
            tid,
            number,
            dep,
            status,
            issued,
            order,
            lang,
            day,
            seq,
            counter,
            called,
            serving,
            done,
            tfrom,
            transfers,
            order_seq,
            reference,
            appt_start,
            first_called,
        ) = row
        ahead: int | None = None
        wait: int | None = None
        start = self._local(appt_start)
        if status == "waiting" and start is not None and first_called is None:
            # a booked visit waits for its time, not behind the walk-ins (appointments.py)
            ahead, wait = 0, max(0, int((start - now).total_seconds()))
        elif status == "waiting":
            ahead = int(
                self._conn.execute(
                    """SELECT COUNT(*) FROM tickets WHERE department = ? AND status = 'waiting'
                       AND (order_at < ? OR (order_at = ? AND order_seq < ?))""",
                    (dep, order, order, order_seq),
                ).fetchone()[0]
            )
            wait = self._estimate(dep, ahead, service_day(now, self.tz).isoformat())
        elif status in ("called", "serving"):
            ahead, wait = 0, 0
        issued_at = self._local(issued)
        order_at = self._local(order)
        assert issued_at is not None and order_at is not None
        return Ticket(
            id=tid,
            number=number,
            department=dep,
            status=status,
            issued_at=issued_at,
            order_at=order_at,
            lang=lang,
            service_day=dt.date.fromisoformat(day),
            seq=seq,
            counter=None if counter is None else self._counter_ref(counter),
            called_at=self._local(called),
            serving_at=self._local(serving),
            done_at=self._local(done),
            transferred_from=tfrom,
            transfers=transfers,
            ahead=ahead,
            estimated_wait_s=wait,
            appointment=None
            if start is None
            else P.AppointmentRef(reference=reference, start=iso(start) or ""),
        )

    def _load(self, ticket_id: str, now: dt.datetime) -> Ticket:
        row = self._conn.execute(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        ).fetchone()
        if row is None:
            raise NotFound("no such ticket", code="unknown_ticket")
        return self._ticket_from_row(row, now)

    def _counter_state(self, counter_id: str) -> CounterState | None:
        counter = self.settings.counter(counter_id)
        row = self._conn.execute("SELECT state, ticket FROM counters WHERE id = ?", (counter_id,)).fetchone()
        if counter is None or row is None:
            return None
        ticket = None
        if row[1] is not None:
            ticket = self._load(row[1], self._now())
            if ticket.status not in ("called", "serving"):
                ticket = None
        return CounterState(
            counter.id, counter.name, counter.departments, row[0], ticket, tuple(counter.names.items())
        )

    def _counter_ref(self, counter_id: str) -> P.CounterRef:
        counter = self.settings.counter(counter_id)
        return P.CounterRef(id=counter_id, name=counter.name if counter is not None else counter_id)

    def _department_ref(self, department_id: str) -> P.DepartmentRef:
        dep = self.settings.department(department_id)
        return P.DepartmentRef(id=department_id, name=dict(dep.name) if dep is not None else {})

    def _device_row(self, device_id: str) -> P.Device | None:
        row = self._conn.execute(
            "SELECT id, role, name, status, last_seen FROM devices WHERE id = ?", (device_id,)
        ).fetchone()
        return None if row is None else self._device(row)

    def _device(self, row: tuple[Any, ...]) -> P.Device:
        status = P.DeviceReport.model_validate_json(row[3]) if row[3] else P.DeviceReport()
        return P.Device(
            id=row[0],
            role=row[1],
            name=row[2],
            status=status,
            version=status.version,
            printer=status.printer,
            last_seen=iso(self._local(row[4])),
        )

    def _board_messages(self, day: dt.date) -> list[P.LocalizedText]:
        """The "you said, we did" lines in force on ``day`` (server/ledger/messages.py), cached."""
        key = ("messages", day.isoformat())
        if key not in self._cache:
            self._cache[key] = board_messages.in_force(board_messages.stored(self._conn), day)
        return self._cache[key]  # type: ignore[no-any-return]

    def _site(self, now: dt.datetime) -> P.Site:
        site = self.settings.site
        override = self._override(service_day(now, self.tz).isoformat())
        is_open = self._hours.site_open(now, override)
        shown = self._board_messages(service_day(now, self.tz))
        extra: dict[str, Any] = {"messages": shown} if shown else {}
        if is_open:
            return P.Site(id=site.id, name=site.name, open=True, override=override, **extra)
        after = (
            day_start(service_day(now, self.tz) + dt.timedelta(days=1), self.tz) if override is False else now
        )
        nxt = self._hours.next_site_opening(after)
        next_open = iso(nxt.astimezone(self.tz)) if nxt else None
        return P.Site(id=site.id, name=site.name, open=False, override=override, next_open=next_open, **extra)

    def _department_wire(self, dep: Department, now: dt.datetime) -> P.Department:
        state = self._department_state(dep.id, now)
        return P.Department(prefix=dep.prefix, name=dict(dep.name), **dict(state))

    def _department_state(self, department_id: str, now: dt.datetime) -> P.DepartmentState:
        """The parts of a department's snapshot entry that change (events carry only these)."""
        day = service_day(now, self.tz).isoformat()
        waiting, oldest = self._queue(department_id)
        oldest_iso = iso(self._local(oldest))
        return P.DepartmentState(
            id=department_id,
            open=self._hours.department_open(
                department_id, now, self._override(day), self._department_override(day, department_id)
            ),
            waiting=waiting,
            estimated_wait_s=self._estimate(department_id, waiting, day),
            oldest_issued_at=oldest_iso,
            oldest_waiting_at=oldest_iso,
        )

    def _department_states(
        self, department_ids: tuple[str, ...], now: dt.datetime
    ) -> list[P.DepartmentState]:
        return [self._department_state(d, now) for d in dict.fromkeys(department_ids)]

    def _stored_event(self, seq: int, kind: str, at: str, data: str | None) -> Event | None:
        """A row of the events table as the protocol's event (None: a type this code does not know).

        Events stored before protocol v1.1 (a counter as a bare id, a brief ticket in call
        events) are upgraded on the way out, so every event served has today's shape.
        """
        stored: dict[str, Any] = json.loads(data) if data else {}
        when = iso(self._local(at))
        assert when is not None
        try:
            return P.decode_change(kind, seq, when, stored)
        except P.ProtocolError:
            return P.decode_change(kind, seq, when, upgrade_v10(self, kind, when, stored))

    def _queue_changed(self, department_id: str, delta: int, order_at: str | None) -> None:
        """Keep the cached (waiting, oldest) of a department exact after one ticket joined (+1,
        with its stored ``order_at``) or left (-1) its queue; the oldest is re-read through the
        queue index (cheap), the count is not recounted."""
        key = ("queue", department_id)
        cached = self._cache.get(key)
        if cached is None:
            return
        if delta > 0:
            assert order_at is not None
            oldest = order_at if cached[1] is None else min(cached[1], order_at)
        else:
            oldest = self._conn.execute(
                "SELECT MIN(order_at) FROM tickets WHERE department = ? AND status = 'waiting'",
                (department_id,),
            ).fetchone()[0]
        self._cache[key] = (cached[0] + delta, oldest)

    # ----------------------------------------------------------------- public reads

    def ticket(self, ticket_id: str) -> Ticket:
        """A ticket by id with fresh ``ahead`` and ``estimated_wait_s`` (NotFound: unknown_ticket)."""
        if not isinstance(ticket_id, str) or not ticket_id.startswith("t_") or len(ticket_id) > 64:
            raise NotFound("no such ticket", code="unknown_ticket")
        with self._read():
            return self._load(ticket_id, self._now())

    def by_follow(self, follow: str) -> Ticket:
        """The ticket whose follow secret this is, fresh (NotFound ``unknown_ticket`` otherwise)."""
        if not looks_like_follow(follow):
            raise NotFound("no such ticket", code="unknown_ticket")
        with self._read():
            row = self._conn.execute(
                f"SELECT {TICKET_COLUMNS} FROM tickets WHERE follow_hash = ?", (follow_hash(follow),)
            ).fetchone()
            if row is None:
                raise NotFound("no such ticket", code="unknown_ticket")
            return self._ticket_from_row(row, self._now())

    def queue_positions(self, department_id: str) -> dict[str, tuple[int, int]]:
        """Every waiting ticket of a department: id → (ahead, estimated_wait_s), in one query.

        The same order as a ticket's own ``ahead`` (``order_at``, then ``order_seq``); what the
        follow fan-out needs after a change in the department (server/api/follow.py).
        """
        day = service_day(self._now(), self.tz).isoformat()
        rows = self._conn.execute(
            """SELECT id FROM tickets WHERE department = ? AND status = 'waiting'
               ORDER BY order_at, order_seq""",
            (department_id,),
        ).fetchall()
        return {row[0]: (ahead, self._estimate(department_id, ahead, day)) for ahead, row in enumerate(rows)}

    def tickets(self, ticket_ids: list[str]) -> list[Ticket]:
        """Fresh tickets by id (unknown ids left out), from the current read view."""
        now = self._now()
        found = []
        for ticket_id in ticket_ids:
            row = self._conn.execute(
                f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone()
            if row is not None:
                found.append(self._ticket_from_row(row, now))
        return found

    def read_view(self) -> AbstractContextManager[None]:
        """One consistent read view for several reads (``queue_positions``, ``tickets``)."""
        return self._read()

    def last_seq(self) -> int:
        row = self._conn.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def snapshot(self) -> dict[str, Any]:
        """PROTOCOL.md's board snapshot (with ``seq``), from one consistent view, encoded."""
        return self.state().encode()

    def state(self) -> P.Snapshot:
        """PROTOCOL.md's board snapshot (with ``seq``), from one consistent view."""
        now = self._now()
        with self._read():
            seq = self.last_seq()
            counters = [self._counter_state(c.id) for c in self.settings.counters]
            since = db_time(day_start(service_day(now, self.tz), self.tz))
            calls: list[P.Call] = []
            for row in self._conn.execute(
                """SELECT seq, type, at, data FROM events WHERE type IN ('ticket.called', 'ticket.recalled')
                   ORDER BY seq DESC"""
            ).fetchall():
                if row[2] < since or len(calls) >= CALLS_SHOWN:
                    break  # seq order is time order: the rest are older (yesterday's calls are not shown)
                event = self._stored_event(*row)
                assert isinstance(event, P.TicketCalled | P.TicketRecalled)
                call = P.Call(
                    number=event.ticket.number,
                    department=event.ticket.department,
                    counter=event.counter,
                    at=event.at,
                )
                calls.append(
                    call.model_copy(update={"recall": True}) if event.type == "ticket.recalled" else call
                )
            return P.Snapshot(
                seq=seq,
                site=self._site(now),
                departments=[self._department_wire(d, now) for d in self.settings.departments],
                counters=[c.wire() for c in counters if c is not None],
                calls=calls,
            )

    def events_after(self, seq: int, limit: int | None = None) -> list[Event]:
        """Events with ``seq`` greater than the given one, oldest first (for catch-up)."""
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or (limit is not None and not isinstance(limit, int))
        ):
            raise InvalidArgument("seq must be an integer")
        rows = self._conn.execute(
            "SELECT seq, type, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, -1 if limit is None else limit),
        ).fetchall()
        events = (self._stored_event(*row) for row in rows)
        return [e for e in events if e is not None]

    def devices(self) -> list[P.Device]:
        """Every device that ever reported, with its last status (newest report first)."""
        with self._read():
            rows = self._conn.execute(
                "SELECT id, role, name, status, last_seen FROM devices ORDER BY last_seen DESC"
            ).fetchall()
        return [self._device(r) for r in rows]

    def counter(self, counter_id: str) -> CounterState:
        state = self._counter_state(counter_id) if isinstance(counter_id, str) else None
        if state is None:
            raise NotFound(f"unknown counter {counter_id!r}", code="unknown_counter")
        return state


class LedgerReader(Reads):
    """Read-only access to a ledger file from another thread or process (own connection).

    It never writes, so it does not roll the service day over: a snapshot taken before the
    writer's first operation of a new day still lists yesterday's leftovers (``Ledger.tick()``
    run each minute by the server keeps that window short).
    """

    def __init__(
        self, path: str | Path, settings: Settings, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.path = Path(path)
        super().__init__(schema.connect_reader(self.path), settings, clock or _utc_now)

    def close(self) -> None:
        self._conn.close()
