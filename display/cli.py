"""``python main.py display``: run a waiting-room board.

Imports nothing heavy at module level (common/cli.py's rule): Kivy is configured and imported
only when the command runs, because Kivy reads its window settings once, at import.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import load_settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("display", help="run a waiting-room board (Kivy)")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="a site file of its own (no enrolment); default: enrol and take the settings from the service",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the board keeps its token (default: $NUMMERLAPP_STATE_DIR or ~/.local/state/nummerlapp/display)",
    )
    p.add_argument(
        "--server",
        default=None,
        metavar="URL",
        help="service address when mDNS finds none, e.g. http://10.0.0.5:8420",
    )
    p.add_argument(
        "--zone", default=None, metavar="ID", help="zone whose departments to show (default: board.zone)"
    )
    p.add_argument("--size", default="1920x1080", metavar="WxH", help="window size (default 1920x1080)")
    p.add_argument(
        "--portrait", action="store_true", help="the screen hangs on its side: rotate the picture 90°"
    )
    p.add_argument("--fullscreen", action="store_true", help="fill the screen, hide the pointer")
    p.add_argument("--lang", default=None, metavar="LANG", help="board language (default: the site's first)")
    p.add_argument(
        "--mdns-interface", action="append", metavar="IP", help="use mDNS only on this address (repeatable)"
    )
    p.add_argument("--no-mdns", action="store_true", help="do not browse or advertise; use --server")
    p.add_argument("--id", dest="board_id", default=None, help="this board's id (default: board-<hostname>)")
    p.add_argument(
        "--name", dest="board_name", default=None, help="name shown when a technician asks it to identify"
    )
    p.add_argument("--mute", action="store_true", help="no chime or speech")
    p.add_argument(
        "--cache", type=Path, default=Path("var") / "board-sounds", help="where spoken WAVs are kept"
    )
    p.set_defaults(func=run_display)  # fmt: skip


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's BoardOptions values."""
    overrides: dict[str, Any] = {
        "mdns": not args.no_mdns,
        "mdns_interfaces": tuple(args.mdns_interface) if args.mdns_interface else None,
        "cache_dir": args.cache,
    }
    if args.server:
        overrides["server_url"] = args.server
    if args.board_id:
        overrides["board_id"] = args.board_id
    if args.board_name:
        overrides["board_name"] = args.board_name
    if args.mute:
        overrides["announce"] = False
    return overrides


def run_enrolled(args: argparse.Namespace) -> int:
    """No site file: enrol with the service and take the settings from it (display/device.py)."""
    from nummerlapp.client.enrol import default_state_dir  # noqa: PLC0415  # start-up

    width, height = parse_size(args.size)
    overrides = _overrides(args)
    if not overrides["mdns"] and not args.server:
        raise ConfigError(
            "<command line>", "--server", "mDNS is off and no --server given: nothing to connect to"
        )
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from nummerlapp.display.app import BoardApp, BoardOptions, configure_window  # noqa: PLC0415  # start-up: Kivy loads only when the board runs
    from nummerlapp.display.device import DeviceBoard, run_device_board  # noqa: PLC0415  # (as above)

    board = DeviceBoard(args.state_dir or default_state_dir("display"), args.lang, args.zone, overrides)
    options = BoardOptions(lang=args.lang or "nb", site_id=None, **overrides)
    configure_window(width, height, fullscreen=args.fullscreen, rotation=90 if args.portrait else 0)
    asyncio.run(run_device_board(BoardApp(options), board))
    return 0


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(
            "<command line>", "--size", f"expected WIDTHxHEIGHT like 1920x1080, not {text!r}"
        ) from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise ConfigError("<command line>", "--size", f"{text!r} is not a screen size")
    return width, height


def run_display(args: argparse.Namespace) -> int:
    logging.getLogger("websockets").setLevel(logging.INFO)  # -v: not every keepalive ping
    if args.config is None:
        return run_enrolled(args)
    settings = load_settings(args.config)
    width, height = parse_size(args.size)
    lang = args.lang or settings.site.default_language
    if lang not in settings.site.languages:
        raise ConfigError(
            settings.source,
            "--lang",
            f"{lang!r} is not one of the site's languages {list(settings.site.languages)}",
        )
    overrides = _overrides(args)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from nummerlapp.display.app import BoardApp, BoardOptions, configure_window, run_board  # noqa: PLC0415  # start-up: Kivy loads only when the board runs

    options = BoardOptions.from_settings(settings, lang=lang, zone_id=args.zone, **overrides)
    if not options.mdns and not options.server_url:
        raise ConfigError(
            settings.source, "site.server_url", "mDNS is off and no --server given: nothing to connect to"
        )
    configure_window(width, height, fullscreen=args.fullscreen, rotation=90 if args.portrait else 0)
    asyncio.run(run_board(BoardApp(options)))
    return 0
