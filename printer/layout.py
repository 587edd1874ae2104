"""The ticket: one layout model, rendered to ESC/POS bytes (here) and to a PNG (preview.py).

``layout(view, settings)`` turns a :class:`TicketView` into a short list of ops (text lines
with size/alignment/bold, a native QR code, a logo reference, feeds, a cut). Both renderers
read the same ops, so the preview shows what the paper shows, line for line.

Why the ops are this small: a serial printer at 9600 baud moves about one byte per
millisecond, and a visitor is standing at the kiosk. The number is printed in the printer's
own font magnified with ``GS ! n`` (never a raster image), the QR code with the native
``GS ( k`` command, the logo by reference to the printer's NV memory; and a style command is
sent only when the style changes. A normal ticket stays under 300 bytes.

Text is encoded through one code page the printer profile supports (CP865 "Nordic" first: it
has æ ø å ä ö é and their capitals), selected once with ``ESC t n`` after ``ESC @``.
Typographic punctuation the code page lacks (– ’ “ …) becomes its ASCII look-alike; any other
character the code page cannot print becomes ``?`` on paper and in the preview alike.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import qrcode
from babel import UnknownLocaleError
from babel.dates import format_datetime
from escpos.codepages import CodePages
from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.magicencode import Encoder
from escpos.printer import Dummy
from PIL import Image

from nummerlapp.common.errors import ConfigError
from nummerlapp.common.i18n import translator
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.logo import load_logo, nv_print_command, raster_rows
from nummerlapp.printer.profile import printer_profile, supports
from nummerlapp.printer.rastertext import RasterText, render_line, unprintable

Align = Literal["left", "center", "right"]

# Font A on Epson-class printers: 12 x 24 dots (the same cell at 203 and 180 dpi).
FONT_W = 12
FONT_H = 24
MAX_MAGNIFICATION = 8  # GS ! n allows 1..8 in each direction
NV_KEY = "NL"  # key code of our logo in the printer's NV graphics memory

ESC_INIT = b"\x1b@"
PREFERRED_CODEPAGES = ("CP865", "CP858", "CP850", "CP1252", "ISO_8859-15", "CP437")
_ASCII_LOOKALIKES = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "‒": "-",
        "−": "-",
        "‘": "'",
        "’": "'",
        "‚": ",",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "…": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)
_QR_EC = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}


# ---------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class TicketView:
    """Everything printed on one ticket, already in the visitor's language. No personal data.

    ``issued_at`` is printed in its own offset (the caller passes site-local time).
    ``ticket_id`` is not printed; it names the file printer's output (``<number>-<id>.bin``).
    """

    site_name: str
    department_name: str
    number: str
    issued_at: dt.datetime
    ahead: int | None = None
    estimated_wait_s: int | None = None
    qr_url: str | None = None
    footer: str = ""
    lang: str = "en"
    logo: bool = True
    ticket_id: str = ""
    # A booked visit's ticket (issue 15): its start, printed instead of the queue and the wait;
    # ``called_soon``: the start has come, so the number is called next, not at the time.
    booked_at: dt.datetime | None = None
    called_soon: bool = False

    def __post_init__(self) -> None:
        if not self.number or not self.number.isprintable():
            raise ValueError(f"ticket number must be printable text, got {self.number!r}")
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be an aware datetime")
        if self.ahead is not None and self.ahead < 0:
            raise ValueError(f"ahead must be >= 0, got {self.ahead}")
        if self.estimated_wait_s is not None and self.estimated_wait_s < 0:
            raise ValueError(f"estimated_wait_s must be >= 0, got {self.estimated_wait_s}")


@dataclass(frozen=True)
class Line:
    """One printed line of text (already wrapped to fit)."""

    text: str
    width: int = 1  # magnification 1..8
    height: int = 1
    align: Align = "left"
    bold: bool = False


@dataclass(frozen=True)
class QrCode:
    data: str
    module: int = 6  # dots per module
    ec: str = "M"


@dataclass(frozen=True)
class Logo:
    """``nv``: print the image stored in the printer (by key); ``raster``: send ``image`` each time."""

    mode: Literal["nv", "raster"] = "nv"
    key: str = NV_KEY
    image: str | None = None  # path, raster mode only


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    pass


Op = Line | QrCode | Logo | Feed | Cut | RasterText  # RasterText: a line in a script no code page has


# --------------------------------------------------------------------------------------- layout


def columns(dots: int, width: int = 1) -> int:
    """Characters of font A that fit on one line at horizontal magnification ``width``."""
    return max(1, dots // (FONT_W * width))


def number_magnification(number: str, dots: int) -> int:
    """The largest ``GS !`` magnification (≤ 8) at which ``number`` fits in 90 % of the paper."""
    return max(1, min(MAX_MAGNIFICATION, int(dots * 0.9) // (FONT_W * len(number))))


def qr_module(dots: int) -> int:
    """Dots per QR module: about 25 mm wide on 80 mm paper, 20 mm on 58 mm."""
    return 6 if dots >= 512 else 5


def native_qr(settings: PrinterSettings) -> bool:
    """Does the profile print QR codes itself (``GS ( k``)? Without it a QR code is a ~3-8 KB
    raster image per ticket, seconds at 9600 baud: left out unless ``options.raster_qr``."""
    return supports(settings, "qrCode")


def _wrapped(
    text: str, *, width: int = 1, height: int = 1, align: Align = "center", bold: bool = False, dots: int
) -> list[Line]:
    cols = columns(dots, width)
    parts = textwrap.wrap(text, cols, break_long_words=True, break_on_hyphens=False) or [""]
    return [Line(p, width, height, align, bold) for p in parts]


def _department_lines(name: str, dots: int) -> list[Line]:
    """The department's name at double size, on one line or, on narrow paper, two ("Building" /
    "permits"); a name that would need more, or a word longer than a double-size line, is printed
    at normal size, bold. Never double height alone: on paper that looks squashed."""
    big = int(columns(dots, 2) * 0.9)  # a margin either side: edge to edge reads as cut off
    parts = textwrap.wrap(name, big, break_long_words=False, break_on_hyphens=False)
    if len(parts) <= 2 and all(len(p) <= big for p in parts):
        return [Line(p, 2, 2, "center", True) for p in parts]
    return _wrapped(name, bold=True, dots=dots)


def format_issued(view: TicketView) -> str:
    _ = translator("printer", view.lang)
    # Translators: a Unicode/CLDR date pattern for the time a ticket was issued.
    pattern = _("d MMM y, HH:mm")
    try:
        return format_datetime(view.issued_at, pattern, locale=view.lang)
    except (ValueError, LookupError, UnknownLocaleError):
        return format_datetime(view.issued_at, pattern, locale="en")


def wait_minutes(seconds: int) -> int:
    """Round a wait estimate up to whole minutes (a visitor prefers a pleasant surprise)."""
    return max(1, math.ceil(seconds / 60))


def _booked(view: TicketView, dots: int) -> list[Op]:
    """ "Booked visit 10:40" and when the number will be called, instead of the queue figures."""
    assert view.booked_at is not None
    _ = translator("printer", view.lang)
    time = f"{view.booked_at:%H:%M}"
    call = (
        _("We will call your number soon")
        if view.called_soon
        else _("We will call your number at {time}").format(time=time)
    )
    lines = _wrapped(_("Booked visit at {time}").format(time=time), height=2, bold=True, dots=dots)
    return [*lines, *_wrapped(call, bold=True, dots=dots)]


def heading(site_name: str, logo: bool, settings: PrinterSettings, logo_image: str | None) -> list[Op]:
    """The top of every slip of paper the kiosk prints: the logo (as the printer keeps it) and the
    site's name. ``logo_image``: the file a raster logo is read from (raster mode only)."""
    ops: list[Op] = []
    if logo and settings.logo == "nv":
        ops += [Logo("nv"), Feed(1)]
    elif logo and settings.logo == "raster" and logo_image:
        ops += [Logo("raster", image=logo_image), Feed(1)]
    ops += _wrapped(site_name, bold=True, dots=settings.dots)
    ops.append(Feed(1))
    return ops


def layout(view: TicketView, settings: PrinterSettings, logo_image: str | None = None) -> list[Op]:
    """The ticket as ops. ``logo_image``: the file a raster logo is read from (raster mode only)."""
    _ = translator("printer", view.lang)
    dots = settings.dots
    ops = heading(view.site_name, view.logo, settings, logo_image)
    ops += _department_lines(view.department_name, dots)
    mag = number_magnification(view.number, dots)
    ops.append(Line(view.number, mag, mag, "center", True))
    ops.append(Feed(1))
    if view.booked_at is not None:
        ops += _booked(view, dots)
    elif view.ahead is not None:
        if view.ahead == 0:
            ops += _wrapped(_("You are next"), bold=True, dots=dots)
        else:
            ops += _wrapped(_("People ahead of you: {n}").format(n=view.ahead), bold=True, dots=dots)
    if view.estimated_wait_s is not None and view.ahead != 0 and view.booked_at is None:
        minutes = wait_minutes(view.estimated_wait_s)
        ops += _wrapped(_("Estimated wait: about {n} min").format(n=minutes), bold=True, dots=dots)
    ops += _wrapped(format_issued(view), dots=dots)
    if view.qr_url and settings.qr and (native_qr(settings) or settings.options.get("raster_qr")):
        ops += [Feed(1), QrCode(view.qr_url, qr_module(dots))]
    ops.append(Feed(1))
    if view.footer:
        ops += _wrapped(view.footer, dots=dots)
    ops.append(Cut())
    return raster_fallback(ops, settings)  # lines in Arabic, Cyrillic…: images


# ------------------------------------------------------------------------------------- encoding


def _profile_codepages(settings: PrinterSettings) -> dict[str, str]:
    return dict(printer_profile(settings).get_code_pages())


def _encodes(codepage: str, text: str) -> bool:
    enc = Encoder({codepage: 0})
    return all(enc.can_encode(codepage, ch) for ch in text)


def plain(text: str) -> str:
    """Typographic punctuation → ASCII look-alikes (code pages rarely have them), and control
    characters → spaces: a name in a site file must never smuggle an ESC/POS command (an
    ``ESC``, a ``DLE EOT``, a cut) onto the wire."""
    text = text.translate(_ASCII_LOOKALIKES)
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)


def choose_codepage(ops: Sequence[Op], settings: PrinterSettings) -> str:
    """One code page for the whole ticket: ``options.codepage`` if set, else the first of
    CP865, CP858, CP850, CP1252, ISO-8859-15, CP437 that the profile has and that encodes every
    character of the ticket (or, if none does, the first the profile has)."""
    available = _profile_codepages(settings)
    wanted = settings.options.get("codepage")
    if wanted is not None:
        if wanted not in available:
            raise ConfigError(
                "site file",
                f"printers.{settings.id}.options.codepage",
                f"{wanted!r} is not a code page of profile {settings.profile!r} (it has {', '.join(sorted(available))})",
            )
        return str(wanted)
    text = "".join(plain(op.text) for op in ops if isinstance(op, Line))
    candidates = [cp for cp in PREFERRED_CODEPAGES if cp in available]
    if not candidates:
        raise ConfigError(
            "site file",
            f"printers.{settings.id}.profile",
            f"profile {settings.profile!r} has no Latin code page",
        )
    return next((cp for cp in candidates if _encodes(cp, text)), candidates[0])


def raster_fallback(ops: list[Op], settings: PrinterSettings) -> list[Op]:
    """``ops`` with every text line the printer cannot print as text turned into a RasterText.

    The candidate code pages are those :func:`choose_codepage` may pick from
    (``options.codepage`` alone when the site file sets one).
    """
    wanted = settings.options.get("codepage")
    available = _profile_codepages(settings)
    pages = [str(wanted)] if wanted else [cp for cp in PREFERRED_CODEPAGES if cp in available]
    if not pages:
        return ops
    out: list[Op] = []
    for op in ops:
        if isinstance(op, Line) and unprintable(plain(op.text), pages):
            out.append(RasterText(op.text, op.width, op.height, op.align, op.bold))
        else:
            out.append(op)
    return out


def printable(text: str, codepage: str) -> str:
    """What the paper will show for ``text`` in ``codepage`` (the preview draws this)."""
    raw: bytes = Encoder({codepage: 0}).encode(plain(text), codepage)
    python_name: str = CodePages.get_encoding(codepage).get("python_encode", codepage)
    return raw.decode(python_name, errors="replace")


# ------------------------------------------------------------------------------------ rendering


def qr_image(op: QrCode, dots: int) -> Image.Image:
    """The QR symbol as a 1-bit image padded to the paper width (for printers without ``GS ( k``
    and for the preview): no quiet zone drawn, as the printer's native command draws none."""
    ec = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}.get(
        op.ec, qrcode.constants.ERROR_CORRECT_Q if op.ec == "Q" else qrcode.constants.ERROR_CORRECT_H
    )
    code = qrcode.QRCode(version=None, error_correction=ec, box_size=op.module, border=0)
    code.add_data(op.data)
    code.make(fit=True)
    symbol = code.make_image(fill_color="black", back_color="white").get_image().convert("1")
    canvas = Image.new("1", (dots, symbol.height), 1)
    canvas.paste(symbol, ((dots - symbol.width) // 2, 0))
    return canvas


def raster_command(img: Image.Image) -> bytes:
    """``GS v 0`` for a 1-bit image whose width is a multiple of 8 (ours are the paper width).

    Not python-escpos' ``image()``: that one prints a warning to stdout for profiles without a
    known paper width and re-pads the image; ours is already padded and centred."""
    if img.width % 8:
        raise ValueError(f"raster width must be a multiple of 8, got {img.width}")
    header = b"\x1dv0\x00" + (img.width // 8).to_bytes(2, "little") + img.height.to_bytes(2, "little")
    return header + raster_rows(img)


class _Writer:
    """python-escpos' Dummy with the style state of one ticket: a command only when style changes."""

    def __init__(self, settings: PrinterSettings, codepage: str) -> None:
        self.settings = settings
        self.p = Dummy(profile=settings.profile)
        self.p._raw(ESC_INIT)
        self.p.charcode(codepage)  # emits ESC t n and pins the code page (no silent switching)
        self.align: Align = "left"
        self.size = (1, 1)
        self.bold = False

    def set_align(self, align: Align) -> None:
        if align != self.align:
            self.p.set(align=align)
            self.align = align

    def line(self, op: Line) -> None:
        self.set_align(op.align)
        if (op.width, op.height) != self.size:
            self.p.set(custom_size=True, width=op.width, height=op.height)
            self.size = (op.width, op.height)
        if op.bold != self.bold:
            self.p.set(bold=op.bold)
            self.bold = op.bold
        self.p.text(plain(op.text) + "\n")

    def feed(self, op: Feed) -> None:
        self.p._raw(b"\n" * op.lines if op.lines <= 3 else b"\x1bd" + bytes([min(op.lines, 255)]))

    def qr(self, op: QrCode) -> None:
        self.set_align("center")
        if self.p.profile.supports("qrCode"):
            self.p.qr(op.data, ec=_QR_EC[op.ec], size=op.module, native=True)
        else:  # no GS ( k on this printer: the same symbol as a raster image (~3 KB, see PRINTER.md)
            self.p._raw(raster_command(qr_image(op, self.settings.dots)))

    def logo(self, op: Logo) -> None:
        self.set_align("center")
        if op.mode == "nv":  # GS ( L fn 69 where the profile has graphics, else legacy FS p
            self.p._raw(nv_print_command(self.settings, op.key))
        elif op.image:
            self.p._raw(raster_command(load_logo(op.image, self.settings.dots)))

    def cut(self, op: Cut) -> None:
        profile = self.p.profile
        if profile.supports("paperPartCut") or profile.supports("paperFullCut"):
            # GS V 66 0: the printer feeds to its cutter itself, then cuts (partial where it can).
            self.p._raw(b"\x1dVB\x00" if profile.supports("paperPartCut") else b"\x1dVA\x00")
        else:
            self.p._raw(b"\x1bd\x04")  # no cutter: feed the footer past the tear bar

    def raster_text(self, op: RasterText) -> None:
        self.set_align("left")  # the image carries its own alignment (printer/rastertext.py)
        self.p._raw(raster_command(render_line(op, self.settings.dots)))

    def write(self, op: Op) -> None:
        if isinstance(op, Line):
            self.line(op)
        elif isinstance(op, RasterText):
            self.raster_text(op)
        elif isinstance(op, Feed):
            self.feed(op)
        elif isinstance(op, QrCode):
            self.qr(op)
        elif isinstance(op, Logo):
            self.logo(op)
        elif isinstance(op, Cut):
            self.cut(op)

    def output(self) -> bytes:
        return bytes(self.p.output)


def to_escpos(ops: Iterable[Op], settings: PrinterSettings) -> bytes:
    """Render ops to ESC/POS with python-escpos (on a Dummy with the configured profile)."""
    ops = list(ops)
    codepage = choose_codepage(ops, settings)
    printer_profile(settings)  # a clear error for an unknown profile
    writer = _Writer(settings, codepage)
    for op in ops:
        writer.write(op)
    return writer.output()


def render(view: TicketView, settings: PrinterSettings, logo_image: str | None = None) -> bytes:
    """The ticket's ESC/POS bytes (ARCHITECTURE.md: ``printer.render``)."""
    return to_escpos(layout(view, settings, logo_image), settings)
