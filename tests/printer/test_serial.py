"""The serial path for real: pyserial on a socat pty pair, a fake printer on the far end."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from nummerlapp.common.errors import ConfigError
from nummerlapp.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterFault,
    PrinterNotFound,
    PrinterOffline,
    PrinterTimeout,
)
from nummerlapp.printer.layout import render
from nummerlapp.printer.sample import sample_view
from nummerlapp.printer.service import TicketPrinter
from nummerlapp.printer.transports import SerialTransport, open_transport
from nummerlapp.tests.printer.fakeprinter import PtyFakePrinter, serial_settings

CUT = b"\x1dVB\x00"
QUERIES = [1, 2, 4]


def test_ticket_arrives_byte_exact_between_status_checks(pty_printer: PtyFakePrinter) -> None:
    settings = serial_settings(pty_printer.port)
    printer = TicketPrinter(settings, languages=["nb"])
    try:
        result = printer.print_ticket(sample_view("nb"))
        received = pty_printer.wait_for(CUT)
        assert received == render(sample_view("nb"), settings)
        assert result.bytes_sent == len(received)
        assert pty_printer.core.queries == QUERIES + QUERIES  # before and after
        assert result.status_before.ok and result.status_after.ok
        # The next visitor: port open, fake warmed up. Our own time to the first byte (goal < 50 ms).
        pty_printer.core.clear()
        second = printer.print_ticket(sample_view("nb"))
        assert second.to_first_byte_s < 0.05
        assert pty_printer.wait_for(CUT) == received
    finally:
        printer.close()


@pytest.mark.parametrize(
    ("state", "summary", "ok"),
    [
        ("ok", "ok", True),
        ("near_end", "paper_near_end", True),
        ("paper_end", "paper_end", False),
        ("cover_open", "cover_open", False),
        ("offline", "offline", False),
        ("error", "offline", False),
        ("garbage", "unknown", False),
    ],
)
def test_status_states(pty_printer: PtyFakePrinter, state: str, summary: str, ok: bool) -> None:
    pty_printer.state = state
    printer = TicketPrinter(serial_settings(pty_printer.port))
    try:
        t0 = time.monotonic()
        status = printer.status()
        assert time.monotonic() - t0 < 0.2  # an answering printer costs milliseconds
    finally:
        printer.close()
    assert status.summary == summary and status.ok is ok


def test_no_answer_is_unknown_within_the_deadline(pty_printer: PtyFakePrinter) -> None:
    pty_printer.state = "silent"
    printer = TicketPrinter(serial_settings(pty_printer.port))
    try:
        t0 = time.monotonic()
        status = printer.status()
        elapsed = time.monotonic() - t0
        assert status.unknown and not status.ok and "no answer" in status.detail
        assert elapsed < 0.5
        with pytest.raises(PrinterOffline, match="does not answer"):
            printer.print_ticket(sample_view("en"))
    finally:
        printer.close()
    assert CUT not in pty_printer.job_bytes()  # nothing sent into silence


def test_no_answer_prints_when_the_site_allows_it(pty_printer: PtyFakePrinter) -> None:
    pty_printer.state = "silent"
    settings = serial_settings(pty_printer.port, require_status=False)
    printer = TicketPrinter(settings)
    try:
        result = printer.print_ticket(sample_view("en"))
    finally:
        printer.close()
    assert result.status_before.unknown and result.status_after.unknown and not result.status_after.ok
    assert pty_printer.wait_for(CUT) == render(sample_view("en"), settings)


@pytest.mark.parametrize(
    ("state", "error"), [("paper_end", PaperOut), ("cover_open", CoverOpen), ("offline", PrinterOffline)]
)
def test_fault_before_printing_sends_nothing(
    pty_printer: PtyFakePrinter, state: str, error: type[PrinterFault]
) -> None:
    pty_printer.state = state
    printer = TicketPrinter(serial_settings(pty_printer.port))
    try:
        with pytest.raises(error) as info:
            printer.print_ticket(sample_view("sv"))
    finally:
        printer.close()
    assert info.value.printed is False and info.value.status is not None
    assert info.value.status.summary.startswith(state.split("_")[0])
    time.sleep(0.05)
    assert pty_printer.job_bytes() == b""


def test_paper_running_out_during_the_ticket_is_reported(pty_printer: PtyFakePrinter) -> None:
    printer = TicketPrinter(serial_settings(pty_printer.port))
    original = pty_printer.core.feed

    def feed(data: bytes) -> bytes:  # the roll ends as the cut arrives
        if CUT in data:
            pty_printer.core.state = "paper_end"
        return original(data)

    pty_printer.core.feed = feed  # type: ignore[method-assign]
    try:
        with pytest.raises(PaperOut) as info:
            printer.print_ticket(sample_view("nb"))
    finally:
        printer.close()
    assert info.value.printed is True


def test_near_end_prints_and_says_so(pty_printer: PtyFakePrinter) -> None:
    pty_printer.state = "near_end"
    printer = TicketPrinter(serial_settings(pty_printer.port))
    try:
        result = printer.print_ticket(sample_view("nb"))
    finally:
        printer.close()
    assert result.paper_near_end and CUT in pty_printer.wait_for(CUT)


def test_stalled_printer_fails_within_two_seconds(pty_printer: PtyFakePrinter) -> None:
    """Reads stop: the pty and socat buffers fill; a big job must fail with a typed error in time."""
    transport = SerialTransport(pty_printer.port, 19200)
    try:
        transport.status(time.monotonic() + 0.5)  # opens the port
        pty_printer.stall()
        t0 = time.monotonic()
        with pytest.raises(PrinterTimeout):
            transport.write(b"\x00" * 2_000_000, t0 + 1.5)
        assert time.monotonic() - t0 < 2.0
    finally:
        transport.close()


def test_xoff_flow_control_holds_the_ticket_and_fails_in_time(pty_printer: PtyFakePrinter) -> None:
    """XON/XOFF for real: the fake answers the status round, then sends XOFF (its buffer is full)
    and stops reading; the kernel stops our tty, the ticket's write blocks, and must fail in time."""
    settings = serial_settings(pty_printer.port, flow="xonxoff")
    pty_printer.xoff_after_queries = 3
    printer = TicketPrinter(settings)
    try:
        t0 = time.monotonic()
        with pytest.raises(PrinterTimeout):
            printer.print_ticket(sample_view("nb"))
        assert time.monotonic() - t0 < 2.0
    finally:
        printer.close()
    assert pty_printer.job_bytes() == b""  # held on our side: nothing reached the printer


def test_xoff_after_the_ticket_is_reported_as_unconfirmed(pty_printer: PtyFakePrinter) -> None:
    """XOFF as the ticket arrives: some or all bytes went out; either the rest of the write or the
    status round after it is held. Both ways the caller learns the ticket is unconfirmed
    (``printed=True``) within 2 s, never a silent success."""
    settings = serial_settings(pty_printer.port, flow="xonxoff")
    pty_printer.xoff_on_data = True
    printer = TicketPrinter(settings)
    try:
        t0 = time.monotonic()
        with pytest.raises((PrinterOffline, PrinterTimeout)) as info:
            printer.print_ticket(sample_view("nb"))
        assert time.monotonic() - t0 < 2.0
    finally:
        printer.close()
    assert isinstance(info.value, PrinterFault) and info.value.printed
    assert pty_printer.job_bytes()  # the printer did get (part of) the ticket


def test_unplugged_port_then_plugged_back(pty_printer: PtyFakePrinter) -> None:
    settings = serial_settings(pty_printer.port)
    printer = TicketPrinter(settings)
    try:
        assert printer.print_ticket(sample_view("nb")).status_after.ok
        pty_printer.unplug()
        status = printer.status()
        assert status.offline and not status.ok and not status.unknown
        with pytest.raises((PrinterNotFound, PrinterOffline)):
            printer.print_ticket(sample_view("nb"))
        with pytest.raises(PrinterNotFound):  # the handle was dropped; now the path itself is gone
            printer.print_ticket(sample_view("nb"))
        pty_printer.core.clear()
        pty_printer.replug()
        result = printer.print_ticket(sample_view("en"))  # reopened by path, no restart needed
        assert result.status_before.ok
        assert pty_printer.wait_for(CUT) == render(sample_view("en"), settings)
    finally:
        printer.close()


def test_missing_port_is_not_found(tmp_path) -> None:  # type: ignore[no-untyped-def]
    printer = TicketPrinter(serial_settings(str(tmp_path / "ttyUSB9")))
    status = printer.status()
    assert status.not_found and status.offline and not status.ok
    with pytest.raises(PrinterNotFound):
        printer.print_ticket(sample_view("nb"))


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "port"),
        ({"port": "/dev/x", "baudrate": "fast"}, "baudrate"),
        ({"port": "/dev/x", "flow": "rts"}, "flow"),
    ],
)
def test_bad_serial_options_name_the_key(options: dict[str, object], key: str) -> None:
    settings = dataclasses.replace(serial_settings("/dev/x"), options=options)
    with pytest.raises(ConfigError, match=rf"printers\.kiosk-1\.options\.{key}"):
        open_transport(settings)


def test_tickets_from_several_threads_never_interleave(pty_printer: PtyFakePrinter) -> None:
    """The kiosk prints via asyncio.to_thread while a status poll runs: one job at a time on the wire."""

    settings = serial_settings(pty_printer.port)
    printer = TicketPrinter(settings, languages=["nb", "sv", "en"])
    errors: list[BaseException] = []

    def work(lang: str) -> None:
        try:
            for _ in range(5):
                printer.print_ticket(sample_view(lang))
                printer.status()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lang,)) for lang in ("nb", "sv", "en")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        printer.close()
    assert not errors
    data = pty_printer.wait_for(CUT)
    deadline = time.monotonic() + 5
    while data.count(CUT) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
        data = pty_printer.job_bytes()
    tickets = [t + CUT for t in data.split(CUT)[:-1]]
    assert len(tickets) == 15
    expected = {render(sample_view(lang), settings) for lang in ("nb", "sv", "en")}
    assert set(tickets) == expected  # every ticket whole, none spliced into another


def test_status_after_a_ticket_waits_for_a_slow_line(pty_printer: PtyFakePrinter) -> None:
    """At 9600 baud the status query after a 283-byte ticket reaches the printer ~0.3 s later:
    longer than one query's 250 ms. The wait must allow for it, or every ticket is "unconfirmed"."""
    pty_printer.bytes_per_s = 960  # the fake reads like a 9600-baud line
    settings = serial_settings(pty_printer.port, baudrate=9600)
    printer = TicketPrinter(settings, languages=["nb"])
    try:
        result = printer.print_ticket(sample_view("nb"))
    finally:
        printer.close()
    assert result.status_after.ok
    assert result.duration_s > 0.25  # it did have to wait for the line
