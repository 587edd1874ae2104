"""Stand-ins for the flow's two seams in the window-less state-machine tests.

The service and the printer are real in tests/kiosk/test_render_*.py and tests/client; here the
point is to drive every transition deterministically (a manual clock, scripted answers), which a
real server and a real printer cannot do on demand (a lost answer, a paper roll running out
between the status query and the print).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import deque
from zoneinfo import ZoneInfo

import argon2

from nummerlapp.common import protocol as P
from nummerlapp.config import load_settings
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.flow import KioskFlow
from nummerlapp.kiosk.ports import DeviceInfo
from nummerlapp.tests.manualclock import ManualClock

OSLO = ZoneInfo("Europe/Oslo")
THURSDAY_10 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=OSLO)


def snapshot(settings: Settings, *, site_open: bool = True, closed: tuple[str, ...] = ()) -> P.Snapshot:
    """The service's snapshot of the site, built with the protocol module."""
    return P.Snapshot(
        seq=1,
        site=P.Site(id=settings.site.id, name=settings.site.name, open=site_open, override=None),
        departments=[
            P.Department(
                id=d.id,
                prefix=d.prefix,
                name=dict(d.name),
                open=site_open and d.id not in closed,
                waiting=3,
                estimated_wait_s=420,
                oldest_issued_at="2026-11-26T09:50:00+01:00",
                oldest_waiting_at="2026-11-26T09:50:00+01:00",
            )
            for d in settings.departments
        ],
        counters=[],
        calls=[],
    )


class FakeApi:
    base_url = "http://127.0.0.1:9"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state: P.Snapshot = snapshot(settings)
        self.state_errors: deque[Exception] = deque()
        self.issue_errors: deque[Exception] = deque()
        self.issued: list[tuple[str, str | None]] = []
        self.check_in_errors: deque[Exception] = deque()
        self.checked_in: list[tuple[str, str | None]] = []
        self.reports: list[P.DeviceStatusBody] = []
        self.down = False

    async def get_state(self) -> P.Snapshot:
        if self.state_errors:
            raise self.state_errors.popleft()
        return self.state

    async def issue_ticket(self, department: str, lang: str | None = None) -> P.IssuedTicket:
        if self.issue_errors:
            raise self.issue_errors.popleft()
        self.issued.append((department, lang))
        dep = self.settings.department(department)
        assert dep is not None
        return P.IssuedTicket(
            id=f"t_{len(self.issued):024x}",
            number=dep.format_number(len(self.issued)),
            department=department,
            status="waiting",
            issued_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=self.settings.site.tz).isoformat(),
            counter=None,
            called_at=None,
            lang=lang or self.settings.site.default_language,
            ahead=4,
            estimated_wait_s=540,
        )

    async def check_in(self, reference: str, lang: str | None = None) -> P.IssuedTicket:
        """A booked visit at 10:40 in the first department; ``check_in_errors`` answer first."""
        if self.check_in_errors:
            raise self.check_in_errors.popleft()
        self.checked_in.append((reference, lang))
        ticket = await self.issue_ticket(self.settings.departments[0].id, lang)
        self.issued.pop()
        start = dt.datetime(2026, 11, 26, 10, 40, tzinfo=self.settings.site.tz).isoformat()
        booked = P.AppointmentRef(reference=reference, start=start)
        return ticket.model_copy(update={"appointment": booked, "ahead": 0, "estimated_wait_s": 2400})

    async def report_device_status(
        self,
        device_id: str,
        *,
        role: P.DeviceRole,
        name: str,
        version: str,
        printer: P.PrinterReport | None = None,
    ) -> P.Device:
        """Records the body the real client would send (``P.DeviceStatusBody``) and answers as the service."""
        body = P.DeviceStatusBody(
            role=role,
            name=name,
            version=version,
            printer=None
            if printer is None
            else P.PrinterReportBody(state=printer.state, detail=printer.detail),
        )
        self.reports.append(body)
        report = (
            P.DeviceReport(version=version)
            if printer is None
            else P.DeviceReport(version=version, printer=printer)
        )
        return P.Device(
            id=device_id,
            role=role,
            name=name,
            status=report,
            version=version,
            printer=printer,
            last_seen=None,
        )


class FakePrinter:
    def __init__(self) -> None:
        self.state = P.PrinterReport(state="ok")
        self.print_error: Exception | None = None
        self.printed: list[tuple[str, str]] = []
        self.tests = 0

    def status(self) -> P.PrinterReport:
        return self.state

    def print_ticket(self, ticket: P.Ticket, lang: str) -> None:
        if self.print_error is not None:
            raise self.print_error
        self.printed.append((ticket.number, lang))

    def test_print(self) -> None:
        if self.print_error is not None:
            raise self.print_error
        self.tests += 1


class World:
    def __init__(self, when: dt.datetime = THURSDAY_10, pin_hash: str | None = None) -> None:
        settings = load_settings(None)
        if pin_hash is not None:
            settings = dataclasses.replace(
                settings, kiosk=dataclasses.replace(settings.kiosk, technician_pin_hash=pin_hash)
            )
        self.settings = settings
        self.clock = ManualClock()
        self.when = when
        self.api = FakeApi(settings)
        self.printer = FakePrinter()
        hasher = argon2.PasswordHasher()

        def check(pin: str) -> bool:
            try:
                return hasher.verify(settings.kiosk.technician_pin_hash, pin)
            except argon2.exceptions.VerificationError:
                return False

        self.flow = KioskFlow(
            settings,
            self.api,
            self.printer,
            DeviceInfo("kiosk-test", "Test kiosk", "0.1.0"),
            clock=self.clock,
            now=lambda: self.when,
            pin_check=check,
            unreachable_grace_s=10.0,
        )
        self.changes = 0
        self.flow.subscribe(lambda _f: self._count())

    def _count(self) -> None:
        self.changes += 1

    def settle(self, seconds: float = 5.0) -> None:
        """Let time pass so guard times are over."""
        self.clock.advance(seconds)

    async def take(self, dep: str = "nav") -> None:
        task = self.flow.press_department(dep)
        assert task is not None
        await task
        await asyncio.sleep(0)  # let the reporting task run
