"""The single ledger writer: one thread owns the :class:`~server.ledger.Ledger`; the loop awaits it.

SQLite allows one writer at a time and every ledger commit ends in an ``fsync`` (``synchronous=FULL``):
running those on the asyncio loop would stall every socket for the length of a disk flush. So the
ledger lives in one dedicated thread that takes jobs from a queue in order; an ``async`` caller
gets an ``asyncio.Future`` that the thread resolves with ``call_soon_threadsafe``. Reads (snapshot,
a ticket) go the same way: one connection, no cross-thread sharing, and a read sees every write
that was acknowledged before it.

One typed way in: ``await runner.run(lambda ledger: ledger.next("2"))`` — the job is a function of
the :class:`Ledger`, its result type is the awaited type, its exception the awaited exception.

Every job is batch-safe by construction, so nobody has to say (or list) which ones are:

- Each job runs as ONE all-or-nothing unit, a ``SAVEPOINT`` inside a ``BEGIN IMMEDIATE … COMMIT``
  (``Ledger.batch()`` / ``Ledger.savepoint()``, server/ledger/tx.py). A job that raises is rolled
  back whole — every ledger operation it made, and their events — and its caller gets the
  exception; other jobs are untouched. That holds whether the job runs alone or in company, so a
  job means the same thing under any load.
- Every ledger operation runs through ``Ledger._tx``, which inside a batch is a nested savepoint:
  an operation cannot commit, roll back or begin on its own there. Reads (``snapshot``,
  ``ticket``) see the batch's uncommitted rows, as a read after those writes should.
- Group commit: the thread takes every ledger job already queued (up to ``BATCH_MAX``) into one
  transaction, so one fsync covers many tickets. Only after the commit — the fsync — does
  anything leave the thread: first the batch's events to the hub (one listener call, seq order),
  then every caller's result. So a 201 is never sent for a ticket whose commit is not on disk,
  and an event never precedes its durability.
- The one kind of work that cannot share the writer's transaction is a write on ANOTHER
  connection (tokens and users, :meth:`LedgerRunner.run_conn`): it would wait for the very lock
  the batch holds. Such jobs are a different type and run alone, in queue order, between batches.

A job must not call ``ledger.batch()`` (it is already in one: that raises, and only that job
fails) nor ``ledger.close()``, and should not block: the writer thread serves everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import BatchAborted, Ledger, schema

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_MAX = 256  # jobs per group commit: bounds how long the first caller in a batch waits

EventsCallback = Callable[[list[dict[str, Any]]], None]


@dataclass(slots=True)
class _LedgerJob(Generic[T]):
    """``fn(ledger)``: may share a group commit (see the module docstring)."""

    fn: Callable[[Ledger], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


@dataclass(slots=True)
class _ConnJob(Generic[T]):
    """``fn(conn)`` on the writer thread's second connection: always alone."""

    fn: Callable[[sqlite3.Connection], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


class _Stop:
    """Queued by :meth:`LedgerRunner.close`: finish what came before, then stop."""


_Item = _LedgerJob[Any] | _ConnJob[Any] | _Stop


class LedgerRunner:
    """Owns the ledger in a dedicated thread: ``await runner.run(lambda ledger: ledger.issue("nav"))``."""

    def __init__(
        self,
        db_path: Path,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        on_events: EventsCallback | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.settings = settings
        self.clock = clock
        self.on_events = on_events
        self._jobs: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._aux: sqlite3.Connection | None = None  # tokens/users writes, in this thread only
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the ledger in the writer thread; raises what opening it raised."""
        self._thread = threading.Thread(target=self._main, name="ledger-writer", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._started.wait)
        if self._start_error is not None:
            raise self._start_error

    async def close(self) -> None:
        """Finish queued jobs, close the ledger, join the thread."""
        thread = self._thread
        if thread is None:
            return
        self._jobs.put(_Stop())
        await asyncio.to_thread(thread.join, 30)
        self._thread = None

    def _main(self) -> None:
        try:
            ledger = Ledger(self.db_path, self.settings, clock=self.clock)
            if self.on_events is not None:
                callback = self.on_events
                ledger.add_listener(lambda events: callback([e.encode() for e in events]))
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        try:
            self._serve(ledger)
        finally:
            try:
                ledger.close()
            finally:
                if self._aux is not None:
                    self._aux.close()
                log.info("ledger closed")

    def _serve(self, ledger: Ledger) -> None:
        held: _Item | None = None  # taken from the queue, belongs to the next round
        while True:
            item = held if held is not None else self._jobs.get()
            held = None
            if isinstance(item, _Stop):
                return
            if isinstance(item, _ConnJob):
                self._run_conn(item)
                continue
            batch: list[_LedgerJob[Any]] = [item]
            while len(batch) < BATCH_MAX:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(more, _LedgerJob):
                    held = more
                    break
                batch.append(more)
            _run_batch(ledger, batch)

    def _run_conn(self, job: _ConnJob[Any]) -> None:
        try:
            if self._aux is None:
                self._aux = schema.connect(self.db_path)
            result = job.fn(self._aux)
        except BaseException as exc:
            _resolve_all([(job, None, exc)])
        else:
            _resolve_all([(job, result, None)])

    # -- the ways in ------------------------------------------------------------------------

    async def run(self, fn: Callable[[Ledger], T]) -> T:
        """Run ``fn(ledger)`` in the writer thread, all or nothing; await its result or exception."""
        if self._thread is None:
            raise RuntimeError("the ledger runner is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_LedgerJob(fn, loop, future))
        return await future

    async def run_conn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a second connection owned by the writer thread (tokens, users).

        ``fn`` makes its own ``BEGIN IMMEDIATE`` (server/api/auth.py); it runs alone, never inside
        a ledger batch (see the module docstring).
        """
        if self._thread is None:
            raise RuntimeError("the ledger runner is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_ConnJob(fn, loop, future))
        return await future


_Answer = tuple[_LedgerJob[Any] | _ConnJob[Any], Any, BaseException | None]


def _run_batch(ledger: Ledger, batch: list[_LedgerJob[Any]]) -> None:
    """Ledger jobs in one transaction, each in a savepoint; answers only after the commit."""
    outcomes: list[tuple[Any, BaseException | None]] = []
    try:
        with ledger.batch():  # listeners (the hub) get the events after COMMIT, before any answer
            for job in batch:
                try:
                    with ledger.savepoint():
                        result = job.fn(ledger)
                except BatchAborted:
                    raise
                except Exception as exc:  # refused: rolled back alone, the others go on
                    outcomes.append((None, exc))
                else:
                    outcomes.append((result, None))
    except BaseException as exc:  # the commit (or the batch itself) failed: nothing is durable
        log.exception("group commit of %d jobs failed", len(batch))
        _resolve_all([(job, None, exc) for job in batch])
        return
    _resolve_all([(job, result, error) for job, (result, error) in zip(batch, outcomes, strict=True)])


def _resolve_all(answers: list[_Answer]) -> None:
    """Settle many futures with one wake-up per event loop (in order)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].loop, []).append(answer)
    for loop, items in by_loop.items():

        def settle(items: list[_Answer] = items) -> None:
            for job, result, exc in items:
                _settle(job.future, result, exc)

        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            loop.call_soon_threadsafe(settle)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the awaiting request was cancelled (client went away)
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
