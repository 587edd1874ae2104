"""The printer's capability profile (python-escpos' ``capabilities.json``), read by layout and logo.

Its own module so that ``layout`` (which prints the logo) and ``logo`` (which asks whether the
printer has ``GS ( L`` graphics) both read it without importing each other.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import escpos
from escpos.capabilities import get_profile

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings


def printer_profile(settings: PrinterSettings) -> Any:  # python-escpos' profiles are untyped classes
    """python-escpos' capability profile, or a ConfigError naming the key and close names."""
    try:
        return get_profile(settings.profile)
    except KeyError:
        known = json.loads((Path(escpos.__file__).parent / "capabilities.json").read_text())["profiles"]
        close = difflib.get_close_matches(settings.profile, list(known), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            "site file",
            f"printers.{settings.id}.profile",
            f"{settings.profile!r} is not a python-escpos printer profile{hint}",
        ) from None


def supports(settings: PrinterSettings, feature: str) -> bool:
    """Does the profile have ``feature`` (``qrCode``, ``graphics``, ``paperPartCut``, …)?"""
    return bool(printer_profile(settings).supports(feature))
