"""``python main.py feedback``: the exit terminal's questions. Imports nothing heavy until it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from nummerlapp.client.cli import DeviceCommand
from nummerlapp.common.errors import ConfigError

if TYPE_CHECKING:
    from nummerlapp.feedback.runner import FeedbackOptions

TERMINAL = DeviceCommand(
    role="feedback",
    device="terminal",
    takes="questions",
    portrait=(800, 1280),
    landscape=(1280, 800),
    size_help="window size (default 1280x800, or 800x1280 with --portrait)",
    portrait_help="portrait tablet (800x1280 unless --size)",
    mdns_help=("browse only on this address", "do not look for the service over mDNS"),
    name_example="Exit",
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "feedback",
        help="run the exit terminal (visitor feedback questions)",
        description="The exit terminal: the site file's feedback questions, one per screen, answers "
        "sent to the service (kept on disk while it cannot be reached). docs/FEEDBACK.md.",
    )
    TERMINAL.add_service_options(p)
    TERMINAL.add_window_options(p)
    p.add_argument(
        "--outbox",
        type=Path,
        default=Path("var/feedback-outbox"),
        metavar="DIR",
        help="folder where answers wait until the service has them (default: var/feedback-outbox)",
    )
    TERMINAL.add_identity_options(p)
    p.set_defaults(func=run)


def options(args: argparse.Namespace) -> FeedbackOptions:
    from nummerlapp.feedback.runner import FeedbackOptions  # noqa: PLC0415  # start-up: httpx, zeroconf

    return FeedbackOptions(**TERMINAL.device_args(args), outbox=args.outbox)


def run_enrolled(args: argparse.Namespace) -> int:
    """No site file and no token: enrol with the service, take the questions from it (feedback/device.py)."""
    from nummerlapp.feedback.device import main_enrolled  # noqa: PLC0415  # start-up: Kivy loads only when the terminal runs

    opts = options(args)
    return main_enrolled(opts, TERMINAL.state_dir(args), fullscreen=args.fullscreen)


def run(args: argparse.Namespace) -> int:
    if TERMINAL.enrolled(args):
        return run_enrolled(args)
    # Kivy and httpx load when the terminal runs, not with every command's parser.
    from nummerlapp.feedback.runner import main  # noqa: PLC0415  # start-up

    settings = TERMINAL.settings(args)
    if not settings.feedback.questions:
        raise ConfigError(
            settings.source, "feedback.questions", "no questions: the terminal would have nothing to ask"
        )
    return main(settings, options(args), fullscreen=args.fullscreen)
