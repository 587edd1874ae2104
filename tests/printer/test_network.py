"""The network transport (raw TCP 9100) against a real TCP fake printer on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.errors import PaperOut, PrinterNotFound, PrinterTimeout
from nummerlapp.printer.layout import render
from nummerlapp.printer.sample import sample_view
from nummerlapp.printer.service import TicketPrinter
from nummerlapp.printer.transports import NetworkTransport, open_transport
from nummerlapp.tests.printer.fakeprinter import TcpFakePrinter

CUT = b"\x1dVB\x00"


def net(host: str, port: int) -> PrinterSettings:
    return PrinterSettings(id="net", type="network", options={"host": host, "port": port}, profile="TM-T20II")


def test_ticket_and_status_over_tcp(tcp_printer: TcpFakePrinter) -> None:
    settings = net(tcp_printer.host, tcp_printer.port)
    printer = TicketPrinter(settings)
    try:
        first = printer.print_ticket(sample_view("sv"))
        assert tcp_printer.wait_for(CUT) == render(sample_view("sv"), settings)
        assert first.status_before.ok and first.status_after.ok
        tcp_printer.core.clear()
        printer.print_ticket(sample_view("en"))
        assert tcp_printer.wait_for(CUT) == render(sample_view("en"), settings)
        assert tcp_printer.connections == 1  # one connection kept between tickets
        assert tcp_printer.core.queries == [1, 2, 4, 1, 2, 4]
        tcp_printer.state = "paper_end"
        with pytest.raises(PaperOut):
            printer.print_ticket(sample_view("en"))
    finally:
        printer.close()


def test_printer_closing_the_connection_is_noticed_before_the_next_ticket(
    tcp_printer: TcpFakePrinter,
) -> None:
    settings = net(tcp_printer.host, tcp_printer.port)
    printer = TicketPrinter(settings)
    try:
        printer.print_ticket(sample_view("nb"))
        for conn in list(tcp_printer._conns):  # the printer rebooted: its side of the socket is gone
            conn.shutdown(socket.SHUT_RDWR)
        time.sleep(0.1)
        tcp_printer.core.clear()
        printer.print_ticket(sample_view("nb"))
        assert tcp_printer.wait_for(CUT) == render(sample_view("nb"), settings)
        assert tcp_printer.connections == 2
    finally:
        printer.close()


def test_silent_network_printer_is_unknown(tcp_printer: TcpFakePrinter) -> None:
    tcp_printer.state = "silent"
    transport = NetworkTransport(tcp_printer.host, tcp_printer.port)
    try:
        t0 = time.monotonic()
        status = transport.status(t0 + 0.75)
        assert status.unknown and not status.ok and time.monotonic() - t0 < 0.5
    finally:
        transport.close()


def test_stalled_network_printer_times_out_within_two_seconds(tcp_printer: TcpFakePrinter) -> None:
    transport = NetworkTransport(tcp_printer.host, tcp_printer.port)
    try:
        assert transport.status(time.monotonic() + 0.75).ok
        tcp_printer.stall()
        t0 = time.monotonic()
        with pytest.raises(PrinterTimeout):
            transport.write(b"\x00" * 50_000_000, t0 + 1.5)
        assert time.monotonic() - t0 < 2.0
    finally:
        transport.close()


def test_nobody_listening_is_not_found(free_port: int) -> None:
    printer = TicketPrinter(net("127.0.0.1", free_port))
    status = printer.status()
    assert status.not_found and not status.ok
    with pytest.raises(PrinterNotFound, match="refused"):
        printer.print_ticket(sample_view("nb"))


def test_bad_network_options() -> None:
    with pytest.raises(ConfigError, match=r"options\.host"):
        open_transport(dataclasses.replace(net("x", 1), options={}))
    with pytest.raises(ConfigError, match=r"options\.port"):
        open_transport(net("127.0.0.1", 70000))
