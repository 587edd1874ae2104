"""A booked visit's slip, printed at a kiosk when the reception books a visit on the spot.

The receptionist books "Byggesak 10:40" on the desk page and presses "Print at kiosk"; the kiosk
at the entrance gets ``appointment.slip`` (PROTOCOL.md extension) and prints this. Built from
the ticket's own ops (printer/layout.py), so the bytes, the preview and the raster fallback for
Arabic and Cyrillic lines work as for a ticket:

    logo · site name · "Booked visit" · department (double size) · the time, large · the date ·
    "Your code" · the reference, large, in two groups of four · its QR code · one line of
    instruction · cut

The QR code holds the reference alone: the kiosk's scanner types it into the check-in line
(``common.protocol.normalize_reference``). It is printed whatever ``qr`` says for tickets (it is
what the slip is for); a printer without native QR codes gets it as a small raster image (a
version 1 symbol, ~3 KB). No personal data: :class:`SlipView` has no field for any.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel import UnknownLocaleError
from babel.dates import format_date

from nummerlapp.common.i18n import translator
from nummerlapp.common.protocol import REFERENCE_LEN, normalize_reference
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import (
    Cut,
    Feed,
    Line,
    Op,
    QrCode,
    _department_lines,
    _wrapped,
    heading,
    number_magnification,
    raster_fallback,
)
from nummerlapp.printer.sample import SAMPLE_ISSUED

TIME_MAX = 5  # the time's magnification at most: large, and the reference still the largest text
# Kiosk's button words: the instruction names the very button the visitor will see.
BUTTON = "I have an appointment"


@dataclass(frozen=True)
class SlipView:
    """Everything printed on one slip, already in its language. ``start`` is site-local."""

    site_name: str
    department_name: str
    start: dt.datetime
    reference: str
    lang: str = "en"
    logo: bool = True

    def __post_init__(self) -> None:
        if normalize_reference(self.reference) != self.reference:
            raise ValueError(
                f"a slip's reference is {REFERENCE_LEN} reference characters, got {self.reference!r}"
            )
        if self.start.tzinfo is None:
            raise ValueError("start must be an aware datetime")

    @property
    def grouped(self) -> str:
        """``K7QX 2M4P``: two groups of four are easier to read and type (spaces are ignored)."""
        half = len(self.reference) // 2
        return f"{self.reference[:half]} {self.reference[half:]}"


def slip_module(dots: int) -> int:
    """Dots per QR module: the reference is a version 1 symbol (21 modules), so bigger modules
    than a ticket's (about 21 mm on 80 mm paper, 18 mm on 58 mm) for a quick scan."""
    return 8 if dots >= 512 else 7


def format_day(start: dt.datetime, lang: str) -> str:
    """The visit's day in full, in the slip's language ("mandag 23. november 2026")."""
    try:
        return format_date(start.date(), format="full", locale=lang)
    except (ValueError, LookupError, UnknownLocaleError):
        return format_date(start.date(), format="full", locale="en")


def slip_layout(view: SlipView, settings: PrinterSettings, logo_image: str | None = None) -> list[Op]:
    """The slip as ops (the same ops as a ticket: ``to_escpos`` and ``render_png`` take them)."""
    _ = translator("printer", view.lang)
    button = translator("kiosk", view.lang)(BUTTON)
    dots = settings.dots
    ops = heading(view.site_name, view.logo, settings, logo_image)
    ops += _wrapped(_("Booked visit"), bold=True, dots=dots)
    ops += _department_lines(view.department_name, dots)
    ops.append(Feed(1))
    time = f"{view.start:%H:%M}"
    mag = min(TIME_MAX, number_magnification(time, dots))
    ops.append(Line(time, mag, mag, "center", True))
    ops += _wrapped(format_day(view.start, view.lang), dots=dots)
    ops.append(Feed(1))
    ops += _wrapped(_("Your code"), dots=dots)
    mag = number_magnification(view.grouped, dots)
    ops.append(Line(view.grouped, mag, mag, "center", True))
    ops += [Feed(1), QrCode(view.reference, slip_module(dots)), Feed(1)]
    # Translators: {button} is the kiosk's button "I have an appointment", as the kiosk says it.
    ops += _wrapped(_("At the kiosk, press “{button}” and scan this code").format(button=button), dots=dots)
    ops.append(Cut())
    return raster_fallback(ops, settings)  # lines in Arabic, Cyrillic…: images


def sample_slip(lang: str, site_name: str = "Servicetorget i Askim", logo: bool = True) -> SlipView:
    """The building-permits visit at 10:40 on the sample ticket's day (docs and previews)."""
    _ = translator("printer", lang)
    start = SAMPLE_ISSUED.replace(hour=10, minute=40, second=0)
    return SlipView(site_name, _("Building permits"), start, "K7QX2M4P", lang, logo)
