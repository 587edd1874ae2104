"""Read a TOML site file into the frozen ``Settings`` object, refusing anything doubtful.

A technician edits the site file by hand on an appliance with no one to ask, so every refusal is
one line naming the file, the dotted key (``departments[2].prefix``) and the bad value, and the
first problem found stops the load: nothing half-valid ever reaches the ledger. Unknown keys are
errors (with the closest known key suggested) because a misspelt key silently ignored is a
setting the technician believes is in force and is not.

The schema lives in this module as plain code rather than a schema library: it is small, it
keeps start-up fast (``load_settings`` runs at every start of every role) and lets each message
say exactly what is wrong. The typed reads it is written with (a string, an id, an integer at
least N, opening hours, a per-language text…) are config/reader.py's :class:`Reader`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nummerlapp.common.errors import ConfigError
from nummerlapp.common.i18n import available_languages, missing_catalogues
from nummerlapp.config.model import (
    ICS_MATCH,
    MAX_QUESTIONS,
    SCALES,
    AppointmentSettings,
    BoardSettings,
    Counter,
    Department,
    FeedbackSettings,
    KioskSettings,
    PrinterSettings,
    Question,
    Settings,
    Site,
    Zone,
)
from nummerlapp.config.reader import Reader, dotted, frozen, kind_of, show_value

EMBEDDED = Path(__file__).with_name("example_site.toml")
EMBEDDED_LABEL = "<embedded example site>"

PRINTER_TYPES = ("serial", "usb", "network", "file", "dummy")
PRINTER_DOTS = (384, 512, 576)
PAPER_DOTS = {58: (384,), 80: (512, 576)}
LOGO_MODES = ("nv", "raster", "none")

_LANG = re.compile(r"[a-z]{2,3}")
_PREFIX = re.compile(r"[A-Z]{1,3}")
_ARGON2 = re.compile(r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+")
_TOML_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$", re.DOTALL)


def load_settings(path: Path | None = None) -> Settings:
    """Load and validate a site file; ``None`` loads the embedded example site.

    Raises ``ConfigError(file, key, problem)`` for the first problem found.
    """
    if path is None:
        return _Loader(EMBEDDED_LABEL).load(EMBEDDED.read_bytes())
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(label, "", "cannot read the site file: no such file") from None
    except IsADirectoryError:
        raise ConfigError(label, "", "cannot read the site file: it is a directory") from None
    except OSError as exc:
        raise ConfigError(label, "", f"cannot read the site file: {exc.strerror or exc}") from None
    return _Loader(label).load(raw)


def parse_settings(raw: bytes, label: str) -> Settings:
    """A site file's bytes, already read, checked as :func:`load_settings` checks a file."""
    return _Loader(label).load(raw)


def settings_from_data(data: Mapping[str, Any], label: str) -> Settings:
    """The site file's tables as data (the service's ``GET /config``), checked the same way."""
    return _Loader(label).settings(dict(data))


class _Loader(Reader):
    """One load of one file: the site file's tables, read with :class:`~config.reader.Reader`."""

    def load(self, raw: bytes) -> Settings:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail("", f"not UTF-8 text (byte {exc.start})")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = _TOML_POS.match(str(exc))
            if found:
                self.fail(f"line {found[2]}, column {found[3]}", f"invalid TOML: {found[1]}")
            self.fail("", f"invalid TOML: {exc}")
        return self.settings(data)

    # --- sections -------------------------------------------------------------------------------

    def settings(self, data: dict[str, Any]) -> Settings:
        self.table(
            data,
            "",
            (
                "site",
                "departments",
                "counters",
                "printers",
                "zones",
                "kiosk",
                "board",
                "feedback",
                "appointments",
            ),
            ("site", "departments", "counters"),
        )
        site = self.site(self.sub(data, "", "site"))
        departments = [
            self.department(d, f"departments[{i}]")
            for i, d in enumerate(self.array_of_tables(data, "departments", required=True))
        ]
        self.unique(departments, "departments", lambda d: d.id)
        prefixes: dict[str, int] = {}
        for i, dep in enumerate(departments):
            if dep.prefix in prefixes:
                j = prefixes[dep.prefix]
                self.fail(
                    f"departments[{i}].prefix",
                    f"{show_value(dep.prefix)} is already used by departments[{j}] ({departments[j].id})",
                )
            prefixes[dep.prefix] = i
        known = {d.id for d in departments}
        counters = [
            self.counter(c, f"counters[{i}]", known)
            for i, c in enumerate(self.array_of_tables(data, "counters", required=True))
        ]
        self.unique(counters, "counters", lambda c: c.id)
        served = {dep for c in counters for dep in c.departments}
        for i, dep in enumerate(departments):
            if dep.id not in served:
                self.fail(
                    f"departments[{i}]",
                    f"no counter serves {show_value(dep.id)}: its tickets could never be called",
                )
        printers = [
            self.printer(p, f"printers[{i}]") for i, p in enumerate(self.array_of_tables(data, "printers"))
        ]
        self.unique(printers, "printers", lambda p: p.id)
        zones = [
            self.zone(z, f"zones[{i}]", known) for i, z in enumerate(self.array_of_tables(data, "zones"))
        ]
        self.unique(zones, "zones", lambda z: z.id)
        kiosk = self.kiosk(data, {p.id for p in printers})
        board = self.board(data, {z.id for z in zones})
        feedback = self.feedback(data)
        appointments = self.appointments(data, known)
        return Settings(
            site=site,
            departments=tuple(departments),
            counters=tuple(counters),
            printers=tuple(printers),
            zones=tuple(zones),
            kiosk=kiosk,
            board=board,
            feedback=feedback,
            appointments=appointments,
            source=self.label,
        )

    def site(self, data: dict[str, Any]) -> Site:
        path = "site"
        self.table(
            data,
            path,
            (
                "id",
                "name",
                "timezone",
                "languages",
                "hours",
                "wait_target_min",
                "last_ticket_min",
                "kiosk_interval_s",
                "message",
                "footer",
                "public_url",
                "server_url",
            ),
            ("id", "name", "timezone", "languages", "hours"),
        )
        site_id = self.ident(data, path)
        name = self.text(data, path, "name")
        if not name.strip():
            self.fail("site.name", "empty: boards and tickets show the site's name")
        timezone = self.text(data, path, "timezone")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                "site.timezone", f'unknown time zone {show_value(timezone)} (use a name like "Europe/Oslo")'
            )
        languages = self.items(data, path, "languages", "language codes")
        if not languages:
            self.fail("site.languages", "the site needs at least one language")
        for i, lang in enumerate(languages):
            if not isinstance(lang, str) or not _LANG.fullmatch(lang):
                self.fail(
                    f"site.languages[{i}]",
                    f'{show_value(lang)} is not a language code (2-3 lowercase letters, like "nb")',
                )
            if languages.index(lang) != i:
                self.fail(f"site.languages[{i}]", f"{show_value(lang)} is listed twice")
        self.languages = tuple(languages)
        self.catalogues(languages)
        last_ticket = self.integer(data, path, "last_ticket_min", 0, 0)
        interval = self.number(data, path, "kiosk_interval_s", 2.0)
        if interval < 0:
            self.fail("site.kiosk_interval_s", f"{show_value(data['kiosk_interval_s'])} must be at least 0")
        return Site(
            id=site_id,
            name=name,
            timezone=timezone,
            languages=self.languages,
            hours=self.hours(data, path, "hours"),
            wait_target_min=self.integer(data, path, "wait_target_min", 15, 1),
            last_ticket_min=last_ticket,
            kiosk_interval_s=interval,
            message=self.language_texts(data, path, "message", complete=False),
            footer=self.language_texts(data, path, "footer", complete=False),
            public_url=self.url(data, path, "public_url"),
            server_url=self.url(data, path, "server_url"),
        )

    def catalogues(self, languages: list[str]) -> None:
        """Refuse a site language with no translation: visitors would read English (or ids)."""

        for i, lang in enumerate(languages):
            missing = missing_catalogues(lang)
            if not missing:
                continue
            have = sorted({"en", *(x for x in available_languages() if not missing_catalogues(x))})
            where = "common/locale"
            self.fail(
                f"site.languages[{i}]",
                f"{show_value(lang)} has no translation: no catalogue {where}/{lang}/{missing[0]}.po "
                f"(languages with one: {', '.join(have)}; docs/LANGUAGES.md says how to add one)",
            )

    def department(self, data: dict[str, Any], path: str) -> Department:
        self.table(
            data,
            path,
            ("id", "prefix", "name", "description", "max_number", "hours", "priority"),
            ("id", "prefix", "name"),
        )
        dep_id = self.ident(data, path)
        prefix = self.text(data, path, "prefix")
        if not _PREFIX.fullmatch(prefix):
            self.fail(f"{path}.prefix", f"{show_value(prefix)} is not a prefix (1-3 capital letters A-Z)")
        max_number = self.integer(data, path, "max_number", 999, 1)
        if max_number > 99999:
            self.fail(f"{path}.max_number", f"{max_number} is more than 99999")
        priority = self.number(data, path, "priority", 1.0)
        if priority <= 0:
            self.fail(f"{path}.priority", f"{show_value(data['priority'])} must be greater than 0")
        return Department(
            id=dep_id,
            prefix=prefix,
            name=self.language_texts(data, path, "name", complete=True),
            description=self.language_texts(data, path, "description", complete=False),
            max_number=max_number,
            hours=self.hours(data, path, "hours") if "hours" in data else None,
            priority=priority,
        )

    def departments_list(self, data: Mapping[str, Any], path: str, known: set[str]) -> tuple[str, ...]:
        values = self.items(data, path, "departments", "department ids")
        here = f"{path}.departments"
        if not values:
            self.fail(here, "the list is empty: name at least one department")
        for i, value in enumerate(values):
            if not isinstance(value, str) or value not in known:
                self.fail(here, f"unknown department {show_value(value)} (known: {', '.join(sorted(known))})")
            if values.index(value) != i:
                self.fail(here, f"{show_value(value)} is listed twice")
        return tuple(values)

    def counter(self, data: dict[str, Any], path: str, known: set[str]) -> Counter:
        self.table(data, path, ("id", "name", "departments"), ("id", "departments"))
        counter_id = self.ident(data, path)
        names: Mapping[str, str] = frozen({})
        if isinstance(data.get("name"), dict):
            # name = {nb = "Skranke 2", en = "Counter 2"}: the site's first language is required
            # (it is the name on the wire); other languages fall back to it.
            names = self.language_texts(data, path, "name", complete=False)
            first = self.languages[0]
            if first not in names:
                self.fail(
                    f"{path}.name", f'no name for language "{first}" (the site\'s first language needs one)'
                )
            name = names[first]
        elif "name" in data:
            name = self.typed(data, path, "name", (str,), 'a string or a table like {nb = "…", en = "…"}')
            if not name.strip():
                self.fail(f"{path}.name", "empty: boards show the counter's name")
        else:
            name = counter_id
        return Counter(
            id=counter_id,
            name=name,
            departments=self.departments_list(data, path, known),
            names=names,
        )

    def zone(self, data: dict[str, Any], path: str, known: set[str]) -> Zone:
        self.table(data, path, ("id", "name", "departments"), ("id", "departments"))
        zone_id = self.ident(data, path)
        return Zone(
            id=zone_id,
            name=self.text(data, path, "name", zone_id),
            departments=self.departments_list(data, path, known),
        )

    def printer(self, data: dict[str, Any], path: str) -> PrinterSettings:
        self.table(
            data,
            path,
            ("id", "type", "options", "paper_width_mm", "dots", "profile", "qr", "logo"),
            ("id", "type"),
        )
        printer_id = self.ident(data, path)
        kind = self.text(data, path, "type")
        if kind not in PRINTER_TYPES:
            self.fail(
                f"{path}.type",
                f"unknown printer type {show_value(kind)} (one of: {', '.join(PRINTER_TYPES)})",
            )
        width = self.integer(data, path, "paper_width_mm", 80, 1)
        if width not in PAPER_DOTS:
            self.fail(f"{path}.paper_width_mm", f"{width} is not one of 58, 80")
        dots = self.integer(data, path, "dots", PAPER_DOTS[width][-1], 1)
        if dots not in PRINTER_DOTS:
            self.fail(f"{path}.dots", f"{dots} is not one of {', '.join(map(str, PRINTER_DOTS))}")
        if dots not in PAPER_DOTS[width]:
            self.fail(
                f"{path}.dots",
                f"{dots} dots do not fit {width} mm paper (use {' or '.join(map(str, PAPER_DOTS[width]))})",
            )
        logo = self.text(data, path, "logo", "nv")
        if logo not in LOGO_MODES:
            self.fail(f"{path}.logo", f"{show_value(logo)} is not one of {', '.join(LOGO_MODES)}")
        options: dict[str, object] = {}
        if "options" in data:
            here = f"{path}.options"
            for key, value in self.sub(data, path, "options").items():
                if not isinstance(value, str | int | float | bool):
                    self.fail(
                        dotted(here, key), f"expected a string, number or true/false, got {kind_of(value)}"
                    )
                options[key] = value
        return PrinterSettings(
            id=printer_id,
            type=kind,
            options=frozen(options),
            paper_width_mm=width,
            dots=dots,
            profile=self.text(data, path, "profile", "default"),
            qr=self.flag(data, path, "qr", True),
            logo=logo,
        )

    def kiosk(self, root: Mapping[str, Any], printers: set[str]) -> KioskSettings:
        if "kiosk" not in root:
            return KioskSettings()
        path = "kiosk"
        data = self.sub(root, "", path)
        self.table(data, path, ("printer", "idle_timeout_s", "ticket_screen_s", "technician_pin_hash"))
        printer = self.text(data, path, "printer") if "printer" in data else None
        if printer is not None and printer not in printers:
            known = ", ".join(sorted(printers)) or "none defined"
            self.fail("kiosk.printer", f"unknown printer {show_value(printer)} (known: {known})")
        pin_hash = self.text(data, path, "technician_pin_hash", "")
        if pin_hash and not _ARGON2.fullmatch(pin_hash):
            self.fail(
                "kiosk.technician_pin_hash",
                "not an argon2 hash: make one with `python main.py config hash-pin` (never write the PIN itself)",
            )
        return KioskSettings(
            printer=printer,
            idle_timeout_s=self.integer(data, path, "idle_timeout_s", 30, 5),
            ticket_screen_s=self.integer(data, path, "ticket_screen_s", 8, 1),
            technician_pin_hash=pin_hash,
        )

    def board(self, root: Mapping[str, Any], zones: set[str]) -> BoardSettings:
        if "board" not in root:
            return BoardSettings()
        path = "board"
        data = self.sub(root, "", path)
        self.table(data, path, ("zone", "announce", "voice_languages", "languages", "language_period_s"))
        zone = self.text(data, path, "zone") if "zone" in data else None
        if zone is not None and zone not in zones:
            known = ", ".join(sorted(zones)) or "none defined"
            self.fail("board.zone", f"unknown zone {show_value(zone)} (known: {known})")
        return BoardSettings(
            zone=zone,
            announce=self.flag(data, path, "announce", True),
            voice_languages=self.site_languages(data, path, "voice_languages"),
            languages=self.site_languages(data, path, "languages"),
            language_period_s=self.integer(data, path, "language_period_s", 12, 3),
        )

    def feedback(self, root: Mapping[str, Any]) -> FeedbackSettings:
        """``[feedback]`` and its ``[[feedback.questions]]`` (docs/FEEDBACK.md)."""
        if "feedback" not in root:
            return FeedbackSettings()
        path = "feedback"
        data = self.sub(root, "", path)
        self.table(data, path, ("questions", "idle_timeout_s", "thanks_s"))
        entries = self.items(data, path, "questions", "tables") if "questions" in data else []
        if len(entries) > MAX_QUESTIONS:
            self.fail(
                "feedback.questions",
                f"{len(entries)} questions: at most {MAX_QUESTIONS} (a visitor at the exit answers a few, not a form)",
            )
        questions: list[Question] = []
        for i, entry in enumerate(entries):
            here = f"feedback.questions[{i}]"
            if not isinstance(entry, dict):
                self.fail(here, f"expected a table, got {show_value(entry)} ({kind_of(entry)})")
            self.table(entry, here, ("id", "text", "scale"), ("id", "text"))
            scale = self.text(entry, here, "scale", "faces")
            if scale not in SCALES:
                self.fail(
                    f"{here}.scale", f"{show_value(scale)} is not one of {', '.join(map(show_value, SCALES))}"
                )
            questions.append(
                Question(
                    id=self.ident(entry, here),
                    text=self.language_texts(entry, here, "text", complete=True),
                    scale=scale,
                )
            )
        self.unique(questions, "feedback.questions", lambda q: q.id)
        return FeedbackSettings(
            questions=tuple(questions),
            idle_timeout_s=self.integer(data, path, "idle_timeout_s", 20, 5),
            thanks_s=self.integer(data, path, "thanks_s", 5, 1),
        )

    def appointments(self, root: Mapping[str, Any], known: set[str]) -> AppointmentSettings:
        """``[appointments]``: grace, target and the iCalendar mapping (docs/APPOINTMENTS.md)."""
        if "appointments" not in root:
            return AppointmentSettings()
        path = "appointments"
        data = self.sub(root, "", path)
        self.table(data, path, ("grace_min", "target_min", "ics_match", "ics_departments"))
        match = self.text(data, path, "ics_match", "categories")
        if match not in ICS_MATCH:
            self.fail(
                "appointments.ics_match",
                f"{show_value(match)} is not one of {', '.join(map(show_value, ICS_MATCH))}",
            )
        mapping: dict[str, str] = {}
        if "ics_departments" in data:
            here = "appointments.ics_departments"
            for key, value in self.sub(data, path, "ics_departments").items():
                if not key.strip():
                    self.fail(here, "an empty key maps nothing: name a category, location or UID prefix")
                if not isinstance(value, str) or value not in known:
                    self.fail(
                        dotted(here, key),
                        f"unknown department {show_value(value)} (known: {', '.join(sorted(known))})",
                    )
                mapping[key] = value
        grace = self.integer(data, path, "grace_min", 10, 0)
        if grace > 240:
            self.fail("appointments.grace_min", f"{grace} is more than 240 (four hours)")
        return AppointmentSettings(
            grace_min=grace,
            target_min=self.integer(data, path, "target_min", 5, 1),
            ics_match=match,
            ics_departments=frozen(mapping),
        )

    def site_languages(self, data: Mapping[str, Any], path: str, key: str) -> tuple[str, ...]:
        """A list of the site's languages, no repeats (``[]`` when the key is absent)."""
        if key not in data:
            return ()
        values = self.items(data, path, key, "language codes")
        for i, lang in enumerate(values):
            if lang not in self.languages:
                self.fail(
                    f"{path}.{key}[{i}]",
                    f"{show_value(lang)} is not one of the site's languages ({', '.join(self.languages)})",
                )
            if values.index(lang) != i:
                self.fail(f"{path}.{key}[{i}]", f"{show_value(lang)} is listed twice")
        return tuple(values)
