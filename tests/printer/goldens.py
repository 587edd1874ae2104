"""The golden tickets: one per paper width and language, with the NV logo and a QR code.

Regenerate only on purpose, then look at them before committing (hexdump + preview):

    .venv/bin/python tests/printer/goldens.py        # writes golden/<dots>-<lang>.bin and .png
"""

from __future__ import annotations

from pathlib import Path

from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import layout, to_escpos
from nummerlapp.printer.preview import render_png
from nummerlapp.printer.sample import sample_view

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
ROOT = HERE.parent.parent

# 80 mm at 203 dpi (Epson TM-T20II), 80 mm at 180 dpi (TM-T88V), 58 mm (a cheap ZJ-5870: no
# native QR code, no cutter, so those paths are pinned too).
PROFILES = {576: ("TM-T20II", 80), 512: ("TM-T88V", 80), 384: ("ZJ-5870", 58)}
LANGS = ("nb", "sv", "en")


def golden_settings(dots: int) -> PrinterSettings:
    profile, mm = PROFILES[dots]
    return PrinterSettings(
        id="golden", type="dummy", paper_width_mm=mm, dots=dots, profile=profile, qr=True, logo="nv"
    )


def regenerate() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for dots in PROFILES:
        settings = golden_settings(dots)
        for lang in LANGS:
            ops = layout(sample_view(lang), settings)
            data = to_escpos(ops, settings)
            (GOLDEN / f"{dots}-{lang}.bin").write_bytes(data)
            render_png(ops, settings, GOLDEN / f"{dots}-{lang}.png")
            print(f"{dots}-{lang}: {len(data)} bytes")


if __name__ == "__main__":
    regenerate()
