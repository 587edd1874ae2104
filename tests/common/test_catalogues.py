"""Every shipped catalogue has every message of the English reference, translated and intact.

The English catalogue of each domain is the reference: its message ids are the strings the code
asks for. A language that ships a domain must have every one of those ids with a non-empty
translation that keeps the placeholders (``{n}``, ``%(counter)s``) — a missing or broken entry
would show a visitor English, or crash a ``.format``. Visitor languages ship every visitor
domain (so ``config check`` accepts them); staff languages ship the staff domains as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from nummerlapp.common import i18n

LOCALE = i18n.LOCALE_DIR
LANGS = sorted(p.name for p in LOCALE.iterdir() if p.is_dir())
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")
STAFF_LANGS = ("en", "nb", "sv", "fi")  # desk, technician and report pages, kiosk technician screen
VISITOR_LANGS = ("en", "nb", "sv", "fi", "uk", "ar")  # kiosk, ticket, board, phone page


def messages(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        cat = read_po(fh)
    out: dict[str, str] = {}
    for m in cat:
        if m.id and isinstance(m.id, str):
            assert not m.fuzzy, f"{path}: fuzzy entry {m.id!r}"
            out[m.id] = str(m.string or "")
    return out


def shipped() -> list[tuple[str, str]]:
    return [(lang, p.stem) for lang in LANGS for p in sorted((LOCALE / lang).glob("*.po")) if lang != "en"]


def test_languages_shipped() -> None:
    assert set(VISITOR_LANGS) <= set(LANGS)
    for lang in VISITOR_LANGS:
        assert i18n.missing_catalogues(lang) == [], lang
    for lang in STAFF_LANGS:
        assert i18n.missing_catalogues(lang, i18n.ALL_DOMAINS) == [], lang


def test_reference_has_every_domain() -> None:
    assert {p.stem for p in (LOCALE / "en").glob("*.po")} == set(i18n.ALL_DOMAINS)


@pytest.mark.parametrize("lang, domain", shipped(), ids=[f"{lang}/{d}" for lang, d in shipped()])
def test_catalogue_is_complete(lang: str, domain: str) -> None:
    reference = messages(LOCALE / "en" / f"{domain}.po")
    assert reference, f"en/{domain}.po is empty"
    found = messages(LOCALE / lang / f"{domain}.po")
    missing = sorted(m for m in reference if not found.get(m, "").strip())
    assert missing == [], f"{lang}/{domain}.po lacks: {missing}"
    stale = sorted(set(found) - set(reference))
    assert stale == [], f"{lang}/{domain}.po has ids the code no longer asks for: {stale}"
    for msgid, text in found.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), (lang, domain, msgid)
        assert text == text.strip(), (lang, domain, msgid)


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_translated_not_copied(lang: str) -> None:
    """A catalogue that is mostly English ids is a copy, not a translation."""
    same = total = 0
    for path in (LOCALE / lang).glob("*.po"):
        for msgid, text in messages(path).items():
            total += 1
            same += msgid == text and len(msgid) > 12 and not PLACEHOLDER.fullmatch(msgid)
    assert same <= total * 0.05, f"{lang}: {same} of {total} messages are the English id"


def test_language_names_and_direction() -> None:
    assert i18n.language_name("fi") == "Suomi"
    assert i18n.language_name("uk") == "Українська"
    assert i18n.language_name("ar") == "العربية"
    assert i18n.is_rtl("ar") and not i18n.is_rtl("fi") and not i18n.is_rtl(None)
    assert i18n.text_direction("ar") == "rtl" and i18n.text_direction("uk") == "ltr"
