"""Sample tickets and the test page: what ``printer sample`` / ``printer test`` print.

The fixed sample (no site given) is what the golden byte files in tests/printer/golden/ hold:
it must not change with the example site, only with the layout and the printer catalogues.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nummerlapp.common.i18n import translator
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import (
    Cut,
    Feed,
    Line,
    Logo,
    Op,
    QrCode,
    TicketView,
    number_magnification,
    qr_module,
)

if TYPE_CHECKING:
    from nummerlapp.config.model import Settings

SAMPLE_ISSUED = dt.datetime(2026, 11, 23, 9, 14, 3, tzinfo=ZoneInfo("Europe/Oslo"))
SAMPLE_ID = "t_8f3c2a9d41b7e6c05a1f09d2"
SAMPLE_SITE = "Servicetorget i Askim"
SAMPLE_URL = "http://127.0.0.1:8420"
SAMPLE_FOOTER = {
    "nb": "Takk for besøket – følg køen på mobilen",
    "sv": "Tack för besöket – följ kön i mobilen",
    "en": "Thank you – follow the queue on your phone",
}


def ticket_url(base: str, ticket_id: str) -> str:
    """The status page a ticket's QR code opens (the phone page of the site service)."""
    return f"{base.rstrip('/')}/t/{ticket_id}"


def sample_view(lang: str, settings: Settings | None = None, logo: bool = True) -> TicketView:
    """A building-permits ticket B012 with 4 people ahead, 9 minutes' wait, issued at 09:14."""
    _ = translator("printer", lang)
    site, department, footer, base = (
        SAMPLE_SITE,
        _("Building permits"),
        SAMPLE_FOOTER.get(lang, ""),
        SAMPLE_URL,
    )
    if settings is not None:
        site = settings.site.name
        dep = settings.department("byggesak") or settings.departments[0]
        department = dep.label(lang)
        footer = settings.site.footer.get(lang, "")
        base = settings.site.public_url
    return TicketView(
        site_name=site,
        department_name=department,
        number="B012",
        issued_at=SAMPLE_ISSUED,
        ahead=4,
        estimated_wait_s=540,
        qr_url=ticket_url(base, SAMPLE_ID) if base else None,
        footer=footer,
        lang=lang,
        logo=logo,
        ticket_id=SAMPLE_ID,
    )


def test_page(settings: PrinterSettings, lang: str = "en") -> list[Op]:
    """Connection, paper width, code page letters, the number sizes, a QR code, the logo, a cut."""
    _ = translator("printer", lang)
    dots = settings.dots
    ops: list[Op] = []
    if settings.logo == "nv":
        ops += [Logo("nv"), Feed(1)]
    ops += [
        Line(_("Printer test"), 2, 2, "center", True),
        Feed(1),
        Line(f"{settings.id}: {settings.type}, {settings.profile}", align="left"),
        Line(f"{settings.paper_width_mm} mm, {dots} dots", align="left"),
        Line(f"{_('Letters')}: æøåäöé ÆØÅÄÖÉ", align="left"),
        Line("|" + "-" * (dots // 12 - 2) + "|", align="left"),
    ]
    for mag in range(1, number_magnification("A000", dots) + 1):
        ops.append(Line(f"{mag}x", mag, mag, "left", True))
    ops += [Feed(1), QrCode("https://example.org/nummerlapp-test", qr_module(dots)), Feed(1), Cut()]
    return ops
