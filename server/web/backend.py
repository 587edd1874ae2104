"""The one seam between the web pages and the rest of the site service.

The pages act through exactly the ledger operations the HTTP API uses (run on the server's
single writer thread, so events reach the boards the same way), and read staff users and
tokens through ``server.api.auth`` on connections of their own. Keeping every such call in this
module means the pages' code never learns how the server wires its parts together.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request

from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth
from nummerlapp.server.ledger import schema

T = TypeVar("T")


class Backend:
    """Ledger and account access for one app (made by :func:`server.web.install`)."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self._local = threading.local()

    # -- wiring ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        settings: Settings = self._state.settings
        return settings

    @property
    def runner(self) -> Any:
        """The server's :class:`server.api.runner.LedgerRunner` (the single writer thread)."""
        return self._state.runner

    def db_path(self) -> Path:
        return Path(self.runner.db_path)

    # -- ledger operations (writer thread) -------------------------------------------------

    async def run(self, method: str, *args: Any) -> Any:
        """Call ``ledger.<method>(*args)`` on the server's writer thread."""
        return await self.runner.call(method, *args)

    async def run_with_ledger(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(ledger)`` on the writer thread: a check and an action in it are one atomic step."""
        result: T = await self.runner.run(fn)
        return result

    async def write_accounts(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(conn, *args)`` from ``server.api.auth`` on the writer thread's account connection."""
        result: T = await self.runner.run_conn(lambda conn: fn(conn, *args, **kwargs))
        return result

    async def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = await self.run("snapshot")
        return snap

    async def devices(self) -> list[dict[str, Any]]:
        devices: list[dict[str, Any]] = await self.run("devices")
        return devices

    # -- accounts (own connection per worker thread; argon2 is slow, keep it off the loop) ----

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect(self.db_path())
            self._local.conn = conn
        return conn

    async def accounts(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Read: ``fn(conn, *args)`` from ``server.api.auth`` in a worker thread (never the writer:
        an argon2 verification there would hold up every call for its length)."""
        return await asyncio.to_thread(lambda: fn(self._conn(), *args, **kwargs))

    async def verify_user(self, username: str, password: str) -> auth.Principal | None:
        return await self.accounts(auth.verify_user, username, password)

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


def backend(request: Request) -> Backend:
    web_backend: Backend = request.app.state.web_backend
    return web_backend
