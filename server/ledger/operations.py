"""The ticket ledger: the one place that knows which tickets exist and where they are.

This module owns the ticket operations: issuing and numbering (``issue``), the counter actions
(``next``, ``recall``, ``start_serving``, ``done``, ``no_show``, ``transfer``, ``pause``,
``open_counter``), voiding at a new service day and on a technician's reset, and the reads that
roll the day over first. The rest of :class:`Ledger` is inherited from:

- :mod:`server.ledger.tx`: the transaction machinery (one ``BEGIN IMMEDIATE`` per operation,
  group commit with ``batch()`` / ``savepoint()``, events and listeners, the roll-over
  transaction) and the threading rule: a ``Ledger`` belongs to ONE thread;
- :mod:`server.ledger.site`: site override, opening-hour ticks, device reports;
- :mod:`server.ledger.reads`: the reads, shared with ``LedgerReader`` (read-only, any thread or
  process).

Import everything from here (``from server.ledger import Ledger, BatchAborted, InvalidArgument``);
the split is an implementation detail. docs/LEDGER.md describes states, numbering, ordering, the
estimate and durability.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from functools import partial
from pathlib import Path

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.config.model import Counter, Department, Settings
from nummerlapp.server.ledger.appointments import HELD_SQL, AppointmentOps
from nummerlapp.server.ledger.feedback import FeedbackOps
from nummerlapp.server.ledger.floor import FloorOps
from nummerlapp.server.ledger.models import LIVE_SQL, CounterState, Event, Ticket
from nummerlapp.server.ledger.reads import InvalidArgument, LedgerReader, db_time, follow_hash, new_follow
from nummerlapp.server.ledger.site import DEVICE_ROLES as DEVICE_ROLES
from nummerlapp.server.ledger.site import MAX_ID_LEN as MAX_ID_LEN
from nummerlapp.server.ledger.site import MAX_STATUS_BYTES as MAX_STATUS_BYTES
from nummerlapp.server.ledger.site import SiteOps
from nummerlapp.server.ledger.tx import BatchAborted, Tx
from nummerlapp.server.ledger.tx import Clock as Clock
from nummerlapp.server.ledger.tx import Listener as Listener


class Ledger(AppointmentOps, FeedbackOps, FloorOps, SiteOps):
    """The site's ticket ledger on one SQLite file (one thread per object: see server/ledger/tx.py)."""

    # Every operation runs through ``_tx``, which inside :meth:`batch` is a savepoint of the
    # batch's transaction: any operation may share a group commit (server/api/runner.py).

    def __init__(self, path: str | Path, settings: Settings, clock: Clock | None = None) -> None:
        super().__init__(path, settings, clock)
        with self._tx() as tx:  # counters named in the settings exist as rows
            self._conn.executemany(
                "INSERT OR IGNORE INTO counters (id, state) VALUES (?, 'open')",
                [(c.id,) for c in settings.counters],
            )
            self._open_flags = self._current_open_flags(tx)

    # ----------------------------------------------------------------- lookups

    def _department(self, department_id: object) -> Department:
        dep = self.settings.department(department_id) if isinstance(department_id, str) else None
        if dep is None:
            raise NotFound(f"unknown department {department_id!r}", code="unknown_department")
        return dep

    def _counter(self, counter_id: object) -> Counter:
        counter = self.settings.counter(counter_id) if isinstance(counter_id, str) else None
        if counter is None:
            raise NotFound(f"unknown counter {counter_id!r}", code="unknown_counter")
        return counter

    # ----------------------------------------------------------------- service days

    def _roll_over_rows(self, tx: Tx, day: str) -> None:
        conn = self._conn
        row = conn.execute("SELECT value FROM site_state WHERE key = 'service_day'").fetchone()
        if row is None or row[0] < day:
            self._void(tx, f"service_day < '{day}'")
            conn.execute("INSERT OR REPLACE INTO site_state (key, value) VALUES ('service_day', ?)", (day,))

    def _void(self, tx: Tx, where: str) -> int:
        """Void every live ticket matching ``where``; free their counters. Returns how many."""
        conn = self._conn
        tx.keeps_cache = False
        self._cache.clear()
        ids = [
            r[0]
            for r in conn.execute(f"SELECT id FROM tickets WHERE {LIVE_SQL} AND {where} ORDER BY order_at")
        ]
        freed: list[str] = []
        for ticket_id in ids:
            freed += [r[0] for r in conn.execute("SELECT id FROM counters WHERE ticket = ?", (ticket_id,))]
            conn.execute(
                "UPDATE tickets SET status = 'void', done_at = ?, counter = NULL WHERE id = ?",
                (db_time(tx.now), ticket_id),
            )
            conn.execute("UPDATE counters SET ticket = NULL WHERE ticket = ?", (ticket_id,))
            void = self._load(ticket_id, tx.now).wire()
            self._emit(tx, partial(P.TicketVoid, ticket=void))
        for counter_id in freed:
            state = self._counter_state(counter_id)
            if state is not None:
                counter = state.wire()
                self._emit(tx, partial(P.CounterChanged, counter=counter))
        if ids:  # waiting counts and estimates of every department may have changed
            self._cache.clear()
            for dep in self.settings.departments:
                department = self._department_wire(dep, tx.now)
                self._emit(tx, partial(P.DepartmentChanged, department=department))
        return len(ids)

    def reset_day(self) -> int:
        """Technician's reset: every live ticket → ``void``, numbering restarts at 1.

        Emits ``ticket.void`` per ticket, ``counter.changed`` per freed counter and finally
        ``site.changed`` (so desk pages and boards take a fresh look). Returns how many were voided.
        """
        with self._tx() as tx:
            count = self._void(tx, "1")
            self._conn.execute("UPDATE numbering SET last_num = 0")
            self._cache.clear()
            site, deps = self._site(tx.now), self._department_states(self._all_deps, tx.now)
            self._emit(tx, partial(P.SiteChanged, site=site, reset=True, departments=deps))
        return count

    # ----------------------------------------------------------------- issuing

    def issue(self, department_id: str, lang: str | None = None, source: str | None = None) -> Ticket:
        """A new ticket at the back of the department's queue (refused when closed or full)."""
        dep = self._department(department_id)
        lang = self._issue_args(lang, source)
        with self._tx() as tx:
            return self._issue_in(tx, dep, lang, source)

    def _issue_args(self, lang: str | None, source: str | None) -> str:
        """The visitor's language (the site's first if none), refusing a bad one or a bad source."""
        languages = self.settings.site.languages
        if lang is None:
            lang = self.settings.site.default_language
        elif not isinstance(lang, str) or lang not in languages:
            raise InvalidArgument(f"language {lang!r} is not offered here (offered: {', '.join(languages)})")
        if source is not None and (not isinstance(source, str) or len(source) > 100):
            raise InvalidArgument("source must be a string of at most 100 characters")
        return lang

    def _issue_in(
        self, tx: Tx, dep: Department, lang: str, source: str | None, booked: P.AppointmentRef | None = None
    ) -> Ticket:
        """Issue inside ``tx``; ``booked``: the ticket of a checked-in visit (appointments.py)."""
        conn = self._conn
        refusal = (
            None  # a booked visit is met whatever the hours say now: staff promised it
            if booked is not None
            else self._hours.refusal(
                dep.id, tx.now, self._override(tx.day), self._department_override(tx.day, dep.id)
            )
        )
        if refusal is not None:
            next_open = refusal.next_open.astimezone(self.tz) if refusal.next_open else None
            what = "the site" if refusal.code == "site_closed" else f"department {dep.id!r}"
            when = f"; opens {next_open.isoformat(timespec='minutes')}" if next_open else ""
            raise Conflict(
                f"{what} is closed for new tickets{when}",
                code=refusal.code,
                next_open=next_open.isoformat(timespec="seconds") if next_open else None,
            )
        key = ("numbering", dep.id)
        row = self._cache.get(key)
        if row is None:  # cached like the estimate inputs; this method keeps it exact
            row = conn.execute(
                "SELECT service_day, last_num, seq FROM numbering WHERE department = ?", (dep.id,)
            ).fetchone()
        last_num, day_seq = (row[1], row[2]) if row is not None and row[0] == tx.day else (0, 0)
        num, number = self._free_number(dep, last_num)
        ticket_id = "t_" + secrets.token_urlsafe(16)
        follow = new_follow()  # the QR code's secret: only its hash is stored
        now_db = db_time(tx.now)
        waiting, oldest = self._queue(dep.id)  # the new ticket is the newest: all waiting are ahead
        ahead, estimate = waiting, self._estimate(dep.id, waiting, tx.day)
        if booked is not None:  # it waits for its time, then goes first (appointments.py)
            start = dt.datetime.fromisoformat(booked.start)
            ahead, estimate = 0, max(0, int((start - tx.now).total_seconds()))
        ticket = Ticket(
            id=ticket_id,
            number=number,
            department=dep.id,
            status="waiting",
            issued_at=tx.now.astimezone(self.tz),
            order_at=tx.now.astimezone(self.tz),
            lang=lang,
            service_day=dt.date.fromisoformat(tx.day),
            seq=day_seq + 1,
            ahead=ahead,
            estimated_wait_s=estimate,
            follow=follow,
            appointment=booked,
        )
        self._cache[("queue", dep.id)] = (waiting + 1, oldest if oldest is not None else now_db)
        self._cache[key] = (tx.day, num, day_seq + 1)
        deps = self._department_states((dep.id,), tx.now)
        event = self._emit(tx, partial(P.TicketIssued, ticket=ticket.wire(), departments=deps))
        conn.execute(
            """INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, source,
                   service_day, issued_at, order_at, order_seq, transfers, follow_hash, appointment, appt_start)
               VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)""",
            (
                ticket_id,
                number,
                num,
                day_seq + 1,
                dep.id,
                dep.id,
                lang,
                source,
                tx.day,
                now_db,
                now_db,
                event.seq,
                follow_hash(follow),
                None if booked is None else booked.reference,
                None if booked is None else db_time(dt.datetime.fromisoformat(booked.start)),
            ),
        )
        conn.execute(
            "INSERT OR REPLACE INTO numbering (department, service_day, last_num, seq) VALUES (?, ?, ?, ?)",
            (dep.id, tx.day, num, day_seq + 1),
        )
        return ticket

    def _free_number(self, dep: Department, last_num: int) -> tuple[int, str]:
        """The next number after ``last_num`` (wrapping) that no live ticket holds."""
        candidate = last_num % dep.max_number + 1
        for _ in range(dep.max_number):
            number = dep.format_number(candidate)
            taken = self._conn.execute(
                f"SELECT 1 FROM tickets WHERE number = ? AND {LIVE_SQL}", (number,)
            ).fetchone()
            if taken is None:
                return candidate, number
            candidate = candidate % dep.max_number + 1
        raise Conflict(
            f"every number of department {dep.id!r} is in use (max {dep.max_number})", code="queue_full"
        )

    # ----------------------------------------------------------------- counter actions

    def _current(self, counter_id: str) -> tuple[str, Ticket | None]:
        """The counter's state and its current (called or serving) ticket."""
        row = self._conn.execute("SELECT state, ticket FROM counters WHERE id = ?", (counter_id,)).fetchone()
        if row is None:  # a counter added to the settings after this object was made
            raise NotFound(f"unknown counter {counter_id!r}", code="unknown_counter")
        state, ticket_id = row
        if ticket_id is None:
            return state, None
        ticket = self._load(ticket_id, self._now())
        return state, ticket if ticket.status in ("called", "serving") else None

    def _need_current(self, counter_id: str) -> Ticket:
        _, ticket = self._current(counter_id)
        if ticket is None:
            raise Conflict(f"counter {counter_id!r} has no current ticket", code="no_current_ticket")
        return ticket

    def _finish(self, tx: Tx, counter: Counter, ticket: Ticket, status: str) -> Ticket:
        self._conn.execute(
            "UPDATE tickets SET status = ?, done_at = ? WHERE id = ?", (status, db_time(tx.now), ticket.id)
        )
        self._release(tx, counter.id)
        done = self._load(ticket.id, tx.now)
        self._cache.pop(("mean:" + tx.day, done.department), None)  # one more service to average
        kind = P.TicketDone if status == "done" else P.TicketNoShow
        ref, deps = self._counter_ref(counter.id), self._department_states((done.department,), tx.now)
        self._emit(tx, partial(kind, ticket=done.wire(), counter=ref, departments=deps))
        return done

    def _release(self, tx: Tx, counter_id: str) -> None:
        """The counter has no current ticket from now on (and is idle since now)."""
        self._conn.execute(
            "UPDATE counters SET ticket = NULL, idle_since = ? WHERE id = ?", (db_time(tx.now), counter_id)
        )

    def next(self, counter_id: str) -> Ticket | None:
        """Close the current ticket as done, then call the next one (None when nobody waits).

        Choice among the counter's departments: each department's head is its oldest ticket by
        ``order_at``; the head with the largest ``age × priority`` is called (equal priorities:
        simply the oldest). Ties go to the earlier ``order_at``, then the earlier issue.
        """
        counter = self._counter(counter_id)
        with self._tx() as tx:
            state, current = self._current(counter.id)
            if state == "paused":
                raise Conflict(f"counter {counter.id!r} is paused", code="counter_paused")
            if current is not None:
                self._finish(tx, counter, current, "done")
            due = self._due_appointment(tx, counter.departments)  # booked visits first (appointments.py)
            if due is not None:
                return self._call(tx, counter, due)
            best: tuple[float, str, int, str] | None = None
            for dep_id in counter.departments:
                dep = self.settings.department(dep_id)
                if dep is None:
                    continue
                head = self._conn.execute(
                    f"""SELECT id, order_at, order_seq FROM tickets WHERE department = ? AND status = 'waiting'
                       AND NOT {HELD_SQL} ORDER BY order_at, order_seq LIMIT 1""",
                    (dep_id,),
                ).fetchone()
                if head is None:
                    continue
                age = max((tx.now - dt.datetime.fromisoformat(head[1])).total_seconds(), 0.0)
                key = (-age * dep.priority, head[1], head[2], head[0])
                if best is None or key < best:
                    best = key
            if best is None:
                self._conn.execute("UPDATE counters SET ticket = NULL WHERE id = ?", (counter.id,))
                return None
            return self._call(tx, counter, best[3])

    def _call(self, tx: Tx, counter: Counter, ticket_id: str) -> Ticket:
        """Call a waiting or parked ticket to ``counter`` (which has no current ticket now).

        A ticket that waited again after a transfer adds that wait to ``rewait_s`` (statistics).
        """
        row = self._conn.execute(
            "SELECT status, rewait_from FROM tickets WHERE id = ?", (ticket_id,)
        ).fetchone()
        rewait: int | None = None
        if row[0] == "waiting" and row[1] is not None:
            rewait = max(0, round((tx.now - dt.datetime.fromisoformat(row[1])).total_seconds()))
        now_db = db_time(tx.now)
        self._conn.execute(
            """UPDATE tickets SET status = 'called', counter = ?, called_at = ?,
                   first_called_at = COALESCE(first_called_at, ?), parked_at = NULL,
                   rewait_from = NULL,
                   rewait_s = CASE WHEN ? IS NULL THEN rewait_s ELSE COALESCE(rewait_s, 0) + ? END
               WHERE id = ?""",
            (counter.id, now_db, now_db, rewait, rewait, ticket_id),
        )
        self._conn.execute("UPDATE counters SET ticket = ? WHERE id = ?", (ticket_id, counter.id))
        called = self._load(ticket_id, tx.now)
        if row[0] == "waiting":
            self._queue_changed(called.department, -1, None)
        ref, deps = self._counter_ref(counter.id), self._department_states((called.department,), tx.now)
        self._emit(
            tx,
            partial(P.TicketCalled, ticket=called.wire(), counter=ref, departments=deps),
        )
        return called

    def call(self, counter_id: str, ticket: str) -> Ticket:
        """Call a waiting or parked ticket of the counter's departments out of turn, by its number
        (``A012``; ``a12`` and ``12`` are read as that) or its id. The current ticket closes as
        done first, as with :meth:`next`.

        NotFound ``unknown_ticket``: no such ticket of today in the counter's departments.
        Conflict ``not_waiting``: it exists but is being called, served or finished.
        """
        counter = self._counter(counter_id)
        if not isinstance(ticket, str) or not ticket.strip() or len(ticket) > 64:
            raise InvalidArgument("ticket must be a number such as A012 or a ticket id")
        wanted = ticket.strip()
        with self._tx() as tx:
            state, current = self._current(counter.id)
            if state == "paused":
                raise Conflict(f"counter {counter.id!r} is paused", code="counter_paused")
            found = self._find_for_call(counter, wanted, tx.day)
            if found is None:
                raise NotFound(
                    f"no ticket {wanted!r} today in the departments of counter {counter.id!r}",
                    code="unknown_ticket",
                )
            ticket_id, status = found
            if status not in ("waiting", "parked"):
                raise Conflict(f"ticket {wanted!r} is {status}, not waiting", code="not_waiting")
            if current is not None:
                self._finish(tx, counter, current, "done")
            return self._call(tx, counter, ticket_id)

    def _find_for_call(self, counter: Counter, wanted: str, day: str) -> tuple[str, str] | None:
        """(id, status) of the ticket ``wanted`` names among the counter's departments today;
        a live one before a finished one with the same number. The number may carry any
        department's prefix: a transferred ticket keeps the number on the visitor's paper."""
        marks = ",".join("?" * len(counter.departments))
        if wanted.startswith("t_"):
            where, args = "id = ?", [wanted]
        else:
            match = re.fullmatch(r"([A-Za-z]*)\s*0*(\d{1,6})", wanted)
            if match is None:
                return None
            prefix, num = match.group(1).upper(), int(match.group(2))
            numbers: list[str] = []
            for dep in self.settings.departments:
                if (not prefix or dep.prefix.upper() == prefix) and 1 <= num <= dep.max_number:
                    numbers.append(dep.format_number(num))
            if not numbers:
                return None
            where, args = f"number IN ({','.join('?' * len(numbers))})", numbers
        row = self._conn.execute(
            f"""SELECT id, status FROM tickets WHERE {where} AND service_day = ? AND department IN ({marks})
                ORDER BY {LIVE_SQL} DESC, order_at LIMIT 1""",
            (*args, day, *counter.departments),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def park(self, counter_id: str) -> Ticket:
        """The current ticket steps away (``parked``): ``next`` skips it, ``call`` brings it back.

        Its number stays live; ``ticket.parked`` and then ``counter.changed`` (the counter is free).
        """
        counter = self._counter(counter_id)
        with self._tx() as tx:
            ticket = self._need_current(counter.id)
            self._conn.execute(
                "UPDATE tickets SET status = 'parked', parked_at = ? WHERE id = ?",
                (db_time(tx.now), ticket.id),
            )
            self._release(tx, counter.id)
            parked = self._load(ticket.id, tx.now)
            self._emit(
                tx, partial(P.TicketParked, ticket=parked.wire(), counter=self._counter_ref(counter.id))
            )
            state = self._counter_state(counter.id)
            assert state is not None
            self._emit(tx, partial(P.CounterChanged, counter=state.wire()))
        return parked

    def parked(self, counter_id: str) -> list[Ticket]:
        """Today's parked tickets of the counter's departments, oldest parked first."""
        counter = self._counter(counter_id)
        self._ensure_day()
        marks = ",".join("?" * len(counter.departments))
        with self._read():
            now = self._now()
            rows = self._conn.execute(
                f"""SELECT id FROM tickets WHERE status = 'parked' AND department IN ({marks})
                    ORDER BY parked_at, order_at""",
                counter.departments,
            ).fetchall()
            return [self._load(r[0], now) for r in rows]

    def recall(self, counter_id: str) -> Ticket:
        """Announce the current ticket again (``ticket.recalled``); nothing else changes."""
        counter = self._counter(counter_id)
        with self._tx() as tx:
            ticket = self._need_current(counter.id)
            ref = self._counter_ref(counter.id)
            self._emit(tx, partial(P.TicketRecalled, ticket=ticket.wire(), counter=ref))
        return ticket

    def start_serving(self, counter_id: str) -> Ticket:
        """The called visitor has arrived at the desk: ``called`` → ``serving`` (``ticket.serving``)."""
        counter = self._counter(counter_id)
        with self._tx() as tx:
            ticket = self._need_current(counter.id)
            if ticket.status == "called":
                self._conn.execute(
                    "UPDATE tickets SET status = 'serving', serving_at = ? WHERE id = ?",
                    (db_time(tx.now), ticket.id),
                )
                ticket = self._load(ticket.id, tx.now)
                serving, ref = ticket.wire(), self._counter_ref(counter.id)
                self._emit(tx, partial(P.TicketServing, ticket=serving, counter=ref))
        return ticket

    def done(self, counter_id: str) -> Ticket:
        counter = self._counter(counter_id)
        with self._tx() as tx:
            return self._finish(tx, counter, self._need_current(counter.id), "done")

    def no_show(self, counter_id: str) -> Ticket:
        counter = self._counter(counter_id)
        with self._tx() as tx:
            return self._finish(tx, counter, self._need_current(counter.id), "no_show")

    def transfer(self, counter_id: str, department_id: str) -> Ticket:
        """The current ticket waits again in ``department_id``, keeping id, number and ``order_at``."""
        counter = self._counter(counter_id)
        dep = self._department(department_id)
        with self._tx() as tx:
            ticket = self._need_current(counter.id)
            self._conn.execute(
                """UPDATE tickets SET status = 'waiting', department = ?, counter = NULL, called_at = NULL,
                       serving_at = NULL, transferred_from = ?, transfers = transfers + 1,
                       rewait_from = ? WHERE id = ?""",
                (dep.id, ticket.department, db_time(tx.now), ticket.id),
            )
            self._release(tx, counter.id)
            moved = self._load(ticket.id, tx.now)
            self._queue_changed(dep.id, +1, db_time(moved.order_at))
            source, ref = self._department_ref(ticket.department), self._counter_ref(counter.id)
            deps = self._department_states((ticket.department, dep.id), tx.now)
            self._emit(
                tx,
                partial(
                    P.TicketTransferred, ticket=moved.wire(), from_=source, counter=ref, departments=deps
                ),
            )
        return moved

    def _set_counter_state(self, counter_id: str, state: P.CounterStateWord) -> CounterState:
        counter = self._counter(counter_id)
        with self._tx() as tx:
            before = self._counter_state(counter.id)
            if before is None:
                raise NotFound(f"unknown counter {counter_id!r}", code="unknown_counter")
            if before.state == state:
                return before  # already so: no event
            self._conn.execute("UPDATE counters SET state = ? WHERE id = ?", (state, counter.id))
            for dep_id in counter.departments:
                self._cache.pop(("open_counters", dep_id), None)
            after = self._counter_state(counter.id)
            assert after is not None
            changed, deps = after.wire(), self._department_states(counter.departments, tx.now)
            self._emit(tx, partial(P.CounterChanged, counter=changed, departments=deps))
        return after

    def pause(self, counter_id: str) -> CounterState:
        """The counter stops taking calls (its current ticket, if any, stays with it)."""
        return self._set_counter_state(counter_id, "paused")

    def open_counter(self, counter_id: str) -> CounterState:
        return self._set_counter_state(counter_id, "open")

    # ----------------------------------------------------------------- reads that roll the day

    def state(self) -> P.Snapshot:
        self._ensure_day()
        return super().state()

    def ticket(self, ticket_id: str) -> Ticket:
        self._ensure_day()
        return super().ticket(ticket_id)

    def counter(self, counter_id: str) -> CounterState:
        self._ensure_day()
        return super().counter(counter_id)


__all__ = ["BatchAborted", "CounterState", "Event", "InvalidArgument", "Ledger", "LedgerReader", "Ticket"]
