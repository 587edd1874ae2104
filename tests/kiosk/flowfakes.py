"""Stand-ins for the flow's two seams in the window-less state-machine tests.

The service and the printer are real in tests/kiosk/test_render_*.py and tests/client; here the
point is to drive every transition deterministically (a manual clock, scripted answers), which a
real server and a real printer cannot do on demand (a lost answer, a paper roll running out
between the status query and the print).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import Any

from nummerlapp.client.api import Ticket
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.ports import PrinterState


class ManualClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def snapshot(settings: Settings, *, site_open: bool = True, closed: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "seq": 1,
        "site": {"id": settings.site.id, "name": settings.site.name, "open": site_open},
        "departments": [
            {
                "id": d.id,
                "prefix": d.prefix,
                "name": dict(d.name),
                "open": site_open and d.id not in closed,
                "waiting": 3,
                "estimated_wait_s": 420,
            }
            for d in settings.departments
        ],
        "counters": [],
        "calls": [],
    }


class FakeApi:
    base_url = "http://127.0.0.1:9"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state: dict[str, Any] = snapshot(settings)
        self.state_errors: deque[Exception] = deque()
        self.issue_errors: deque[Exception] = deque()
        self.issued: list[tuple[str, str | None]] = []
        self.reports: list[dict[str, Any]] = []
        self.down = False

    async def get_state(self) -> dict[str, Any]:
        if self.state_errors:
            raise self.state_errors.popleft()
        return self.state

    async def issue_ticket(self, department: str, lang: str | None = None) -> Ticket:
        if self.issue_errors:
            raise self.issue_errors.popleft()
        self.issued.append((department, lang))
        dep = self.settings.department(department)
        assert dep is not None
        return Ticket(
            id=f"t_{len(self.issued):024x}",
            number=dep.format_number(len(self.issued)),
            department=department,
            status="waiting",
            issued_at=dt.datetime(2026, 11, 26, 10, 0).isoformat(),
            ahead=4,
            estimated_wait_s=540,
            lang=lang,
        )

    async def report_device_status(self, device_id: str, **body: Any) -> None:
        self.reports.append({"id": device_id, **body})


class FakePrinter:
    def __init__(self) -> None:
        self.state = PrinterState("ok")
        self.print_error: Exception | None = None
        self.printed: list[tuple[str, str]] = []
        self.tests = 0

    def status(self) -> PrinterState:
        return self.state

    def print_ticket(self, ticket: Ticket, lang: str) -> None:
        if self.print_error is not None:
            raise self.print_error
        self.printed.append((ticket.number, lang))

    def test_print(self) -> None:
        if self.print_error is not None:
            raise self.print_error
        self.tests += 1
