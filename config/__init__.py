"""The site file: its typed model, loading and validation, and the embedded example site.

    from nummerlapp.config import load_settings
    settings = load_settings(None)          # the embedded example site
    settings = load_settings(Path("site.toml"))

The technician PIN of a kiosk is kept in the site file only as an argon2 hash; ``hash_pin`` makes
one and ``verify_pin`` checks a typed PIN against it (argon2 is imported only when used, so
loading settings stays fast).
"""

from __future__ import annotations

import argparse

from nummerlapp.config.loader import load_settings
from nummerlapp.config.model import (
    BoardSettings,
    Counter,
    Department,
    Interval,
    KioskSettings,
    OpeningHours,
    PrinterSettings,
    Settings,
    Site,
    Zone,
)

__all__ = [
    "BoardSettings",
    "Counter",
    "Department",
    "Interval",
    "KioskSettings",
    "OpeningHours",
    "PrinterSettings",
    "Settings",
    "Site",
    "Zone",
    "hash_pin",
    "load_settings",
    "settings_from_args",
    "verify_pin",
]


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings a command runs with: the site file of ``--config`` (``common.cli.add_site_options``).

    Raises ``common.errors.ConfigError`` naming the file, the key and the problem.
    """
    return load_settings(args.config)


def hash_pin(pin: str) -> str:
    """The argon2 hash of a technician PIN, for ``[kiosk] technician_pin_hash``."""
    from argon2 import PasswordHasher  # noqa: PLC0415  # start-up: argon2 only when a PIN is hashed

    return PasswordHasher().hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """True when ``pin`` matches ``pin_hash``; False for a wrong PIN or an empty/invalid hash."""
    if not pin_hash:
        return False
    from argon2 import PasswordHasher  # noqa: PLC0415  # start-up: argon2 only when a PIN is checked
    from argon2.exceptions import Argon2Error, InvalidHashError  # noqa: PLC0415  # (as above)

    try:
        return PasswordHasher().verify(pin_hash, pin)
    except (Argon2Error, InvalidHashError):
        return False
