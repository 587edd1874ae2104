"""Every malformed site file is refused with one exact line: file, dotted key, bad value.

Each case edits the embedded example site in one place, so the message must come from that edit
and nothing else in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.loader import load_settings
from nummerlapp.tests.config.sitefixtures import EXAMPLE_TEXT, variant

HASH_LINE = 'technician_pin_hash = "'

CASES: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    # unknown keys, with the closest known key suggested
    "unknown site key": (
        (('timezone = "Europe/Oslo"', 'timezon = "Europe/Oslo"'),),
        'site.timezon: unknown key; did you mean "timezone"?',
    ),
    "unknown department key": (
        (('prefix = "B"', 'prefx = "B"'),),
        'departments[1].prefx: unknown key; did you mean "prefix"?',
    ),
    "unknown top-level table": (
        (("[board]", "[boards]"),),
        'boards: unknown key; did you mean "board"?',
    ),
    "unknown key, nothing close": (
        (("[[printers]]\nid", "[[printers]]\ncolour = 3\nid"),),
        "printers[0].colour: unknown key (known keys: id, type, options, paper_width_mm, dots, profile, qr, logo)",
    ),
    "unknown weekday": (
        (
            (
                "sat = []\nsun = []\n\n[site.hours.exceptions]",
                "sat = []\nsunday = []\n\n[site.hours.exceptions]",
            ),
        ),
        'site.hours.sunday: unknown key; did you mean "sun"?',
    ),
    # missing required fields
    "missing prefix": (
        (('prefix = "B"\n', ""),),
        "departments[1].prefix: missing (this key is required)",
    ),
    "missing timezone": (
        (('timezone = "Europe/Oslo"\n', ""),),
        "site.timezone: missing (this key is required)",
    ),
    "no counters": (
        (("[[counters]]", "[[counter]]"),),
        'counter: unknown key; did you mean "counters"?',
    ),
    "empty site name": (
        (('name = "Servicetorget i Askim"', 'name = " "'),),
        "site.name: empty: boards and tickets show the site's name",
    ),
    # wrong types
    "string for integer": (
        (("wait_target_min = 15 ", 'wait_target_min = "15" '),),
        'site.wait_target_min: expected an integer, got "15" (a string)',
    ),
    "boolean for integer": (
        (("max_number = 999", "max_number = true"),),
        "departments[0].max_number: expected an integer, got true (true/false)",
    ),
    "string for list": (
        (('languages = ["nb", "sv", "en"]', 'languages = "nb"'),),
        'site.languages: expected a list of language codes, got "nb" (a string)',
    ),
    "float for boolean": (
        (("qr = true", "qr = 1.0"),),
        "printers[0].qr: expected true or false, got 1.0 (a number)",
    ),
    # references between sections
    "counter serves unknown department": (
        (('departments = ["byggesak"]', 'departments = ["bygesak"]'),),
        'counters[2].departments: unknown department "bygesak" (known: bolig, byggesak, nav, tolk)',
    ),
    "department nobody serves": (
        (('departments = ["bolig", "tolk", "byggesak"]', 'departments = ["bolig", "byggesak"]'),),
        'departments[3]: no counter serves "tolk": its tickets could never be called',
    ),
    "zone shows unknown department": (
        (('departments = ["nav", "byggesak", "bolig", "tolk"]', 'departments = ["nav", "pass"]'),),
        'zones[0].departments: unknown department "pass" (known: bolig, byggesak, nav, tolk)',
    ),
    "kiosk uses unknown printer": (
        (('printer = "kiosk-1"', 'printer = "kiosk-2"'),),
        'kiosk.printer: unknown printer "kiosk-2" (known: kiosk-1)',
    ),
    "board shows unknown zone": (
        (('zone = "venterom"', 'zone = "lobby"'),),
        'board.zone: unknown zone "lobby" (known: venterom)',
    ),
    "board speaks a language the site lacks": (
        (('voice_languages = ["nb", "en"]', 'voice_languages = ["nb", "fi"]'),),
        'board.voice_languages[1]: "fi" is not one of the site\'s languages (nb, sv, en)',
    ),
    # uniqueness
    "two departments with one prefix": (
        (('prefix = "B"', 'prefix = "A"'),),
        'departments[1].prefix: "A" is already used by departments[0] (nav)',
    ),
    "duplicate department id": (
        (('id = "bolig"', 'id = "nav"'),),
        'departments[2].id: "nav" is already used by departments[0]',
    ),
    "duplicate counter id": (
        (('id = "3"', 'id = "2"'),),
        'counters[2].id: "2" is already used by counters[1]',
    ),
    # time zone, hours, dates
    "bad time zone": (
        (('timezone = "Europe/Oslo"', 'timezone = "Europe/Olso"'),),
        'site.timezone: unknown time zone "Europe/Olso" (use a name like "Europe/Oslo")',
    ),
    "time zone path trick": (
        (('timezone = "Europe/Oslo"', 'timezone = "../../etc/passwd"'),),
        'site.timezone: unknown time zone "../../etc/passwd" (use a name like "Europe/Oslo")',
    ),
    "hours not a range": (
        (('mon = ["08:00-15:30"]', 'mon = ["8-15"]'),),
        'site.hours.mon[0]: "8-15" is not a time range like "08:00-15:30"',
    ),
    "hours end before start": (
        (('mon = ["08:00-15:30"]', 'mon = ["15:30-08:00"]'),),
        'site.hours.mon[0]: "15:30-08:00" must end after it starts',
    ),
    "hours impossible time": (
        (('mon = ["08:00-15:30"]', 'mon = ["08:00-24:30"]'),),
        'site.hours.mon[0]: "08:00-24:30" is not a valid time range (00:00 to 23:59)',
    ),
    "hours overlap": (
        (('mon = ["08:00-15:30"]', 'mon = ["08:00-12:00", "11:30-15:30"]'),),
        'site.hours.mon[1]: "11:30-15:30" starts before the previous range "08:00-12:00" ends '
        "(ranges must be in order and must not overlap)",
    ),
    "hours out of order": (
        (('mon = ["08:00-15:30"]', 'mon = ["13:00-15:30", "08:00-12:00"]'),),
        'site.hours.mon[1]: "08:00-12:00" starts before the previous range "13:00-15:30" ends '
        "(ranges must be in order and must not overlap)",
    ),
    "department hours checked too": (
        (('mon = ["09:00-14:00"]', 'mon = ["09:00-09:00"]'),),
        'departments[3].hours.mon[0]: "09:00-09:00" must end after it starts',
    ),
    "exception date impossible": (
        (('"2026-12-24" = []', '"2026-13-24" = []'),),
        'site.hours.exceptions.2026-13-24: "2026-13-24" is not a date like "2026-12-24"',
    ),
    "exception date in local style": (
        (('"2026-12-24" = []', '"24.12.2026" = []'),),
        'site.hours.exceptions."24.12.2026": "24.12.2026" is not a date like "2026-12-24"',
    ),
    # languages
    "department lacks a name for a site language": (
        (
            (
                'name = { nb = "NAV", sv = "NAV", en = "NAV – welfare" }',
                'name = { nb = "NAV", en = "NAV – welfare" }',
            ),
        ),
        'departments[0].name: no name for language "sv" (every site language needs one)',
    ),
    "name in a language the site lacks": (
        (
            (
                'name = { nb = "NAV", sv = "NAV", en = "NAV – welfare" }',
                'name = { nb = "NAV", sv = "NAV", en = "NAV", de = "NAV" }',
            ),
        ),
        'departments[0].name.de: "de" is not one of the site\'s languages (nb, sv, en)',
    ),
    "language code in capitals": (
        (('languages = ["nb", "sv", "en"]', 'languages = ["nb", "sv", "EN"]'),),
        'site.languages[2]: "EN" is not a language code (2-3 lowercase letters, like "nb")',
    ),
    "language code spelt out": (
        (('languages = ["nb", "sv", "en"]', 'languages = ["nb", "english"]'),),
        'site.languages[1]: "english" is not a language code (2-3 lowercase letters, like "nb")',
    ),
    # numbers and choices
    "max_number zero": (
        (("max_number = 999", "max_number = 0"),),
        "departments[0].max_number: 0 must be at least 1",
    ),
    "priority zero": (
        (("priority = 1.0", "priority = 0"),),
        "departments[0].priority: 0 must be greater than 0",
    ),
    "priority negative": (
        (("priority = 2.0", "priority = -1.5"),),
        "departments[3].priority: -1.5 must be greater than 0",
    ),
    "unknown printer type": (
        (('type = "file"', 'type = "lpt"'),),
        'printers[0].type: unknown printer type "lpt" (one of: serial, usb, network, file, dummy)',
    ),
    "printer dots": (
        (("dots = 576", "dots = 600"),),
        "printers[0].dots: 600 is not one of 384, 512, 576",
    ),
    "printer dots do not fit the paper": (
        (("dots = 576", "dots = 384"),),
        "printers[0].dots: 384 dots do not fit 80 mm paper (use 512 or 576)",
    ),
    "a PIN written where its hash belongs": (
        ((HASH_LINE, HASH_LINE + '2468"\n# "'),),
        "kiosk.technician_pin_hash: not an argon2 hash: make one with `python main.py config hash-pin` "
        "(never write the PIN itself)",
    ),
}


@pytest.mark.parametrize("edits, expected", list(CASES.values()), ids=list(CASES))
def test_malformed_site_is_refused_with_exact_message(
    site_file: Callable[[str], Path], edits: tuple[tuple[str, str], ...], expected: str
) -> None:
    path = site_file(variant(*edits))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"site.toml: {expected}"
    assert caught.value.file == "site.toml"
    assert "\n" not in str(caught.value)


def test_bad_toml_names_line_and_column(site_file: Callable[[str], Path]) -> None:
    broken = 'name = "Servicetorget i Askim'
    line = EXAMPLE_TEXT[: EXAMPLE_TEXT.index(broken)].count("\n") + 1
    path = site_file(variant(('name = "Servicetorget i Askim"', broken)))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    column = len(broken) + 1
    assert (
        str(caught.value) == f"site.toml: line {line}, column {column}: invalid TOML: Illegal character '\\n'"
    )
    assert caught.value.key == f"line {line}, column {column}"


def test_toml_error_without_position(site_file: Callable[[str], Path]) -> None:
    path = site_file(EXAMPLE_TEXT + "\nannounce = false")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == "site.toml: invalid TOML: Cannot overwrite a value (at end of document)"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: cannot read the site file: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == f"{tmp_path}: cannot read the site file: it is a directory"


def test_not_utf8(site_file: Callable[[str], Path]) -> None:
    path = site_file("")
    path.write_bytes(EXAMPLE_TEXT.encode("utf-8").replace(b"Velkommen", b"Velkommen\xff"))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith("site.toml: not UTF-8 text (byte ")


def test_empty_file_names_first_missing_section(site_file: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(site_file(""))
    assert str(caught.value) == "site.toml: site: missing (this key is required)"


SITE = (
    '[site]\nid = "mini"\nname = "Mini"\ntimezone = "Europe/Stockholm"\nlanguages = ["sv"]\n'
    '[site.hours]\nmon = ["09:00-12:00"]\n'
    '[[departments]]\nid = "a"\nprefix = "A"\nname = { sv = "Allmänt" }\n'
)
COUNTER = '[[counters]]\nid = "1"\ndepartments = ["a"]\n'


def test_empty_list_of_optional_tables_is_fine(site_file: Callable[[str], Path]) -> None:
    assert load_settings(site_file("zones = []\nprinters = []\n" + SITE + COUNTER)).zones == ()


def test_empty_list_of_required_tables(site_file: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(site_file("counters = []\n" + SITE))
    assert (
        str(caught.value)
        == "site.toml: counters: the list is empty: the site needs at least one [[counters]] entry"
    )


def test_entry_that_is_not_a_table(site_file: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(site_file('zones = ["hall"]\n' + SITE + COUNTER))
    assert str(caught.value) == 'site.toml: zones[0]: expected a table, got "hall" (a string)'
