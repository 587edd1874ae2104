"""Fixtures for the statistics tests (helpers live in statsfixtures.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nummerlapp.server.ledger import schema


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A real, empty ledger file with the statistics tables."""
    conn = schema.connect(tmp_path / "ledger.db")
    yield conn
    conn.close()
