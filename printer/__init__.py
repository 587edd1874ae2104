"""The ticket printer: layout to ESC/POS, a PNG preview, connections, status.

    from nummerlapp.printer import TicketPrinter, TicketView
    printer = TicketPrinter(settings.printer())          # PrinterSettings from the site file
    result = printer.print_ticket(TicketView(...))        # blocking; run it in a thread
    printer.status()                                      # PrinterStatus, never "ok" on silence

Names are imported lazily so ``main.py`` (which imports ``printer.cli``) stays fast: python-escpos
takes a quarter of a second to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nummerlapp.printer import escpos_cache

escpos_cache.load()  # before any module here imports python-escpos

if TYPE_CHECKING:
    from nummerlapp.printer.errors import CoverOpen, PaperOut, PrinterNotFound, PrinterOffline, PrinterTimeout
    from nummerlapp.printer.layout import TicketView, layout, render, to_escpos
    from nummerlapp.printer.preview import render_png
    from nummerlapp.printer.service import PrintResult, TicketPrinter
    from nummerlapp.printer.status import PrinterStatus
    from nummerlapp.printer.transports import Transport, open_transport

_WHERE = {
    "CoverOpen": "nummerlapp.printer.errors",
    "PaperOut": "nummerlapp.printer.errors",
    "PrinterNotFound": "nummerlapp.printer.errors",
    "PrinterOffline": "nummerlapp.printer.errors",
    "PrinterTimeout": "nummerlapp.printer.errors",
    "TicketView": "nummerlapp.printer.layout",
    "layout": "nummerlapp.printer.layout",
    "render": "nummerlapp.printer.layout",
    "to_escpos": "nummerlapp.printer.layout",
    "render_png": "nummerlapp.printer.preview",
    "PrintResult": "nummerlapp.printer.service",
    "TicketPrinter": "nummerlapp.printer.service",
    "PrinterStatus": "nummerlapp.printer.status",
    "Transport": "nummerlapp.printer.transports",
    "open_transport": "nummerlapp.printer.transports",
}

__all__ = [
    "CoverOpen",
    "PaperOut",
    "PrintResult",
    "PrinterNotFound",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTimeout",
    "TicketPrinter",
    "TicketView",
    "Transport",
    "layout",
    "open_transport",
    "render",
    "render_png",
    "to_escpos",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'printer' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
