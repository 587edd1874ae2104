"""Scripts the code pages lack (Arabic, Cyrillic) are printed as raster lines; the rest stays text.

The bytes are read back with the independent reader (escpos_reader.py): the Latin parts (site
name, number, QR code) must still be printer text, each Arabic or Ukrainian line one ``GS v 0``
image whose bits are exactly the image the preview draws, shaped and right to left.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageOps

from nummerlapp.common.i18n import translator
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import Line, TicketView, layout, to_escpos
from nummerlapp.printer.preview import render_image
from nummerlapp.printer.rastertext import RasterText, render_line
from nummerlapp.tests.printer.escpos_reader import Printed, read

SITE = "Espoon asiointipiste"
NAMES = {"ar": "الإسكان", "uk": "Житло", "fi": "Asuntoasiat"}


def view(lang: str) -> TicketView:
    return TicketView(
        site_name=SITE,
        department_name=NAMES[lang],
        number="B014",
        issued_at=dt.datetime(2026, 11, 30, 10, 12, tzinfo=ZoneInfo("Europe/Helsinki")),
        ahead=3,
        estimated_wait_s=640,
        qr_url="https://jono.example.fi/t/abc",
        lang=lang,
        logo=False,
    )


def settings(dots: int = 576) -> PrinterSettings:
    return PrinterSettings(id="k", type="dummy", dots=dots, paper_width_mm=80 if dots > 400 else 58)


def bits(p: Printed) -> Image.Image:
    """A GS v 0 image back from its bytes (1 = ink)."""
    w, h = p.extra["width_bytes"], p.extra["height"]
    return Image.frombytes("1", (w * 8, h), bytes(b ^ 0xFF for b in p.data))


@pytest.mark.parametrize("lang", ["ar", "uk"])
@pytest.mark.parametrize("dots", [576, 384])
def test_script_lines_become_raster_and_latin_stays_text(lang: str, dots: int) -> None:
    s = settings(dots)
    ops = layout(view(lang), s)
    rasters = [op for op in ops if isinstance(op, RasterText)]
    texts = [op.text for op in ops if isinstance(op, Line)]
    _ = translator("printer", lang)
    assert NAMES[lang] in [op.text for op in rasters]
    assert _("People ahead of you: {n}").format(n=3) in [op.text for op in rasters]
    assert SITE in texts and "B014" in texts  # Latin: printer text, fast
    printed = read(to_escpos(ops, s))
    kinds = [p.kind for p in printed]
    assert kinds.count("raster") == len(rasters) >= 4
    assert "qr" in kinds
    text_lines = [p.text for p in printed if p.kind == "text"]
    assert SITE in text_lines and "B014" in text_lines
    assert not any("?" in t for t in text_lines)  # nothing unprintable left as text
    # each raster line is exactly the image the preview draws, at most the paper wide
    for op, p in zip(rasters, [p for p in printed if p.kind == "raster"], strict=True):
        assert p.extra["width_bytes"] * 8 <= dots
        assert bits(p).tobytes() == render_line(op, dots).tobytes()


def test_finnish_ticket_stays_text_only() -> None:
    ops = layout(view("fi"), settings())
    assert not any(isinstance(op, RasterText) for op in ops)
    printed = read(to_escpos(ops, settings()))
    assert "raster" not in [p.kind for p in printed]
    assert "Edelläsi jonossa: 3" in [p.text for p in printed]  # ä through CP865


def test_arabic_raster_is_shaped_and_right_to_left() -> None:
    """The ink of an Arabic line starts at the right edge (left-aligned in the layout means
    start-aligned), and joined letters leave fewer gaps than the same letters isolated."""
    op = RasterText("عدد الأشخاص قبلك: 3", align="left", bold=True)
    img = render_line(op, 576)
    box = ImageOps.invert(img.convert("L")).getbbox()
    assert box is not None and box[2] > 560 and box[0] > 100  # right-aligned ink

    def ink_width(text: str) -> int:
        box = ImageOps.invert(render_line(RasterText(text), 576).convert("L")).getbbox()
        assert box is not None
        return box[2] - box[0]

    assert ink_width("الاسكان") < ink_width(" ".join("الاسكان"))


def test_preview_shows_the_raster_lines() -> None:
    ops = layout(view("ar"), settings())
    page = render_image(ops, settings())
    # the preview is at least as tall as the sum of the raster images and has their ink
    total = sum(render_line(op, 576).height for op in ops if isinstance(op, RasterText))
    assert page.height > total
    assert page.crop((24, 0, 600, page.height)).getextrema()[0] == 0


def test_a_set_codepage_that_lacks_the_script_rasterises_too() -> None:
    s = PrinterSettings(id="k", type="dummy", options={"codepage": "CP865"})
    ops = layout(view("uk"), s)
    assert any(isinstance(op, RasterText) and op.text == "Житло" for op in ops)
