"""The typed, frozen settings object every part of Nummerlapp reads.

It is made once at start by ``config.loader`` from a TOML site file and never changed; a part
that needs other settings gets a new object. All times are local to ``Site.timezone``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from zoneinfo import ZoneInfo

from nummerlapp.common.protocol import label

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
    server_url: str = ""  # fixed service address for kiosks and boards when mDNS finds nothing

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
        return label(self.name, lang, fallback, default=self.id)

    @property
    def width(self) -> int:
        """Digits in the visible number: the width of ``max_number``."""
        return len(str(self.max_number))

    def format_number(self, seq: int) -> str:
        return f"{self.prefix}{seq:0{self.width}d}"


@dataclass(frozen=True)
class Counter:
    """A desk. ``name`` is in the site's first language (the wire protocol's ``name``);
    ``names`` holds the site file's per-language names (``name = {nb = "Skranke 2", en =
    "Counter 2"}``), empty when the file gives one plain string."""

    id: str
    name: str
    departments: tuple[str, ...]
    names: Mapping[str, str] = field(default_factory=_empty, hash=False)  # a Counter stays hashable

    def label(self, lang: str) -> str:
        """The counter's name in ``lang``: its own name there, else the site language's."""
        return self.names.get(lang) or self.name


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
class KioskSettings:
    """How a kiosk behaves. The technician PIN is stored only as an argon2 hash."""

    printer: str | None = None  # printer id (None: the first printer, if any)
    idle_timeout_s: int = 30  # back to the start screen after this long without a touch
    ticket_screen_s: int = 8  # how long the "here is your ticket" screen stays
    technician_pin_hash: str = ""  # argon2 hash from `main.py config hash-pin`; "": no technician screen


@dataclass(frozen=True)
class BoardSettings:
    """How a waiting-room board behaves."""

    zone: str | None = None  # zone id (None: the first zone, or every department if none)
    announce: bool = True  # chime and speak each call
    voice_languages: tuple[str, ...] = ()  # languages a call is spoken in; empty: the site's first
    languages: tuple[
        str, ...
    ] = ()  # languages the board shows in turn; empty: one (--lang or the site's first)
    language_period_s: int = 12  # seconds each of ``languages`` stays on the board


SCALES = ("faces", "yes_no")  # a question's answers: 1 (worst) to 5 (best) faces, or 1 yes / 0 no
MAX_QUESTIONS = 5


@dataclass(frozen=True)
class Question:
    """One visitor-feedback question (docs/FEEDBACK.md): its text per language and its scale."""

    id: str
    text: Mapping[str, str] = field(hash=False)  # every site language present
    scale: str = "faces"  # one of SCALES

    def label(self, lang: str) -> str:
        return label(self.text, lang, default=self.id)

    @property
    def values(self) -> tuple[int, ...]:
        """The answers it takes, in the order a terminal shows them (worst first; no before yes)."""
        return (1, 2, 3, 4, 5) if self.scale == "faces" else (0, 1)

    def accepts(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value in self.values


@dataclass(frozen=True)
class FeedbackSettings:
    """The exit terminal's questions and timings, also asked on the phone page."""

    questions: tuple[Question, ...] = ()
    idle_timeout_s: int = 20  # back to the start after this long without a touch, answers forgotten
    thanks_s: int = 5  # the thank-you screen stays this long

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


ICS_MATCH = ("categories", "location", "uid_prefix")  # what an iCalendar event's department is read from


@dataclass(frozen=True)
class AppointmentSettings:
    """Booked visits (docs/APPOINTMENTS.md): the grace period, the promise, the calendar mapping."""

    grace_min: int = 10  # a visit not checked in by start + grace is a no-show; later check-in: too_late
    target_min: int = 5  # the protocol's appointment_target_min: called within this of start/check-in
    ics_match: str = "categories"  # one of ICS_MATCH
    # key (a CATEGORIES value, a LOCATION, or a UID prefix) -> department id
    ics_departments: Mapping[str, str] = field(default_factory=_empty, hash=False)

    def department_for(self, categories: tuple[str, ...], location: str, uid: str) -> str | None:
        """The department an imported event belongs to, by ``ics_match`` (None: not mapped).

        Categories and locations compare without regard to case or surrounding spaces; a UID
        prefix compares exactly (the booking system writes it)."""
        folded = {k.strip().casefold(): v for k, v in self.ics_departments.items()}
        if self.ics_match == "categories":
            return next(
                (folded[c.strip().casefold()] for c in categories if c.strip().casefold() in folded), None
            )
        if self.ics_match == "location":
            return folded.get(location.strip().casefold())
        best = max((k for k in self.ics_departments if uid.startswith(k)), key=len, default=None)
        return None if best is None else self.ics_departments[best]


@dataclass(frozen=True)
class Settings:
    site: Site
    departments: tuple[Department, ...]
    counters: tuple[Counter, ...]
    printers: tuple[PrinterSettings, ...] = ()
    zones: tuple[Zone, ...] = ()
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    board: BoardSettings = field(default_factory=BoardSettings)
    appointments: AppointmentSettings = field(default_factory=AppointmentSettings)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
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

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data in the site file's shape (times as "08:00-15:30", dates ISO).

        The technician PIN hash is replaced by ``"(set)"``: a settings dump is shown on screens
        and pasted into support requests, and an offline-crackable hash of a 4-digit PIN has no
        business there.
        """
        data = _plain(self)
        assert isinstance(data, dict)
        kiosk = data["kiosk"]
        if isinstance(kiosk, dict) and kiosk.get("technician_pin_hash"):
            kiosk["technician_pin_hash"] = "(set)"
        return data


def _plain(value: object) -> object:
    """Dataclasses, mappings and tuples to dicts and lists; times and dates to strings."""
    if isinstance(value, Interval):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k.isoformat() if isinstance(k, dt.date) else str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
