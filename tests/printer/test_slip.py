"""A booked visit's slip (printer/slip.py): golden bytes, read back by an independent ESC/POS
reader, the words in every visitor language, the raster fallback, and the paper's width.

Regenerate the goldens on purpose only (``REGENERATE_GOLDEN=1``), then look at the PNGs beside
them. ``NUMMERLAPP_SCREENSHOTS=docs/img`` also writes the docs' slip images.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from nummerlapp.printer.layout import Cut, Line, Logo, QrCode, columns, to_escpos
from nummerlapp.printer.preview import render_png
from nummerlapp.printer.rastertext import RasterText
from nummerlapp.printer.slip import SlipView, sample_slip, slip_layout
from nummerlapp.tests.printer.goldens import GOLDEN, golden_settings
from nummerlapp.tests.printer.test_roundtrip import expected, observed

HEADINGS = {
    "nb": ("Timebestilling", "Din kode", "Jeg har bestilt time"),
    "sv": ("Bokad tid", "Din kod", "Jag har en bokad tid"),
    "en": ("Booked visit", "Your code", "I have an appointment"),
    "fi": ("Varattu aika", "Koodisi", "Minulla on varattu aika"),
}


def texts(ops: list) -> str:  # type: ignore[type-arg]
    return " ".join(op.text for op in ops if isinstance(op, Line | RasterText))


@pytest.mark.parametrize("lang", sorted(HEADINGS))
def test_the_slip_says_what_the_kiosk_says(lang: str) -> None:
    ops = slip_layout(sample_slip(lang), golden_settings(576))
    heading, code, button = HEADINGS[lang]
    text = texts(ops)
    assert heading in text and code in text and button in text and "10:40" in text
    assert "K7QX 2M4P" in text and "Servicetorget i Askim" in text
    assert [op.data for op in ops if isinstance(op, QrCode)] == ["K7QX2M4P"]  # the reference alone
    assert isinstance(ops[0], Logo) and isinstance(ops[-1], Cut)
    big = {op.text: op.width for op in ops if isinstance(op, Line)}
    assert big["K7QX 2M4P"] >= 4 and big["10:40"] >= 4  # large on 80 mm paper


@pytest.mark.parametrize("lang", ["uk", "ar"])
def test_a_script_no_code_page_has_is_rastered_and_the_codes_stay_text(lang: str) -> None:
    ops = slip_layout(sample_slip(lang), golden_settings(576))
    assert any(isinstance(op, RasterText) for op in ops)
    lines = {op.text for op in ops if isinstance(op, Line)}
    assert {"10:40", "K7QX 2M4P"} <= lines  # Latin letters and digits stay printer text
    assert len(to_escpos(ops, golden_settings(576))) < 16_000


@pytest.mark.parametrize("dots", [576, 512, 384])
@pytest.mark.parametrize("lang", ["nb", "sv", "en", "fi"])
def test_every_line_fits_the_paper(dots: int, lang: str) -> None:
    ops = slip_layout(sample_slip(lang), golden_settings(dots))
    for op in ops:
        if isinstance(op, Line):
            assert len(op.text) <= columns(dots, op.width), (op.text, op.width)


@pytest.mark.parametrize("dots", [576, 512])
def test_bytes_read_back_as_the_ops(dots: int) -> None:
    settings = golden_settings(dots)
    ops = slip_layout(sample_slip("nb"), settings)
    assert observed(to_escpos(ops, settings)) == expected(ops, "CP865")


def test_a_printer_without_native_qr_still_prints_the_code() -> None:
    settings = golden_settings(384)  # ZJ-5870: no GS ( k
    data = to_escpos(slip_layout(sample_slip("en"), settings), settings)
    assert b"\x1dv0\x00" in data and b"\x1d(k" not in data  # the symbol as a raster image
    assert b"K7QX 2M4P" in data and len(data) < 9_000


def test_no_personal_data_and_a_reference_that_is_one() -> None:
    assert {f.name for f in dataclasses.fields(SlipView)} == {
        "site_name",
        "department_name",
        "start",
        "reference",
        "lang",
        "logo",
    }
    with pytest.raises(ValueError):
        dataclasses.replace(sample_slip("en"), reference="K7QX2M4O")  # O is no reference letter
    with pytest.raises(ValueError):
        dataclasses.replace(sample_slip("en"), start=sample_slip("en").start.replace(tzinfo=None))


@pytest.mark.parametrize(("dots", "lang"), [(576, "nb"), (384, "en")])
def test_slip_golden_bytes(dots: int, lang: str) -> None:
    """The slip byte for byte (regenerate: REGENERATE_GOLDEN=1; then look at the PNG)."""
    settings = golden_settings(dots)
    ops = slip_layout(sample_slip(lang), settings)
    data = to_escpos(ops, settings)
    golden = GOLDEN / f"{dots}-{lang}-slip.bin"
    if os.environ.get("REGENERATE_GOLDEN") or not golden.exists():
        golden.write_bytes(data)
        render_png(ops, settings, GOLDEN / f"{dots}-{lang}-slip.png")
    assert data == golden.read_bytes()
    docs = os.environ.get("NUMMERLAPP_SCREENSHOTS")
    if docs:
        render_png(ops, settings, Path(docs) / f"slip-{lang}-{80 if dots >= 512 else 58}mm.png")
