"""The site's logo: converted once to a 1-bit image at the paper width and stored in the printer.

Why NV memory: a 576-dot-wide raster logo is ~8,900 bytes, 9 s at 9600 baud, on every ticket.
Stored once in the printer's non-volatile memory it is printed by an 11-byte reference.

Two command families, chosen by the profile's ``graphics`` feature:

- ``GS ( L`` NV graphics (TM-T20II, TM-T88V and later): define fn 67 under a two-character key,
  print fn 69, delete fn 66 (we delete before defining, so a new logo replaces the old one).
- legacy ``FS q`` / ``FS p`` NV bit images for printers without ``GS ( L``: image 1 of 1.

The image is padded to the full paper width (centred) so it prints centred whatever the
printer does with ``ESC a`` for graphics.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.profile import supports

MAX_LOGO_HEIGHT = 240  # dots; ~30 mm at 203 dpi — a logo, not a poster


def load_logo(path: str | Path, dots: int, max_height: int = MAX_LOGO_HEIGHT) -> Image.Image:
    """Read an image, scale it to fit ``dots`` x ``max_height``, dither to 1 bit, pad to ``dots``.

    Transparent pixels become white (paper). Height is rounded up to a multiple of 8 (the legacy
    NV format counts height in bytes of 8 dots). Raises ``ValueError`` for a file that is not an
    image.
    """
    try:
        with Image.open(path) as src:
            src.load()
            img = src.convert("RGBA")
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from exc
    paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
    paper.alpha_composite(img)
    gray = paper.convert("L")
    scale = min(dots / gray.width, max_height / gray.height, 1.0)
    if scale < 1.0:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    mono = gray.convert("1")  # Floyd-Steinberg dithering
    height = (mono.height + 7) // 8 * 8
    canvas = Image.new("1", (dots, height), 1)
    canvas.paste(mono, ((dots - mono.width) // 2, (height - mono.height) // 2))
    return canvas


def _uses_graphics(settings: PrinterSettings) -> bool:
    return supports(settings, "graphics")


def _key_bytes(key: str) -> bytes:
    raw = key.encode("ascii")
    if len(raw) != 2 or not all(32 <= b <= 126 for b in raw):
        raise ValueError(f"NV key must be two printable ASCII characters, got {key!r}")
    return raw


def raster_rows(img: Image.Image) -> bytes:
    """Row-major 1-bit data, MSB = leftmost dot, 1 = black (ESC/POS raster format)."""
    return ImageOps.invert(img.convert("L")).convert("1").tobytes()


def _column_bytes(img: Image.Image) -> bytes:
    """``FS q`` column format: for each column left to right, its bytes top to bottom, MSB on top."""
    px = img.load()
    assert px is not None
    out = bytearray()
    for x in range(img.width):
        for yb in range(img.height // 8):
            byte = 0
            for bit in range(8):
                if px[x, yb * 8 + bit] == 0:  # black
                    byte |= 0x80 >> bit
            out.append(byte)
    return bytes(out)


def nv_print_command(settings: PrinterSettings, key: str) -> bytes:
    """The bytes that print the stored logo once."""
    if _uses_graphics(settings):
        return b"\x1d(L\x06\x000E" + _key_bytes(key) + b"\x01\x01"
    return b"\x1cp\x01\x00"  # FS p n=1 m=0 (normal size)


def nv_store_commands(img: Image.Image, settings: PrinterSettings, key: str) -> bytes:
    """The bytes that store ``img`` (from :func:`load_logo`) in NV memory under ``key``."""
    width, height = img.size
    if _uses_graphics(settings):
        kc = _key_bytes(key)
        delete = b"\x1d(L\x04\x000B" + kc
        data = raster_rows(img)
        body = (
            b"0C0" + kc + b"\x01" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"1" + data
        )
        if len(body) > 0xFFFF:
            raise ValueError(f"logo too large for GS ( L: {len(body)} bytes")
        return delete + b"\x1d(L" + len(body).to_bytes(2, "little") + body
    if width % 8 or height % 8:
        raise ValueError("legacy NV bit image needs width and height in multiples of 8")
    return (
        b"\x1cq\x01"
        + (width // 8).to_bytes(2, "little")
        + (height // 8).to_bytes(2, "little")
        + _column_bytes(img)
    )
