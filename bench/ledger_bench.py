#!/usr/bin/env python3
"""Ledger throughput: durable issues/s and next-calls/s in-process on the embedded example site.

Each figure is one committed, fsynced (WAL, synchronous=FULL) transaction per operation, on a
fresh file in a temporary directory, with the same clock the server uses (real time, pinned to a
weekday opening hour so the site is open). For comparison it also measures raw SQLite: one
INSERT per FULL-sync commit on the same disk, the floor no ledger code can beat.

    .venv/bin/python bench/ledger_bench.py [--n 3000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import load_settings
from server.ledger import Ledger

OPEN_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))  # a Monday, open


def moving_clock() -> dt.datetime:
    """Real elapsed time from a Monday 09:00, so the site is open and ages are real."""
    return OPEN_AT + dt.timedelta(seconds=time.perf_counter() - T0)


T0 = time.perf_counter()


def raw_baseline(path: Path, n: int) -> float:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, at TEXT)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", (f"t_{i:022d}", i, "2026-11-23T08:00:00.000000+00:00"))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def bench_ledger(path: Path, n: int) -> tuple[float, float]:
    settings = load_settings(None)
    ledger = Ledger(path, settings, clock=moving_clock)
    deps = ["nav", "byggesak", "bolig"]  # tolk keeps its own hours; three departments x 999 numbers
    # issue: keep each department under its 999 live numbers by calling between rounds
    start = time.perf_counter()
    for i in range(n):
        ledger.issue(deps[i % 3])
    issue_s = time.perf_counter() - start
    counters = ["1", "2", "3", "4"]
    start = time.perf_counter()
    calls = 0
    for i in range(n):
        if ledger.next(counters[i % 4]) is not None:
            calls += 1
    next_s = time.perf_counter() - start
    ledger.close()
    return n / issue_s, n / next_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=2700, help="operations per figure (max 2997: 3 x 999 live numbers)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        raw = [raw_baseline(Path(tmp) / f"raw{r}.db", args.n) for r in range(args.rounds)]
        issued, nexted = [], []
        for r in range(args.rounds):
            i, nx = bench_ledger(Path(tmp) / f"ledger{r}.db", args.n)
            issued.append(i)
            nexted.append(nx)
    print(f"operations per round: {args.n}, rounds: {args.rounds} (median shown, then all)")
    for name, values in (
        ("raw SQLite FULL-sync inserts/s", raw),
        ("ledger issues/s", issued),
        ("ledger next-calls/s", nexted),
    ):
        ordered = sorted(values)
        print(f"{name:34s} {ordered[len(ordered) // 2]:8.0f}   {' '.join(f'{v:.0f}' for v in values)}")


if __name__ == "__main__":
    main()
