"""The kiosk's seams and the values that cross them: printer, service, device identity.

Kept apart from ``kiosk.flow`` so the state machine reads on its own, and so the Kivy skin and the
printer adapter can import these small types without the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from nummerlapp.common import protocol as P
from nummerlapp.kiosk.hours import Closure


class PrinterPort(Protocol):
    """The kiosk's seam to its printer. Blocking; the flow calls it from a thread."""

    def status(self) -> P.PrinterReport: ...

    def print_ticket(self, ticket: P.Ticket, lang: str) -> None: ...

    def test_print(self) -> None: ...


class ApiPort(Protocol):
    """The parts of ``client.api.ApiClient`` the kiosk uses."""

    base_url: str

    async def get_state(self) -> P.Snapshot: ...

    async def issue_ticket(self, department: str, lang: str | None = None) -> P.IssuedTicket: ...

    async def check_in(self, reference: str, lang: str | None = None) -> P.IssuedTicket: ...

    async def report_device_status(
        self,
        device_id: str,
        *,
        role: P.DeviceRole,
        name: str,
        version: str,
        printer: P.PrinterReport | None = None,
    ) -> P.Device: ...


@dataclass(frozen=True)
class DepartmentView:
    """One department button: words from the site file, live figures from the service."""

    id: str
    name: dict[str, str]
    description: dict[str, str]
    open: bool
    closure: Closure | None = None
    waiting: int | None = None
    estimated_wait_s: int | None = None

    def label(self, lang: str) -> str:
        return P.label(self.name, lang, default=self.id)

    def line(self, lang: str) -> str:
        return P.label(self.description, lang)


@dataclass
class DeviceInfo:
    id: str
    name: str
    version: str
    extra: dict[str, Any] = field(default_factory=dict)


def state_from_error(exc: Exception, status: object) -> P.PrinterReport:
    """The protocol's printer state for a printer exception (its ``status`` if it carried one)."""
    summary = getattr(status, "summary", None)
    if summary in P.PRINTER_STATES and summary not in ("ok", "unknown"):
        return P.PrinterReport(state=summary, detail=str(exc)[:200])
    code = getattr(exc, "code", "")
    mapping: dict[str, P.PrinterState] = {"paper_out": "paper_end", "cover_open": "cover_open"}
    return P.PrinterReport(state=mapping.get(code, "offline"), detail=str(exc)[:200])
