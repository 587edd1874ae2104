"""A booked visit's slip at the kiosk's printer: the real ``KioskPrinter`` and ``TicketPrinter``
over pyserial on a socat pty, a fake thermal printer on the other end (tests/printer/fakeprinter.py).

The slip carries the reference (large, in two groups) and the native QR code of the reference;
a slip and visitors' tickets printed at once from two threads never interleave their bytes; a
printer fault is reported as the kiosk's printer state, as a ticket's is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from nummerlapp.common import protocol as P
from nummerlapp.config import load_settings
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.device import print_slip
from nummerlapp.kiosk.flow import KioskFlow
from nummerlapp.kiosk.ports import DeviceInfo
from nummerlapp.kiosk.printing import KioskPrinter
from nummerlapp.tests.kiosk.flowfakes import FakeApi
from nummerlapp.tests.printer.fakeprinter import PtyFakePrinter, serial_settings

pytestmark = pytest.mark.timeout(60)
REFERENCE = "K7QX2M4P"
CUT = b"\x1dVB\x00"


def slip(lang: str = "nb", reference: str = REFERENCE) -> P.AppointmentSlip:
    return P.AppointmentSlip(
        seq=12,
        at="2026-11-23T09:20:00+01:00",
        device=P.DeviceRef(id="kiosk-entrance"),
        appointment=P.AppointmentSlipRef(
            reference=reference, department="byggesak", start="2026-11-23T10:40:00+01:00"
        ),
        lang=lang,
    )


def qr_store(data: bytes) -> bytes:
    """``GS ( k`` fn 80 (store the QR data), as the printer receives it."""
    size = len(data) + 3
    return b"\x1d(k" + bytes([size % 256, size // 256]) + b"1P0" + data


@pytest.fixture
def settings() -> Settings:
    return load_settings(None)  # the example site: "Servicetorget i Askim", nb/sv/en/…


@pytest.fixture
def fake() -> Iterator[PtyFakePrinter]:
    with PtyFakePrinter() as printer:
        yield printer


def test_the_slip_prints_the_reference_and_its_qr_code(settings: Settings, fake: PtyFakePrinter) -> None:
    printer = KioskPrinter(settings, serial_settings(fake.port))
    try:
        printer.print_slip(slip("nb"))
        data = fake.wait_for(CUT)
    finally:
        printer.close()
    job = fake.job_bytes()
    assert b"K7QX 2M4P" in job  # large, in two groups of four
    assert qr_store(REFERENCE.encode()) in job  # the scanner reads the reference back
    assert b"Timebestilling" in job and b"Byggesak" in job and b"10:40" in job
    assert settings.site.name.encode("cp865") in job
    assert "Jeg har bestilt time".encode("cp865") in job  # the kiosk's own button words
    assert data.endswith(CUT)
    view = printer.slip_view(slip("xx"))  # a language the site does not offer: its first
    assert view.lang == settings.site.default_language


def test_a_slip_and_tickets_never_interleave(settings: Settings, fake: PtyFakePrinter) -> None:
    printer = KioskPrinter(settings, serial_settings(fake.port))
    errors: list[BaseException] = []

    def run(job: object) -> None:
        try:
            for _ in range(3):
                job()  # type: ignore[operator]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(printer.test_print,)),
        threading.Thread(target=run, args=(lambda: printer.print_slip(slip("en")),)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        printer.close()
    assert errors == []
    jobs = [j for j in fake.job_bytes().split(b"\x1b@") if j]
    assert len(jobs) == 6
    for job in jobs:
        assert job.endswith(CUT), job[-40:]
        assert (b"TEST" in job) != (b"K7QX 2M4P" in job), job[:80]  # one whole job each
    assert sum(b"K7QX 2M4P" in j for j in jobs) == 3


async def test_a_printer_fault_is_reported_like_a_ticket_fault(
    settings: Settings, fake: PtyFakePrinter
) -> None:
    fake.state = "paper_end"
    api = FakeApi(settings)
    printer = KioskPrinter(settings, serial_settings(fake.port))
    flow = KioskFlow(settings, api, printer, DeviceInfo("kiosk-entrance", "Inngangen", "1.0"))
    try:
        await print_slip(flow, slip("nb"))
    finally:
        printer.close()
    assert flow.printer_state.state == "paper_end"
    assert api.reports and api.reports[-1].printer is not None
    assert api.reports[-1].printer.state == "paper_end"
    assert not re.search(rb"K7QX", fake.job_bytes())  # nothing sent into a printer without paper
