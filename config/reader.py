"""The typed reads of a TOML site file: each value checked for its kind and range, each refusal one
``FILE: KEY: problem`` line (``ConfigError``) naming the dotted key and the value as written.

:class:`Reader` knows nothing of departments or counters: config/loader.py describes the site file's
tables with these reads (``self.text``, ``self.integer``, ``self.hours``…) and owns the file's shape.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import WEEKDAYS, Interval, OpeningHours

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

T = TypeVar("T")


def show_value(value: object) -> str:
    """A value as a technician would write it in the file (strings quoted, booleans lowercase)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__  # TOML dates and times


def dotted(path: str, key: str) -> str:
    name = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{name}" if path else name


def frozen(mapping: Mapping[str, T]) -> Mapping[str, T]:
    return MappingProxyType(dict(mapping))


class Reader:
    """One read of one file: holds the file label every error names, and the site's languages
    (``language_texts`` checks against them once the site table has set them)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.languages: tuple[str, ...] = ()

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.label, key, problem)

    def table(
        self, data: Mapping[str, Any], path: str, known: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> None:
        """Refuse unknown keys (suggesting the closest known one) and missing required keys."""
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f'; did you mean "{close[0]}"?' if close else f" (known keys: {', '.join(known)})"
                self.fail(dotted(path, key), f"unknown key{hint}")
        for key in required:
            if key not in data:
                self.fail(dotted(path, key), "missing (this key is required)")

    def typed(self, data: Mapping[str, Any], path: str, key: str, want: tuple[type, ...], what: str) -> Any:
        """``data[key]`` if it is of a wanted type (a TOML boolean is never taken for an integer)."""
        value = data[key]
        if not isinstance(value, want) or (isinstance(value, bool) and bool not in want):
            self.fail(dotted(path, key), f"expected {what}, got {show_value(value)} ({kind_of(value)})")
        return value

    def sub(self, data: Mapping[str, Any], path: str, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self.typed(data, path, key, (dict,), "a table")
        return value

    def text(self, data: Mapping[str, Any], path: str, key: str, default: str | None = None) -> str:
        if key not in data and default is not None:
            return default
        value: str = self.typed(data, path, key, (str,), "a string")
        return value

    def ident(self, data: Mapping[str, Any], path: str, key: str = "id") -> str:
        value = self.text(data, path, key)
        if not ID.fullmatch(value):
            self.fail(
                dotted(path, key),
                f"{show_value(value)} is not an id (1-32 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit)",
            )
        return value

    def integer(self, data: Mapping[str, Any], path: str, key: str, default: int, least: int) -> int:
        if key not in data:
            return default
        value: int = self.typed(data, path, key, (int,), "an integer")
        if value < least:
            self.fail(dotted(path, key), f"{value} must be at least {least}")
        return value

    def number(self, data: Mapping[str, Any], path: str, key: str, default: float) -> float:
        if key not in data:
            return default
        return float(self.typed(data, path, key, (int, float), "a number"))

    def flag(self, data: Mapping[str, Any], path: str, key: str, default: bool) -> bool:
        if key not in data:
            return default
        value: bool = self.typed(data, path, key, (bool,), "true or false")
        return value

    def url(self, data: Mapping[str, Any], path: str, key: str) -> str:
        value = self.text(data, path, key, "")
        if value and not _URL.fullmatch(value):
            self.fail(dotted(path, key), f'{show_value(value)} is not an address like "http://host:8420"')
        return value.rstrip("/")

    def items(self, data: Mapping[str, Any], path: str, key: str, what: str) -> list[Any]:
        value: list[Any] = self.typed(data, path, key, (list,), f"a list of {what}")
        return value

    def array_of_tables(
        self, data: Mapping[str, Any], key: str, required: bool = False
    ) -> list[dict[str, Any]]:
        """The entries of ``[[key]]`` (none if absent); ``required``: at least one entry."""
        if key not in data:
            return []
        entries = self.items(data, "", key, "tables")
        if required and not entries:
            self.fail(key, f"the list is empty: the site needs at least one [[{key}]] entry")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.fail(f"{key}[{i}]", f"expected a table, got {show_value(entry)} ({kind_of(entry)})")
        return entries

    def unique(self, entries: list[T], path: str, get: Callable[[T], str]) -> None:
        """Refuse a second entry with the same id: references by id must be unambiguous."""
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            value = get(entry)
            if value in seen:
                self.fail(f"{path}[{i}].id", f"{show_value(value)} is already used by {path}[{seen[value]}]")
            seen[value] = i

    def language_texts(
        self, data: Mapping[str, Any], path: str, key: str, complete: bool
    ) -> Mapping[str, str]:
        """A ``{lang = "text"}`` table; ``complete``: every site language must have a text."""
        if key not in data:
            if complete:
                self.fail(dotted(path, key), "missing (this key is required)")
            return frozen({})
        table = self.sub(data, path, key)
        here = dotted(path, key)
        for lang, value in table.items():
            if lang not in self.languages:
                self.fail(
                    dotted(here, lang),
                    f"{show_value(lang)} is not one of the site's languages ({', '.join(self.languages)})",
                )
            if not isinstance(value, str) or not value.strip():
                self.fail(dotted(here, lang), f"expected a non-empty string, got {show_value(value)}")
        if complete:
            for lang in self.languages:
                if lang not in table:
                    self.fail(here, f'no name for language "{lang}" (every site language needs one)')
        return frozen(table)

    # --- opening hours --------------------------------------------------------------------------

    def intervals(self, data: Mapping[str, Any], path: str, key: str) -> tuple[Interval, ...]:
        here = dotted(path, key)
        result: list[Interval] = []
        for i, value in enumerate(self.items(data, path, key, 'time ranges like "08:00-15:30"')):
            at = f"{here}[{i}]"
            found = _RANGE.fullmatch(value) if isinstance(value, str) else None
            if found is None:
                self.fail(at, f'{show_value(value)} is not a time range like "08:00-15:30"')
            h1, m1, h2, m2 = (int(g) for g in found.groups())
            if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
                self.fail(at, f"{show_value(value)} is not a valid time range (00:00 to 23:59)")
            interval = Interval(dt.time(h1, m1), dt.time(h2, m2))
            if interval.end <= interval.start:
                self.fail(at, f"{show_value(value)} must end after it starts")
            if result and interval.start < result[-1].end:
                self.fail(
                    at,
                    f'{show_value(value)} starts before the previous range "{result[-1]}" ends '
                    "(ranges must be in order and must not overlap)",
                )
            result.append(interval)
        return tuple(result)

    def hours(self, data: Mapping[str, Any], path: str, key: str) -> OpeningHours:
        here = dotted(path, key)
        table = self.sub(data, path, key)
        self.table(table, here, (*WEEKDAYS, "exceptions"))
        weekly = {day: self.intervals(table, here, day) for day in WEEKDAYS if day in table}
        exceptions: dict[dt.date, tuple[Interval, ...]] = {}
        if "exceptions" in table:
            at = dotted(here, "exceptions")
            for day in self.sub(table, here, "exceptions"):
                try:
                    date = dt.date.fromisoformat(day) if _DATE.fullmatch(day) else None
                except ValueError:
                    date = None
                if date is None:
                    self.fail(dotted(at, day), f'{show_value(day)} is not a date like "2026-12-24"')
                exceptions[date] = self.intervals(table["exceptions"], at, day)
        return OpeningHours(weekly=frozen(weekly), exceptions=MappingProxyType(exceptions))
