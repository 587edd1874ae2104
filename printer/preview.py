"""A PNG of the ticket, drawn from the same ops as the ESC/POS bytes, at the paper's dot width.

Why it exists: the demo's virtual printer and ``printer sample --png`` show what the paper will
look like without a printer; the images in docs/ are made by it. One PNG pixel is one printer
dot, so widths, wraps and the size of the number match the paper.

Printer font A is a 12 x 24 dot cell; DejaVu Sans Mono at 20 px has a 12 px advance, so a line
that fits on paper fits here. ``GS ! n`` magnification is drawn as the font scaled by the height
factor and stretched to the width factor (what a printer with smoothing produces). Text goes
through the same code page as the bytes, so a character the printer cannot print shows as "?".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import (
    FONT_H,
    FONT_W,
    Cut,
    Feed,
    Line,
    Logo,
    Op,
    QrCode,
    choose_codepage,
    printable,
    qr_image,
)
from nummerlapp.printer.logo import load_logo
from nummerlapp.printer.rastertext import RasterText, render_line

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LINE_SPACING = 30  # dots: Epson's default line feed (ESC 2) at 203 dpi
CUT_FEED = 90  # dots fed between the last line and the cutter
MARGIN = 24  # grey border around the paper in the PNG
_FONT_PX = 20  # DejaVu Sans Mono size whose advance is 12 px


@lru_cache(maxsize=32)
def _font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), px)


def _text_strip(op: Line, text: str, dots: int) -> Image.Image:
    """One printed line: ``max(30, 24*h)`` dots tall, text placed like the printer places it."""
    cell_h = FONT_H * op.height
    strip = Image.new("L", (dots, max(LINE_SPACING, cell_h)), 255)
    if not text:
        return strip
    font = _font(op.bold, _FONT_PX * op.height)
    natural_w = len(text) * FONT_W * op.height
    glyphs = Image.new("L", (natural_w, cell_h), 255)
    # Baseline at 19/24 of the cell, as in Epson font A (descenders use the rest).
    ImageDraw.Draw(glyphs).text((0, round(cell_h * 19 / 24)), text, font=font, fill=0, anchor="ls")
    target_w = len(text) * FONT_W * op.width
    if target_w != natural_w:
        glyphs = glyphs.resize((target_w, cell_h), Image.Resampling.LANCZOS)
    if target_w > dots:  # the printer wraps; the layout never asks for it, but don't crash
        glyphs = glyphs.crop((0, 0, dots, cell_h))
        target_w = dots
    x = {"left": 0, "center": (dots - target_w) // 2, "right": dots - target_w}[op.align]
    strip.paste(glyphs, (x, strip.height - cell_h))
    return strip


def _qr_strip(op: QrCode, dots: int) -> Image.Image:
    return qr_image(op, dots).convert("L")


def _logo_strip(op: Logo, dots: int, logo_image: str | Path | None) -> Image.Image:
    source = op.image if op.mode == "raster" else logo_image
    if source is not None and Path(source).is_file():
        return load_logo(source, dots).convert("L")
    # NV logo whose image we do not have here: a placeholder of the usual size.
    strip = Image.new("L", (dots, 96), 255)
    draw = ImageDraw.Draw(strip)
    w = min(dots - 40, 320)
    x0 = (dots - w) // 2
    draw.rectangle((x0, 8, x0 + w, 88), outline=150, width=2)
    draw.text(
        (dots // 2, 48), f"logo ({op.key} in printer memory)", font=_font(False, 16), fill=120, anchor="mm"
    )
    return strip


def render_image(
    ops: Sequence[Op], settings: PrinterSettings, logo_image: str | Path | None = None
) -> Image.Image:
    """The ticket as a greyscale image: the paper (``dots`` wide) on a grey margin."""
    dots = settings.dots
    codepage = choose_codepage(ops, settings)
    strips: list[Image.Image] = [Image.new("L", (dots, 16), 255)]
    for op in ops:
        if isinstance(op, Line):
            strips.append(_text_strip(op, printable(op.text, codepage), dots))
        elif isinstance(op, Feed):
            strips.append(Image.new("L", (dots, LINE_SPACING * op.lines), 255))
        elif isinstance(op, QrCode):
            strips.append(_qr_strip(op, dots))
        elif isinstance(op, RasterText):  # drawn exactly as sent: the same 1-bit image
            strip = Image.new("L", (dots, render_line(op, dots).height), 255)
            strip.paste(render_line(op, dots).convert("L"), (0, 0))
            strips.append(strip)
        elif isinstance(op, Logo):
            strips.append(_logo_strip(op, dots, logo_image))
        elif isinstance(op, Cut):
            strips.append(Image.new("L", (dots, CUT_FEED), 255))
    height = sum(s.height for s in strips)
    page = Image.new("L", (dots + 2 * MARGIN, height + 2 * MARGIN), 200)
    y = MARGIN
    for s in strips:
        page.paste(s, (MARGIN, y))
        y += s.height
    draw = ImageDraw.Draw(page)
    for x in range(MARGIN, MARGIN + dots, 12):  # the cut, drawn as a dashed line
        draw.line((x, y - 1, x + 6, y - 1), fill=90)
    return page


def render_png(
    ops: Sequence[Op], settings: PrinterSettings, path: str | Path, logo_image: str | Path | None = None
) -> Path:
    """Write the preview PNG (atomically: a watcher never sees half a file) and return its path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    render_image(ops, settings, logo_image).save(tmp, format="PNG", optimize=True)
    tmp.replace(path)
    return path
