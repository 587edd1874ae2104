"""``python main.py kiosk``: the visitor touchscreen. Imports nothing heavy until it runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import settings_from_args

if TYPE_CHECKING:
    from nummerlapp.kiosk.runner import KioskOptions

PORTRAIT = (1080, 1920)
LANDSCAPE = (1280, 800)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "kiosk",
        help="run the visitor kiosk (touchscreen, ticket printer)",
        description="The visitor kiosk: departments as big buttons, the number printed and shown.",
    )
    p.add_argument(
        "--server", metavar="URL", help="service address, e.g. http://10.0.0.5:8420 (default: mDNS)"
    )
    tokens = p.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token", metavar="TOKEN", help="kiosk token (prefer --token-file or NUMMERLAPP_TOKEN)"
    )
    tokens.add_argument("--token-file", type=Path, metavar="PATH", help="file holding the kiosk token")
    p.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="site file, for a site without a network service (default: enrol with the service "
        "and take the settings from it)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the kiosk keeps the token it was given when enrolled "
        "(default: $NUMMERLAPP_STATE_DIR, else ~/.local/state/nummerlapp/kiosk)",
    )
    p.add_argument("--printer", metavar="ID", help="printer id from the site file (default: kiosk.printer)")
    p.add_argument(
        "--size", metavar="WxH", help="window size in pixels (default 1280x800, or 1080x1920 portrait)"
    )
    p.add_argument("--portrait", action="store_true", help="portrait screen (1080x1920 unless --size)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
    p.add_argument(
        "--lang", metavar="CODE", help="the language visitors see first (default: the site's first)"
    )
    p.add_argument(
        "--mdns-interface", metavar="IP", action="append", help="advertise/browse only on this address"
    )
    p.add_argument("--no-mdns", action="store_true", help="neither browse nor advertise over mDNS")
    p.add_argument(
        "--id", dest="device_id", default="", metavar="ID", help="this kiosk's id (default: kiosk-HOST)"
    )
    p.add_argument("--name", default="", help="a name staff recognise, e.g. 'Entrance'")
    p.add_argument(
        "--scanner", metavar="PORT", help="a serial barcode/QR scanner for booked visits, e.g. /dev/ttyACM0"
    )
    p.set_defaults(func=run)


def parse_size(text: str | None, portrait: bool) -> tuple[int, int]:
    if not text:
        return PORTRAIT if portrait else LANDSCAPE
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError("--size", "", f"{text!r} is not WIDTHxHEIGHT, e.g. 1080x1920") from None
    if w < 320 or h < 320:
        raise ConfigError("--size", "", f"{text!r} is too small for a kiosk (at least 320x320)")
    return (w, h)


def read_token(args: argparse.Namespace) -> str | None:
    if args.token:
        return str(args.token)
    if args.token_file is not None:
        try:
            return args.token_file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(
                str(args.token_file), "", f"cannot read the token file: {exc.strerror}"
            ) from None
    return os.environ.get("NUMMERLAPP_TOKEN") or None


def options(args: argparse.Namespace) -> KioskOptions:
    from nummerlapp.kiosk.runner import KioskOptions  # noqa: PLC0415  # start-up: httpx, zeroconf

    return KioskOptions(
        server=args.server,
        token=read_token(args),
        printer=args.printer,
        size=parse_size(args.size, args.portrait),
        lang=args.lang,
        mdns_interfaces=args.mdns_interface,
        mdns=not args.no_mdns,
        device_id=args.device_id,
        name=args.name,
        scanner=args.scanner,
    )


def run(args: argparse.Namespace) -> int:
    if args.config is None and read_token(args) is None:
        return run_enrolled(args)
    # Kivy, httpx and zeroconf load when the kiosk runs, not with every command's parser.
    from nummerlapp.kiosk.runner import main  # noqa: PLC0415  # start-up

    settings = settings_from_args(args)
    if args.lang and args.lang not in settings.site.languages:
        raise ConfigError(
            "--lang", "", f"{args.lang!r} is not one of the site's languages {settings.site.languages}"
        )
    if args.printer and settings.printer(args.printer) is None:
        known = ", ".join(p.id for p in settings.printers) or "none"
        raise ConfigError("--printer", "", f"unknown printer {args.printer!r} (known: {known})")
    return main(settings, options(args), fullscreen=args.fullscreen)


def run_enrolled(args: argparse.Namespace) -> int:
    """No site file and no token: enrol with the service, take the settings from it (kiosk/device.py)."""
    from nummerlapp.client.enrol import default_state_dir  # noqa: PLC0415  # start-up
    from nummerlapp.kiosk.device import main_enrolled  # noqa: PLC0415  # start-up: Kivy loads only when the kiosk runs

    opts = options(args)
    if not opts.mdns and not opts.server:
        raise ConfigError(
            "<command line>", "--server", "mDNS is off and no --server given: nothing to connect to"
        )
    return main_enrolled(opts, args.state_dir or default_state_dir("kiosk"), fullscreen=args.fullscreen)
