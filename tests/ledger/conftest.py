"""Fixtures for ledger tests: every ledger is a real SQLite file under tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import Ledger
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, example


@pytest.fixture
def clock() -> Clock:
    return Clock(at(MONDAY, 9, 0))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def make_ledger(db_path: Path, clock: Clock) -> Iterator[Callable[..., Ledger]]:
    """Open (or reopen) the ledger file; every ledger made is closed at the end."""
    made: list[Ledger] = []

    def make(settings: Settings | None = None, path: Path | None = None) -> Ledger:
        ledger = Ledger(path or db_path, settings or example(), clock=clock)
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()  # sqlite3 allows closing twice


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    return make_ledger()
