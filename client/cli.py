"""The command line the kiosk and the exit terminal share (``main.py kiosk``, ``main.py feedback``).

Both are a device that enrols with the service or runs from a site file (or a token) of its own,
in a window of a given size: the same options, read the same way, only their words differ
(:class:`DeviceCommand`). Imports nothing heavy (common/cli.py's rule): the parser is built for
every command, and Kivy, httpx and zeroconf load only when the device runs.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import settings_from_args
from nummerlapp.config.model import Settings


def read_token(args: argparse.Namespace) -> str | None:
    """``--token``, else the ``--token-file``'s, else ``$NUMMERLAPP_TOKEN`` (None: none given)."""
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


class DeviceArgs(TypedDict):
    """The command line's values every device's options have (KioskOptions, FeedbackOptions)."""

    server: str | None
    token: str | None
    size: tuple[int, int]
    lang: str | None
    mdns_interfaces: list[str] | None
    mdns: bool
    device_id: str
    name: str


@dataclass(frozen=True)
class DeviceCommand:
    """One device's command line: its role and the words its help uses."""

    role: str  # the token's role, the state folder's name and the default id's prefix
    device: str  # how the help names the device ("kiosk", "terminal")
    takes: str  # what it takes from the service when enrolled ("settings", "questions")
    portrait: tuple[int, int]
    landscape: tuple[int, int]
    size_help: str
    portrait_help: str
    mdns_help: tuple[str, str]  # --mdns-interface's, --no-mdns'
    name_example: str

    def add_service_options(self, p: argparse.ArgumentParser) -> None:
        """Where the service is, the token or a site file of its own, the enrolled token's folder."""
        p.add_argument(
            "--server", metavar="URL", help="service address, e.g. http://10.0.0.5:8420 (default: mDNS)"
        )
        tokens = p.add_mutually_exclusive_group()
        tokens.add_argument(
            "--token", metavar="TOKEN", help=f"{self.role} token (prefer --token-file or NUMMERLAPP_TOKEN)"
        )
        tokens.add_argument(
            "--token-file", type=Path, metavar="PATH", help=f"file holding the {self.role} token"
        )
        p.add_argument(
            "--config",
            type=Path,
            metavar="PATH",
            help="site file, for a site without a network service (default: enrol with the service "
            f"and take the {self.takes} from it)",
        )
        p.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            metavar="PATH",
            help=f"where the {self.device} keeps the token it was given when enrolled "
            f"(default: $NUMMERLAPP_STATE_DIR, else ~/.local/state/nummerlapp/{self.role})",
        )

    def add_window_options(self, p: argparse.ArgumentParser) -> None:
        """The window's size and the visitors' first language."""
        p.add_argument("--size", metavar="WxH", help=self.size_help)
        p.add_argument("--portrait", action="store_true", help=self.portrait_help)
        p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
        p.add_argument(
            "--lang", metavar="CODE", help="the language visitors see first (default: the site's first)"
        )

    def add_identity_options(self, p: argparse.ArgumentParser) -> None:
        """mDNS, and the id and name the service knows the device by."""
        p.add_argument("--mdns-interface", metavar="IP", action="append", help=self.mdns_help[0])
        p.add_argument("--no-mdns", action="store_true", help=self.mdns_help[1])
        p.add_argument(
            "--id",
            dest="device_id",
            default="",
            metavar="ID",
            help=f"this {self.device}'s id (default: {self.role}-HOST)",
        )
        p.add_argument("--name", default="", help=f"a name staff recognise, e.g. '{self.name_example}'")

    def parse_size(self, text: str | None, portrait: bool) -> tuple[int, int]:
        if not text:
            return self.portrait if portrait else self.landscape
        try:
            w, h = (int(v) for v in text.lower().split("x"))
        except ValueError:
            example = "x".join(str(v) for v in self.portrait)
            raise ConfigError("--size", "", f"{text!r} is not WIDTHxHEIGHT, e.g. {example}") from None
        if w < 320 or h < 320:
            raise ConfigError("--size", "", f"{text!r} is too small for a {self.device} (at least 320x320)")
        return (w, h)

    def device_args(self, args: argparse.Namespace) -> DeviceArgs:
        return DeviceArgs(
            server=args.server,
            token=read_token(args),
            size=self.parse_size(args.size, args.portrait),
            lang=args.lang,
            mdns_interfaces=args.mdns_interface,
            mdns=not args.no_mdns,
            device_id=args.device_id,
            name=args.name,
        )

    def enrolled(self, args: argparse.Namespace) -> bool:
        """No site file and no token: the device enrols and takes its settings from the service."""
        return args.config is None and read_token(args) is None

    def state_dir(self, args: argparse.Namespace) -> Path:
        """The enrolled device's folder; a ConfigError when there is no way to find the service."""
        from nummerlapp.client.enrol import default_state_dir  # noqa: PLC0415  # start-up: httpx, zeroconf

        if args.no_mdns and not args.server:
            raise ConfigError(
                "<command line>", "--server", "mDNS is off and no --server given: nothing to connect to"
            )
        path: Path = args.state_dir or default_state_dir(self.role)
        return path

    def settings(self, args: argparse.Namespace) -> Settings:
        """The site file's settings (``--config``), with ``--lang`` one of the site's languages."""
        settings = settings_from_args(args)
        if args.lang and args.lang not in settings.site.languages:
            raise ConfigError(
                "--lang", "", f"{args.lang!r} is not one of the site's languages {settings.site.languages}"
            )
        return settings
