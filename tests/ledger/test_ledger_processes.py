"""Real processes on one ledger file: concurrent issuing, and SIGKILL at random moments."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from nummerlapp.server.ledger import Ledger
from nummerlapp.tests.ledger.ledgerfixtures import Clock, example, raw, read_then_kill, seqs

WORKER = Path(__file__).with_name("ledger_worker.py")


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _check_file(path: Path) -> None:
    """What must hold in the file whatever happened to the writers."""
    with raw(path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        live = [
            r[0]
            for r in c.execute("SELECT number FROM tickets WHERE status IN ('waiting','called','serving')")
        ]
        assert len(live) == len(set(live))
        ids = [r[0] for r in c.execute("SELECT id FROM tickets")]
        assert len(ids) == len(set(ids))
    s = seqs(path)
    assert s == list(range(1, len(s) + 1))


def test_four_processes_issue_at_once(db_path: Path) -> None:
    Ledger(db_path, example()).close()  # schema in place (opening concurrently is also safe)
    per_proc, deps = 60, "nav,byggesak"
    procs = [_spawn(str(db_path), "issue", str(per_proc), deps) for _ in range(4)]
    try:
        for p in procs:  # all four are up before any issues: real contention
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs)
    reported = [line.split() for out in outputs for line in out.splitlines()]
    assert len(reported) == 4 * per_proc
    assert len({tid for tid, _ in reported}) == len(reported)
    by_prefix: dict[str, list[int]] = defaultdict(list)
    for _, number in reported:
        by_prefix[number[0]].append(int(number[1:]))
    for prefix in ("A", "B"):
        assert sorted(by_prefix[prefix]) == list(range(1, 2 * per_proc + 1)), (
            prefix
        )  # contiguous, no duplicates
    with raw(db_path) as c:
        for dep in ("nav", "byggesak"):
            day_seqs = sorted(r[0] for r in c.execute("SELECT seq FROM tickets WHERE department=?", (dep,)))
            assert day_seqs == list(range(1, 2 * per_proc + 1))
    _check_file(db_path)
    assert len(seqs(db_path)) == 4 * per_proc


def test_sigkill_while_issuing_loses_nothing_reported(db_path: Path, clock: Clock) -> None:
    rng = random.Random(20261123)
    reported: list[str] = []
    for _ in range(6):
        reported += read_then_kill(_spawn(str(db_path), "churn"), rng.randint(1, 120))
        _check_file(db_path)  # readable and consistent straight after the kill, before any reopen
        with raw(db_path) as c:
            present = {r[0] for r in c.execute("SELECT id FROM tickets")}
        missing = [tid for tid in reported if tid not in present]
        assert not missing, f"{len(missing)} reported tickets lost"
    assert len(reported) == len(set(reported))
    # and the ledger reopens normally and goes on numbering after what is there
    ledger = Ledger(db_path, example(), clock=lambda: clock.now.replace(hour=11))
    try:
        before = len(seqs(db_path))
        t = ledger.issue("tolk")
        assert t.number == "D001" and len(seqs(db_path)) == before + 1
    finally:
        ledger.close()
    _check_file(db_path)
