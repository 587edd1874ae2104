"""Languages in the site file: a language needs its catalogues, counters have names per language,
boards may show several languages in turn."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nummerlapp.common import i18n
from nummerlapp.common.errors import ConfigError
from nummerlapp.config.loader import load_settings
from nummerlapp.tests.config.sitefixtures import variant

ROOT = Path(__file__).resolve().parents[2]
LANGS = 'languages = ["nb", "sv", "en"]'
SHIPPED = "ar, en, fi, nb, sv, uk"  # languages with every visitor catalogue (common/locale)


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_language_without_catalogue_is_refused(site_file: Callable[[str], Path]) -> None:
    path = site_file(variant((LANGS, 'languages = ["nb", "sv", "se"]')))
    assert refused(path) == (
        'site.toml: site.languages[2]: "se" has no translation: no catalogue common/locale/se/kiosk.po '
        f"(languages with one: {SHIPPED}; docs/LANGUAGES.md says how to add one)"
    )


def test_language_missing_one_visitor_catalogue_names_that_file(
    site_file: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site's own folder (NUMMERLAPP_LOCALE_DIR) with a kiosk catalogue only is not enough:
    the ticket and the board would be in English."""
    extra = tmp_path / "locale"
    (extra / "se").mkdir(parents=True)
    (extra / "se" / "kiosk.po").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    monkeypatch.setenv("NUMMERLAPP_LOCALE_DIR", str(extra))
    path = site_file(variant((LANGS, 'languages = ["nb", "se"]')))
    assert "no catalogue common/locale/se/printer.po" in refused(path)


def test_finnish_ukrainian_arabic_are_accepted(site_file: Callable[[str], Path]) -> None:
    text = variant((LANGS, 'languages = ["nb", "sv", "en", "fi", "uk", "ar"]'))
    # every department needs a name (and every feedback question a text) in every site language
    text = re.sub(
        r"^((?:name|text) = \{ nb = .*) \}$", r'\1, fi = "x", uk = "x", ar = "x" }', text, flags=re.M
    )
    s = load_settings(site_file(text))
    assert s.site.languages[-3:] == ("fi", "uk", "ar")


def test_check_refuses_with_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(variant((LANGS, 'languages = ["nb", "xx"]')), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "config", "check", "site.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(
        'error: site.toml: site.languages[1]: "xx" has no translation: no catalogue common/locale/xx/kiosk.po'
    )
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_loading_a_site_imports_no_babel_and_nothing_above_config() -> None:
    """The catalogue check looks for files; Babel (and every layer above config) stays unloaded."""
    code = (
        "import sys\n"
        "from nummerlapp.config.loader import load_settings\n"
        "load_settings(None)\n"
        "bad = sorted(m for m in sys.modules if m == 'babel' or m.split('.')[:2] in ("
        "['nummerlapp', 'server'], ['nummerlapp', 'kiosk'], ['nummerlapp', 'display'],"
        " ['nummerlapp', 'printer'], ['nummerlapp', 'client']))\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT.parent
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_catalogues_lists_the_visitor_domains() -> None:
    i18n.clear_cache()
    assert i18n.missing_catalogues("fi") == []
    assert i18n.missing_catalogues("uk") == [] and i18n.missing_catalogues("ar") == []
    assert i18n.missing_catalogues("zz") == list(i18n.VISITOR_DOMAINS)
    assert i18n.missing_catalogues("en") == []


# -- counter names per language ------------------------------------------------------------------


def test_counter_names_per_language(site_file: Callable[[str], Path]) -> None:
    s = load_settings(None)  # the example site names its counters in nb, sv and en
    c = s.counter("2")
    assert c is not None
    assert c.name == "Skranke 2"  # the site's first language: the protocol's name
    assert (c.label("en"), c.label("sv"), c.label("nb")) == ("Counter 2", "Disk 2", "Skranke 2")
    counters = s.to_dict()["counters"]
    assert isinstance(counters, list)
    assert counters[1]["names"] == {"nb": "Skranke 2", "sv": "Disk 2", "en": "Counter 2"}


def test_counter_plain_string_name_still_works(site_file: Callable[[str], Path]) -> None:
    old = 'name = { nb = "Skranke 2", sv = "Disk 2", en = "Counter 2" }'
    s = load_settings(site_file(variant((old, 'name = "Skranke 2"'))))
    c = s.counter("2")
    assert c is not None and c.name == "Skranke 2" and c.label("en") == "Skranke 2" and dict(c.names) == {}


@pytest.mark.parametrize(
    "new, expected",
    [
        ('name = { sv = "Disk 2", en = "Counter 2" }', 'counters[1].name: no name for language "nb"'),
        (
            'name = { nb = "Skranke 2", de = "Schalter 2" }',
            'counters[1].name.de: "de" is not one of the site',
        ),
        ('name = { nb = "Skranke 2", en = "" }', 'counters[1].name.en: expected a non-empty string, got ""'),
        ("name = 2", "counters[1].name: expected a string or a table"),
    ],
)
def test_counter_names_refused(site_file: Callable[[str], Path], new: str, expected: str) -> None:
    old = 'name = { nb = "Skranke 2", sv = "Disk 2", en = "Counter 2" }'
    assert refused(site_file(variant((old, new)))).startswith(f"site.toml: {expected}")


# -- boards in several languages -----------------------------------------------------------------

BOARD = 'voice_languages = ["nb", "en"]'


def test_board_languages_in_turn(site_file: Callable[[str], Path]) -> None:
    s = load_settings(
        site_file(variant((BOARD, BOARD + '\nlanguages = ["nb", "en"]\nlanguage_period_s = 8')))
    )
    assert s.board.languages == ("nb", "en") and s.board.language_period_s == 8
    assert load_settings(None).board.languages == ()


@pytest.mark.parametrize(
    "extra, expected",
    [
        (
            'languages = ["nb", "fi"]',
            'board.languages[1]: "fi" is not one of the site\'s languages (nb, sv, en)',
        ),
        ('languages = ["nb", "nb"]', 'board.languages[1]: "nb" is listed twice'),
        ("language_period_s = 1", "board.language_period_s: 1 must be at least 3"),
    ],
)
def test_board_languages_refused(site_file: Callable[[str], Path], extra: str, expected: str) -> None:
    assert refused(site_file(variant((BOARD, BOARD + "\n" + extra)))) == f"site.toml: {expected}"
