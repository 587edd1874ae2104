"""The ticket ledger: the one place that knows which tickets exist and where they are.

Every operation is one ``BEGIN IMMEDIATE`` transaction on the SQLite file: it reads what it
needs, changes rows, appends its events (site-wide ``seq``, +1 each, no gaps) and commits with
``synchronous=FULL``; only then do listeners see the events. Arguments are validated before the
transaction starts, and a refusal rolls everything back, so bad input changes nothing.

Group commit: inside ``with ledger.batch():`` operations share ONE such transaction (one fsync for
many tickets); each runs in its own ``SAVEPOINT``, so a refusal still changes nothing while the
others commit, and listeners get all the batch's events once, in seq order, after its ``COMMIT``.
The server's writer thread (server/runner.py) batches whatever requests are queued at once.

Threading rule: a ``Ledger`` object belongs to ONE thread (the server's writer thread). The
connection is opened with ``check_same_thread=False`` only so the object can be created on one
thread and handed to the writer thread; never call it from two threads. Other processes may open
the same file with their own ``Ledger``: ``BEGIN IMMEDIATE`` plus the busy timeout serialize them.
Read-only helpers for other threads or processes: ``LedgerReader`` (server/ledger_reads.py).

docs/LEDGER.md describes states, numbering, ordering, the estimate and durability.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import Conflict, NotFound
from config.model import Counter, Department, Settings
from server import schema
from server.hours import SiteHours, service_day
from server.ledger_reads import InvalidArgument, LedgerReader, Reads, db_time
from server.models import LIVE_SQL, CounterState, Event, Ticket

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Listener = Callable[[list[Event]], None]

DEVICE_ROLES = ("kiosk", "board", "display", "server", "desk", "printer", "feedback")
MAX_ID_LEN = 64
MAX_STATUS_BYTES = 4096


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
        raise InvalidArgument(f"{what} must be a non-empty string of at most {MAX_ID_LEN} characters")
    return value


@dataclass
class _Tx:
    now: dt.datetime  # UTC
    day: str  # service day, YYYY-MM-DD
    events: list[Event] = field(default_factory=list)
    # Each operation keeps the connection's cache exact for what it changes (see Reads._cache);
    # one that cannot (voiding many tickets) sets this False and the cache is dropped at the end.
    keeps_cache: bool = True


class BatchAborted(Exception):
    """The transaction of a :meth:`Ledger.batch` is gone: the whole batch must fail, not one job."""


class Ledger(Reads):
    """The site's ticket ledger on one SQLite file (see module docstring for the threading rule)."""

    # Public methods that may run inside :meth:`batch` (each its own savepoint; reads see the batch).
    BATCH_SAFE = frozenset(
        {
            "issue", "next", "recall", "start_serving", "done", "no_show", "transfer", "pause",
            "open_counter", "set_site_open", "report_device", "identify", "identify_device", "tick",
            "reset_day", "snapshot", "ticket", "counter", "devices", "events_after", "last_seq",
        }
    )  # fmt: skip

    def __init__(self, path: str | Path, settings: Settings, clock: Clock | None = None) -> None:
        self.path = Path(path)
        conn = schema.connect(self.path, check_same_thread=False)
        super().__init__(conn, settings, clock or _utc_now)
        self._listeners: list[Listener] = []
        self._day: str | None = None  # the service day this object last rolled over to
        self._hours = SiteHours(settings)
        self._open_flags: dict[str, bool] = {}
        self._all_deps = tuple(d.id for d in settings.departments)
        self._batch: list[Event] | None = None  # inside batch(): the events awaiting its commit
        self._savepoints = 0
        with self._tx() as tx:  # counters named in the settings exist as rows
            conn.executemany(
                "INSERT OR IGNORE INTO counters (id, state) VALUES (?, 'open')",
                [(c.id,) for c in settings.counters],
            )
            self._open_flags = self._current_open_flags(tx)

    # ----------------------------------------------------------------- plumbing

    def add_listener(self, fn: Listener) -> None:
        """``fn(events)`` runs after each commit, in seq order, in the committing thread."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    def close(self) -> None:
        self._conn.close()

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return an aware datetime")
        return now.astimezone(dt.UTC)

    @contextmanager
    def _tx(self, roll: bool = True) -> Iterator[_Tx]:
        """One ``BEGIN IMMEDIATE`` transaction; listeners get its events after the commit.

        Inside :meth:`batch` the operation runs in a ``SAVEPOINT`` of the batch's transaction
        instead: a refusal rolls back only this operation, and its events wait for the batch's
        commit.
        """
        now = self._now()
        tx = _Tx(now, service_day(now, self.tz).isoformat())
        if roll and tx.day != self._day:
            self._roll_over(tx.now, tx.day)
        if self._batch is not None:
            with self.savepoint():
                try:
                    yield tx
                finally:
                    if not tx.keeps_cache:
                        self._cache.clear()
                self._batch.extend(tx.events)
            return
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_cache()
            yield tx
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._cache.clear()
            raise
        finally:
            if not tx.keeps_cache:
                self._cache.clear()
        self._notify(tx.events)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit: every operation inside runs in ONE ``BEGIN IMMEDIATE … COMMIT``.

        Each operation (and each :meth:`savepoint` block) is a ``SAVEPOINT`` of that transaction:
        one that raises is rolled back alone (it changes nothing, its events are discarded) and
        the others still commit. Listeners get all the committed events once, in seq order,
        after the ``COMMIT`` (``synchronous=FULL``: after the fsync) — never before. If the
        block itself raises, or the commit fails, everything in it is rolled back and the
        exception propagates. Not reentrant. Only ledger operations may run inside; a raw
        ``BEGIN`` on the connection would fail.
        """
        if self._batch is not None:
            raise RuntimeError("Ledger.batch() is not reentrant")
        now = self._now()
        day = service_day(now, self.tz).isoformat()
        if day != self._day:  # the roll-over stays its own transaction when it can
            self._roll_over(now, day)
        conn = self._conn
        saved = (self._day, dict(self._open_flags))
        conn.execute("BEGIN IMMEDIATE")
        self._batch = []
        try:
            self._check_cache()
            yield
            if not conn.in_transaction:
                raise BatchAborted("the batch's transaction was rolled back; nothing in it is committed")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._cache.clear()
            self._day, self._open_flags = saved
            raise
        finally:
            events, self._batch = self._batch, None
        self._notify(events)

    @property
    def in_batch(self) -> bool:
        return self._batch is not None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside :meth:`batch`: all or nothing for the block (operations and their events)."""
        batch = self._batch
        if batch is None:
            raise RuntimeError("Ledger.savepoint() is only for use inside Ledger.batch()")
        conn = self._conn
        if not conn.in_transaction:  # lost earlier: a SAVEPOINT now would commit on its own
            raise BatchAborted("the batch's transaction was rolled back; nothing in it is committed")
        self._savepoints += 1
        name = f"op{self._savepoints}"
        mark = len(batch)
        day, flags = self._day, dict(self._open_flags)
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException as exc:
            if (
                not conn.in_transaction
            ):  # SQLite itself rolled the whole transaction back (I/O error, full disk)
                raise BatchAborted(
                    "the batch's transaction was rolled back; nothing in it is committed"
                ) from exc
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            del batch[mark:]
            self._cache.clear()
            self._day, self._open_flags = day, flags  # a roll-over inside is undone too
            raise
        conn.execute(f"RELEASE {name}")

    def _notify(self, events: list[Event]) -> None:
        if not events:
            return
        for fn in list(self._listeners):
            try:
                fn(events)
            except Exception:  # a broken listener must not undo or block the ledger
                log.exception("ledger listener %r failed", fn)

    def _emit(self, tx: _Tx, type_: str, data: dict[str, Any], deps: tuple[str, ...] = ()) -> Event:
        """Append one event. ``deps``: departments whose state (open, waiting, estimate, oldest)
        the change touched; it rides along as ``departments`` (the snapshot entries without the
        static name and prefix) so boards and desk pages stay exact without a new snapshot."""
        if deps:
            data["departments"] = [self._department_state(d, tx.now) for d in dict.fromkeys(deps)]
        cur = self._conn.execute(
            "INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
            (type_, db_time(tx.now), json.dumps(data, separators=(",", ":"), ensure_ascii=False)),
        )
        seq = cur.lastrowid
        assert seq is not None
        event = Event(seq, type_, tx.now.astimezone(self.tz), data)
        tx.events.append(event)
        return event

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

    def _roll_over(self, now: dt.datetime, day: str) -> None:
        """First operation of a new service day: yesterday's live tickets become ``void``.

        Its own committed transaction, so the new day starts clean even if the operation that
        noticed it is then refused. Idempotent across processes (the day is kept in site_state).
        """
        tx = _Tx(now, day)
        conn = self._conn
        if self._batch is not None:  # a day began during a batch: its own savepoint in it
            try:
                with self.savepoint():
                    self._roll_over_rows(tx, day)
                    self._batch.extend(tx.events)
            finally:
                self._cache.clear()
            self._day = day
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._roll_over_rows(tx, day)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._cache.clear()
        self._day = day
        self._notify(tx.events)

    def _roll_over_rows(self, tx: _Tx, day: str) -> None:
        conn = self._conn
        row = conn.execute("SELECT value FROM site_state WHERE key = 'service_day'").fetchone()
        if row is None or row[0] < day:
            self._void(tx, f"service_day < '{day}'")
            conn.execute("INSERT OR REPLACE INTO site_state (key, value) VALUES ('service_day', ?)", (day,))

    def _void(self, tx: _Tx, where: str) -> int:
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
            self._emit(tx, "ticket.void", {"ticket": self._load(ticket_id, tx.now).to_json()})
        for counter_id in freed:
            state = self._counter_state(counter_id)
            if state is not None:
                self._emit(tx, "counter.changed", {"counter": state.to_json()})
        if ids:  # waiting counts and estimates of every department may have changed
            self._cache.clear()
            for dep in self.settings.departments:
                self._emit(tx, "department.changed", {"department": self._department_json(dep, tx.now)})
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
            self._emit(tx, "site.changed", {"site": self._site_json(tx.now), "reset": True}, self._all_deps)
        return count

    # ----------------------------------------------------------------- issuing

    def issue(self, department_id: str, lang: str | None = None, source: str | None = None) -> Ticket:
        """A new ticket at the back of the department's queue (refused when closed or full)."""
        dep = self._department(department_id)
        languages = self.settings.site.languages
        if lang is None:
            lang = self.settings.site.default_language
        elif not isinstance(lang, str) or lang not in languages:
            raise InvalidArgument(f"language {lang!r} is not offered here (offered: {', '.join(languages)})")
        if source is not None and (not isinstance(source, str) or len(source) > 100):
            raise InvalidArgument("source must be a string of at most 100 characters")
        with self._tx() as tx:
            conn = self._conn
            refusal = self._hours.refusal(dep.id, tx.now, self._override(tx.day))
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
            now_db = db_time(tx.now)
            ahead, oldest = self._queue(dep.id)  # the new ticket is the newest: all waiting are ahead
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
                estimated_wait_s=self._estimate(dep.id, ahead, tx.day),
            )
            self._cache[("queue", dep.id)] = (ahead + 1, oldest if oldest is not None else now_db)
            self._cache[key] = (tx.day, num, day_seq + 1)
            event = self._emit(tx, "ticket.issued", {"ticket": ticket.to_json()}, (dep.id,))
            conn.execute(
                """INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, source,
                       service_day, issued_at, order_at, order_seq, transfers)
                   VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, 0)""",
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

    def _finish(self, tx: _Tx, counter: Counter, ticket: Ticket, status: str) -> Ticket:
        self._conn.execute(
            "UPDATE tickets SET status = ?, done_at = ? WHERE id = ?", (status, db_time(tx.now), ticket.id)
        )
        self._conn.execute("UPDATE counters SET ticket = NULL WHERE id = ?", (counter.id,))
        done = self._load(ticket.id, tx.now)
        self._cache.pop(("mean:" + tx.day, done.department), None)  # one more service to average
        type_ = "ticket.done" if status == "done" else "ticket.no_show"
        self._emit(tx, type_, {"ticket": done.to_json(), "counter": counter.id}, (done.department,))
        return done

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
            best: tuple[float, str, int, str] | None = None
            for dep_id in counter.departments:
                dep = self.settings.department(dep_id)
                if dep is None:
                    continue
                head = self._conn.execute(
                    """SELECT id, order_at, order_seq FROM tickets WHERE department = ? AND status = 'waiting'
                       ORDER BY order_at, order_seq LIMIT 1""",
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
            ticket_id = best[3]
            now_db = db_time(tx.now)
            self._conn.execute(
                """UPDATE tickets SET status = 'called', counter = ?, called_at = ?,
                       first_called_at = COALESCE(first_called_at, ?) WHERE id = ?""",
                (counter.id, now_db, now_db, ticket_id),
            )
            self._conn.execute("UPDATE counters SET ticket = ? WHERE id = ?", (ticket_id, counter.id))
            called = self._load(ticket_id, tx.now)
            self._queue_changed(called.department, -1, None)
            self._emit(tx, "ticket.called", self._call_data(called, counter), (called.department,))
        return called

    @staticmethod
    def _call_data(ticket: Ticket, counter: Counter) -> dict[str, Any]:
        return {"ticket": ticket.brief(), "counter": {"id": counter.id, "name": counter.name}}

    def recall(self, counter_id: str) -> Ticket:
        """Announce the current ticket again (``ticket.recalled``); nothing else changes."""
        counter = self._counter(counter_id)
        with self._tx() as tx:
            ticket = self._need_current(counter.id)
            self._emit(tx, "ticket.recalled", self._call_data(ticket, counter))
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
                self._emit(tx, "ticket.serving", {"ticket": ticket.to_json(), "counter": counter.id})
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
                       serving_at = NULL, transferred_from = ?, transfers = transfers + 1 WHERE id = ?""",
                (dep.id, ticket.department, ticket.id),
            )
            self._conn.execute("UPDATE counters SET ticket = NULL WHERE id = ?", (counter.id,))
            moved = self._load(ticket.id, tx.now)
            self._queue_changed(dep.id, +1, db_time(moved.order_at))
            self._emit(
                tx,
                "ticket.transferred",
                {"ticket": moved.to_json(), "from": ticket.department, "counter": counter.id},
                (ticket.department, dep.id),
            )
        return moved

    def _set_counter_state(self, counter_id: str, state: str) -> CounterState:
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
            self._emit(tx, "counter.changed", {"counter": after.to_json()}, counter.departments)
        return after

    def pause(self, counter_id: str) -> CounterState:
        """The counter stops taking calls (its current ticket, if any, stays with it)."""
        return self._set_counter_state(counter_id, "paused")

    def open_counter(self, counter_id: str) -> CounterState:
        return self._set_counter_state(counter_id, "open")

    # ----------------------------------------------------------------- site and devices

    def set_site_open(self, open: bool | None) -> None:
        """Override the hours for the rest of this service day (None: back to the hours)."""
        if open is not None and not isinstance(open, bool):
            raise InvalidArgument("open must be true, false or null")
        with self._tx() as tx:
            if open is None:
                self._conn.execute("DELETE FROM site_state WHERE key = 'override'")
            else:
                self._conn.execute(
                    "INSERT OR REPLACE INTO site_state (key, value) VALUES ('override', ?)",
                    (json.dumps({"day": tx.day, "open": open}),),
                )
            self._cache.pop(("override", tx.day), None)
            self._emit(tx, "site.changed", {"site": self._site_json(tx.now)}, self._all_deps)
            self._open_flags = self._current_open_flags(tx)

    def report_device(
        self, device_id: str, role: str, status: dict[str, Any], name: str | None = None
    ) -> None:
        """A device's heartbeat / status: upserts ``devices`` and emits ``device.status``."""
        _check_id(device_id, "device id")
        if role not in DEVICE_ROLES:
            raise InvalidArgument(f"role must be one of {', '.join(DEVICE_ROLES)}")
        if not isinstance(status, dict):
            raise InvalidArgument("status must be an object")
        if name is not None and (not isinstance(name, str) or len(name) > 100):
            raise InvalidArgument("name must be a string of at most 100 characters")
        try:
            status_json = json.dumps(status, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"status is not plain JSON: {exc}") from None
        if len(status_json.encode()) > MAX_STATUS_BYTES:
            raise InvalidArgument(f"status is larger than {MAX_STATUS_BYTES} bytes")
        with self._tx() as tx:
            self._conn.execute(
                """INSERT INTO devices (id, role, name, status, last_seen) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                       name = COALESCE(excluded.name, devices.name), status = excluded.status,
                       last_seen = excluded.last_seen""",
                (device_id, role, name, status_json, db_time(tx.now)),
            )
            device = self._device_row(device_id)
            assert device is not None
            self._emit(tx, "device.status", {"device": device})

    def identify(self, device_id: str) -> None:
        """Ask a device to make itself known (blink, show its id): a ``device.identify`` event."""
        _check_id(device_id, "device id")
        with self._tx() as tx:
            if self._device_row(device_id) is None:
                raise NotFound(f"unknown device {device_id!r}", code="unknown_device")
            self._emit(tx, "device.identify", {"device": {"id": device_id}})

    identify_device = identify

    def tick(self) -> list[Event]:
        """Call about once a minute: rolls the day over and emits ``site.changed`` /
        ``department.changed`` when opening hours (not an operation) opened or closed something."""
        with self._tx() as tx:
            flags = self._current_open_flags(tx)
            if flags != self._open_flags:
                if flags.get("") != self._open_flags.get(""):
                    self._emit(tx, "site.changed", {"site": self._site_json(tx.now)})
                for dep in self.settings.departments:
                    if flags.get(dep.id) != self._open_flags.get(dep.id):
                        self._emit(
                            tx, "department.changed", {"department": self._department_json(dep, tx.now)}
                        )
                self._open_flags = flags
            events = list(tx.events)
        return events

    def _current_open_flags(self, tx: _Tx) -> dict[str, bool]:
        override = self._override(tx.day)
        flags = {"": self._hours.site_open(tx.now, override)}
        for dep in self.settings.departments:
            flags[dep.id] = self._hours.department_open(dep.id, tx.now, override)
        return flags

    # ----------------------------------------------------------------- reads that roll the day

    def _ensure_day(self) -> None:
        """Reads through the writer see the new day's state, not yesterday's leftovers."""
        now = self._now()
        day = service_day(now, self.tz).isoformat()
        if day != self._day:
            self._roll_over(now, day)

    def snapshot(self) -> dict[str, Any]:
        self._ensure_day()
        return super().snapshot()

    def ticket(self, ticket_id: str) -> Ticket:
        self._ensure_day()
        return super().ticket(ticket_id)

    def counter(self, counter_id: str) -> CounterState:
        self._ensure_day()
        return super().counter(counter_id)


__all__ = ["BatchAborted", "CounterState", "Event", "InvalidArgument", "Ledger", "LedgerReader", "Ticket"]
