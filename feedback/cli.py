"""``python main.py feedback``: the exit terminal's questions. Imports nothing heavy until it runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import settings_from_args

if TYPE_CHECKING:
    from nummerlapp.feedback.runner import FeedbackOptions

PORTRAIT = (800, 1280)
LANDSCAPE = (1280, 800)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "feedback",
        help="run the exit terminal (visitor feedback questions)",
        description="The exit terminal: the site file's feedback questions, one per screen, answers "
        "sent to the service (kept on disk while it cannot be reached). docs/FEEDBACK.md.",
    )
    p.add_argument(
        "--server", metavar="URL", help="service address, e.g. http://10.0.0.5:8420 (default: mDNS)"
    )
    tokens = p.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token", metavar="TOKEN", help="feedback token (prefer --token-file or NUMMERLAPP_TOKEN)"
    )
    tokens.add_argument("--token-file", type=Path, metavar="PATH", help="file holding the feedback token")
    p.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="site file, for a site without a network service (default: enrol with the service "
        "and take the questions from it)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the terminal keeps the token it was given when enrolled "
        "(default: $NUMMERLAPP_STATE_DIR, else ~/.local/state/nummerlapp/feedback)",
    )
    p.add_argument(
        "--size", metavar="WxH", help="window size (default 1280x800, or 800x1280 with --portrait)"
    )
    p.add_argument("--portrait", action="store_true", help="portrait tablet (800x1280 unless --size)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
    p.add_argument(
        "--lang", metavar="CODE", help="the language visitors see first (default: the site's first)"
    )
    p.add_argument(
        "--outbox",
        type=Path,
        default=Path("var/feedback-outbox"),
        metavar="DIR",
        help="folder where answers wait until the service has them (default: var/feedback-outbox)",
    )
    p.add_argument("--mdns-interface", metavar="IP", action="append", help="browse only on this address")
    p.add_argument("--no-mdns", action="store_true", help="do not look for the service over mDNS")
    p.add_argument(
        "--id", dest="device_id", default="", metavar="ID", help="this terminal's id (default: feedback-HOST)"
    )
    p.add_argument("--name", default="", help="a name staff recognise, e.g. 'Exit'")
    p.set_defaults(func=run)


def parse_size(text: str | None, portrait: bool) -> tuple[int, int]:
    if not text:
        return PORTRAIT if portrait else LANDSCAPE
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError("--size", "", f"{text!r} is not WIDTHxHEIGHT, e.g. 800x1280") from None
    if w < 320 or h < 320:
        raise ConfigError("--size", "", f"{text!r} is too small for a terminal (at least 320x320)")
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


def options(args: argparse.Namespace) -> FeedbackOptions:
    from nummerlapp.feedback.runner import FeedbackOptions  # noqa: PLC0415  # start-up: httpx, zeroconf

    return FeedbackOptions(
        server=args.server,
        token=read_token(args),
        size=parse_size(args.size, args.portrait),
        lang=args.lang,
        outbox=args.outbox,
        mdns_interfaces=args.mdns_interface,
        mdns=not args.no_mdns,
        device_id=args.device_id,
        name=args.name,
    )


def run_enrolled(args: argparse.Namespace) -> int:
    """No site file and no token: enrol with the service, take the questions from it (feedback/device.py)."""
    from nummerlapp.client.enrol import default_state_dir  # noqa: PLC0415  # start-up
    from nummerlapp.feedback.device import main_enrolled  # noqa: PLC0415  # start-up: Kivy loads only when the terminal runs

    opts = options(args)
    if not opts.mdns and not opts.server:
        raise ConfigError(
            "<command line>", "--server", "mDNS is off and no --server given: nothing to connect to"
        )
    return main_enrolled(opts, args.state_dir or default_state_dir("feedback"), fullscreen=args.fullscreen)


def run(args: argparse.Namespace) -> int:
    if args.config is None and read_token(args) is None:
        return run_enrolled(args)
    # Kivy and httpx load when the terminal runs, not with every command's parser.
    from nummerlapp.feedback.runner import main  # noqa: PLC0415  # start-up

    settings = settings_from_args(args)
    if args.lang and args.lang not in settings.site.languages:
        raise ConfigError(
            "--lang", "", f"{args.lang!r} is not one of the site's languages {settings.site.languages}"
        )
    if not settings.feedback.questions:
        raise ConfigError(
            settings.source, "feedback.questions", "no questions: the terminal would have nothing to ask"
        )
    return main(settings, options(args), fullscreen=args.fullscreen)
