"""The five-minute promise measured: booked visits' figures beside the walk-ins' (docs/STATS.md).

A booked visit is counted once, in the **local hour of its start** and on its service day, for
its department and (once called) the counter that handled its ticket last. Its wait is from the
later of its start and its check-in to the first call of its ticket; ``appointments_within_target``
is the share of called visits whose wait is at most ``appointments.target_min`` (5 minutes by
default; exactly at the target counts as within). A visit not checked in by start + grace is a
no-show (also before the minute tick has written it), and so is one whose service day is over
without a check-in (the ledger refuses a check-in on another day); cancelled visits are left out.

The walk-in figures (``called``, the waits, ``within_target`` against ``site.wait_target_min``)
leave the visits' tickets out (figures.RAW_COLUMNS), so each promise is measured on its own.

As for the walk-ins (:class:`figures.HourAgg`), everything goes through one intermediate,
:class:`VisitAgg`: the visits of one local hour, one department and one last counter, with their
waits as whole seconds. A report builds VisitAggs from the appointments and their tickets
(:func:`aggregate_visits`) for the days not folded yet, reads the ones the fold stored
(``hourly_visits``, built by the same function) for the folded days, and combines both with
:func:`combine_visits`; so a report gives the same figures before and after the fold, and after
the fold has deleted the rows.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

FIGURES = (
    "appointments",
    "appointments_checked_in",
    "appointments_called",
    "appointments_no_show",
    "appointments_within_target",
    "appointments_wait_max_s",
)

# One visit: department, last counter, start, row status, checked in, service day, ticket status,
# first call. Cancelled visits are no visits.
VISIT_SQL = """SELECT a.department, t.counter, a.start, a.status, a.checked_in_at, a.service_day, t.status,
                      t.first_called_at
               FROM appointments a LEFT JOIN tickets t ON t.id = a.ticket
               WHERE a.status != 'cancelled' AND a.service_day IN ({marks})"""


@dataclass
class VisitAgg:
    """Booked visits of one local hour (of their start) and one (department, counter) key."""

    hour_utc: dt.datetime
    service_day: str
    department: str
    counter: str  # '' when the visit's ticket was never called (or there is none)
    booked: int = 0
    checked_in: int = 0
    no_show: int = 0
    waits: array[int] = field(default_factory=lambda: array("I"))  # one per called visit


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def visit_rows(conn: sqlite3.Connection, days: list[str]) -> Iterator[tuple[Any, ...]]:
    """The visits (not cancelled) of the service days ``days``, as :data:`VISIT_SQL` reads them."""
    for i in range(0, len(days), 200):
        chunk = days[i : i + 200]
        yield from conn.execute(VISIT_SQL.format(marks=",".join("?" * len(chunk))), chunk)


def _classify(row: tuple[Any, ...], now: dt.datetime, grace: dt.timedelta, over: bool, agg: VisitAgg) -> None:
    """Count one visit into ``agg``; ``over``: its service day has ended."""
    _, _, start, status, checked_in, _, t_status, first_call = row
    agg.booked += 1
    begun = _parse(start)
    if checked_in is None:
        if status == "no_show" or (status == "booked" and (over or now > begun + grace)):
            agg.no_show += 1
        return
    agg.checked_in += 1
    if first_call is not None:
        promised = max(begun, _parse(checked_in))
        agg.waits.append(max(0, int((_parse(first_call) - promised).total_seconds())))
    elif t_status in ("no_show", "void") or (over and t_status == "waiting"):
        # A ticket still waiting when its day is over is voided by the ledger's day change.
        agg.no_show += 1


def aggregate_visits(
    rows: Iterable[tuple[Any, ...]],
    hour_of: Callable[[str], dt.datetime],
    settings: Any,
    now: dt.datetime,
) -> list[VisitAgg]:
    """Build VisitAggs from visit rows (:func:`visit_rows`), as they stand at ``now``.

    ``hour_of`` maps a stored instant to the UTC start of its local hour (figures.HourBuckets).
    The live report and the fold both call this, so the two cannot count differently.
    """
    grace = dt.timedelta(minutes=settings.appointments.grace_min)
    today = now.astimezone(settings.site.tz).date().isoformat()
    out: dict[tuple[dt.datetime, str, str], VisitAgg] = {}
    for row in rows:
        dep, desk, start, day = row[0], row[1] or "", row[2], row[5]
        hour = hour_of(start)
        agg = out.get((hour, dep, desk))
        if agg is None:
            agg = out[(hour, dep, desk)] = VisitAgg(hour, day, dep, desk)
        _classify(row, now, grace, day < today, agg)
    return list(out.values())


@dataclass
class _Group:
    booked: int = 0
    checked_in: int = 0
    no_show: int = 0
    waits: list[array[int]] = field(default_factory=list)


def combine_visits(
    aggs: Iterable[VisitAgg],
    period: Callable[[dt.datetime], tuple[str, str]],
    split: str,
    department: str | None = None,
    counter: str | None = None,
    target_s: int = 5 * 60,
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(period label, period start, key) → the visits' figures.

    ``period`` maps the UTC start of an hour to its report period (figures.period_of)."""
    groups: dict[tuple[str, str, str], _Group] = {}
    periods: dict[dt.datetime, tuple[str, str]] = {}
    for agg in aggs:
        if (department is not None and agg.department != department) or (
            counter is not None and agg.counter != counter
        ):
            continue
        if split == "counter" and not agg.counter:
            continue  # never called: no counter handled it
        per = periods.get(agg.hour_utc)
        if per is None:
            per = periods[agg.hour_utc] = period(agg.hour_utc)
        key = agg.department if split == "department" else agg.counter if split == "counter" else ""
        g = groups.setdefault((*per, key), _Group())
        g.booked += agg.booked
        g.checked_in += agg.checked_in
        g.no_show += agg.no_show
        g.waits.append(agg.waits)
    return {key: _figures(g, target_s) for key, g in groups.items()}


def _figures(g: _Group, target_s: int) -> dict[str, Any]:
    called = sum(len(w) for w in g.waits)
    within = sum(1 for w in g.waits for s in w if s <= target_s)
    return {
        "appointments": g.booked,
        "appointments_checked_in": g.checked_in,
        "appointments_called": called,
        "appointments_no_show": g.no_show,
        "appointments_within_target": round(within / called, 4) if called else None,
        "appointments_wait_max_s": max(max(w) for w in g.waits if w) if called else None,
    }


def merge(
    rows: list[dict[str, Any]], visits: dict[tuple[str, str, str], dict[str, Any]], split: str
) -> list[dict[str, Any]]:
    """The report rows with the visits' figures beside each (a row of zeros where only visits were)."""
    empty = dict.fromkeys(FIGURES, 0) | {"appointments_within_target": None, "appointments_wait_max_s": None}
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        key = (row["period"], row["start"], row.get(split, "") if split != "site" else "")
        row.update(visits.get(key, empty))
        seen.add(key)
    template = rows[0] if rows else ZERO_ROW
    added = False
    for key, figures_of in visits.items():
        if key in seen:
            continue
        extra: dict[str, Any] = {"period": key[0], "start": key[1]}
        if split != "site":
            extra[split] = key[2]
        for name, value in template.items():
            if name not in extra and name not in FIGURES and name not in ("period", "start", split):
                extra[name] = {} if isinstance(value, dict) else 0 if isinstance(value, int) else None
        rows.append(extra | figures_of)
        added = True
    if added:  # by instant: the two 02:00 hours of a fall-back night stay in order
        rows.sort(
            key=lambda r: (dt.datetime.fromisoformat(r["start"]), r.get(split, "") if split != "site" else "")
        )
    return rows


# The walk-in figures of a period with visits but no tickets (figures.combine's row, all zero).
ZERO_ROW: dict[str, Any] = {
    "issued": 0,
    "called": 0,
    "served": 0,
    "no_show": 0,
    "void": 0,
    "transfers": 0,
    "wait_mean_s": None,
    "wait_median_s": None,
    "wait_p90_s": None,
    "wait_max_s": None,
    "within_target": None,
    "service_mean_s": None,
    "service_median_s": None,
    "service_p90_s": None,
    "service_max_s": None,
    "langs": {},
}
