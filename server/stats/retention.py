"""Folding closed service days into anonymous hourly aggregates, and deleting old ticket rows
and events.

Three steps, all per service day and each day in its own ``BEGIN IMMEDIATE`` transaction (the
ledger's writer and the server keep working between days; a crash loses at most one day's work
and leaves nothing half done):

1. *fold*: every service day before today whose tickets or booked visits are not yet
   aggregated: its tickets become ``hourly_stats`` rows (see :mod:`server.stats`), recorded in
   ``stats_days``, and its visits ``hourly_visits`` rows (the VisitAggs a live report builds,
   :mod:`server.stats.appointments`), recorded in ``stats_visit_days``. From then on reports
   read that day from the aggregates, which is what makes a one-month report fast and keeps the
   five-minute promise's figures once the rows are gone. A day folded before the visits were
   (migration 9) has only its visits folded by the next run.
2. *delete*: ticket rows of folded days older than ``days`` (default 90) are deleted, and the
   day's appointment rows with them (cancelled ones too; a visit whose ticket is still live
   stays with its ticket). What is left of them is the anonymous aggregate: counts, sorted
   samples and language counts. The events up to the end of that day go in the same
   transaction (they carry ticket ids and numbers too).
3. *trim events*: events older than the same ``days`` that step 2 did not reach (days without
   ticket rows, days deleted before events were trimmed) go, one service day per transaction.

Events are never deleted from the cut-off on, and the latest event always stays: ``events.seq``
is the table's rowid (no AUTOINCREMENT), so SQLite gives a new event ``MAX(seq) + 1`` and an
empty table would start again at 1. Keeping the newest row keeps ``seq`` rising across trims and
restarts. Deletion follows ``seq``: everything below the first event at or after a day's end,
which is exactly the events before it even if the clock once stepped back.

A fold of a day that is already folded does nothing, so the command can run every night, twice,
or after a month of downtime. Live tickets (waiting, called, serving, parked) of an old day are
never deleted: they belong to the ledger until it closes them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from nummerlapp.config.hours import day_start, service_day
from nummerlapp.server.ledger.reads import db_time
from nummerlapp.server.stats import appointments
from nummerlapp.server.stats.appointments import VisitAgg
from nummerlapp.server.stats.figures import RAW_COLUMNS, StatsError, aggregate_rows, pack, visit_aggs

T = TypeVar("T")

DEFAULT_DAYS = 90
LIVE_SQL = "status IN ('waiting', 'called', 'serving', 'parked')"


@dataclass
class FoldResult:
    """What one run did: days aggregated, days whose rows were deleted, ticket rows, visits and
    events deleted."""

    folded: list[str] = field(default_factory=list)
    deleted_days: list[str] = field(default_factory=list)
    deleted_rows: int = 0  # ticket rows
    deleted_visits: int = 0  # appointment rows
    deleted_events: int = 0

    def add(self, gone: Deleted) -> None:
        self.deleted_rows += gone.tickets
        self.deleted_visits += gone.visits
        self.deleted_events += gone.events

    def to_json(self) -> dict[str, Any]:
        return {
            "folded": self.folded,
            "deleted_days": self.deleted_days,
            "deleted_rows": self.deleted_rows,
            "deleted_visits": self.deleted_visits,
            "deleted_events": self.deleted_events,
        }


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _immediate(conn: sqlite3.Connection, work: Callable[[], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        value = work()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return value


def _day_end(day: str | dt.date, tz: Any) -> str:
    """The stored (UTC text) form of the instant the service day ``day`` ends."""
    date = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return db_time(day_start(date + dt.timedelta(days=1), tz))


def _delete_events_before(conn: sqlite3.Connection, end: str) -> int:
    """Inside a transaction: delete the events before the instant ``end`` (stored UTC text),
    never the latest event; returns how many.

    Goes by ``seq``: every event below the first one at or after ``end``. Events are appended in
    time order, so that is every event before ``end``; if the clock ever stepped back, an older
    straggler after that first event stays (a later run takes it) and nothing newer goes. The
    scan stops at that first event, so it reads only the rows it deletes.
    """
    row = conn.execute("SELECT seq FROM events WHERE at >= ? ORDER BY seq LIMIT 1", (end,)).fetchone()
    if row is None:  # every event is older: all go but the latest, which keeps seq rising
        row = conn.execute("SELECT MAX(seq) FROM events").fetchone()
        if row[0] is None:
            return 0
    return int(conn.execute("DELETE FROM events WHERE seq < ?", (row[0],)).rowcount)


HOURLY_INSERT = (
    "INSERT INTO hourly_stats (hour_utc, hour_local, service_day, origin, department, "
    "counter, issued, called, served, no_show, void, transfers, waits, services, langs) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def hourly_rows(rows: Any, tz: Any) -> list[tuple[Any, ...]]:
    """One day's ticket rows (the fold's SELECT) → ``hourly_stats`` rows in HOURLY_INSERT's order."""
    return [
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
    ]


VISITS_INSERT = (
    "INSERT INTO hourly_visits (hour_utc, hour_local, service_day, department, counter, booked, "
    "checked_in, no_show, waits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A visit's row stays while its ticket is live (the ledger has not closed it yet), as the ticket does.
VISIT_KEPT_SQL = f"EXISTS (SELECT 1 FROM tickets t WHERE t.id = appointments.ticket AND t.{LIVE_SQL})"


def visit_hour_rows(aggs: list[VisitAgg], tz: Any) -> list[tuple[Any, ...]]:
    """VisitAggs → ``hourly_visits`` rows in VISITS_INSERT's order."""
    return [
        (
            a.hour_utc.isoformat(),
            a.hour_utc.astimezone(tz).isoformat(),
            a.service_day,
            a.department,
            a.counter,
            a.booked,
            a.checked_in,
            a.no_show,
            pack(a.waits),
        )
        for a in aggs
    ]


@dataclass
class Deleted:
    """What one day's transaction deleted."""

    tickets: int = 0
    visits: int = 0
    events: int = 0


def _fold_tickets(conn: sqlite3.Connection, settings: Any, day: str, stamp: str) -> None:
    """Inside the day's transaction: its tickets into ``hourly_stats``, the day into ``stats_days``."""
    rows = conn.execute(f"SELECT {RAW_COLUMNS} FROM tickets WHERE service_day = ?", (day,)).fetchall()
    conn.executemany(HOURLY_INSERT, hourly_rows(rows, settings.site.tz))
    conn.execute(
        "INSERT INTO stats_days (service_day, folded_at, tickets, raw_deleted_at) VALUES (?, ?, ?, NULL)",
        (day, stamp, len(rows)),
    )


def _fold_visits(conn: sqlite3.Connection, settings: Any, day: str, now: dt.datetime, stamp: str) -> None:
    """Inside the day's transaction: its booked visits into ``hourly_visits`` (the same VisitAggs a
    live report builds, as they stand at ``now``), the day into ``stats_visit_days``."""
    rows = list(appointments.visit_rows(conn, [day]))
    aggs = visit_aggs(rows, settings, now)
    conn.executemany(VISITS_INSERT, visit_hour_rows(aggs, settings.site.tz))
    conn.execute(
        "INSERT INTO stats_visit_days (service_day, folded_at, visits, raw_deleted_at) VALUES (?, ?, ?, NULL)",
        (day, stamp, len(rows)),
    )


def _folded(conn: sqlite3.Connection, day: str) -> tuple[bool, bool]:
    """(tickets folded, visits folded) for the service day ``day``."""
    tickets = conn.execute("SELECT 1 FROM stats_days WHERE service_day = ?", (day,)).fetchone()
    visits = conn.execute("SELECT 1 FROM stats_visit_days WHERE service_day = ?", (day,)).fetchone()
    return tickets is not None, visits is not None


def _delete_rows(conn: sqlite3.Connection, settings: Any, day: str, stamp: str) -> Deleted:
    """Inside the day's transaction, once both are folded: the day's closed tickets, the visits
    whose ticket is not live, and the events up to the day's end."""
    gone = Deleted()
    gone.tickets = conn.execute(
        f"DELETE FROM tickets WHERE service_day = ? AND NOT ({LIVE_SQL})", (day,)
    ).rowcount
    gone.visits = conn.execute(
        f"DELETE FROM appointments WHERE service_day = ? AND NOT {VISIT_KEPT_SQL}", (day,)
    ).rowcount
    gone.events = _delete_events_before(conn, _day_end(day, settings.site.tz))
    conn.execute("UPDATE stats_days SET raw_deleted_at = ? WHERE service_day = ?", (stamp, day))
    conn.execute("UPDATE stats_visit_days SET raw_deleted_at = ? WHERE service_day = ?", (stamp, day))
    return gone


def fold_day(conn: sqlite3.Connection, settings: Any, day: str, delete: bool, now: dt.datetime) -> Deleted:
    """Aggregate one service day's tickets and booked visits, whichever is not aggregated yet
    (and, if ``delete``, delete its closed rows, its visits and the events up to its end);
    returns what was deleted.

    The day's rows are read inside the same transaction that writes the aggregates, so no ticket
    or visit can change between the two.
    """

    def work() -> Deleted:
        tickets, visits = _folded(conn, day)
        if tickets and visits:
            return Deleted()  # another process folded it first
        stamp = now.isoformat(timespec="seconds")
        if not tickets:
            _fold_tickets(conn, settings, day, stamp)
        if not visits:
            _fold_visits(conn, settings, day, now, stamp)
        return _delete_rows(conn, settings, day, stamp) if delete else Deleted()

    return _immediate(conn, work)


def delete_day(conn: sqlite3.Connection, settings: Any, day: str, now: dt.datetime) -> Deleted:
    """Delete the closed ticket rows and the visits of an already folded day, and the events up
    to its end; returns what was deleted."""

    def work() -> Deleted:
        if _folded(conn, day) != (True, True):
            return Deleted()  # never delete what is not folded
        return _delete_rows(conn, settings, day, now.isoformat(timespec="seconds"))

    return _immediate(conn, work)


def trim_events(conn: sqlite3.Connection, settings: Any, cutoff: dt.date) -> int:
    """Delete the events of service days before ``cutoff``, one day per transaction, keeping the
    latest event; returns how many went. Days are taken from the oldest event left, so empty
    days cost nothing."""
    tz = settings.site.tz
    total = 0
    day: dt.date | None = None
    while True:
        oldest = conn.execute("SELECT seq, at FROM events ORDER BY seq LIMIT 1").fetchone()
        latest = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        if oldest is None or oldest[0] == latest:
            return total  # nothing, or only the latest event, which stays
        first = service_day(dt.datetime.fromisoformat(oldest[1]), tz)
        day = first if day is None else max(first, day + dt.timedelta(days=1))
        if day >= cutoff:
            return total
        total += _immediate(conn, partial(_delete_events_before, conn, _day_end(day, tz)))


def fold(
    conn: sqlite3.Connection,
    settings: Any,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
) -> FoldResult:
    """Fold every closed service day, and delete ticket rows and events older than ``days`` days.

    "Older than N days": service days before ``today - N`` (today in the site's time zone), so
    with N = 90 the rows and events of the last 90 days and of today stay. ``days = 0`` deletes
    every closed day's rows and events (today's are never folded: the day is not over). The
    latest event always stays (see the module docstring).
    """
    if days < 0:
        raise StatsError(f"bad --days {days}: must be 0 or more")
    now = now or _now_utc()
    today = now.astimezone(settings.site.tz).date()
    cutoff = (today - dt.timedelta(days=days)).isoformat()
    result = FoldResult()
    # Days with tickets or visits whose tickets or visits are not aggregated yet (a day folded
    # before migration 9 has its tickets in stats_days but not its visits).
    todo = [
        r[0]
        for r in conn.execute(
            "SELECT service_day FROM tickets WHERE service_day < ?1 "
            "UNION SELECT service_day FROM appointments WHERE service_day < ?1 "
            "EXCEPT SELECT service_day FROM stats_days WHERE service_day IN "
            "(SELECT service_day FROM stats_visit_days) ORDER BY 1",
            (today.isoformat(),),
        )
    ]
    for day in todo:
        delete = day < cutoff
        result.add(fold_day(conn, settings, day, delete, now))
        result.folded.append(day)
        if delete:
            result.deleted_days.append(day)
    # Folded days with rows left: their closed tickets, or visits whose ticket is not live.
    stale = [
        r[0]
        for r in conn.execute(
            f"SELECT service_day FROM tickets WHERE service_day < ?1 AND NOT ({LIVE_SQL}) "
            f"UNION SELECT service_day FROM appointments WHERE service_day < ?1 AND NOT {VISIT_KEPT_SQL} "
            "INTERSECT SELECT service_day FROM stats_days WHERE service_day IN "
            "(SELECT service_day FROM stats_visit_days) ORDER BY 1",
            (cutoff,),
        )
    ]
    for day in stale:
        result.add(delete_day(conn, settings, day, now))
        result.deleted_days.append(day)
    result.deleted_events += trim_events(conn, settings, dt.date.fromisoformat(cutoff))
    return result
