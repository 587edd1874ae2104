#!/usr/bin/env python3
"""Benchmark of the statistics: a three-year ledger at 10,000 tickets a day.

    .venv/bin/python bench/stats_bench.py [--years 3] [--per-day 10000] [--raw-days 90] [--db PATH]

What it builds, and why this way (docs/benchmarks/stats.md has the figures):
- the last ``--raw-days`` days as real ticket rows in the ledger's own schema (executemany, one
  transaction), every one of them already folded into ``hourly_stats`` except yesterday — what
  a ledger looks like after the nightly ``stats fold`` has run for months;
- the older days only as folded aggregates, as retention leaves them. They are made by the same
  ``aggregate_rows`` the fold uses, from one week of generated rows, repeated for every older
  week (re-dated in the site's time zone). Writing 11 million rows only to delete them again
  would take the shared test machine most of an hour and measure nothing the fold does not.

Then it times: a one-month report (per department by day, and per counter by hour) over folded
days, over ticket rows that were never folded, and over an old month; and the nightly fold
(aggregate yesterday and delete the rows of the day that just passed ``--days``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from nummerlapp.bench.common import Figures  # noqa: E402
from nummerlapp.config import load_settings  # noqa: E402
from nummerlapp.server.ledger import schema  # noqa: E402
from nummerlapp.server.stats import report  # noqa: E402
from nummerlapp.server.stats.retention import HOURLY_INSERT, fold, fold_day, hourly_rows  # noqa: E402

UTC = dt.UTC
ROUTES = (("nav", ("1", "2")), ("bolig", ("2", "4")), ("byggesak", ("3", "4")), ("tolk", ("4",)))
LANGS = ("nb", "nb", "nb", "nb", "sv", "en")


def day_rows(
    day: dt.date, per_day: int, tz: object, rng: random.Random, first_id: int
) -> list[tuple[object, ...]]:
    """One service day of ticket rows (ledger columns), 08:00-18:00 local, all closed."""
    open_at = dt.datetime.combine(day, dt.time(8), tzinfo=tz).astimezone(UTC)  # type: ignore[arg-type]
    rows: list[tuple[object, ...]] = []
    span = 10 * 3600
    for i in range(per_day):
        origin, counters = ROUTES[rng.randrange(4)]
        dep = origin
        counter: str | None = rng.choice(counters)
        first: dt.datetime | None
        called: dt.datetime | None
        issued = open_at + dt.timedelta(seconds=span * i / per_day + rng.random())
        r = rng.random()
        transfers = 0
        if r < 0.03:  # left before being called; voided at the end of the day
            status, first, called, done, counter = "void", None, None, open_at + dt.timedelta(hours=11), None
        else:
            first = issued + dt.timedelta(seconds=rng.expovariate(1 / 480))
            called = first
            if r < 0.06:
                dep, counter, transfers = "bolig", "4", 1
                called = first + dt.timedelta(seconds=300 + rng.random() * 900)
            done = called + dt.timedelta(seconds=60 + rng.expovariate(1 / 420))
            status = "no_show" if r > 0.96 else "done"
        rows.append(
            (
                f"t_{first_id + i:012x}",
                f"A{i % 999 + 1:03d}",
                i % 999 + 1,
                i + 1,
                dep,
                origin,
                status,
                LANGS[i % 6],
                "bench",
                day.isoformat(),
                issued.isoformat(timespec="microseconds"),
                issued.isoformat(timespec="microseconds"),
                first_id + i,
                counter,
                called.isoformat(timespec="microseconds") if called else None,
                first.isoformat(timespec="microseconds") if first else None,
                done.isoformat(timespec="microseconds") if done else None,
                transfers,
            )
        )
    return rows


INSERT = """INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, source,
    service_day, issued_at, order_at, order_seq, counter, called_at, first_called_at, done_at, transfers)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def as_agg_columns(rows: list[tuple[object, ...]], tz: Any) -> list[tuple[Any, ...]]:
    """Raw rows of one day → the fold's hourly_stats rows (by the fold's own code)."""
    picked = [(r[9], r[5], r[4], r[13], r[6], r[7], r[11], r[15], r[14], r[16], r[17], 0) for r in rows]
    return hourly_rows(picked, tz)


def build(path: Path, years: int, per_day: int, raw_days: int, today: dt.date) -> None:
    settings = load_settings(None)
    tz = settings.site.tz
    rng = random.Random(8)
    conn = schema.connect(path)
    conn.execute("PRAGMA synchronous = OFF")  # building only; the timed parts use the ledger's pragmas
    first = today - dt.timedelta(days=365 * years)
    raw_from = today - dt.timedelta(days=raw_days)
    t0 = time.perf_counter()
    # Old days: one template week of aggregates, re-dated for every older week.
    template: dict[int, list[tuple[Any, ...]]] = {}
    for k in range(7):
        day = raw_from - dt.timedelta(days=7 - k)
        template[day.weekday()] = as_agg_columns(day_rows(day, per_day, tz, rng, 0), tz)
    conn.execute("BEGIN")
    day = first
    n_days = 0
    while day < raw_from:
        batch = []
        for _hour_utc, hour_local, _sd, *rest in template[day.weekday()]:
            local = dt.datetime.fromisoformat(hour_local)
            start = dt.datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC)
            batch.append((start.isoformat(), start.astimezone(tz).isoformat(), day.isoformat(), *rest))
        conn.executemany(HOURLY_INSERT, batch)
        conn.execute(
            "INSERT INTO stats_days VALUES (?, ?, ?, ?)",
            (day.isoformat(), "bench", per_day, "bench"),
        )
        day += dt.timedelta(days=1)
        n_days += 1
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    print(f"built {n_days} folded days in {t1 - t0:.1f} s", flush=True)
    # Recent days: real rows, written in one transaction.
    conn.execute("BEGIN")
    next_id = 1
    while day < today:
        rows = day_rows(day, per_day, tz, rng, next_id)
        next_id += per_day
        conn.executemany(INSERT, rows)
        day += dt.timedelta(days=1)
    conn.execute("COMMIT")
    t2 = time.perf_counter()
    print(f"built {raw_days} days of ticket rows ({next_id - 1} rows) in {t2 - t1:.1f} s", flush=True)
    # The nightly fold has run on every recent day but the last two (timed below).
    for d in range(raw_days, 2, -1):
        fold_day(conn, settings, (today - dt.timedelta(days=d)).isoformat(), False, dt.datetime.now(UTC))
    print(f"folded {raw_days - 2} recent days (rows kept) in {time.perf_counter() - t2:.1f} s", flush=True)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("ANALYZE")
    conn.close()


def timed(fn: object, repeat: int = 5) -> tuple[float, float]:
    """(median, max) wall time in ms of ``fn()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def collect(
    figs: Figures,
    years: int = 3,
    per_day: int = 10_000,
    raw_days: int = 34,
    repeat: int = 5,
    log: Any = print,
) -> None:
    """Build a ledger (``raw_days`` of rows, the rest folded), then time the reports and a fold.

    The runs of these figures are the ``repeat`` repetitions of each query on one ledger (the build
    takes most of the time); the fold's runs are the nights folded one after another.
    """
    settings = load_settings(None)
    tz = settings.site.tz
    today = dt.datetime.now(UTC).astimezone(tz).date()
    with tempfile.TemporaryDirectory(prefix="stats-bench-") as tmp:
        path = Path(tmp) / "ledger.db"
        t = time.perf_counter()
        build(path, years, per_day, raw_days, today)
        log(f"  stats: built {years} years at {per_day}/day in {time.perf_counter() - t:.0f} s")
        conn = schema.connect(path)

        def month(end: dt.date, by: str = "day", split: str = "department", days: int = 30) -> None:
            report(conn, settings, end - dt.timedelta(days=days - 1), end, by, split)

        recent = today - dt.timedelta(days=3)
        old = today - dt.timedelta(days=min(400, 365 * years - 40))
        for key, label, fn, goal in (
            ("month_by_day_ms", "one month, per department by day (folded days)", lambda: month(recent), 200.0),
            ("month_by_hour_ms", "one month, per counter by hour (folded days)",
             lambda: month(recent, "hour", "counter"), 200.0),
            ("old_month_by_day_ms", "one month 400 days back, per department by day", lambda: month(old), 200.0),
            ("one_day_ms", f"one day from {per_day:,} ticket rows (today's live page)",
             lambda: report(conn, settings, today - dt.timedelta(days=1), today - dt.timedelta(days=1), "hour"),
             None),
        ):  # fmt: skip
            f = figs.fig(key, label, "ms", "lower", goal, abs_margin=5.0)
            fn()  # warm the page cache once
            for _ in range(repeat):
                start = time.perf_counter()
                fn()
                f.add((time.perf_counter() - start) * 1000)
        fold_fig = figs.fig("fold_ms", "nightly fold: aggregate a day + delete a day's rows", "ms", "lower", 1000.0,
                            abs_margin=20.0)  # fmt: skip
        for k in (2, 1):
            night = dt.datetime.combine(today - dt.timedelta(days=k - 1), dt.time(2), tzinfo=tz).astimezone(
                UTC
            )
            start = time.perf_counter()
            fold(conn, settings, days=raw_days - 2, now=night)
            fold_fig.add((time.perf_counter() - start) * 1000)
        conn.close()
        log(
            "  stats: "
            + ", ".join(
                f"{f.key.split('.')[-1]} {statistics.median(f.runs):.0f}" for f in figs.items.values()
            )
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--per-day", type=int, default=10_000)
    ap.add_argument("--raw-days", type=int, default=90)
    ap.add_argument("--db", type=Path, default=None, help="reuse or keep this ledger file")
    args = ap.parse_args()
    settings = load_settings(None)
    tz = settings.site.tz
    now = dt.datetime.now(UTC)
    today = now.astimezone(tz).date()
    path = args.db or Path(tempfile.mkdtemp(prefix="stats-bench-")) / "ledger.db"
    if not path.exists():
        build(path, args.years, args.per_day, args.raw_days, today)
    print(f"ledger {path}: {path.stat().st_size / 1e6:.0f} MB")
    conn = schema.connect(path)
    tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    aggs = conn.execute("SELECT COUNT(*) FROM hourly_stats").fetchone()[0]
    print(f"{tickets} ticket rows, {aggs} hourly aggregate rows")

    def month(end: dt.date, by: str = "day", split: str = "department", days: int = 30) -> None:
        rows = report(conn, settings, end - dt.timedelta(days=days - 1), end, by, split)
        assert rows and sum(r["issued"] for r in rows if split == "department") in (0, days * args.per_day)

    recent = today - dt.timedelta(days=3)
    old = today - dt.timedelta(days=min(400, 365 * args.years - 40))
    for label, fn in (
        ("one month, per department by day, folded recent days", lambda: month(recent)),
        ("one month, per counter by hour, folded recent days", lambda: month(recent, "hour", "counter")),
        ("one month, per department by day, old month (aggregates only)", lambda: month(old)),
        ("one month, site by week, old month", lambda: month(old, "week", "site")),
    ):
        med, worst = timed(fn)
        print(f"{label}: median {med:.0f} ms, max {worst:.0f} ms")
    # Not folded: the same month straight from ticket rows (today's live figures use this path).
    conn.execute("BEGIN IMMEDIATE")
    span = min(30, args.raw_days - 3)
    conn.execute(
        "DELETE FROM stats_days WHERE service_day >= ?", ((recent - dt.timedelta(days=span)).isoformat(),)
    )
    med, worst = timed(lambda: month(recent, days=span), repeat=2)
    print(
        f"{span} days, per department by day, from ticket rows (never folded): median {med:.0f} ms, max {worst:.0f} ms"
    )
    conn.execute("ROLLBACK")

    def one_day() -> None:
        report(conn, settings, today - dt.timedelta(days=1), today - dt.timedelta(days=1), "hour")

    med, worst = timed(one_day)
    print(
        f"one day from {args.per_day} ticket rows (the live page's query): median {med:.0f} ms, max {worst:.0f} ms"
    )

    # The nightly fold: each night aggregates one new day and deletes one day's rows.
    times = []
    for k in (2, 1):
        night = dt.datetime.combine(today - dt.timedelta(days=k - 1), dt.time(2), tzinfo=tz).astimezone(UTC)
        t = time.perf_counter()
        result = fold(conn, settings, days=args.raw_days - 2, now=night)
        times.append((time.perf_counter() - t) * 1000)
        print(
            f"nightly fold {night.astimezone(tz):%Y-%m-%d}: folded {result.folded}, deleted {result.deleted_rows} rows "
            f"of {result.deleted_days} in {times[-1]:.0f} ms"
        )
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
