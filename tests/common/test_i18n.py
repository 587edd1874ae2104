"""Translations come from .po files found at run time; a dropped-in catalogue adds a language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nummerlapp.common import i18n


@pytest.fixture
def locale_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NUMMERLAPP_LOCALE_DIR", str(tmp_path))
    i18n.clear_cache()
    yield tmp_path
    i18n.clear_cache()


def _write_po(path: Path, pairs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for msgid, msgstr in pairs.items():
        body += [f'msgid "{msgid}"', f'msgstr "{msgstr}"', ""]
    path.write_text("\n".join(body), encoding="utf-8")


def test_dropped_in_catalogue_adds_a_language(locale_dir: Path) -> None:
    _write_po(locale_dir / "fi" / "testdomain.po", {"Take a number": "Ota vuoronumero"})
    assert "fi" in i18n.available_languages("testdomain")
    assert i18n.translator("testdomain", "fi")("Take a number") == "Ota vuoronumero"


def test_missing_message_falls_back_to_english_then_msgid(locale_dir: Path) -> None:
    _write_po(locale_dir / "en" / "testdomain.po", {"Hello": "Hello there"})
    _write_po(locale_dir / "fi" / "testdomain.po", {"Other": "Muu"})
    fi = i18n.translator("testdomain", "fi")
    assert fi("Hello") == "Hello there"
    assert fi("Not translated anywhere") == "Not translated anywhere"


def test_override_dir_wins_over_installed_catalogue(locale_dir: Path) -> None:
    _write_po(locale_dir / "nb" / "testdomain.po", {"Yes": "Jepp"})
    assert i18n.translator("testdomain", "nb")("Yes") == "Jepp"


def test_nordic_letters_survive(locale_dir: Path) -> None:
    _write_po(locale_dir / "sv" / "testdomain.po", {"Housing": "Bostadsärenden för åren"})
    assert i18n.translator("testdomain", "sv")("Housing") == "Bostadsärenden för åren"


def test_language_names_in_their_own_language() -> None:
    assert i18n.language_name("nb") == "Norsk"
    assert i18n.language_name("sv") == "Svenska"
    assert i18n.language_name("en") == "English"
    assert i18n.language_name("xx-invalid!") == "xx-invalid!"
