"""The web pages' seam to the ledger and the accounts.

The pages act through exactly the ledger operations the HTTP API uses, run on the server's
single writer thread (``run(fn)``, so events reach the boards the same way), and read staff
users and tokens through ``server.api.auth`` on read-only connections of their own, in worker
threads (argon2 is slow: never on the loop, never on the writer).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nummerlapp.server.api import auth
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.ledger import Ledger, schema

T = TypeVar("T")


class Backend:
    """Ledger and account access for one app (made by :meth:`server.web.parts.WebParts.make`)."""

    def __init__(self, runner: LedgerRunner, db_path: Path) -> None:
        self.runner = runner
        self.db_path = db_path
        self._local = threading.local()

    # -- ledger operations (writer thread) -------------------------------------------------

    async def run(self, fn: Callable[[Ledger], T]) -> T:
        """``fn(ledger)`` on the writer thread: a check and an action in it are one atomic step."""
        return await self.runner.run(fn)

    async def snapshot(self) -> dict[str, Any]:
        return await self.runner.run(lambda ledger: ledger.snapshot())

    async def devices(self) -> list[dict[str, Any]]:
        return await self.runner.run(lambda ledger: [d.encode() for d in ledger.devices()])

    async def write_accounts(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(conn)`` (``server.api.auth``'s writers) on the writer thread's account connection."""
        return await self.runner.run_conn(fn)

    # -- accounts (a read-only connection per worker thread) ----------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect_reader(self.db_path)
            self._local.conn = conn
        return conn

    async def accounts(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Read: ``fn(conn)`` in a worker thread on a read-only connection (never the writer: an
        argon2 verification there would hold up every call for its length)."""
        return await asyncio.to_thread(lambda: fn(self._conn()))

    async def verify_user(self, username: str, password: str) -> auth.Principal | None:
        return await self.accounts(lambda conn: auth.verify_user(conn, username, password))

    async def session_user(self, session_id: str, user_id: int) -> auth.UserInfo | None:
        """The user of a live server-side session (None: signed out, ended, or user disabled)."""
        return await self.accounts(lambda conn: auth.session_user(conn, session_id, user_id))

    async def user(self, user_id: int) -> auth.UserInfo | None:
        """The user as stored now (None when unknown or disabled): checked on every request."""

        def find(conn: sqlite3.Connection) -> auth.UserInfo | None:
            row = conn.execute(
                "SELECT id, username, role, counter, created_at, disabled_at FROM users WHERE id = ?",
                (user_id,),
            ).fetchone()
            if row is None or row[5] is not None:
                return None
            return auth.UserInfo(int(row[0]), row[1], row[2], row[3], row[4], row[5])

        return await self.accounts(find)
