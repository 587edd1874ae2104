"""The ledger's transaction machinery: what every write goes through.

Owns: the ``Tx`` record of one operation, ``Ledger._tx`` (one ``BEGIN IMMEDIATE`` per operation),
group commit (``batch()`` and its ``savepoint()`` per operation), appending events (``_emit``:
site-wide ``seq``, +1 each, no gaps), telling listeners after the commit (``_notify``) and the
transaction that rolls the service day over (``_roll_over``; what the roll-over changes in the
rows is :meth:`server.ledger.Ledger._roll_over_rows`).

Every operation is one ``BEGIN IMMEDIATE`` transaction on the SQLite file: it reads what it
needs, changes rows, appends its events and commits with ``synchronous=FULL``; only then do
listeners see the events. Arguments are validated before the transaction starts, and a refusal
rolls everything back, so bad input changes nothing.

Group commit: inside ``with ledger.batch():`` operations share ONE such transaction (one fsync for
many tickets); each runs in its own ``SAVEPOINT``, so a refusal still changes nothing while the
others commit, and listeners get all the batch's events once, in seq order, after its ``COMMIT``.
The server's writer thread (server/api/runner.py) batches whatever requests are queued at once.

Threading rule: a ``Ledger`` object belongs to ONE thread (the server's writer thread). The
connection is opened with ``check_same_thread=False`` only so the object can be created on one
thread and handed to the writer thread; never call it from two threads. Other processes may open
the same file with their own ``Ledger``: ``BEGIN IMMEDIATE`` plus the busy timeout serialize them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from nummerlapp.common.protocol import payload
from nummerlapp.config.hours import service_day
from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import schema
from nummerlapp.server.ledger.models import Event, iso
from nummerlapp.server.ledger.reads import Reads, db_time

log = logging.getLogger("server.ledger")  # one logger for the whole ledger, as before the split

Clock = Callable[[], dt.datetime]
Listener = Callable[[list[Event]], None]


class EventBuilder(Protocol):
    """An event's protocol class with its payload bound (``partial(P.TicketCalled, ticket=…)``)."""

    def __call__(self, *, seq: int, at: str) -> Event: ...


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tx:
    """One operation's transaction: its instant, service day and the events it appended."""

    now: dt.datetime  # UTC
    day: str  # service day, YYYY-MM-DD
    events: list[Event] = field(default_factory=list)
    # Each operation keeps the connection's cache exact for what it changes (see Reads._cache);
    # one that cannot (voiding many tickets) sets this False and the cache is dropped at the end.
    keeps_cache: bool = True


class BatchAborted(Exception):
    """The transaction of a :meth:`Ledger.batch` is gone: the whole batch must fail, not one job."""


class Transactions(Reads):
    """A writer's connection and its transactions; :class:`server.ledger.Ledger` adds the operations."""

    def __init__(self, path: str | Path, settings: Settings, clock: Clock | None = None) -> None:
        self.path = Path(path)
        conn = schema.connect(self.path, check_same_thread=False)
        super().__init__(conn, settings, clock or _utc_now)
        self._listeners: list[Listener] = []
        self._day: str | None = None  # the service day this object last rolled over to
        self._open_flags: dict[str, bool] = {}  # restored with the rest when a savepoint rolls back
        self._batch: list[Event] | None = None  # inside batch(): the events awaiting its commit
        self._savepoints = 0

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
    def _tx(self, roll: bool = True) -> Iterator[Tx]:
        """One ``BEGIN IMMEDIATE`` transaction; listeners get its events after the commit.

        Inside :meth:`batch` the operation runs in a ``SAVEPOINT`` of the batch's transaction
        instead: a refusal rolls back only this operation, and its events wait for the batch's
        commit.
        """
        now = self._now()
        tx = Tx(now, service_day(now, self.tz).isoformat())
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

    def _emit(self, tx: Tx, build: EventBuilder) -> Event:
        """Append one event, made by its protocol class with the next ``seq`` and this
        transaction's instant: ``self._emit(tx, partial(P.TicketVoid, ticket=…))``.
        A change to queues carries ``departments`` (``self._department_states(ids, tx.now)``: the
        snapshot entries without the static name and prefix) so boards stay exact without a new
        snapshot. The payload is stored beside its type, seq and time (upgrade: upgrade.py)."""
        seq = int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()[0])
        event = build(seq=seq, at=iso(tx.now.astimezone(self.tz)) or "")
        self._conn.execute(
            "INSERT INTO events (seq, type, at, data) VALUES (?, ?, ?, ?)",
            (
                seq,
                event.type,
                db_time(tx.now),
                json.dumps(payload(event), separators=(",", ":"), ensure_ascii=False),
            ),
        )
        tx.events.append(event)
        return event

    # ----------------------------------------------------------------- service days

    def _roll_over(self, now: dt.datetime, day: str) -> None:
        """First operation of a new service day: yesterday's live tickets become ``void``.

        Its own committed transaction, so the new day starts clean even if the operation that
        noticed it is then refused. Idempotent across processes (the day is kept in site_state).
        """
        tx = Tx(now, day)
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

    def _roll_over_rows(self, tx: Tx, day: str) -> None:
        """What a new service day changes in the rows (the ledger voids yesterday's live tickets)."""
        raise NotImplementedError

    def _ensure_day(self) -> None:
        """Reads through the writer see the new day's state, not yesterday's leftovers."""
        now = self._now()
        day = service_day(now, self.tz).isoformat()
        if day != self._day:
            self._roll_over(now, day)
