"""The printer's errors: a shallow subtree of ``common.errors.PrinterError``.

    PrinterError
    └── PrinterFault      (carries .status and .printed)
        ├── PrinterNotFound   the configured device/port/host is not there (unplugged, wrong path)
        ├── PrinterOffline    the printer answered but is offline, or the connection broke mid-job
        ├── PaperOut          the paper roll is empty (before printing, or it ran out while printing)
        ├── CoverOpen         the cover is open
        └── PrinterTimeout    a write or query did not finish before its deadline (stalled printer)

The kiosk maps these to visitor-facing words at its own edge ("please ask at the reception");
messages here are for technicians and logs. ``status`` carries the last known
:class:`printer.status.PrinterStatus` when there is one, so the caller can report it to the
site service without asking the printer again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nummerlapp.common.errors import PrinterError

if TYPE_CHECKING:
    from nummerlapp.printer.status import PrinterStatus

__all__ = [
    "CoverOpen",
    "PaperOut",
    "PrinterError",
    "PrinterFault",
    "PrinterNotFound",
    "PrinterOffline",
    "PrinterTimeout",
]


class PrinterFault(PrinterError):
    """Base of our subtree: a message, the status seen (if any), and whether bytes went out."""

    code = "printer_error"

    def __init__(self, message: str, status: PrinterStatus | None = None, printed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # True when the bytes of a ticket were (at least partly) sent before the fault showed:
        # the visitor may hold half a ticket, so the kiosk should say so rather than retry blindly.
        self.printed = printed


class PrinterNotFound(PrinterFault):
    code = "printer_not_found"


class PrinterOffline(PrinterFault):
    code = "printer_offline"


class PaperOut(PrinterFault):
    code = "paper_out"


class CoverOpen(PrinterFault):
    code = "cover_open"


class PrinterTimeout(PrinterFault):
    code = "printer_timeout"
