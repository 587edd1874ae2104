"""Contrast, target sizes and catalogue completeness: rules the skin must keep."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from nummerlapp.common.i18n import clear_cache, translator
from nummerlapp.kiosk import theme

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "fg", "bg"), theme.PAIRS)
def test_every_text_pair_meets_wcag_aa(name: str, fg: theme.Rgb, bg: theme.Rgb) -> None:
    assert theme.contrast(fg, bg) >= theme.AA_BODY, name


def test_contrast_formula_known_values() -> None:
    assert theme.contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert theme.contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("size", [(1080, 1920), (1280, 800), (1920, 1080)])
def test_targets_at_least_15_mm(size: tuple[int, int]) -> None:
    m = theme.Metrics(*size)
    assert m.target(0.1) >= theme.MIN_TARGET_PX
    assert theme.MIN_TARGET_PX / 160 * 25.4 >= 15.0  # px at 160 dpi → mm


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "kiosk").glob("*.py"):
        if path.name == "technician.py":  # the technician's words: their own catalogue (below)
            continue
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("lang", ["nb", "sv", "fi", "en"])
def test_technician_screen_is_translated(lang: str) -> None:
    text = (ROOT / "kiosk" / "technician.py").read_text(encoding="utf-8")
    ids = set(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', text))
    with (ROOT / "common" / "locale" / lang / "technician.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh) if m.id}
    assert len(ids) > 15
    assert sorted(i for i in ids if not catalogue.get(i)) == []


@pytest.mark.parametrize("lang", ["nb", "sv", "fi", "uk", "ar", "en"])
def test_every_visitor_word_is_translated(lang: str) -> None:
    with (ROOT / "common" / "locale" / lang / "kiosk.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh) if m.id}
    ids = _msgids()
    assert len(ids) > 30
    assert sorted(i for i in ids if not catalogue.get(i)) == []
    clear_cache()
    _ = translator("kiosk", lang)
    assert (
        _("Your number")
        == {
            "nb": "Ditt nummer",
            "sv": "Ditt nummer",
            "fi": "Numerosi",
            "uk": "Ваш номер",
            "ar": "رقمك",
            "en": "Your number",
        }[lang]
    )
    assert "{time}" in _("Opens today at {time}")
