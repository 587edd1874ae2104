"""The demo's file printer and the in-memory printer for real; USB by its parameter mapping."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from escpos.exceptions import DeviceNotFoundError
from PIL import Image

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.errors import PaperOut
from nummerlapp.printer.layout import render
from nummerlapp.printer.sample import sample_view
from nummerlapp.printer.service import TicketPrinter
from nummerlapp.printer.status import PrinterStatus
from nummerlapp.printer.transports import (
    DummyTransport,
    SerialTransport,
    UsbTransport,
    open_transport,
    usb_parameters,
)


def file_settings(directory: Path, dots: int = 576) -> PrinterSettings:
    return PrinterSettings(
        id="kiosk-1",
        type="file",
        options={"directory": str(directory)},
        dots=dots,
        profile="TM-T20II",
        logo="none",
    )


def test_file_printer_writes_bytes_and_a_matching_preview(tmp_path: Path) -> None:
    out = tmp_path / "var" / "tickets"  # made on first ticket
    settings = file_settings(out)
    printer = TicketPrinter(settings)
    result = printer.print_ticket(sample_view("nb"))
    name = "B012-t_8f3c2a9d41b7e6c05a1f09d2"
    assert result.job == name
    assert (out / f"{name}.bin").read_bytes() == render(sample_view("nb"), settings)
    with Image.open(out / f"{name}.png") as png:
        assert png.width == 576 + 2 * 24  # paper at one pixel per dot, plus the grey margin
        # the big number is black ink in the middle of the paper
        assert png.convert("L").crop((24, 200, 600, 400)).getextrema()[0] == 0
    assert not list(out.glob("*.tmp"))


def test_file_printer_plays_paper_end_from_a_status_file(tmp_path: Path) -> None:
    printer = TicketPrinter(file_settings(tmp_path))
    (tmp_path / "status").write_text("paper_end\n")
    assert printer.status().paper_end
    with pytest.raises(PaperOut):
        printer.print_ticket(sample_view("en"))
    assert not list(tmp_path.glob("*.bin"))
    (tmp_path / "status").write_text("nonsense")
    assert printer.status().unknown
    (tmp_path / "status").unlink()
    assert printer.status().ok


def test_file_printer_on_a_read_only_place_is_offline(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    status = TicketPrinter(file_settings(blocker / "tickets")).status()
    assert status.offline and not status.ok


def test_dummy_printer_keeps_jobs_and_plays_states() -> None:
    settings = PrinterSettings(id="d", type="dummy", options={"status": "near_end"}, profile="TM-T20II")
    with pytest.raises(ConfigError, match=r"options\.status"):
        open_transport(settings)
    transport = DummyTransport()
    printer = TicketPrinter(dataclasses.replace(settings, options={}), transport)
    printer.print_ticket(sample_view("sv"))
    assert transport.jobs == [
        ("B012-t_8f3c2a9d41b7e6c05a1f09d2", render(sample_view("sv"), printer.settings))
    ]
    transport.state = PrinterStatus(ok=False, paper_end=True, unknown=False)
    with pytest.raises(PaperOut):
        printer.print_ticket(sample_view("sv"))
    assert len(transport.jobs) == 1
    nearly = open_transport(dataclasses.replace(settings, options={"status": "paper_near_end"}))
    assert nearly.status(0).paper_near_end and nearly.status(0).ok


def test_unknown_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"printers\.x\.type.*bluetooth"):
        open_transport(PrinterSettings(id="x", type="bluetooth"))


def test_a_misspelt_option_is_refused_with_the_key_and_a_suggestion() -> None:
    settings = PrinterSettings(
        id="kiosk-1", type="serial", options={"port": "/dev/ttyUSB0", "baudrat": 19200}
    )
    with pytest.raises(ConfigError) as caught:
        open_transport(settings)
    assert caught.value.key == "printers.kiosk-1.options.baudrat"
    assert caught.value.problem == "unknown option for a serial printer (did you mean 'baudrate'?)"


def test_every_documented_option_of_each_type_is_accepted(tmp_path: Path) -> None:
    options: dict[str, dict[str, object]] = {
        "serial": {"port": "/dev/ttyUSB0", "baudrate": 9600, "flow": "rtscts", "codepage": "cp865"},
        "network": {"host": "127.0.0.1", "port": 9100, "require_status": False},
        "usb": {"vendor_id": 0x04B8, "product_id": 0x0E15, "in_ep": 0x82, "out_ep": 1, "timeout_ms": 500},
        "file": {"directory": str(tmp_path), "raster_qr": True, "write_timeout": 2.0},
        "dummy": {"status": "ok"},
    }
    for kind, opts in options.items():
        open_transport(PrinterSettings(id="p", type=kind, options=opts))  # touches no device


def test_usb_parameters_map_to_python_escpos() -> None:
    assert usb_parameters({"vendor_id": "0x04b8", "product_id": 0x0E15}) == {
        "idVendor": 0x04B8,
        "idProduct": 0x0E15,
        "in_ep": 0x82,
        "out_ep": 0x01,
        "timeout": 2000,
    }
    assert usb_parameters(
        {"vendor_id": 1208, "product_id": "3605", "in_ep": "0x81", "out_ep": 2, "timeout_ms": 500}
    ) == {
        "idVendor": 1208,
        "idProduct": 3605,
        "in_ep": 0x81,
        "out_ep": 2,
        "timeout": 500,
    }
    with pytest.raises(ConfigError, match=r"options\.product_id"):
        usb_parameters({"vendor_id": 1})
    with pytest.raises(ConfigError, match=r"options\.vendor_id"):
        usb_parameters({"vendor_id": "epson", "product_id": 1})


def test_usb_transport_hands_parameters_to_escpos_usb(monkeypatch: pytest.MonkeyPatch) -> None:
    """No USB hardware here: the one mock in this suite stands in for python-escpos' Usb class."""
    made: dict[str, Any] = {}

    class FakeUsb:
        def __init__(self, **kwargs: Any) -> None:
            made.update(kwargs)

        def open(self, raise_not_found: bool = True) -> None:
            raise DeviceNotFoundError("no such device")

    monkeypatch.setattr("escpos.printer.Usb", FakeUsb)
    settings = PrinterSettings(
        id="u", type="usb", options={"vendor_id": "0x04b8", "product_id": "0x0e15"}, profile="TM-T20II"
    )
    transport = open_transport(settings)
    assert isinstance(transport, UsbTransport)
    status = transport.status(0)
    assert made == {"profile": "TM-T20II", **usb_parameters(settings.options)}
    assert status.not_found and "04b8:0e15" in status.detail


def test_write_deadline_grows_with_the_wire_time() -> None:
    """At 9600 baud a ticket needs ~0.3 s on the wire: that is no stall, so the deadline grows."""

    assert SerialTransport("/dev/null", 9600).wire_s(283) == pytest.approx(0.2948, abs=1e-4)
    assert SerialTransport("/dev/null", 115200).wire_s(11800) == pytest.approx(1.0243, abs=1e-4)

    class SlowWire(DummyTransport):
        def __init__(self) -> None:
            super().__init__()
            self.deadlines: list[float] = []

        def wire_s(self, nbytes: int) -> float:
            return nbytes * 10 / 9600

        def write(self, data: bytes, deadline: float, job: Any = None) -> None:
            self.deadlines.append(deadline - time.monotonic())
            super().write(data, deadline, job)

    transport = SlowWire()
    printer = TicketPrinter(PrinterSettings(id="s", type="dummy", profile="TM-T20II"), transport)
    result = printer.print_ticket(sample_view("nb"))
    expected = 1.5 + result.bytes_sent * 10 / 9600
    assert expected - 0.05 < transport.deadlines[0] <= expected
