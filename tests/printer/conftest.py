"""Fixtures for the printer tests: fake printers on real ptys (socat) and real TCP sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nummerlapp.tests.printer.fakeprinter import PtyFakePrinter, TcpFakePrinter


@pytest.fixture
def pty_printer() -> Iterator[PtyFakePrinter]:
    """A fake printer answering "ok" behind a socat pty pair; socat is killed by PID afterwards."""
    fake = PtyFakePrinter().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def tcp_printer() -> Iterator[TcpFakePrinter]:
    fake = TcpFakePrinter(rcvbuf=4096).start()
    try:
        yield fake
    finally:
        fake.stop()
