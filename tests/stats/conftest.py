"""Fixtures for the statistics tests (helpers live in statsfixtures.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nummerlapp.server.ledger import schema
from nummerlapp.server.stats import ensure_schema


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A real, empty ledger file with the statistics tables."""
    conn = schema.connect(tmp_path / "ledger.db")
    ensure_schema(conn)
    yield conn
    conn.close()
