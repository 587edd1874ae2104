"""Ledger test helpers: a clock tests can move, and site settings variants (imported by the tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from nummerlapp.config import load_settings
from nummerlapp.config.model import Interval, OpeningHours, Settings

OSLO = ZoneInfo("Europe/Oslo")
# A Monday in the example site's normal week: open 08:00-15:30, tolk 09:00-14:00.
MONDAY = dt.date(2026, 11, 23)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """Wall time in Oslo."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=OSLO)


class Clock:
    """A clock the test moves; the ledger calls it for every operation."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**kw)
        return self.now

    def set(self, now: dt.datetime) -> dt.datetime:
        self.now = now
        return now


def example() -> Settings:
    return load_settings(None)


def with_max(settings: Settings, **max_numbers: int) -> Settings:
    """The settings with some departments' max_number changed (small numbers make wrap reachable)."""
    deps = tuple(
        dataclasses.replace(d, max_number=max_numbers[d.id]) if d.id in max_numbers else d
        for d in settings.departments
    )
    return dataclasses.replace(settings, departments=deps)


def with_site_hours(settings: Settings, start: dt.time, end: dt.time) -> Settings:
    """Every day the same site hours, no exceptions; department hours dropped."""
    weekly = {d: (Interval(start, end),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    site = dataclasses.replace(settings.site, hours=OpeningHours(weekly))
    deps = tuple(dataclasses.replace(d, hours=None) for d in settings.departments)
    return dataclasses.replace(settings, site=site, departments=deps)


def raw(path: Path) -> sqlite3.Connection:
    """An independent connection for checking what is really in the file."""
    return sqlite3.connect(str(path), isolation_level=None)


def seqs(path: Path) -> list[int]:
    with raw(path) as conn:
        return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
