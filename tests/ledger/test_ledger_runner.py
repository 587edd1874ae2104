"""The writer thread's one way in, ``run(fn)``: every job is all or nothing, alone or batched,
and account writes on the second connection never join (or wait for) a ledger batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nummerlapp.server.api import auth
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.ledger import Ledger, Ticket
from nummerlapp.tests.ledger.ledgerfixtures import Clock, example, held_runner, raw, seqs


class Refused(Exception):
    pass


def _issue_then_fail(ledger: Ledger) -> None:
    ledger.issue("nav")
    ledger.pause("1")
    raise Refused("after two operations")


def test_a_lone_job_is_all_or_nothing(db_path: Path, clock: Clock) -> None:
    events: list[int] = []

    async def main() -> Ticket:
        runner = LedgerRunner(
            db_path, example(), clock=clock, on_events=lambda ev: events.extend(e["seq"] for e in ev)
        )
        await runner.start()
        try:
            with pytest.raises(Refused):
                await runner.run(_issue_then_fail)  # nothing else queued: it runs alone
            return await runner.run(lambda ledger: ledger.issue("nav"))
        finally:
            await runner.close()

    ticket = asyncio.run(main())
    assert ticket.number == "A001"  # the failed job's issue was rolled back with it
    with raw(db_path) as c:
        assert c.execute("SELECT state FROM counters WHERE id = '1'").fetchone()[0] == "open"
        assert c.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    assert seqs(db_path) == events == [1]  # the failed job's events never left the thread


def test_account_writes_run_alone_between_batches(db_path: Path, clock: Clock) -> None:
    """A token made through ``run_conn`` while ledger jobs are queued neither deadlocks on the
    batch's write lock nor delays it past the busy timeout."""

    async def main() -> tuple[list[str], str]:
        async with held_runner(db_path, clock) as (runner, release):
            first = asyncio.create_task(runner.run(lambda ledger: ledger.issue("nav")))
            token = asyncio.create_task(runner.run_conn(lambda conn: auth.create_token(conn, "kiosk")))
            second = asyncio.create_task(runner.run(lambda ledger: ledger.issue("nav")))
            await asyncio.sleep(0.05)
            await release()
            tickets = [t.number for t in await asyncio.wait_for(asyncio.gather(first, second), 5)]
            secret, _info = await asyncio.wait_for(token, 5)
            return tickets, secret

    numbers, secret = asyncio.run(main())
    assert numbers == ["A001", "A002"]
    with raw(db_path) as c:
        assert auth.verify_token(c, secret) is not None
