"""Ledger test helpers: a clock tests can move, and site settings variants (imported by the tests)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from nummerlapp.config import load_settings
from nummerlapp.config.model import Interval, OpeningHours, Settings
from nummerlapp.server.api.runner import EventsCallback, LedgerRunner

OSLO = ZoneInfo("Europe/Oslo")
# A Monday in the example site's normal week: open 08:00-15:30, tolk 09:00-14:00.
MONDAY = dt.date(2026, 11, 23)


def machine_dir(prefix: str) -> Path:
    """A fresh folder for one example of a state-machine test's ledger file (a real SQLite file in
    WAL mode), on /dev/shm when the machine has it. These tests check the rules over thousands of
    steps; each step's fsync on a disk shared with a busy build once made one run take over five
    minutes. What a commit survives on a real disk is tested with real processes and SIGKILL
    (test_ledger_processes.py, test_ledger_batch.py). The example removes the folder at teardown."""
    shm = Path("/dev/shm")
    return Path(
        tempfile.mkdtemp(prefix=prefix, dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None)
    )


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """Wall time in Oslo."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=OSLO)


class Clock:
    """A clock the test moves; the ledger calls it for every operation."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**kw)
        return self.now

    def set(self, now: dt.datetime) -> dt.datetime:
        self.now = now
        return now


def example() -> Settings:
    return load_settings(None)


def with_max(settings: Settings, **max_numbers: int) -> Settings:
    """The settings with some departments' max_number changed (small numbers make wrap reachable)."""
    deps = tuple(
        dataclasses.replace(d, max_number=max_numbers[d.id]) if d.id in max_numbers else d
        for d in settings.departments
    )
    return dataclasses.replace(settings, departments=deps)


def with_site_hours(settings: Settings, start: dt.time, end: dt.time) -> Settings:
    """Every day the same site hours, no exceptions; department hours dropped."""
    weekly = {d: (Interval(start, end),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    site = dataclasses.replace(settings.site, hours=OpeningHours(weekly))
    deps = tuple(dataclasses.replace(d, hours=None) for d in settings.departments)
    return dataclasses.replace(settings, site=site, departments=deps)


def raw(path: Path) -> sqlite3.Connection:
    """An independent connection for checking what is really in the file."""
    return sqlite3.connect(str(path), isolation_level=None)


def seqs(path: Path) -> list[int]:
    with raw(path) as conn:
        return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]


def read_then_kill(proc: subprocess.Popen[str], lines: int) -> list[str]:
    """The first ``lines`` lines a worker prints (it must not die on its own first), then SIGKILL."""
    got: list[str] = []
    try:
        assert proc.stdout is not None
        for _ in range(lines):
            line = proc.stdout.readline()
            assert line, "the worker died on its own"
            got.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for pipe in (proc.stdout, proc.stdin):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == -signal.SIGKILL
    return got


@contextlib.asynccontextmanager
async def held_runner(
    path: Path, clock: Clock, on_events: EventsCallback | None = None
) -> AsyncIterator[tuple[LedgerRunner, Callable[[], Awaitable[None]]]]:
    """A started writer thread held inside a first job, and ``release()``: what the test queues
    before releasing runs as one batch. The runner is closed on the way out."""
    runner = LedgerRunner(path, example(), clock=clock, on_events=on_events)
    await runner.start()
    try:
        gate = threading.Event()
        blocker = asyncio.create_task(runner.run(lambda _ledger: gate.wait(10)))  # runs alone
        await asyncio.sleep(0.05)  # the writer is now held inside the blocker

        async def release() -> None:
            gate.set()
            assert await blocker is True

        yield runner, release
    finally:
        await runner.close()
