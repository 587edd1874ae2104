"""``printer test | sample | logo | status``: the technician's printer commands.

    python main.py printer sample --out t.bin --png t.png --lang sv --width 384
    python main.py printer sample --slip --out s.bin --png s.png   # a booked visit's triage slip
    python main.py printer test [--printer ID]       # test page + status, with the configured connection
    python main.py printer logo FILE [--printer ID]  # store the logo in the printer's NV memory, once
    python main.py printer status [--printer ID] [--json]

Nothing heavy is imported until a command runs (main.py builds every parser at start).
Exit codes: 0 fine, 1 printer fault (one line on stderr), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from nummerlapp.common.cli import add_site_options
from nummerlapp.common.errors import ConfigError
from nummerlapp.config import settings_from_args
from nummerlapp.config.model import PrinterSettings, Settings

if TYPE_CHECKING:  # types only: the modules load with their command (below)
    from nummerlapp.printer.layout import TicketView
    from nummerlapp.printer.service import TicketPrinter
    from nummerlapp.printer.slip import SlipView

# The printer modules import python-escpos (a quarter of a second), so each command imports them
# when it runs: main.py builds every command's parser at start ("start-up" below).

PAPER_MM = {576: 80, 512: 80, 384: 58}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("printer", help="ticket printer: test page, sample ticket, logo, status")
    sub = parser.add_subparsers(dest="printer_command", metavar="ACTION", required=True)

    sample = sub.add_parser("sample", help="write a sample ticket's ESC/POS bytes (no printer needed)")
    add_site_options(sample)
    _printer_option(sample)
    sample.add_argument("--out", type=Path, required=True, metavar="FILE", help="ESC/POS bytes go here")
    sample.add_argument("--png", type=Path, default=None, metavar="FILE", help="also write a PNG preview")
    sample.add_argument("--lang", default=None, help="ticket language (default: the site's first)")
    sample.add_argument(
        "--width", type=int, choices=sorted(PAPER_MM), default=None, help="paper width in dots"
    )
    sample.add_argument(
        "--slip", action="store_true", help="a booked visit's triage slip instead of a ticket"
    )
    sample.set_defaults(func=_sample)

    test = sub.add_parser("test", help="print a test page with the configured connection and report status")
    add_site_options(test)
    _printer_option(test)
    test.add_argument("--lang", default=None)
    test.set_defaults(func=_test)

    logo = sub.add_parser("logo", help="store an image as the ticket logo in the printer's NV memory")
    add_site_options(logo)
    _printer_option(logo)
    logo.add_argument("file", type=Path, metavar="FILE", help="PNG/JPEG/BMP; scaled to the paper width")
    logo.set_defaults(func=_logo)

    status = sub.add_parser("status", help="ask the printer for its status (DLE EOT)")
    add_site_options(status)
    _printer_option(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_status)


def _printer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--printer", default=None, metavar="ID", help="printer id in the site file (default: first)"
    )


def check_site(settings: Settings) -> None:
    """Whether each printer's connection options and profile make sense; ConfigError if not.

    The site-file loader keeps to the file's shape and leaves printer options to this part;
    ``config check`` calls this (main.py composes the two), so a technician learns of a wrong
    option before the kiosk starts. No device is touched.
    """
    from nummerlapp.printer.profile import printer_profile  # noqa: PLC0415  # start-up
    from nummerlapp.printer.transports import open_transport  # noqa: PLC0415  # start-up

    for ps in settings.printers:
        open_transport(ps)
        printer_profile(ps)


def _pick(settings: Settings, printer_id: str | None, required: bool = True) -> PrinterSettings:
    chosen = settings.printer(printer_id)
    if chosen is not None:
        return chosen
    if printer_id is not None or required:
        known = ", ".join(p.id for p in settings.printers) or "none"
        what = f"no printer {printer_id!r}" if printer_id else "no printer configured"
        raise ConfigError(settings.source, "printers", f"{what} (printers: {known})")
    return PrinterSettings(id="sample", type="dummy", profile="TM-T20II")


def _lang(settings: Settings, lang: str | None) -> str:
    if lang is None:
        return settings.site.default_language
    if lang not in settings.site.languages:
        raise ConfigError(
            "--lang", "", f"{lang!r} is not a site language ({', '.join(settings.site.languages)})"
        )
    return lang


def _sample(args: argparse.Namespace) -> int:
    from nummerlapp.printer.layout import layout, to_escpos  # noqa: PLC0415  # start-up
    from nummerlapp.printer.preview import render_png  # noqa: PLC0415  # start-up
    from nummerlapp.printer.sample import sample_view  # noqa: PLC0415  # start-up

    settings = settings_from_args(args)
    ps = _pick(settings, args.printer, required=False)
    if args.width is not None:
        ps = dataclasses.replace(ps, dots=args.width, paper_width_mm=PAPER_MM[args.width])
    lang = _lang(settings, args.lang)
    if args.slip:
        from nummerlapp.printer.slip import sample_slip, slip_layout  # noqa: PLC0415  # start-up

        slip = sample_slip(lang, settings.site.name)
        view: TicketView | SlipView = slip
        ops = slip_layout(slip, ps)
    else:
        ticket = sample_view(lang, settings)
        view = ticket
        ops = layout(ticket, ps)
    data = to_escpos(ops, ps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data)} bytes ({ps.dots} dots, profile {ps.profile}, {view.lang})")
    if args.png is not None:
        args.png.parent.mkdir(parents=True, exist_ok=True)
        render_png(ops, ps, args.png)
        print(f"{args.png}: preview")
    return 0


@contextlib.contextmanager
def _opened(ps: PrinterSettings) -> Iterator[TicketPrinter]:
    """The configured printer, closed on the way out (a serial port or USB handle is held)."""
    from nummerlapp.printer.service import TicketPrinter  # noqa: PLC0415  # start-up

    printer = TicketPrinter(ps)
    try:
        yield printer
    finally:
        printer.close()


def _test(args: argparse.Namespace) -> int:
    from nummerlapp.printer.sample import test_page  # noqa: PLC0415  # start-up

    settings = settings_from_args(args)
    ps = _pick(settings, args.printer)
    with _opened(ps) as printer:
        result = printer.print_ops(test_page(ps, _lang(settings, args.lang)), "test-page")
    print(f"printer {ps.id} ({ps.type}): test page sent, {result.bytes_sent} bytes")
    print(f"status before: {result.status_before}")
    print(f"status after:  {result.status_after}")
    return 0


def _logo(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    return store_logo(_pick(settings, args.printer), args.file)


def store_logo(ps: PrinterSettings, file: Path) -> int:
    """Store ``file`` as the ticket logo in the printer's NV memory; prints what it did. → exit code
    (2: an image that cannot be used, nothing sent). Also ``main.py kiosk --store-logo`` for a kiosk
    that takes its printer's settings from the service."""
    from nummerlapp.printer.layout import NV_KEY  # noqa: PLC0415  # start-up
    from nummerlapp.printer.logo import load_logo, nv_store_commands  # noqa: PLC0415  # start-up

    try:
        image = load_logo(file, ps.dots)
        data = nv_store_commands(image, ps, NV_KEY)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _opened(ps) as printer:
        after = printer.send_raw(data, "logo")
    if ps.type == "file":  # the virtual printer keeps the logo so its previews show it
        image.save(Path(str(ps.options["directory"])) / "logo.png")
    print(
        f"logo stored in printer {ps.id} as NV key {NV_KEY!r}: {image.width}x{image.height} dots, {len(data)} bytes"
    )
    print(f"status: {after}")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    ps = _pick(settings, args.printer)
    with _opened(ps) as printer:
        status = printer.status()
    if args.json:
        print(json.dumps({"printer": ps.id, **status.to_dict()}, ensure_ascii=False))
    else:
        print(f"printer {ps.id} ({ps.type}): {status}")
    return 0 if status.ok else 1
