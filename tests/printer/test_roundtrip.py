"""The bytes say what the ops say: read back with an independent ESC/POS reader."""

from __future__ import annotations

import dataclasses

import pytest

from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import Cut, Feed, Line, Logo, QrCode, layout, printable, to_escpos
from nummerlapp.printer.sample import sample_view
from nummerlapp.tests.printer.escpos_reader import read
from nummerlapp.tests.printer.goldens import LANGS, PROFILES, golden_settings


def expected(ops: list, codepage: str) -> list[tuple]:  # type: ignore[type-arg]
    out: list[tuple] = []  # type: ignore[type-arg]
    for op in ops:
        if isinstance(op, Line):
            out.append(("text", printable(op.text, codepage), op.width, op.height, op.align, op.bold))
        elif isinstance(op, Feed):
            out += [("feed", 1)] * op.lines
        elif isinstance(op, QrCode):
            out.append(("qr", op.data, op.module))
        elif isinstance(op, Logo):
            out.append(("nv_logo",))
        elif isinstance(op, Cut):
            out.append(("cut",))
    return out


def observed(data: bytes) -> list[tuple]:  # type: ignore[type-arg]
    out: list[tuple] = []  # type: ignore[type-arg]
    for p in read(data):
        if p.kind == "text":
            out.append(("text", p.text, p.width, p.height, p.align, p.bold))
        elif p.kind == "feed":
            out += [("feed", 1)] * p.lines
        elif p.kind == "qr":
            out.append(("qr", p.data.decode(), p.extra["module"]))
        else:
            out.append((p.kind,))
    return out


@pytest.mark.parametrize("dots", [576, 512])
@pytest.mark.parametrize("lang", LANGS)
def test_bytes_read_back_as_the_ops(dots: int, lang: str) -> None:
    settings = golden_settings(dots)
    ops = layout(sample_view(lang), settings)
    assert observed(to_escpos(ops, settings)) == expected(ops, "CP865")


def test_nordic_letters_read_back() -> None:
    settings = PrinterSettings(id="p", type="dummy", profile="TM-T20II", logo="none")
    view = dataclasses.replace(
        sample_view("nb"), department_name="Æbleø Ålgård Ängö Öst Élan", footer="æ ø å ä ö é"
    )
    lines = [p.text for p in read(to_escpos(layout(view, settings), settings)) if p.kind == "text"]
    assert "æ ø å ä ö é" in lines
    assert any("Æbleø" in t for t in lines) and any("Élan" in t for t in lines)


def test_58mm_without_cutter_feeds_instead() -> None:
    settings = golden_settings(384)
    assert PROFILES[384][0] == "ZJ-5870"
    actions = read(to_escpos(layout(sample_view("sv"), settings), settings))
    assert actions[-1].kind == "feed" and actions[-1].lines == 4
    assert all(a.kind != "qr" for a in actions)
