"""The site file: its typed model, loading and validation, and the embedded example site.

    from config import load_settings
    settings = load_settings(None)          # the embedded example site
    settings = load_settings(Path("site.toml"))
"""

from config.model import (
    Counter,
    Department,
    Interval,
    OpeningHours,
    PrinterSettings,
    Settings,
    Site,
    Zone,
)

__all__ = [
    "Counter",
    "Department",
    "Interval",
    "OpeningHours",
    "PrinterSettings",
    "Settings",
    "Site",
    "Zone",
    "load_settings",
]


def load_settings(path=None):  # type: ignore[no-untyped-def]
    """Load and validate a site file (``None``: the embedded example site)."""
    from config.loader import load_settings as _load

    return _load(path)
