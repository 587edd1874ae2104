"""Helpers shared by every subcommand's ``cli.py``.

A subcommand module exposes ``register(subparsers)``; it must import nothing heavy at module
level (no Kivy, no FastAPI), so ``main.py config check`` stays fast and works without a screen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_DB = Path("var") / "nummerlapp.db"
DEFAULT_PORT = 8420


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--db``: the same on every command that reads or writes the ledger.

    ``config.settings_from_args`` reads ``--config`` (common imports nothing above it).
    """
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="site file (TOML); default: the embedded example site",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"ticket ledger (SQLite); default: {DEFAULT_DB} under the working directory",
    )


def db_path_from_args(args: argparse.Namespace) -> Path:
    path: Path = args.db if args.db is not None else DEFAULT_DB
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
