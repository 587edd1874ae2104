"""The kiosk's seams and the values that cross them: printer, service, device identity.

Kept apart from ``kiosk.flow`` so the state machine reads on its own, and so the Kivy skin and the
printer adapter can import these small types without the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from nummerlapp.client.api import Ticket
from nummerlapp.kiosk.hours import Closure

# printer states in which no ticket can be printed (``unknown`` may print: many printers never answer)
FAULT_STATES = frozenset({"paper_end", "cover_open", "offline"})


@dataclass(frozen=True)
class PrinterState:
    """The printer's state in the protocol's words: ok|paper_near_end|paper_end|cover_open|offline|unknown."""

    state: str = "unknown"
    detail: str = ""

    @property
    def can_print(self) -> bool:
        return self.state not in FAULT_STATES


class PrinterPort(Protocol):
    """The kiosk's seam to its printer. Blocking; the flow calls it from a thread."""

    def status(self) -> PrinterState: ...

    def print_ticket(self, ticket: Ticket, lang: str) -> None: ...

    def test_print(self) -> None: ...


class ApiPort(Protocol):
    """The parts of ``client.api.ApiClient`` the kiosk uses."""

    base_url: str

    async def get_state(self) -> dict[str, Any]: ...

    async def issue_ticket(self, department: str, lang: str | None = None) -> Ticket: ...

    async def report_device_status(
        self,
        device_id: str,
        *,
        role: str,
        name: str,
        version: str,
        printer: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None: ...


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
        return self.name.get(lang) or self.name.get("en") or next(iter(self.name.values()), self.id)

    def line(self, lang: str) -> str:
        return self.description.get(lang) or self.description.get("en") or ""


@dataclass
class DeviceInfo:
    id: str
    name: str
    version: str
    extra: dict[str, Any] = field(default_factory=dict)


def state_from_error(exc: Exception, status: object) -> PrinterState:
    """The protocol's printer state for a printer exception (its ``status`` if it carried one)."""
    summary = getattr(status, "summary", None)
    if isinstance(summary, str) and summary not in ("", "ok", "unknown"):
        return PrinterState(summary, str(exc))
    code = getattr(exc, "code", "")
    mapping = {"paper_out": "paper_end", "cover_open": "cover_open"}
    return PrinterState(mapping.get(code, "offline"), str(exc))
