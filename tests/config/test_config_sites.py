"""The shipped site files load, satisfy PROTOCOL.md, and the settings object cannot be changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import Settings, load_settings, verify_pin
from nummerlapp.config.loader import EMBEDDED_LABEL
from nummerlapp.tests.config.sitefixtures import EXAMPLE_TEXT

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_example_meets_the_protocol() -> None:
    s = load_settings(None)
    assert s.source == EMBEDDED_LABEL
    assert s.site.id == "askim" and s.site.tz.key == "Europe/Oslo"
    assert len([d for d in s.departments if d.max_number >= 999]) >= 3
    ids = [c.id for c in s.counters]
    assert {"1", "2", "3", "4"} <= set(ids)
    served = {dep for c in s.counters for dep in c.departments}
    assert {d.id for d in s.departments} <= served
    assert any(len(c.departments) >= 2 for c in s.counters)
    assert all(set(d.name) == set(s.site.languages) for d in s.departments)


def test_embedded_example_values_reach_the_model() -> None:
    s = load_settings(None)
    nav, tolk = s.department("nav"), s.department("tolk")
    assert nav is not None and tolk is not None
    assert nav.format_number(12) == "A012"
    assert tolk.priority == 2.0 and tolk.hours is not None
    friday = dt.date(2026, 11, 27)
    assert [str(i) for i in s.department_hours("tolk").intervals_on(friday)] == ["09:00-12:00"]
    assert [str(i) for i in s.department_hours("nav").intervals_on(friday)] == ["08:00-15:00"]
    assert s.site.hours.intervals_on(dt.date(2026, 12, 24)) == ()
    assert s.site.last_ticket_min == 10 and s.site.kiosk_interval_s == 2.0
    assert s.printer() is not None and s.printer("kiosk-1") is s.printer()
    assert s.kiosk.printer == "kiosk-1" and s.board.zone == "venterom"
    assert s.board.voice_languages == ("nb", "en")


def test_embedded_demo_pin_is_2468() -> None:
    pin_hash = load_settings(None).kiosk.technician_pin_hash
    assert pin_hash.startswith("$argon2id$")
    assert verify_pin(pin_hash, "2468")
    assert not verify_pin(pin_hash, "2469")
    assert not verify_pin("", "2468")


def test_technician_example_loads_and_matches_the_embedded_site() -> None:
    documented = load_settings(ROOT / "examples" / "site.toml")
    embedded = load_settings(None)
    assert documented.site.id
    assert len(documented.counters) >= 1 and len(documented.departments) >= 1
    # the documented file shows every section, so every optional block is present
    assert documented.printers and documented.zones
    assert documented.kiosk.technician_pin_hash == ""  # a real site makes its own
    assert embedded.site.languages[0] == "nb"


def test_minimal_site_gets_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(
        '[site]\nid = "mini"\nname = "Mini"\ntimezone = "Europe/Stockholm"\nlanguages = ["sv"]\n'
        '[site.hours]\nmon = ["09:00-12:00", "13:00-16:00"]\n'
        '[[departments]]\nid = "a"\nprefix = "A"\nname = { sv = "Allmänt" }\n'
        '[[counters]]\nid = "1"\ndepartments = ["a"]\n',
        encoding="utf-8",
    )
    s = load_settings(path)
    assert s.source == str(path)
    assert s.site.wait_target_min == 15 and s.site.last_ticket_min == 0 and s.site.server_url == ""
    assert s.site.hours.weekly["mon"][1].start == dt.time(13) and "tue" not in s.site.hours.weekly
    assert s.departments[0].max_number == 999 and s.departments[0].priority == 1.0
    assert s.counters[0].name == "1"
    assert s.printers == () and s.zones == ()
    assert s.kiosk.idle_timeout_s == 30 and s.kiosk.ticket_screen_s == 8 and s.kiosk.printer is None
    assert s.board.announce is True and s.board.voice_languages == () and s.board.zone is None


def test_settings_are_frozen() -> None:
    s = load_settings(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.site.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.kiosk.technician_pin_hash = ""  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.departments[0].name["nb"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        s.site.hours.weekly["sat"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        s.printers[0].options["directory"] = "/"  # type: ignore[index]
    assert isinstance(s.departments, tuple) and isinstance(s.counters[0].departments, tuple)
    assert hash(s.counters[0]) == hash(load_settings(None).counters[0])


def test_to_dict_is_json_and_hides_the_pin_hash() -> None:
    s = load_settings(None)
    data = json.loads(json.dumps(s.to_dict()))
    assert data["kiosk"]["technician_pin_hash"] == "(set)"
    assert data["site"]["hours"]["weekly"]["thu"] == ["08:00-18:00"]
    assert data["site"]["hours"]["exceptions"]["2026-12-24"] == []
    assert [d["id"] for d in data["departments"]] == ["nav", "byggesak", "bolig", "tolk"]
    assert s.kiosk.technician_pin_hash.startswith("$argon2")  # the object itself is unchanged


def test_url_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(EXAMPLE_TEXT.replace('public_url = "http://127.0.0.1:8421"', 'public_url = "127.0.0.1"'))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.key == "site.public_url"
    assert caught.value.problem == '"127.0.0.1" is not an address like "http://host:8420"'


LINES = EXAMPLE_TEXT.splitlines()


@settings(max_examples=150, deadline=None)
@given(
    drop=st.sets(st.integers(0, len(LINES) - 1), max_size=3),
    junk=st.lists(st.tuples(st.integers(0, len(LINES)), st.text(max_size=12)), max_size=2),
)
def test_any_edit_loads_or_is_refused_cleanly(tmp_path_factory: pytest.TempPathFactory, drop, junk) -> None:  # type: ignore[no-untyped-def]
    """Deleting lines and inserting junk never crashes the loader: Settings or one ConfigError line."""
    lines = [line for i, line in enumerate(LINES) if i not in drop]
    for at, text in junk:
        lines.insert(min(at, len(lines)), text)
    path = tmp_path_factory.mktemp("fuzz") / "site.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        result = load_settings(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
    else:
        assert isinstance(result, Settings)
