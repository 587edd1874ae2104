"""The single ledger writer: one thread owns the :class:`~server.ledger.Ledger`; the loop awaits it.

SQLite allows one writer at a time and every ledger commit ends in an ``fsync`` (``synchronous=FULL``):
running those on the asyncio loop would stall every socket for the length of a disk flush. So the
ledger lives in one dedicated thread that takes jobs from a queue in order; an ``async`` caller
gets an ``asyncio.Future`` that the thread resolves with ``call_soon_threadsafe``. Reads (snapshot,
a ticket) go the same way: one connection, no cross-thread sharing, and a read sees every write
that was acknowledged before it.

Group commit: the thread takes every job that is already queued (up to ``BATCH_MAX``) and runs
the ledger ones together in ONE ``BEGIN IMMEDIATE … COMMIT`` (``Ledger.batch()``), so one fsync
covers many tickets. Each job runs in its own ``SAVEPOINT``: a job that raises is rolled back
alone (it changes nothing and its caller gets its error) while the others commit. Only after the
commit — the fsync with ``synchronous=FULL`` — does anything leave the thread: first the
batch's events to the hub (one listener call, seq order), then every caller's result. So a 201
is never sent for a ticket whose commit is not on disk, and an event never precedes its
durability. A lone job runs in its own transaction exactly as before; jobs that are not plain
ledger operations (``run(fn)``, ``run_conn``) run alone, in queue order, between batches.

The ledger's listener runs in this thread right after each commit; ``on_events`` (the hub's
``publish_threadsafe``) receives the events as JSON-ready dicts in seq order.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from nummerlapp.config.model import Settings
    from nummerlapp.server.ledger import Ledger

log = logging.getLogger(__name__)
T = TypeVar("T")

_STOP = object()
BATCH_MAX = 256  # jobs per group commit: bounds how long the first caller in a batch waits


class _Job:
    __slots__ = ("batchable", "fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[[Ledger], Any],
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        batchable: bool,
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.batchable = batchable


class LedgerRunner:
    """Owns the ledger in a dedicated thread. ``await runner.call("issue", "nav")`` etc."""

    def __init__(
        self,
        db_path: Path,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.settings = settings
        self.clock = clock
        self.on_events = on_events
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ledger: Ledger | None = None
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
        self._jobs.put(_STOP)
        await asyncio.to_thread(thread.join, 30)
        self._thread = None

    def _main(self) -> None:
        from nummerlapp.server.ledger import Ledger

        try:
            ledger = Ledger(self.db_path, self.settings, clock=self.clock)
            if self.on_events is not None:
                callback = self.on_events
                ledger.add_listener(lambda events: callback([e.to_json() for e in events]))
            self._ledger = ledger
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
        held: Any = None  # a job taken from the queue that belongs to the next round
        while True:
            job = held if held is not None else self._jobs.get()
            held = None
            if job is _STOP:
                return
            batch: list[_Job] = [job]
            while job.batchable and len(batch) < BATCH_MAX:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP or not more.batchable:
                    held = more
                    break
                batch.append(more)
            if len(batch) == 1:
                _run_alone(ledger, job)
            else:
                _run_batch(ledger, batch)

    # -- calls ------------------------------------------------------------------------------

    async def run(self, fn: Callable[[Ledger], T], *, batch: bool = False) -> T:
        """Run ``fn(ledger)`` in the writer thread and await its result (or exception).

        ``batch=True`` lets the job share a group commit with others: ``fn`` must then only call
        ``Ledger`` methods named in ``Ledger.BATCH_SAFE`` (it runs in a savepoint, all or nothing).
        """
        if self._thread is None:
            raise RuntimeError("the ledger runner is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, loop, future, batch))
        return await future

    async def call(self, method: str | Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await runner.call("next", "2")`` runs ``ledger.next("2")`` in the writer thread.

        ``method`` may also be a callable (for example the bound ``runner.ledger.next``): it is
        called with the arguments in the writer thread.
        """
        from nummerlapp.server.ledger import Ledger

        if callable(method):
            fn = method
            safe = getattr(fn, "__self__", None) is self._ledger and self._ledger is not None
            safe = safe and getattr(fn, "__name__", "") in Ledger.BATCH_SAFE
            return await self.run(lambda _ledger: fn(*args, **kwargs), batch=safe)
        name = method
        return await self.run(
            lambda ledger: getattr(ledger, name)(*args, **kwargs), batch=name in Ledger.BATCH_SAFE
        )

    @property
    def ledger(self) -> Ledger | None:
        """The ledger object, for naming its bound methods; call them only through :meth:`call`."""
        return self._ledger

    async def run_conn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a second connection owned by the writer thread (tokens, users)."""

        def job(_ledger: Ledger) -> T:
            if self._aux is None:
                from nummerlapp.server.ledger.schema import connect

                self._aux = connect(self.db_path)
            return fn(self._aux)

        return await self.run(job)


def _run_alone(ledger: Ledger, job: _Job) -> None:
    """One job, its ledger operations each in their own transaction (no batch)."""
    try:
        result = job.fn(ledger)
    except BaseException as exc:
        _resolve(job.loop, job.future, None, exc)
    else:
        _resolve(job.loop, job.future, result, None)


def _run_batch(ledger: Ledger, batch: list[_Job]) -> None:
    """Several ledger jobs in one transaction, each in a savepoint; answers only after the commit."""
    from nummerlapp.server.ledger import BatchAborted

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


def _resolve_all(answers: list[tuple[_Job, Any, BaseException | None]]) -> None:
    """Settle many futures with one wake-up per event loop (in order)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, Any, BaseException | None]]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].loop, []).append(answer)
    for loop, items in by_loop.items():

        def settle(items: list[tuple[_Job, Any, BaseException | None]] = items) -> None:
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


def _resolve(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    def settle() -> None:
        _settle(future, result, exc)

    with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
        loop.call_soon_threadsafe(settle)
