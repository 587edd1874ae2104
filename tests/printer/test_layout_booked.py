"""A booked visit's ticket (issue 15): its time instead of the queue, pinned as golden bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nummerlapp.printer.layout import Line, layout, to_escpos
from nummerlapp.printer.preview import render_png
from nummerlapp.printer.sample import sample_view
from nummerlapp.tests.printer.goldens import GOLDEN, golden_settings

BOOKED_AT = dt.datetime(2026, 11, 23, 10, 40, tzinfo=ZoneInfo("Europe/Oslo"))
WORDS = {
    "nb": ("Bestilt time kl. 10:40", "Nummeret ditt blir ropt opp kl. 10:40"),
    "sv": ("Bokad tid kl. 10:40", "Ditt nummer ropas upp kl. 10:40"),
    "en": ("Booked visit at 10:40", "We will call your number at 10:40"),
}


def booked_view(lang: str, soon: bool = False):  # type: ignore[no-untyped-def]
    return dataclasses.replace(sample_view(lang), booked_at=BOOKED_AT, called_soon=soon)


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_booked_ticket_says_when_it_is_called(lang: str) -> None:
    ops = layout(booked_view(lang), golden_settings(576))
    text = " ".join(op.text for op in ops if isinstance(op, Line))
    booked, call = WORDS[lang]
    assert booked in text and call in text
    assert "4" not in text.split(booked)[0][-20:]  # no "people ahead" line before it
    soon = " ".join(
        op.text for op in layout(booked_view(lang, soon=True), golden_settings(576)) if isinstance(op, Line)
    )
    assert "10:40" in soon and call not in soon


def test_booked_golden_bytes(tmp_path: Path) -> None:
    """The 80 mm Norwegian booked ticket, byte for byte (regenerate: REGENERATE_GOLDEN=1)."""
    settings = golden_settings(576)
    ops = layout(booked_view("nb"), settings)
    data = to_escpos(ops, settings)
    golden = GOLDEN / "576-nb-booked.bin"
    if os.environ.get("REGENERATE_GOLDEN") or not golden.exists():
        golden.write_bytes(data)
        render_png(ops, settings, GOLDEN / "576-nb-booked.png")
    assert data == golden.read_bytes()
