#!/usr/bin/env python3
"""Ledger throughput: durable issues/s and next-calls/s in-process on the embedded example site.

Every ledger operation is one committed, fsynced transaction (WAL, synchronous=FULL) on a fresh
file in a temporary directory, with a clock that runs in real time from a Monday 09:00 so the
site is open. The floor no ledger code can beat is raw SQLite doing one INSERT per FULL-sync
commit on the same disk; it is measured in the same run.

The machine is shared (other builds and tests run on its 2 cores), so the three measurements are
interleaved in blocks of ``--block`` operations: each sees the same background load, and the
ratio ledger/raw stays meaningful when the absolute figures wobble. Printed: the rate over all
blocks, and the best block (closest to an idle machine).

    .venv/bin/python bench/ledger_bench.py [--n 2700] [--block 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from nummerlapp.bench.common import Figures
from nummerlapp.config import load_settings
from nummerlapp.server.ledger import Ledger

OPEN_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))  # a Monday, open
T0 = time.perf_counter()
ISSUE_DEPS = ("nav", "byggesak", "bolig")  # tolk has its own hours; 3 x 999 live numbers
COUNTERS = ("1", "2", "3", "4")


def moving_clock() -> dt.datetime:
    """Real elapsed time from a Monday 09:00, so the site is open and ages are real."""
    return OPEN_AT + dt.timedelta(seconds=time.perf_counter() - T0)


class Raw:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, at TEXT)")
        self.i = 0

    def op(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO t VALUES (?, ?, ?)", (f"t_{self.i:022d}", self.i, "2026-11-23T08:00:00+00:00")
        )
        self.conn.execute("COMMIT")
        self.i += 1


def timed(fn, count: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return time.perf_counter() - start


def measure(n: int = 2700, block: int = 300) -> dict[str, list[float]]:
    """Seconds per block of ``block`` operations: raw SQLite, ledger issue, ledger next."""
    blocks = max(1, n // block)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        raw = Raw(Path(tmp) / "raw.db")
        ledger = Ledger(Path(tmp) / "ledger.db", load_settings(None), clock=moving_clock)
        counter = {"issue": 0, "next": 0}

        def issue() -> None:
            ledger.issue(ISSUE_DEPS[counter["issue"] % 3])
            counter["issue"] += 1

        def call_next() -> None:
            ledger.next(COUNTERS[counter["next"] % 4])
            counter["next"] += 1

        times: dict[str, list[float]] = {"raw": [], "issue": [], "next": []}
        for _ in range(blocks):  # issues first (next needs a queue), raw interleaved
            times["raw"].append(timed(raw.op, block))
            times["issue"].append(timed(issue, block))
        for _ in range(blocks):
            times["raw"].append(timed(raw.op, block))
            times["next"].append(timed(call_next, block))
        raw.conn.close()
        ledger.close()
    return times


def collect(
    figs: Figures, runs: int = 3, n: int = 900, block: int = 300, log: Callable[[str], None] = print
) -> None:
    """``runs`` fresh ledgers; each run's figure is its rate over all its blocks."""
    names = {
        "raw": ("raw_per_s", "raw SQLite FULL-sync single-row commits", None),
        "issue": ("issues_per_s", "ledger durable issues in-process", 3000.0),
        "next": ("next_per_s", "ledger durable next (done + call) in-process", None),
    }
    for i in range(runs):
        times = measure(n, block)
        rates = {k: len(v) * block / sum(v) for k, v in times.items()}
        for key, (fkey, label, goal) in names.items():
            figs.fig(fkey, label, "1/s", "higher", goal).add(rates[key])
        figs.fig("issue_vs_raw", "ledger issues / raw commits (steadier under load)", "ratio", "higher").add(
            rates["issue"] / rates["raw"]
        )
        log(f"  ledger run {i + 1}: " + ", ".join(f"{k} {v:.0f}/s" for k, v in rates.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2700, help="operations per figure (at most 2997)")
    parser.add_argument("--block", type=int, default=300, help="operations per interleaved block")
    args = parser.parse_args()
    times = measure(args.n, args.block)
    blocks = max(1, args.n // args.block)
    print(f"{blocks} blocks of {args.block} operations each, interleaved with raw SQLite")
    print(f"{'':34s} {'overall/s':>10s} {'best block/s':>13s}")
    names = {
        "raw": "raw SQLite FULL-sync inserts",
        "issue": "ledger issue",
        "next": "ledger next (done + call)",
    }
    overall = {}
    for key, label in names.items():
        overall[key] = len(times[key]) * args.block / sum(times[key])
        print(f"{label:34s} {overall[key]:10.0f} {args.block / min(times[key]):13.0f}")
    print(
        f"issue / raw: {overall['issue'] / overall['raw']:.2f}   next / raw: {overall['next'] / overall['raw']:.2f}"
    )


if __name__ == "__main__":
    main()
