"""The typed, frozen settings object every part of Nummerlapp reads.

It is made once at start by ``config.loader`` from a TOML site file and never changed; a part
that needs other settings gets a new object. All times are local to ``Site.timezone``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Interval:
    """An opening interval within one day, ``start`` inclusive, ``end`` exclusive."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours plus dated exceptions (an empty tuple means closed all day)."""

    weekly: Mapping[str, tuple[Interval, ...]]  # keys: WEEKDAYS
    exceptions: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def intervals_on(self, day: dt.date) -> tuple[Interval, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(WEEKDAYS[day.weekday()], ())


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str
    languages: tuple[str, ...]  # first is the default
    hours: OpeningHours
    wait_target_min: int = 15
    last_ticket_min: int = 0  # no new tickets this many minutes before closing
    kiosk_interval_s: float = 2.0  # a kiosk token issues at most one ticket per interval
    message: Mapping[str, str] = field(default_factory=_empty)  # board message line, per language
    footer: Mapping[str, str] = field(default_factory=_empty)  # ticket footer, per language
    public_url: str = ""  # base URL for the QR code on tickets (empty: no QR code)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def default_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True)
class Department:
    id: str
    prefix: str
    name: Mapping[str, str]  # per language; every site language present
    description: Mapping[str, str] = field(default_factory=_empty)
    max_number: int = 999
    hours: OpeningHours | None = None  # None: the site's hours
    priority: float = 1.0  # weight when a counter serves several departments

    def label(self, lang: str, fallback: str = "en") -> str:
        return self.name.get(lang) or self.name.get(fallback) or next(iter(self.name.values()), self.id)

    @property
    def width(self) -> int:
        """Digits in the visible number: the width of ``max_number``."""
        return len(str(self.max_number))

    def format_number(self, seq: int) -> str:
        return f"{self.prefix}{seq:0{self.width}d}"


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    departments: tuple[str, ...]


@dataclass(frozen=True)
class PrinterSettings:
    id: str
    type: str  # serial | usb | network | file | dummy
    options: Mapping[str, object] = field(default_factory=_empty)  # connection parameters
    paper_width_mm: int = 80
    dots: int = 576  # 576 (80 mm, 203 dpi), 512 (80 mm, 180 dpi), 384 (58 mm)
    profile: str = "default"  # python-escpos capability profile
    qr: bool = True
    logo: str = "nv"  # nv | raster | none


@dataclass(frozen=True)
class Zone:
    """What one group of boards shows."""

    id: str
    name: str
    departments: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    site: Site
    departments: tuple[Department, ...]
    counters: tuple[Counter, ...]
    printers: tuple[PrinterSettings, ...] = ()
    zones: tuple[Zone, ...] = ()
    source: str = "<embedded example site>"  # the file it came from

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def printer(self, printer_id: str | None = None) -> PrinterSettings | None:
        if printer_id is None:
            return self.printers[0] if self.printers else None
        return next((p for p in self.printers if p.id == printer_id), None)

    def zone(self, zone_id: str | None = None) -> Zone | None:
        if zone_id is None:
            return self.zones[0] if self.zones else None
        return next((z for z in self.zones if z.id == zone_id), None)

    def department_hours(self, department_id: str) -> OpeningHours:
        dep = self.department(department_id)
        return dep.hours if dep is not None and dep.hours is not None else self.site.hours
