"""Translations: gettext catalogues read at run time with Babel.

Catalogues live at ``common/locale/<lang>/<domain>.po`` (one domain per part: kiosk, display,
printer, web). Message ids are English. Adding a language means dropping in a folder of ``.po``
files — no compile step, nothing to register. A directory named in ``NUMMERLAPP_LOCALE_DIR`` is
searched first, so a site can add or override a catalogue without touching the installation.

    _ = translator("kiosk", "nb")
    _("Take a number")   # -> "Trekk kølapp"
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
FALLBACK = "en"

Translate = Callable[[str], str]


def _locale_dirs() -> list[Path]:
    extra = os.environ.get("NUMMERLAPP_LOCALE_DIR")
    return ([Path(extra)] if extra else []) + [LOCALE_DIR]


@lru_cache(maxsize=64)
def _catalogue(domain: str, lang: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for base in reversed(_locale_dirs()):  # later (higher-priority) dirs override earlier ones
        path = base / lang / f"{domain}.po"
        if not path.is_file():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=None, domain=domain)
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
                messages[message.id] = str(message.string)
    return messages


def translator(domain: str, lang: str | None) -> Translate:
    """A function mapping an English message id to ``lang`` (falling back to English, then the id)."""
    primary = _catalogue(domain, lang) if lang else {}
    fallback = _catalogue(domain, FALLBACK) if lang != FALLBACK else {}

    def translate(msgid: str) -> str:
        return primary.get(msgid) or fallback.get(msgid) or msgid

    return translate


def available_languages(domain: str | None = None) -> list[str]:
    """Languages that have a catalogue (for ``domain``, if given), sorted."""
    found: set[str] = set()
    for base in _locale_dirs():
        if not base.is_dir():
            continue
        for sub in base.iterdir():
            if sub.is_dir() and (domain is None or (sub / f"{domain}.po").is_file()):
                found.add(sub.name)
    return sorted(found)


def language_name(lang: str) -> str:
    """The language's name in itself, as a language switch shows it: "Norsk", "Svenska", "English"."""
    try:
        name = Locale.parse(lang).get_language_name(lang) or lang
    except (ValueError, UnknownLocaleError):
        return lang
    # Babel names nb "norsk bokmål"; a visitor looks for "Norsk".
    if lang == "nb":
        name = "norsk"
    return name[:1].upper() + name[1:]


def clear_cache() -> None:
    """Forget loaded catalogues (tests that drop in a catalogue call this)."""
    _catalogue.cache_clear()
