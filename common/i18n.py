"""Translations: gettext catalogues read at run time with Babel.

Catalogues live at ``common/locale/<lang>/<domain>.po`` (one domain per part: kiosk, display,
printer, phone, feedback, web, reports, technician). Message ids are English. Adding a language means
dropping in a folder of ``.po`` files — no compile step, nothing to register. A directory named in
``NUMMERLAPP_LOCALE_DIR`` is searched first, so a site can add or override a catalogue without
touching the installation.

    _ = translator("kiosk", "nb")
    _("Take a number")   # -> "Trekk kølapp"

Which catalogues a language needs (docs/LANGUAGES.md):

* A **site language** (``site.languages``) is offered to visitors, so it must have every
  visitor-facing domain (:data:`VISITOR_DOMAINS`: kiosk, printer, display, phone, feedback);
  ``config check`` refuses one that lacks any (:func:`missing_catalogues`).
* Staff pages (desk, technician, reports) and the kiosk's technician screen are offered in the
  site languages that also have :data:`STAFF_DOMAINS`; the others fall back to English.

Babel is imported only when a catalogue is read or a language named: the site-file loader asks
:func:`missing_catalogues` at every start and stays a few milliseconds fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
FALLBACK = "en"
REFERENCE = "en"  # the catalogue every other one is checked against (tests/common/test_catalogues.py)

VISITOR_DOMAINS = ("kiosk", "printer", "display", "phone", "feedback")  # feedback: the exit terminal
STAFF_DOMAINS = ("web", "reports", "technician")
ALL_DOMAINS = VISITOR_DOMAINS + STAFF_DOMAINS

# Languages written right to left (ISO 639 codes a site file may use).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "ku", "yi", "dv"})

Translate = Callable[[str], str]


def _locale_dirs() -> list[Path]:
    extra = os.environ.get("NUMMERLAPP_LOCALE_DIR")
    return ([Path(extra)] if extra else []) + [LOCALE_DIR]


def catalogue_path(domain: str, lang: str) -> Path | None:
    """The ``.po`` file that provides ``domain`` in ``lang`` (the override directory first)."""
    for base in _locale_dirs():
        path = base / lang / f"{domain}.po"
        if path.is_file():
            return path
    return None


def missing_catalogues(lang: str, domains: Iterable[str] = VISITOR_DOMAINS) -> list[str]:
    """The domains of ``domains`` that have no catalogue for ``lang`` (empty: all there).

    English is the language of the message ids, so it always has every domain.
    """
    if lang == REFERENCE:
        return []
    return [d for d in domains if catalogue_path(d, lang) is None]


@lru_cache(maxsize=128)
def _catalogue(domain: str, lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po  # noqa: PLC0415  # start-up: Babel only when a catalogue or a locale is read

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


def staff_language(lang: str, domain: str = "web") -> bool:
    """Whether staff pages can be shown in ``lang`` (it has the staff catalogue ``domain``)."""
    return lang == REFERENCE or catalogue_path(domain, lang) is not None


def is_rtl(lang: str | None) -> bool:
    """Whether ``lang`` is written right to left (``ar`` → True)."""
    return bool(lang) and str(lang).split("-")[0].split("_")[0].lower() in RTL_LANGUAGES


def text_direction(lang: str | None) -> str:
    """``"rtl"`` or ``"ltr"``, for HTML's ``dir`` attribute."""
    return "rtl" if is_rtl(lang) else "ltr"


# A visitor looks for the name they know their language by; Babel's CLDR names are right but
# sometimes long ("norsk bokmål") or lower-case.
_OWN_NAMES = {"nb": "Norsk", "uk": "Українська", "ar": "العربية", "so": "Soomaali", "pl": "Polski"}


def language_name(lang: str) -> str:
    """The language's name in itself, as a language switch shows it: "Norsk", "Suomi", "العربية"."""
    if lang in _OWN_NAMES:
        return _OWN_NAMES[lang]
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415  # start-up: Babel only when a catalogue or a locale is read

    try:
        name = Locale.parse(lang).get_language_name(lang) or lang
    except (ValueError, UnknownLocaleError):
        return lang
    return name[:1].upper() + name[1:]


def locale_for(lang: str) -> str:
    """A Babel locale for formatting dates and numbers in ``lang`` (``en`` for unknown codes)."""
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415  # start-up: Babel only when a catalogue or a locale is read

    try:
        Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        return FALLBACK
    return lang


def clear_cache() -> None:
    """Forget loaded catalogues (tests that drop in a catalogue call this)."""
    _catalogue.cache_clear()
