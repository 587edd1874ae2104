"""Group commit: ``Ledger.batch()`` / ``Ledger.savepoint()`` and the writer thread that uses them.

A batch is one ``BEGIN IMMEDIATE … COMMIT`` (one fsync) for many operations, each in its own
savepoint: a refused one changes nothing and the others commit; listeners see the events only
after the commit, in seq order, with ``seq`` contiguous; a SIGKILL loses nothing acknowledged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.server.ledger import BatchAborted, Event, Ledger
from nummerlapp.tests.ledger.ledgerfixtures import (
    Clock,
    example,
    held_runner,
    raw,
    read_then_kill,
    seqs,
    with_max,
)

ROOT = Path(__file__).resolve().parents[2]


def _tickets(path: Path) -> dict[str, str]:
    with raw(path) as c:
        return {r[0]: r[1] for r in c.execute("SELECT id, status FROM tickets")}


def test_refused_operation_changes_nothing_and_the_others_commit(ledger: Ledger, db_path: Path) -> None:
    ledger.issue("nav")  # A001 waiting: seq 1
    before_seq = seqs(db_path)
    results: list[Any] = []
    with ledger.batch():
        results.append(ledger.issue("nav"))  # A002
        with pytest.raises(Conflict) as refused:
            ledger.done("1")  # counter 1 has no current ticket
        assert refused.value.code == "no_current_ticket"
        with pytest.raises(NotFound):
            ledger.issue("no-such-department")
        results.append(ledger.next("1"))  # calls A001
        results.append(ledger.issue("byggesak"))  # B001
    assert [t.number for t in results] == ["A002", "A001", "B001"]
    rows = _tickets(db_path)
    assert len(rows) == 3 and rows[results[1].id] == "called" and rows[results[0].id] == "waiting"
    s = seqs(db_path)
    assert s[: len(before_seq)] == before_seq and s == list(range(1, len(s) + 1))


def test_a_failing_job_in_its_savepoint_is_undone_whole(ledger: Ledger, db_path: Path) -> None:
    """What the writer thread does per job: everything the job did is rolled back together."""
    seen: list[list[Event]] = []
    ledger.add_listener(seen.append)
    with ledger.batch():
        kept = ledger.issue("nav")
        with pytest.raises(RuntimeError), ledger.savepoint():
            ledger.issue("nav")
            ledger.pause("1")
            raise RuntimeError("the job failed after two operations")
        after = ledger.issue("nav")
    assert after.number == "A002"  # the undone issue's number is free again
    assert set(_tickets(db_path)) == {kept.id, after.id}
    assert ledger.counter("1").state == "open"  # the pause was undone too
    assert len(seen) == 1
    assert [e.type for e in seen[0]] == ["ticket.issued", "ticket.issued"]
    assert [e.seq for e in seen[0]] == seqs(db_path) == [1, 2]


def test_events_reach_listeners_only_after_the_commit(ledger: Ledger, db_path: Path) -> None:
    seen: list[list[Event]] = []
    ledger.add_listener(seen.append)
    with raw(db_path) as other:
        with ledger.batch():
            for dep in ("nav", "byggesak", "nav"):
                ledger.issue(dep)
            ledger.next("1")
            assert seen == []  # nothing leaves before COMMIT
            assert other.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0  # not committed yet
        assert other.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 3
    assert len(seen) == 1  # one notification for the whole batch, in seq order
    assert [e.seq for e in seen[0]] == [1, 2, 3, 4]
    assert [e.type for e in seen[0]] == ["ticket.issued"] * 3 + [
        "ticket.called"
    ]  # no current ticket: no done
    assert seqs(db_path) == [e.seq for e in seen[0]]


def test_seq_contiguous_across_refusals_and_batches(make_ledger: Any, db_path: Path) -> None:
    ledger: Ledger = make_ledger(with_max(example(), bolig=2))
    seen: list[int] = []
    ledger.add_listener(lambda events: seen.extend(e.seq for e in events))
    rng = random.Random(3)
    refused = 0
    for _ in range(20):
        with ledger.batch():
            for _ in range(rng.randint(1, 8)):
                op = rng.choice(["issue", "bolig", "next", "done", "noshow"])
                try:
                    if op == "issue":
                        ledger.issue(rng.choice(["nav", "byggesak"]))
                    elif op == "bolig":
                        ledger.issue("bolig")  # refused once both numbers are live
                    elif op == "next":
                        ledger.next(rng.choice("1234"))
                    elif op == "done":
                        ledger.done(rng.choice("1234"))
                    else:
                        ledger.no_show(rng.choice("1234"))
                except Conflict:
                    refused += 1
        ledger.issue("nav")  # and single transactions in between
    assert refused > 0
    assert seen == seqs(db_path) == list(range(1, len(seen) + 1))


def test_a_failed_batch_rolls_back_everything(ledger: Ledger, db_path: Path) -> None:
    seen: list[list[Event]] = []
    ledger.add_listener(seen.append)
    with pytest.raises(ZeroDivisionError), ledger.batch():
        ledger.issue("nav")
        ledger.issue("nav")
        _ = 1 / 0
    assert seen == [] and _tickets(db_path) == {} and seqs(db_path) == []
    assert not ledger.in_batch
    assert ledger.issue("nav").number == "A001"  # the cache did not keep the undone numbers
    with pytest.raises(RuntimeError), ledger.batch(), ledger.batch():
        pass  # not reentrant


def test_a_transaction_lost_inside_the_batch_fails_the_whole_batch(ledger: Ledger, db_path: Path) -> None:
    """SQLite rolls the whole transaction back on some errors (full disk, I/O): no job may then
    be reported as committed, and later jobs must not commit on their own."""
    seen: list[list[Event]] = []
    ledger.add_listener(seen.append)
    with pytest.raises(BatchAborted), ledger.batch():
        ledger.issue("nav")
        with pytest.raises(BatchAborted), ledger.savepoint():
            ledger._conn.execute("ROLLBACK")  # what SQLite does itself after SQLITE_FULL
            raise OSError("disk full")
        ledger.issue("nav")  # would start a fresh transaction of its own
    assert seen == [] and _tickets(db_path) == {} and seqs(db_path) == []
    assert ledger.issue("nav").number == "A001"


def test_savepoint_needs_a_batch(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.savepoint():
        pass


def test_new_service_day_inside_a_batch(ledger: Ledger, clock: Clock, db_path: Path) -> None:
    old = ledger.issue("nav")
    seen: list[Event] = []
    ledger.add_listener(seen.extend)
    with ledger.batch():
        ledger.issue("nav")
        clock.advance(days=1)  # Tuesday 09:00: the day rolls over in the middle of the batch
        fresh = ledger.issue("nav")
    assert fresh.number == "A001"
    rows = _tickets(db_path)
    assert rows[old.id] == "void" and rows[fresh.id] == "waiting"
    assert [e.seq for e in seen] == seqs(db_path)[1:]
    assert "ticket.void" in [e.type for e in seen]


# -- the writer thread ---------------------------------------------------------------------------


def test_runner_group_commits_and_answers_after_the_events(db_path: Path, clock: Clock) -> None:
    log: list[str] = []
    event_calls: list[list[int]] = []

    def on_events(events: list[dict[str, Any]]) -> None:
        event_calls.append([int(e["seq"]) for e in events])
        log.append("events")

    async def main() -> None:
        async with held_runner(db_path, clock, on_events) as (runner, release):

            async def call(job: Callable[[Ledger], Any]) -> Any:
                try:
                    result = await runner.run(job)
                except Exception as exc:
                    result = exc
                log.append("answer")
                return result

            def issue(dep: str) -> Callable[[Ledger], Any]:
                return lambda ledger: ledger.issue(dep)

            calls = [asyncio.create_task(call(issue(dep))) for dep in ("nav", "byggesak", "nav")]
            calls.append(
                asyncio.create_task(call(lambda ledger: ledger.done("3")))
            )  # refused: no current ticket
            calls.append(asyncio.create_task(call(issue("bolig"))))
            await asyncio.sleep(0.05)
            await release()
            results = await asyncio.gather(*calls)
        assert [getattr(r, "number", None) for r in results] == ["A001", "B001", "A002", None, "C001"]
        assert isinstance(results[3], Conflict) and results[3].code == "no_current_ticket"
        assert event_calls == [[1, 2, 3, 4]]  # one commit, one hand-over, seq order
        assert log == ["events"] + ["answer"] * 5  # every answer after the events (after the commit)

    asyncio.run(main())
    assert seqs(db_path) == [1, 2, 3, 4]


def test_runner_fails_every_job_of_a_lost_batch(db_path: Path, clock: Clock) -> None:
    async def main() -> list[Any]:
        async with held_runner(db_path, clock) as (runner, release):

            def lose(ledger: Ledger) -> None:
                ledger._conn.execute("ROLLBACK")  # as SQLite does after SQLITE_FULL or SQLITE_IOERR
                raise OSError("disk full")

            async def call(job: Any) -> Any:
                try:
                    return await job
                except Exception as exc:
                    return exc

            jobs = [
                asyncio.create_task(call(runner.run(lambda ledger: ledger.issue("nav")))),
                asyncio.create_task(call(runner.run(lose))),
                asyncio.create_task(call(runner.run(lambda ledger: ledger.issue("nav")))),
            ]
            await asyncio.sleep(0.05)
            await release()
            results = await asyncio.gather(*jobs)
            after = await runner.run(lambda ledger: ledger.issue("nav"))  # the writer goes on
            assert after.number == "A001"
            return results

    results = asyncio.run(main())
    assert all(isinstance(r, BatchAborted) for r in results), results
    assert len(_tickets(db_path)) == 1 and seqs(db_path) == [1]


# -- SIGKILL while issuing in batches ----------------------------------------------------------

WORKER = """
import dataclasses, datetime as dt, random, sys, time
from zoneinfo import ZoneInfo
sys.path.insert(0, sys.argv[2])
from nummerlapp.config import load_settings
from nummerlapp.server.ledger import Ledger
base = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
t0 = time.monotonic()
settings = load_settings(None)  # numbers never run out, however far ahead of the reader it gets
settings = dataclasses.replace(
    settings, departments=tuple(dataclasses.replace(d, max_number=9999) for d in settings.departments)
)
ledger = Ledger(sys.argv[1], settings, clock=lambda: base + dt.timedelta(seconds=time.monotonic() - t0))
rng = random.Random(int(sys.argv[3]))
deps = ("nav", "byggesak", "bolig")
i = 0
while True:
    acknowledged = []
    with ledger.batch():
        for _ in range(rng.randint(1, 25)):
            acknowledged.append(ledger.issue(deps[i % 3]).id)
            if i % 7 == 6:
                try:
                    ledger.next(str(i % 4 + 1))
                except Exception:
                    pass
            i += 1
    sys.stdout.write("".join(t + "\\n" for t in acknowledged))  # only after the commit
    sys.stdout.flush()
"""


def test_sigkill_during_batched_issuing_loses_nothing_acknowledged(db_path: Path) -> None:
    Ledger(db_path, example(), clock=lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)).close()
    rng = random.Random(20261124)
    reported: list[str] = []
    for round_ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db_path), str(ROOT), str(round_)],
            stdout=subprocess.PIPE,
            text=True,
        )
        reported += read_then_kill(proc, rng.randint(1, 300))
        with raw(db_path) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            present = {r[0] for r in c.execute("SELECT id FROM tickets")}
            live = [
                r[0] for r in c.execute("SELECT number FROM tickets WHERE status IN ('waiting','called')")
            ]
        assert len(live) == len(set(live))
        missing = [tid for tid in reported if tid not in present]
        assert not missing, f"{len(missing)} acknowledged tickets lost"
        s = seqs(db_path)
        assert s == list(range(1, len(s) + 1))
    assert len(reported) == len(set(reported))
