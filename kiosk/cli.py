"""``python main.py kiosk``: the visitor touchscreen. Imports nothing heavy until it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from nummerlapp.client.cli import DeviceCommand
from nummerlapp.common.errors import ConfigError

if TYPE_CHECKING:
    from nummerlapp.kiosk.runner import KioskOptions

KIOSK = DeviceCommand(
    role="kiosk",
    device="kiosk",
    takes="settings",
    portrait=(1080, 1920),
    landscape=(1280, 800),
    size_help="window size in pixels (default 1280x800, or 1080x1920 portrait)",
    portrait_help="portrait screen (1080x1920 unless --size)",
    mdns_help=("advertise/browse only on this address", "neither browse nor advertise over mDNS"),
    name_example="Entrance",
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "kiosk",
        help="run the visitor kiosk (touchscreen, ticket printer)",
        description="The visitor kiosk: departments as big buttons, the number printed and shown.",
    )
    KIOSK.add_service_options(p)
    p.add_argument("--printer", metavar="ID", help="printer id from the site file (default: kiosk.printer)")
    KIOSK.add_window_options(p)
    KIOSK.add_identity_options(p)
    p.add_argument(
        "--scanner", metavar="PORT", help="a serial barcode/QR scanner for booked visits, e.g. /dev/ttyACM0"
    )
    p.add_argument(
        "--store-logo",
        type=Path,
        metavar="FILE",
        help="store FILE as the ticket logo in this kiosk's printer (once), then exit; a kiosk that "
        "joined by itself takes its printer's settings from the service",
    )
    p.set_defaults(func=run)


def options(args: argparse.Namespace) -> KioskOptions:
    from nummerlapp.kiosk.runner import KioskOptions  # noqa: PLC0415  # start-up: httpx, zeroconf

    return KioskOptions(**KIOSK.device_args(args), printer=args.printer, scanner=args.scanner)


def run(args: argparse.Namespace) -> int:
    if args.store_logo is not None:
        return store_logo(args)
    if KIOSK.enrolled(args):
        return run_enrolled(args)
    # Kivy, httpx and zeroconf load when the kiosk runs, not with every command's parser.
    from nummerlapp.kiosk.runner import main  # noqa: PLC0415  # start-up

    settings = KIOSK.settings(args)
    if args.printer and settings.printer(args.printer) is None:
        known = ", ".join(p.id for p in settings.printers) or "none"
        raise ConfigError("--printer", "", f"unknown printer {args.printer!r} (known: {known})")
    return main(settings, options(args), fullscreen=args.fullscreen)


def store_logo(args: argparse.Namespace) -> int:
    """``--store-logo FILE``: with the site file's printer, or the one the service gives this kiosk."""
    from nummerlapp.kiosk import logo  # noqa: PLC0415  # start-up: python-escpos, httpx

    if KIOSK.enrolled(args):
        return logo.store_enrolled(options(args), KIOSK.state_dir(args), args.store_logo)
    return logo.store(KIOSK.settings(args), args.printer, args.store_logo)


def run_enrolled(args: argparse.Namespace) -> int:
    """No site file and no token: enrol with the service, take the settings from it (kiosk/device.py)."""
    from nummerlapp.kiosk.device import main_enrolled  # noqa: PLC0415  # start-up: Kivy loads only when the kiosk runs

    opts = options(args)
    return main_enrolled(opts, KIOSK.state_dir(args), fullscreen=args.fullscreen)
