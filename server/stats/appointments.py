"""The five-minute promise measured: booked visits' figures beside the walk-ins' (docs/STATS.md).

A booked visit is counted once, in the **local hour of its start** and on its service day, for
its department and (once called) the counter that handled its ticket last. Its wait is from the
later of its start and its check-in to the first call of its ticket; ``appointments_within_target``
is the share of called visits whose wait is at most ``appointments.target_min`` (5 minutes by
default; exactly at the target counts as within). A visit not checked in by start + grace is a
no-show (also before the minute tick has written it); cancelled visits are left out.

The walk-in figures (``called``, the waits, ``within_target`` against ``site.wait_target_min``)
leave the visits' tickets out (figures.RAW_COLUMNS), so each promise is measured on its own.
These figures are read from the appointments and their tickets as long as the tickets' rows are
kept (``stats fold --days``, 90 by default); the fold does not aggregate them yet.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
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


@dataclass
class _Visits:
    booked: int = 0
    checked_in: int = 0
    no_show: int = 0
    waits: list[int] = field(default_factory=list)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _classify(row: tuple[Any, ...], now: dt.datetime, grace: dt.timedelta, visits: _Visits) -> None:
    _, _, start, status, checked_in, _, t_status, first_call = row
    visits.booked += 1
    begun = _parse(start)
    if checked_in is None:
        if status == "no_show" or (status == "booked" and now > begun + grace):
            visits.no_show += 1
        return
    visits.checked_in += 1
    if first_call is not None:
        promised = max(begun, _parse(checked_in))
        visits.waits.append(max(0, int((_parse(first_call) - promised).total_seconds())))
    elif t_status in ("no_show", "void"):
        visits.no_show += 1


def figures(
    conn: sqlite3.Connection,
    settings: Any,
    start: dt.date,
    end: dt.date,
    period: Callable[[str], tuple[str, str]],
    split: str,
    department: str | None = None,
    counter: str | None = None,
    now: dt.datetime | None = None,
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(period label, period start, key) → the visits' figures, for service days start..end.

    ``period`` maps a stored instant to its report period (figures.py: the local hour's period)."""
    grace = dt.timedelta(minutes=settings.appointments.grace_min)
    target_s = settings.appointments.target_min * 60
    now = now or dt.datetime.now(dt.UTC)
    groups: dict[tuple[str, str, str], _Visits] = {}
    rows = conn.execute(
        """SELECT a.department, t.counter, a.start, a.status, a.checked_in_at, a.service_day, t.status,
                  t.first_called_at
           FROM appointments a LEFT JOIN tickets t ON t.id = a.ticket
           WHERE a.service_day BETWEEN ? AND ? AND a.status != 'cancelled'""",
        (start.isoformat(), end.isoformat()),
    ).fetchall()
    for row in rows:
        dep, desk = row[0], row[1] or ""
        if (department is not None and dep != department) or (counter is not None and desk != counter):
            continue
        if split == "counter" and not desk:
            continue  # never called: no counter handled it
        label, begins = period(row[2])
        key = dep if split == "department" else desk if split == "counter" else ""
        _classify(row, now, grace, groups.setdefault((label, begins, key), _Visits()))
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, v in groups.items():
        called = len(v.waits)
        out[key] = {
            "appointments": v.booked,
            "appointments_checked_in": v.checked_in,
            "appointments_called": called,
            "appointments_no_show": v.no_show,
            "appointments_within_target": round(sum(w <= target_s for w in v.waits) / called, 4)
            if called
            else None,
            "appointments_wait_max_s": max(v.waits) if v.waits else None,
        }
    return out


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
