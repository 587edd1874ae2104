"""``main.py config``: check a site file, show the settings in force, hash a technician PIN.

``check`` is what a technician runs after editing the site file, before restarting the service:
it prints one line either way and exits 2 on a bad file (main.py turns the ConfigError into that
line), so it also fits a deploy script. Nothing heavy is imported at module level.

``config`` sits at the bottom of the layers and imports no part above it: the parts that read
options of their own from the site file (the printer) hand their checks to :func:`register`, and
main.py composes the two.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import hash_pin, load_settings
from nummerlapp.config.model import Settings

PIN = re.compile(r"\d{4,12}")

SiteCheck = Callable[[Settings], None]
"""A part's own check of its options in a loaded site file: raises ConfigError, touches no device."""


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    site_checks: Sequence[SiteCheck] = (),
    more: Sequence[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = (),
) -> None:
    """Add ``config`` and its subcommands to main.py's parser; ``config check`` runs ``site_checks``;
    ``more`` adds subcommands of parts above config (the server's ``config reload``)."""
    parser = subparsers.add_parser(
        "config",
        help="check a site file, show the settings in force, hash a kiosk PIN",
        description="The site file (TOML): see docs/SITE_FILE.md for every key.",
    )
    sub = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)

    check = sub.add_parser(
        "check",
        help="validate a site file",
        description="Validate a site file: prints 'FILE: OK — …' or the one problem found (exit 2).",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="the site file to check")
    check.set_defaults(func=cmd_check, site_checks=tuple(site_checks))

    show = sub.add_parser(
        "show",
        help="print the settings in force as JSON",
        description="Print the settings in force as JSON (the PIN hash is shown only as '(set)').",
    )
    show.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="site file (TOML); default: the embedded example site",
    )
    show.set_defaults(func=cmd_show)

    pin = sub.add_parser(
        "hash-pin",
        help="print the argon2 hash of a kiosk technician PIN",
        description=(
            "Read a technician PIN (4-12 digits) and print its argon2 hash for "
            "[kiosk] technician_pin_hash in the site file. The PIN itself is never stored."
        ),
    )
    pin.add_argument("--stdin", action="store_true", help="read the PIN from the first line of stdin")
    pin.set_defaults(func=cmd_hash_pin)
    for add in more:
        add(sub)


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.file)
    run_site_checks(settings, str(args.file), args.site_checks)
    print(
        f"{args.file}: OK — site {settings.site.id}, {len(settings.departments)} departments, "
        f"{len(settings.counters)} counters"
    )
    return 0


def run_site_checks(settings: Settings, file: str, checks: Sequence[SiteCheck]) -> None:
    """Ask each part that reads options of its own (the printer) whether they make sense.

    The loader keeps to the file's shape and leaves such options to the code that uses them;
    ``config check`` asks that code too, so a technician learns of a wrong option before the
    kiosk starts. An error names ``file`` (the part knows only the key).
    """
    for check in checks:
        try:
            check(settings)
        except ConfigError as exc:
            raise ConfigError(file, exc.key, exc.problem) from None


def cmd_show(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(json.dumps(settings.to_dict(), ensure_ascii=False, indent=2))
    return 0


def read_pin(from_stdin: bool) -> str:
    """The PIN from stdin's first line, or typed twice at a terminal without echo."""
    if from_stdin:
        return sys.stdin.readline().strip()
    pin = getpass.getpass("Technician PIN: ")
    if getpass.getpass("Same PIN again: ") != pin:
        raise ConfigError("hash-pin", "", "the two PINs differ; nothing was hashed")
    return pin


def cmd_hash_pin(args: argparse.Namespace) -> int:
    pin = read_pin(args.stdin)
    if not PIN.fullmatch(pin):
        raise ConfigError("hash-pin", "", "a technician PIN is 4 to 12 digits; nothing was hashed")
    print(hash_pin(pin))
    return 0
