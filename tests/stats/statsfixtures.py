"""Hand-made ledgers for the statistics tests.

Rows are written straight into a real SQLite ledger file (made by ``server.ledger.schema.connect``, so
the columns are the ledger's own) with times given as site-local wall clock, which keeps each
test's known answer readable: "issued 09:00, called 09:05" is a 300 s wait.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
_ids = itertools.count(1)


class Clock:
    """The ledger's clock in tests: set by hand, read by the ledger."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, hhmm: str) -> None:
        h, m = map(int, hhmm.split(":"))
        self.now = self.now.replace(hour=h, minute=m)


def at(text: str, fold: int = 0) -> str:
    """'2026-03-02 09:05[:30]' Oslo wall time → the ledger's UTC text (fold=1: the second 02:xx)."""
    local = dt.datetime.fromisoformat(text).replace(tzinfo=OSLO, fold=fold)
    return local.astimezone(dt.UTC).isoformat(timespec="microseconds")


def add(
    conn: sqlite3.Connection,
    dep: str,
    issued: str,
    called: str | None = None,
    done: str | None = None,
    status: str | None = None,
    counter: str | None = None,
    lang: str = "nb",
    origin: str | None = None,
    first_called: str | None = None,
    transfers: int = 0,
    day: str | None = None,
) -> None:
    """One ticket; ``issued``/``called``/``done`` are UTC texts from :func:`at`."""
    if status is None:
        status = "done" if done else "called" if called else "waiting"
    n = next(_ids)
    issued_local = dt.datetime.fromisoformat(issued).astimezone(OSLO)
    conn.execute(
        """INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, source,
               service_day, issued_at, order_at, order_seq, counter, called_at, first_called_at,
               done_at, transfers)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            f"t_{n}",
            f"X{n:03d}",
            n % 999 + 1,
            n,
            dep,
            origin or dep,
            status,
            lang,
            day or issued_local.date().isoformat(),
            issued,
            issued,
            n,
            counter if called else None,
            called,
            first_called or called,
            done,
            transfers,
        ),
    )
