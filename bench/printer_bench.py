#!/usr/bin/env python3
"""Ticket printer benchmark: bytes per ticket, wire time, our own time to the first byte.

    .venv/bin/python bench/printer_bench.py [--tickets 50] [--markdown]

- Bytes: the sample ticket (B012, 4 ahead, 9 min, QR code, site footer) for each paper width
  and language, with the NV logo reference; and for comparison a per-ticket raster logo.
- Wire time: bytes x 10 bits (8N1) / baud at 9600, 19200 and 115200 baud.
- Our time: from ``print_ticket()`` being called to the first ticket byte arriving at a fake
  printer on a real socat pty pair (it answers the status queries that come first), over
  ``--tickets`` tickets on a warm printer, plus the very first ticket of a fresh process.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from nummerlapp.bench.common import Figures
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import render
from nummerlapp.printer.sample import sample_view
from nummerlapp.printer.service import TicketPrinter
from nummerlapp.tests.printer.fakeprinter import PtyFakePrinter, serial_settings

ROOT = Path(__file__).resolve().parent.parent

BAUDS = (9600, 19200, 115200)
WIDTHS = {576: ("TM-T20II", 80), 512: ("TM-T88V", 80), 384: ("default", 58)}


def wire_ms(n: int, baud: int) -> float:
    return n * 10 / baud * 1000


def byte_table() -> list[str]:
    rows = [
        "| paper | profile | lang | logo | bytes | 9600 baud | 19200 baud | 115200 baud |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        logo = Path(tmp) / "logo.png"
        img = Image.new("L", (576, 160), 255)
        ImageDraw.Draw(img).rounded_rectangle((40, 10, 536, 150), radius=30, fill=0)
        img.save(logo)
        for dots, (profile, mm) in WIDTHS.items():
            ps = PrinterSettings(
                id="b", type="dummy", paper_width_mm=mm, dots=dots, profile=profile, logo="nv"
            )
            for lang in ("nb", "sv", "en"):
                n = len(render(sample_view(lang), ps))
                times = " | ".join(f"{wire_ms(n, b):.0f} ms" for b in BAUDS)
                rows.append(f"| {mm} mm / {dots} | {profile} | {lang} | NV | {n} | {times} |")
            raster = dataclasses.replace(ps, logo="raster")
            n = len(render(sample_view("nb"), raster, str(logo)))
            times = " | ".join(f"{wire_ms(n, b):.0f} ms" for b in BAUDS)
            rows.append(f"| {mm} mm / {dots} | {profile} | nb | raster | {n} | {times} |")
    return rows


def first_byte_times(tickets: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with PtyFakePrinter() as fake:
        core = fake.core
        arrived: list[float] = []
        original = core.feed

        def feed(data: bytes) -> bytes:
            answer = original(data)
            if not arrived and b"\x1b@" in data:
                arrived.append(time.monotonic())
            return answer

        core.feed = feed  # type: ignore[method-assign]
        settings = serial_settings(fake.port)
        view = sample_view("nb")

        t0 = time.monotonic()
        printer = TicketPrinter(settings, languages=["nb"])
        results["TicketPrinter() incl. warm-up (catalogues already loaded in this process)"] = (
            time.monotonic() - t0
        ) * 1000
        t0 = time.monotonic()
        printer.print_ticket(view)
        fake.wait_for(b"\x1dVB\x00")
        results["first ticket of a new TicketPrinter, port opened on demand"] = (arrived[0] - t0) * 1000

        handed: list[float] = []
        wire: list[float] = []
        total: list[float] = []
        for _ in range(tickets):
            core.clear()
            arrived.clear()
            t0 = time.monotonic()
            result = printer.print_ticket(view)
            fake.wait_for(b"\x1dVB\x00")
            wire.append((arrived[0] - t0) * 1000)
            handed.append(result.to_first_byte_s * 1000)
            total.append(result.duration_s * 1000)
        printer.close()

    def q(values: list[float], p: float) -> float:
        return sorted(values)[min(len(values) - 1, int(p * len(values)))]

    for name, values in (
        ("to first byte on the wire", wire),
        ("to handing bytes to the port", handed),
        ("whole print_ticket()", total),
    ):
        results[f"warm: {name}, median"] = statistics.median(values)
        results[f"warm: {name}, p95"] = q(values, 0.95)
        results[f"warm: {name}, max"] = max(values)
    return results


def import_time() -> float:
    """Importing the printer (python-escpos, Pillow, Babel) in a fresh interpreter: paid at kiosk start."""

    code = "import time; t = time.perf_counter(); import nummerlapp.printer.service; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip()) * 1000


def render_time(n: int = 200) -> float:
    ps = PrinterSettings(id="b", type="dummy", profile="TM-T20II", logo="nv")
    view = sample_view("nb")
    render(view, ps)
    t0 = time.perf_counter()
    for _ in range(n):
        render(view, ps)
    return (time.perf_counter() - t0) / n * 1000


def normal_ticket_bytes() -> int:
    """The normal ticket (nb, 80 mm TM-T20II, NV logo, QR code): the figure with the 300-byte goal."""

    ps = PrinterSettings(id="b", type="dummy", paper_width_mm=80, dots=576, profile="TM-T20II", logo="nv")
    return len(render(sample_view("nb"), ps))


def collect(
    figs: Figures,
    runs: int = 3,
    tickets: int = 30,
    with_import: bool = True,
    log: Callable[[str], None] = print,
) -> None:
    """``runs`` rounds of: layout time, our time to the first byte on a pty (``tickets`` warm tickets)."""
    figs.fig("ticket_bytes", "bytes of a normal ticket (NV logo, QR code)", "bytes", "lower", 300).add(
        normal_ticket_bytes()
    )
    figs.details["bytes_table"] = byte_table()
    render_ms = figs.fig(
        "layout_ms", "ticket layout + ESC/POS encoding (warm)", "ms", "lower", abs_margin=1.0
    )
    first = figs.fig("first_byte_ms", "print_ticket() → first byte on the wire, median (pty)", "ms", "lower", 50,
                     abs_margin=1.0)  # fmt: skip
    first95 = figs.fig("first_byte_p95_ms", "print_ticket() → first byte on the wire, p95 (pty)", "ms", "lower",
                       abs_margin=2.0)  # fmt: skip
    imp = figs.fig(
        "import_ms", "import of the printer package in a fresh process", "ms", "lower", abs_margin=30
    )
    for i in range(runs):
        render_ms.add(render_time())
        times = first_byte_times(tickets)
        first.add(times["warm: to first byte on the wire, median"])
        first95.add(times["warm: to first byte on the wire, p95"])
        if with_import:
            imp.add(import_time())
        log(f"  printer run {i + 1}: layout {render_ms.runs[-1]:.2f} ms, first byte {first.runs[-1]:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=50)
    args = parser.parse_args()
    print("## Bytes per ticket and wire time (8N1)\n")
    print("\n".join(byte_table()))
    print(f"\n## Our own time (pty fake printer, {args.tickets} tickets)\n")
    print("| measure | ms |\n|---|---:|")
    print(f"| import printer.service in a fresh process (once, at kiosk start) | {import_time():.0f} |")
    print(f"| layout + ESC/POS encoding of one ticket (warm) | {render_time():.2f} |")
    for name, value in first_byte_times(args.tickets).items():
        print(f"| {name} | {value:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
