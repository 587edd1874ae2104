"""Figures for managers, computed from the ticket ledger and from the folded hourly aggregates.

Everything goes through one intermediate shape, :class:`HourAgg`: the tickets of one local hour
(by original issue time), one origin department, one final department and one final counter.
A report over live ticket rows first builds HourAggs from those rows; a report over folded days
reads the HourAggs that :mod:`server.stats.retention` stored. Both paths then run the same combining
code, so a report gives the same figures before and after folding *by construction*, and the
tests check it anyway.

Why exact samples rather than a histogram: per hour and key the waits and service times are
kept as a sorted array of whole seconds (uint32). At 10,000 tickets a day that is 80 kB a day,
and it lets the median, the 90th percentile and the maximum be exact over any period, where a
histogram would need a stated precision. The samples are anonymous: no ticket id or number, a
sorted array breaks the link between a wait and its service time, and languages are counted
separately. See docs/STATS.md for the definitions of every figure.

Booked visits go the same way through their own intermediate, ``appointments.VisitAgg``:
:func:`collect_visits` reads folded days from ``hourly_visits`` and the other days from the
appointments and their tickets (:func:`visit_aggs`, which the fold calls too), and
:func:`merge_visits` puts their figures beside the walk-ins'.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from nummerlapp.common.errors import NummerlappError
from nummerlapp.server.stats import appointments
from nummerlapp.server.stats.appointments import VisitAgg

UTC = dt.UTC
BY = ("hour", "day", "week", "month")
SPLITS = ("department", "counter", "site")


class StatsError(NummerlappError):
    """A report request that cannot be answered (bad dates, unknown department, ...).

    ``code`` is the protocol's error code the API answers with.
    """

    def __init__(self, message: str, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.code = code


# --- storage ---------------------------------------------------------------------------------
# The tables (hourly_stats, stats_days) are migration 2 of the ledger's one list
# (server/ledger/schema.py); a report reads them on a read-only connection.


def pack(values: Iterable[int]) -> bytes:
    """Sorted uint32 little-endian: the stored form of a sample array."""
    arr = array("I", sorted(values))
    if sys.byteorder == "big":  # pragma: no cover - every target machine is little-endian
        arr.byteswap()
    return arr.tobytes()


def unpack(blob: bytes) -> array[int]:
    arr = array("I")
    arr.frombytes(blob)
    if sys.byteorder == "big":  # pragma: no cover
        arr.byteswap()
    return arr


# --- the intermediate shape ----------------------------------------------------------------


@dataclass
class HourAgg:
    """Tickets of one local hour and one (origin, department, counter) key."""

    hour_utc: dt.datetime
    service_day: str
    origin: str
    department: str
    counter: str
    issued: int = 0
    called: int = 0
    served: int = 0
    no_show: int = 0
    void: int = 0
    transfers: int = 0
    waits: array[int] = field(default_factory=lambda: array("I"))
    services: array[int] = field(default_factory=lambda: array("I"))
    langs: dict[str, int] = field(default_factory=dict)


def _parse(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:  # the ledger always writes an offset; be safe with old rows
        value = value.replace(tzinfo=UTC)
    return value


def _seconds(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return max(0, int((_parse(end) - _parse(start)).total_seconds()))


class HourBuckets:
    """Maps an instant to the UTC start of its *local* hour (DST- and half-hour-zone-safe).

    Flooring the wall time keeps PEP 495's ``fold``, so the two 02:00 hours of the 25-hour day
    are two buckets. Results are cached per minute of the stored text: a day has at most 1,440.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._cache: dict[str, dt.datetime] = {}

    def __call__(self, text: str) -> dt.datetime:
        key = text[:16] + text[-6:]
        hit = self._cache.get(key)
        if hit is None:
            local = _parse(text).astimezone(self.tz)
            hit = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
            self._cache[key] = hit
        return hit


RAW_COLUMNS = (
    "service_day, origin, department, counter, status, lang, order_at, "
    # a booked visit's ticket has no walk-in wait: its promise is measured apart (appointments.py)
    "CASE WHEN appt_start IS NULL THEN COALESCE(first_called_at, called_at) END, called_at, done_at, "
    "transfers, rewait_s"
)


def _raw_rows(conn: sqlite3.Connection, days: list[str]) -> Iterator[tuple[Any, ...]]:
    for i in range(0, len(days), 200):
        chunk = days[i : i + 200]
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(f"SELECT {RAW_COLUMNS} FROM tickets WHERE service_day IN ({marks})", chunk)


def aggregate_rows(rows: Iterable[tuple[Any, ...]], tz: ZoneInfo) -> list[HourAgg]:
    """Build HourAggs from ticket rows (columns as in ``RAW_COLUMNS``).

    The wait after a transfer (``rewait_s``: from the transfer to the next call, summed over a
    ticket's transfers) is a wait sample of the department the ticket waited for, counted once
    the ticket was called there: it goes into an HourAgg whose origin is that department (with
    nothing issued), so the combining code and the fold need nothing new for it.
    """
    buckets = HourBuckets(tz)
    out: dict[tuple[dt.datetime, str, str, str], HourAgg] = {}

    def agg_of(hour: dt.datetime, day: str, origin: str, dep: str, counter: str) -> HourAgg:
        key = (hour, origin, dep, counter)
        agg = out.get(key)
        if agg is None:
            agg = out[key] = HourAgg(hour, day, origin, dep, counter)
        return agg

    for day, origin, dep, counter, status, lang, order_at, first_call, call, done, transfers, rewait in rows:
        origin = origin or dep
        hour = buckets(order_at)
        agg = agg_of(hour, day, origin, dep, counter or "")
        agg.issued += 1
        agg.transfers += transfers or 0
        agg.langs[lang] = agg.langs.get(lang, 0) + 1
        wait = _seconds(order_at, first_call)
        if wait is not None:
            agg.called += 1
            agg.waits.append(wait)
        if rewait is not None and call is not None:  # called again after a transfer
            agg_of(hour, day, dep, dep, counter or "").waits.append(max(0, int(rewait)))
        if status == "done":
            agg.served += 1
            service = _seconds(call, done)
            if service is not None:
                agg.services.append(service)
        elif status == "no_show":
            agg.no_show += 1
        elif status == "void":
            agg.void += 1
    return list(out.values())


def load_folded(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> tuple[list[HourAgg], set[str]]:
    """Stored HourAggs of folded service days in [start, end], and the set of those days."""
    days = {
        r[0]
        for r in conn.execute(
            "SELECT service_day FROM stats_days WHERE service_day BETWEEN ? AND ?",
            (start.isoformat(), end.isoformat()),
        )
    }
    hours: dict[str, dt.datetime] = {}
    out: list[HourAgg] = []
    for row in conn.execute(
        "SELECT hour_utc, service_day, origin, department, counter, issued, called, served, "
        "no_show, void, transfers, waits, services, langs FROM hourly_stats "
        "WHERE service_day BETWEEN ? AND ? "
        "AND service_day IN (SELECT service_day FROM stats_days)",  # folded days only
        (start.isoformat(), end.isoformat()),
    ):
        hour = hours.get(row[0])
        if hour is None:
            hour = hours[row[0]] = _parse(row[0])
        out.append(
            HourAgg(
                hour,
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                unpack(row[11]),
                unpack(row[12]),
                json.loads(row[13]),
            )
        )
    return out, days


def collect(conn: sqlite3.Connection, tz: ZoneInfo, start: dt.date, end: dt.date) -> list[HourAgg]:
    """Every HourAgg of service days start..end: folded days from storage, the rest from rows.

    One read transaction (a WAL snapshot), so a fold committing meanwhile can neither count a
    day twice nor hide it; on a read-only connection this takes no lock the writer needs.
    """
    with snapshot(conn):
        folded, folded_days = load_folded(conn, start, end)
        raw_days = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT service_day FROM tickets WHERE service_day BETWEEN ? AND ?",
                (start.isoformat(), end.isoformat()),
            )
            if r[0] not in folded_days
        ]
        return folded + aggregate_rows(_raw_rows(conn, raw_days), tz)


@contextlib.contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction (a WAL snapshot) around the reads inside, unless one is open already:
    a fold committing meanwhile can neither count a day twice nor hide it."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        yield
    finally:
        if own:
            conn.execute("COMMIT")


# --- booked visits (server/stats/appointments.py) ----------------------------------------------


def visit_aggs(
    rows: Iterable[tuple[Any, ...]], settings: Any, now: dt.datetime | None = None
) -> list[VisitAgg]:
    """VisitAggs from visit rows (``appointments.visit_rows``): the live report's and the fold's one way."""
    now = now or dt.datetime.now(UTC)
    return appointments.aggregate_visits(rows, HourBuckets(settings.site.tz), settings, now)


def load_folded_visits(
    conn: sqlite3.Connection, start: dt.date, end: dt.date
) -> tuple[list[VisitAgg], set[str]]:
    """Stored VisitAggs of the service days in [start, end] whose visits are folded, and those days."""
    span = (start.isoformat(), end.isoformat())
    days = {
        r[0]
        for r in conn.execute(
            "SELECT service_day FROM stats_visit_days WHERE service_day BETWEEN ? AND ?", span
        )
    }
    hours: dict[str, dt.datetime] = {}
    out: list[VisitAgg] = []
    for hour_text, day, dep, desk, booked, checked_in, no_show, waits in conn.execute(
        "SELECT hour_utc, service_day, department, counter, booked, checked_in, no_show, waits "
        "FROM hourly_visits WHERE service_day BETWEEN ? AND ? "
        "AND service_day IN (SELECT service_day FROM stats_visit_days)",
        span,
    ):
        hour = hours.get(hour_text)
        if hour is None:
            hour = hours[hour_text] = _parse(hour_text)
        out.append(VisitAgg(hour, day, dep, desk, booked, checked_in, no_show, unpack(waits)))
    return out, days


def collect_visits(
    conn: sqlite3.Connection, settings: Any, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> list[VisitAgg]:
    """Every VisitAgg of service days start..end: folded days from storage, the rest from the
    appointments and their tickets (as :func:`collect` does for the walk-ins)."""
    with snapshot(conn):
        folded, folded_days = load_folded_visits(conn, start, end)
        raw_days = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT service_day FROM appointments WHERE service_day BETWEEN ? AND ?",
                (start.isoformat(), end.isoformat()),
            )
            if r[0] not in folded_days
        ]
        return folded + visit_aggs(appointments.visit_rows(conn, raw_days), settings, now)


# --- combining into a report ---------------------------------------------------------------


def period_of(hour_utc: dt.datetime, by: str, tz: ZoneInfo) -> tuple[str, str]:
    """(label, local start ISO) of the period containing the hour starting at ``hour_utc``."""
    local = hour_utc.astimezone(tz)
    if by == "hour":
        text = local.isoformat(timespec="minutes")
        return text, text
    day = local.date()
    if by == "day":
        return day.isoformat(), day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        monday = day - dt.timedelta(days=day.weekday())
        return f"{year}-W{week:02d}", monday.isoformat()
    return f"{day:%Y-%m}", day.replace(day=1).isoformat()


@dataclass
class _Group:
    issued: int = 0
    called: int = 0
    served: int = 0
    no_show: int = 0
    void: int = 0
    transfers: int = 0
    waits: list[array[int]] = field(default_factory=list)
    services: list[array[int]] = field(default_factory=list)
    langs: dict[str, int] = field(default_factory=dict)


def summary(arrays: list[array[int]]) -> dict[str, float | int | None]:
    """Mean, median, 90th percentile (nearest rank) and maximum of the samples, in seconds.

    Median: the middle value, or the mean of the two middle values. P90: the smallest value
    that at least 90 % of the samples do not exceed (nearest rank), so "90 % waited at most p90".
    """
    values = array("I")
    for a in arrays:
        values.extend(a)
    n = len(values)
    if n == 0:
        return {"mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    rank = -(-90 * n // 100)  # ceil(0.9 n) without floats
    return {
        "mean": round(sum(ordered) / n, 1),
        "median": median,
        "p90": ordered[rank - 1],
        "max": ordered[-1],
    }


def _within(arrays: list[array[int]], limit_s: int) -> float | None:
    n = sum(len(a) for a in arrays)
    if n == 0:
        return None
    ok = sum(1 for a in arrays for v in a if v <= limit_s)
    return round(ok / n, 4)


def combine(
    aggs: Iterable[HourAgg],
    tz: ZoneInfo,
    by: str,
    split: str = "department",
    department: str | None = None,
    counter: str | None = None,
    wait_target_s: int = 15 * 60,
) -> list[dict[str, Any]]:
    """Report rows, one per period and department (or counter, or the whole site).

    Attribution (docs/STATS.md): issued, called, transfers, waits and languages belong to the
    department that issued the number (the visitor's choice; the wait is from taking the paper
    to the first call); served, no-shows, voids and service times to the department where the
    ticket ended. Per counter, the tickets that counter handled last. ``department`` filters
    each side by its own owner, in every split, so the figures of a department are the same
    whether they are shown per department, per counter or for the site.
    """
    groups: dict[tuple[str, str, str, str], _Group] = {}
    periods: dict[dt.datetime, tuple[str, str, str]] = {}

    for agg in aggs:
        if counter is not None and agg.counter != counter:
            continue
        if split == "counter" and not agg.counter:
            continue  # never called: no counter handled it
        per = periods.get(agg.hour_utc)
        if per is None:
            label, start = period_of(agg.hour_utc, by, tz)
            # Sort hours by instant: the two 02:00 hours of the 25-hour day sort by UTC.
            order = agg.hour_utc.isoformat() if by == "hour" else start
            per = periods[agg.hour_utc] = (order, label, start)
        for owner, front in ((agg.origin, True), (agg.department, False)):
            if department is not None and owner != department:
                continue
            key = owner if split == "department" else agg.counter if split == "counter" else ""
            g = groups.get((*per, key))
            if g is None:
                g = groups[(*per, key)] = _Group()
            if front:
                g.issued += agg.issued
                g.called += agg.called
                g.transfers += agg.transfers
                g.waits.append(agg.waits)
                for lang, n in agg.langs.items():
                    g.langs[lang] = g.langs.get(lang, 0) + n
            else:
                g.served += agg.served
                g.no_show += agg.no_show
                g.void += agg.void
                g.services.append(agg.services)

    rows: list[dict[str, Any]] = []
    for (_, label, start, key), g in sorted(groups.items()):
        wait = summary(g.waits)
        service = summary(g.services)
        row: dict[str, Any] = {"period": label, "start": start}
        if split != "site":
            row[split] = key
        row.update(
            issued=g.issued,
            called=g.called,
            served=g.served,
            no_show=g.no_show,
            void=g.void,
            transfers=g.transfers,
            wait_mean_s=wait["mean"],
            wait_median_s=wait["median"],
            wait_p90_s=wait["p90"],
            wait_max_s=wait["max"],
            within_target=_within(g.waits, wait_target_s),
            service_mean_s=service["mean"],
            service_median_s=service["median"],
            service_p90_s=service["p90"],
            service_max_s=service["max"],
            langs=dict(sorted(g.langs.items())),
        )
        rows.append(row)
    return rows


# --- the entry point ----------------------------------------------------------------------


def parse_day(text: str, name: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise StatsError(f"bad {name} {text!r}: expected YYYY-MM-DD") from None


def check(
    settings: Any,
    start: dt.date,
    end: dt.date,
    by: str = "day",
    split: str = "department",
    department: str | None = None,
    counter: str | None = None,
) -> None:
    """Refuse a request that cannot be answered, before anything is opened or written."""
    if by not in BY:
        raise StatsError(f"bad period {by!r}: expected one of {', '.join(BY)}")
    if split not in SPLITS:
        raise StatsError(f"bad split {split!r}: expected one of {', '.join(SPLITS)}")
    if end < start:
        raise StatsError(f"the period ends ({end}) before it starts ({start})")
    if department is not None and settings.department(department) is None:
        raise StatsError(f"unknown department {department!r}", code="unknown_department")
    if counter is not None and settings.counter(counter) is None:
        raise StatsError(f"unknown counter {counter!r}", code="unknown_counter")


def report(
    conn: sqlite3.Connection,
    settings: Any,
    start: dt.date,
    end: dt.date,
    by: str = "day",
    split: str = "department",
    department: str | None = None,
    counter: str | None = None,
) -> list[dict[str, Any]]:
    """The report rows for service days ``start``..``end`` (both included, site-local dates).

    ``settings`` is the site's :class:`config.model.Settings`; it gives the time zone, the wait
    target and the known departments and counters (an unknown one is an error, not an empty
    report, so a typo is not read as "nobody came").
    """
    check(settings, start, end, by, split, department, counter)
    tz = settings.site.tz
    with snapshot(conn):  # walk-ins and visits from one state of the file
        aggs = collect(conn, tz, start, end)
        visits = collect_visits(conn, settings, start, end)
    rows = combine(aggs, tz, by, split, department, counter, settings.site.wait_target_min * 60)
    return merge_visits(rows, visits, settings, by, split, department, counter)


def merge_visits(
    rows: list[dict[str, Any]],
    visits: Iterable[VisitAgg],
    settings: Any,
    by: str = "day",
    split: str = "department",
    department: str | None = None,
    counter: str | None = None,
) -> list[dict[str, Any]]:
    """Report rows with the figures of the VisitAggs ``visits`` beside them (:func:`collect_visits`)."""
    tz = settings.site.tz
    figures_of = appointments.combine_visits(
        visits,
        lambda hour: period_of(hour, by, tz),
        split,
        department,
        counter,
        settings.appointments.target_min * 60,
    )
    return appointments.merge(rows, figures_of, split)
