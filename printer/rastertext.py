"""Ticket lines in a script the printer's code pages cannot print, sent as a raster line.

Thermal printers print text from one 8-bit code page at a time; the Nordic pages (CP865, CP858,
CP850, CP1252, …) hold Latin letters only. A visitor who chose Arabic or Ukrainian must still
read "People ahead of you: 3" in their own script, so such a line is drawn here with Pillow in
DejaVu Sans (shaped and ordered right to left by :mod:`common.textshape`), made 1-bit and sent
with ``GS v 0``. Everything else on the ticket — the number, the site's name, the time in
Latin digits, the QR code — stays printer text, so the ticket stays quick: a raster line costs
about ``rows × (offset + ink width) / 8`` bytes (1–3 KB at 24–48 dots tall), not the 48 bytes
of a text line, so only the lines that need it are rasterised.

Which lines (``printer.layout.raster_fallback`` picks them): a :class:`~printer.layout.Line` holding a character that no candidate code page
of the printer's profile encodes (``options.codepage`` if set) becomes a :class:`RasterText`
with the same text, size, alignment and weight. The preview draws the very same image.

The image is cropped on the right to its ink and padded on the left to its alignment (in whole
bytes), rather than relying on ``ESC a`` for raster images, which not every printer honours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from escpos.magicencode import Encoder
from PIL import Image, ImageDraw, ImageFont

from nummerlapp.common import textshape

Align = Literal["left", "center", "right"]

FONT_H = 24  # printer font A cell height in dots; a raster line keeps the text line's height
PAD = 3  # dots of white above and below the glyphs (the line feed a text line would have had)


@dataclass(frozen=True)
class RasterText:
    """A text line printed as an image (its script is not in the printer's code pages)."""

    text: str  # logical order, as the catalogue or the site file gives it
    width: int = 1  # the text line's GS ! magnification, kept for the glyph size
    height: int = 1
    align: Align = "left"
    bold: bool = False


def _length(font: ImageFont.FreeTypeFont, text: str) -> float:
    return float(font.getlength(text))


@lru_cache(maxsize=16)
def _font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    path = textshape.RTL_FONT_BOLD if bold else textshape.RTL_FONT
    # BASIC layout: draw the glyphs in the order given. textshape has shaped and ordered them;
    # Pillow's raqm layout (when libraqm is present) would reorder them a second time.
    return ImageFont.truetype(str(path), px, layout_engine=ImageFont.Layout.BASIC)


def glyph_px(op: RasterText) -> int:
    """Font size in pixels for ``op``: a font-A cell of ``24 × height`` dots holds the glyphs."""
    return round(FONT_H * op.height * 0.85)


@lru_cache(maxsize=64)
def render_line(op: RasterText, dots: int) -> Image.Image:
    """``op`` as a 1-bit image (0 = ink): shaped, in visual order, wrapped to ``dots``, aligned.

    The width is a multiple of 8 and at most ``dots``: white on the left places the text
    (right-to-left text left-aligned in the layout reads from the right edge), and the image
    ends one byte after the ink.
    """
    rtl = textshape.has_rtl(op.text)
    px = glyph_px(op)
    font = _font(op.bold, px)
    while True:
        lines = textshape.wrap_visual(op.text, dots, functools.partial(_length, font), rtl or None)
        widest = max((font.getlength(line) for line in lines), default=0)
        if widest <= dots or px <= 12:
            break
        px -= 2  # one word wider than the paper: smaller letters rather than cut ones
        font = _font(op.bold, px)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent
    height = PAD * 2 + line_h * len(lines)
    align = op.align
    if rtl and align == "left":
        align = "right"  # a right-to-left paragraph starts at the right edge
    canvas = Image.new("1", (dots, height), 1)
    draw = ImageDraw.Draw(canvas)
    right = 0
    for i, line in enumerate(lines):
        w = int(font.getlength(line))
        x = {"left": 0, "center": (dots - w) // 2, "right": dots - w}[align]
        draw.text((x, PAD + i * line_h), line, font=font, fill=0)
        right = max(right, min(dots, x + w))
    width = min(dots, -(-(right + 1) // 8) * 8)  # crop after the ink, whole bytes
    return canvas.crop((0, 0, max(8, width), height))


def unprintable(text: str, codepages: list[str]) -> bool:
    """Whether some character of ``text`` is in none of ``codepages`` (python-escpos names)."""
    if not text or text.isascii():
        return False
    enc = Encoder({cp: 0 for cp in codepages})
    return any(not any(enc.can_encode(cp, ch) for cp in codepages) for ch in text if not ch.isascii())
