"""Dates, periods and numbers on the report page in the page's language, with Babel.

The figures come from ``server.stats.figures`` as ISO strings ("2026-10-26", "2026-W43",
"2026-10", "2026-10-26T09:00+01:00") and floats; a manager in Oslo reads "26.10.2026" and
"4,5", one in Espoo "26.10.2026" and "4,5", in Stockholm "2026-10-26", in English "26/10/2026"
(British forms: a Nordic municipality's English is European, never "10/26/2026").

The period filter fields are plain text inputs holding the local short date, not ``<input
type="date">``: a browser draws a date input in *its own* locale whatever the page's language
is, which is how a Norwegian page came to show 10/26/2026. :func:`parse_day` reads both the
local form and ISO back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_time, parse_date
from babel.numbers import format_decimal

from nummerlapp.common.i18n import locale_for, translator
from nummerlapp.server.stats.figures import StatsError


def babel_locale(lang: str | None) -> str:
    """The Babel locale for ``lang`` (English as written in Europe: ``en_GB``)."""
    if not lang or lang == "en":
        return "en_GB"
    return locale_for(lang)


def day(value: dt.date | str | None, lang: str | None) -> str:
    """A day in the locale's short form: "26.10.2026", "2026-10-26", "26/10/2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, "short", locale=babel_locale(lang)).replace("\u200f", "")


def date_hint(lang: str | None) -> str:
    """How to type a date here, for a placeholder: "dd.mm.yyyy" (from a sample date)."""
    sample = day(dt.date(2033, 11, 22), lang)
    return sample.replace("2033", "yyyy").replace("33", "yy").replace("11", "mm").replace("22", "dd")


def period(label: str, lang: str | None) -> str:
    """A report row's period label in the locale: a day, an hour, "uke 43, 2026", "oktober 2026"."""
    if "T" in label:  # an hour: 2026-10-26T09:00+01:00
        start = dt.datetime.fromisoformat(label)
        return f"{day(start.date(), lang)} {format_time(start, 'short', locale=babel_locale(lang))}"
    if len(label) == 10:
        return day(label, lang)
    if "-W" in label:
        year, week = label.split("-W")
        return f"{translator('reports', lang or 'en')('week')} {int(week)}, {year}"
    if len(label) == 7:
        return format_date(dt.date.fromisoformat(label + "-01"), "LLLL y", locale=babel_locale(lang))
    return label


def number(value: float | int | None, lang: str | None, digits: int = 0) -> str:
    """A number with the locale's separators ("4,5" in nb, sv, fi)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale(lang))


def minutes(seconds: float | None, lang: str | None) -> str:
    """Seconds as minutes with one decimal, in the locale: "4,5"."""
    return "–" if seconds is None else number(seconds / 60, lang, 1)


def parse_day(text: str, lang: str | None, name: str = "date") -> dt.date:
    """A day typed in the page: ISO ("2026-10-26") or the locale's short form ("26.10.2026")."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        pass
    try:
        value = parse_date(text.strip(), locale=babel_locale(lang))
    except (ValueError, IndexError, LookupError):
        value = None
    if value is None:
        raise StatsError(f"bad {name} {text!r}: expected a date like {day(dt.date(2026, 10, 26), lang)}")
    return value


def install(env: Any) -> None:
    """The template filters: ``day``, ``period``, ``number``, ``minutes`` (each takes ``lang``)."""
    env.filters["day"] = day
    env.filters["period"] = period
    env.filters["number"] = number
    env.filters["minutes"] = minutes
    env.globals["date_hint"] = date_hint
