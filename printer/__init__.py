"""The ticket printer: layout to ESC/POS, a PNG preview, connections, status.

    from printer import TicketPrinter, TicketView
    printer = TicketPrinter(settings.printer())          # PrinterSettings from the site file
    result = printer.print_ticket(TicketView(...))        # blocking; run it in a thread
    printer.status()                                      # PrinterStatus, never "ok" on silence

Names are imported lazily so ``main.py`` (which imports ``printer.cli``) stays fast: python-escpos
takes a quarter of a second to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from printer.errors import CoverOpen, PaperOut, PrinterNotFound, PrinterOffline, PrinterTimeout
    from printer.layout import TicketView, layout, render, to_escpos
    from printer.preview import render_png
    from printer.service import PrintResult, TicketPrinter
    from printer.status import PrinterStatus
    from printer.transports import Transport, open_transport

_WHERE = {
    "CoverOpen": "printer.errors",
    "PaperOut": "printer.errors",
    "PrinterNotFound": "printer.errors",
    "PrinterOffline": "printer.errors",
    "PrinterTimeout": "printer.errors",
    "TicketView": "printer.layout",
    "layout": "printer.layout",
    "render": "printer.layout",
    "to_escpos": "printer.layout",
    "render_png": "printer.preview",
    "PrintResult": "printer.service",
    "TicketPrinter": "printer.service",
    "PrinterStatus": "printer.status",
    "Transport": "printer.transports",
    "open_transport": "printer.transports",
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
