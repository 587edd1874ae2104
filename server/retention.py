"""Folding closed service days into anonymous hourly aggregates, and deleting old ticket rows.

Two steps, both per service day and each in its own ``BEGIN IMMEDIATE`` transaction (the
ledger's writer and the server keep working between days; a crash loses at most one day's work
and leaves nothing half done):

1. *fold*: every service day before today whose tickets are not yet aggregated is turned into
   ``hourly_stats`` rows (see :mod:`server.stats`) and recorded in ``stats_days``. From then on
   reports read that day from the aggregates, which is what makes a one-month report fast.
2. *delete*: ticket rows of folded days older than ``days`` (default 90) are deleted. What is
   left of them is the anonymous aggregate: counts, sorted samples and language counts.

A fold of a day that is already folded does nothing, so the command can run every night, twice,
or after a month of downtime. Live tickets (waiting, called, serving) of an old day are never
deleted: they belong to the ledger until it closes them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.stats import StatsError, aggregate_rows, ensure_schema, pack

DEFAULT_DAYS = 90
LIVE_SQL = "status IN ('waiting', 'called', 'serving')"


@dataclass
class FoldResult:
    """What one run did: days aggregated, days whose rows were deleted, rows deleted."""

    folded: list[str] = field(default_factory=list)
    deleted_days: list[str] = field(default_factory=list)
    deleted_rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "folded": self.folded,
            "deleted_days": self.deleted_days,
            "deleted_rows": self.deleted_rows,
        }


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _immediate(conn: sqlite3.Connection, work: Callable[[], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        work()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def fold_day(conn: sqlite3.Connection, settings: Any, day: str, delete: bool, now: dt.datetime) -> int:
    """Aggregate one service day (and delete its closed rows if ``delete``); returns rows deleted.

    The day's rows are read inside the same transaction that writes the aggregates, so no ticket
    can change between the two.
    """
    deleted = 0

    def work() -> None:
        nonlocal deleted
        if conn.execute("SELECT 1 FROM stats_days WHERE service_day = ?", (day,)).fetchone():
            return  # another process folded it first
        rows = conn.execute(
            "SELECT service_day, origin, department, counter, status, lang, order_at, "
            "COALESCE(first_called_at, called_at), called_at, done_at, transfers "
            "FROM tickets WHERE service_day = ?",
            (day,),
        ).fetchall()
        tz = settings.site.tz
        conn.executemany(
            "INSERT INTO hourly_stats (hour_utc, hour_local, service_day, origin, department, "
            "counter, issued, called, served, no_show, void, transfers, waits, services, langs) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.hour_utc.isoformat(),
                    a.hour_utc.astimezone(tz).isoformat(),
                    a.service_day,
                    a.origin,
                    a.department,
                    a.counter,
                    a.issued,
                    a.called,
                    a.served,
                    a.no_show,
                    a.void,
                    a.transfers,
                    pack(a.waits),
                    pack(a.services),
                    json.dumps(a.langs, sort_keys=True),
                )
                for a in aggregate_rows(rows, tz)
            ],
        )
        stamp = now.isoformat(timespec="seconds")
        if delete:
            deleted = conn.execute(
                f"DELETE FROM tickets WHERE service_day = ? AND NOT ({LIVE_SQL})", (day,)
            ).rowcount
        conn.execute(
            "INSERT INTO stats_days (service_day, folded_at, tickets, raw_deleted_at) VALUES (?, ?, ?, ?)",
            (day, stamp, len(rows), stamp if delete else None),
        )

    _immediate(conn, work)
    return deleted


def delete_day(conn: sqlite3.Connection, day: str, now: dt.datetime) -> int:
    """Delete the closed ticket rows of an already folded day; returns rows deleted."""
    deleted = 0

    def work() -> None:
        nonlocal deleted
        if not conn.execute("SELECT 1 FROM stats_days WHERE service_day = ?", (day,)).fetchone():
            return  # never delete what is not folded
        deleted = conn.execute(
            f"DELETE FROM tickets WHERE service_day = ? AND NOT ({LIVE_SQL})", (day,)
        ).rowcount
        conn.execute(
            "UPDATE stats_days SET raw_deleted_at = ? WHERE service_day = ?",
            (now.isoformat(timespec="seconds"), day),
        )

    _immediate(conn, work)
    return deleted


def fold(
    conn: sqlite3.Connection,
    settings: Any,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
) -> FoldResult:
    """Fold every closed service day, and delete ticket rows older than ``days`` days.

    "Older than N days": service days before ``today - N`` (today in the site's time zone), so
    with N = 90 the rows of the last 90 days and of today stay. ``days = 0`` deletes every
    closed day's rows (today's are never folded: the day is not over).
    """
    if days < 0:
        raise StatsError(f"bad --days {days}: must be 0 or more")
    ensure_schema(conn)
    now = now or _now_utc()
    today = now.astimezone(settings.site.tz).date()
    cutoff = (today - dt.timedelta(days=days)).isoformat()
    result = FoldResult()
    todo = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT service_day FROM tickets WHERE service_day < ? "
            "AND service_day NOT IN (SELECT service_day FROM stats_days) ORDER BY service_day",
            (today.isoformat(),),
        )
    ]
    for day in todo:
        delete = day < cutoff
        result.deleted_rows += fold_day(conn, settings, day, delete, now)
        result.folded.append(day)
        if delete:
            result.deleted_days.append(day)
    stale = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT service_day FROM tickets WHERE service_day < ? AND NOT ({LIVE_SQL}) "
            "AND service_day IN (SELECT service_day FROM stats_days) ORDER BY service_day",
            (cutoff,),
        )
    ]
    for day in stale:
        result.deleted_rows += delete_day(conn, day, now)
        result.deleted_days.append(day)
    return result
