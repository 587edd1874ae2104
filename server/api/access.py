"""Who is asking, and may they: the API's side of the one rule table (server/api/auth.py).

Authentication is an ASGI middleware, not a route dependency: FastAPI decodes a JSON body before
it runs any dependency, so a dependency could only answer 401 *after* a malformed body had already
produced a 422. The middleware matches the protected routes itself (:data:`RULES`: method and path
→ the :class:`~server.api.auth.Permission` they need) and answers 401/403 before routing,
validation or the ledger see the request. Tokens are looked up per request on a read-only
connection (a unique-index probe, microseconds), so a token made or revoked by the ``token``
command in another process takes effect on the next request. A request without a bearer token
may still be a signed-in page user (the desk pages' session; server/web/apiauth.py decides which
requests a session may make).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from nummerlapp.server.api import auth
from nummerlapp.server.api.actions import ACTIONS
from nummerlapp.server.api.auth import Permission, Principal
from nummerlapp.server.api.errors import error_response
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.ledger import schema

API = "/api/v1"

Authenticator = Callable[[Scope], Awaitable[Principal | None]]


@dataclass(frozen=True)
class Rule:
    method: str
    path: re.Pattern[str]  # a ``counter`` group names the counter the request acts at
    permission: Permission


def _rule(method: str, pattern: str, permission: Permission) -> Rule:
    return Rule(method, re.compile(rf"^{API}{pattern}/?$"), permission)


RULES: tuple[Rule, ...] = (
    _rule("POST", "/tickets", Permission.ISSUE_TICKET),
    *(
        _rule("POST", rf"/counters/(?P<counter>[^/]+)/{re.escape(spec.action.value)}", spec.permission)
        for spec in ACTIONS.values()
    ),
    _rule("POST", "/counters/(?P<counter>[^/]+)/alarm", Permission.RAISE_ALARM),  # server/api/floor.py
    _rule("POST", "/alarms/[^/]+/clear", Permission.CLEAR_ALARM),
    _rule("POST", "/site/(open|close|hours)", Permission.OPEN_CLOSE_SITE),
    _rule("POST", "/departments/[^/]+/(open|close|hours)", Permission.OPEN_CLOSE_SITE),
    _rule("POST", "/devices/[^/]+/status", Permission.REPORT_DEVICE_STATUS),
    _rule("POST", "/devices/[^/]+/identify", Permission.MANAGE_DEVICES),
    _rule("GET", "/devices", Permission.MANAGE_DEVICES),
    # issue 13: enrolment and configuration (server/api/enrolment.py, server/api/config_api.py);
    # POST /enrolments and GET /enrolments/{id} are public (the id is the secret)
    _rule("GET", "/enrolments", Permission.MANAGE_DEVICES),
    _rule("POST", "/enrolments/[^/]+/(approve|refuse)", Permission.MANAGE_DEVICES),
    _rule("DELETE", "/devices/[^/]+", Permission.MANAGE_DEVICES),
    _rule("PATCH", "/devices/[^/]+", Permission.MANAGE_DEVICES),
    _rule("GET", "/config", Permission.READ_CONFIG),
    _rule("POST", "/config/reload", Permission.MANAGE_DEVICES),
    _rule("GET", "/stats", Permission.READ_STATS),  # server/stats/web/
    _rule("GET", "/tickets/[^/]+", Permission.READ_TICKETS),  # v1.1: ids are on the event stream
    # issue 16 (server/api/feedback.py, server/stats/feedback.py)
    _rule("POST", "/feedback", Permission.GIVE_FEEDBACK),
    _rule("GET", "/site/messages", Permission.EDIT_BOARD_MESSAGES),
    _rule("PUT", "/site/messages", Permission.EDIT_BOARD_MESSAGES),
    _rule("GET", "/stats/feedback", Permission.READ_STATS),
    # issue 15: booked visits (server/api/appointments.py)
    _rule("POST", "/appointments", Permission.BOOK_APPOINTMENTS),
    _rule("GET", "/appointments", Permission.BOOK_APPOINTMENTS),
    _rule("DELETE", "/appointments/[^/]+", Permission.BOOK_APPOINTMENTS),
    _rule("POST", "/appointments/[^/]+/check-in", Permission.CHECK_IN),
    _rule("POST", "/appointments/[^/]+/slip", Permission.PRINT_SLIP),  # extension: a slip at a kiosk
)


class AuthStore:
    """Token look-ups for the middleware (read-only connection), ``last_used_at`` written in
    batches through the writer thread, and the page sessions' authenticator."""

    def __init__(self, db_path: Path, runner: LedgerRunner, sessions: Authenticator | None = None) -> None:
        self.db_path = db_path
        self.runner = runner
        self.sessions = sessions
        self._conn: sqlite3.Connection | None = None
        self._used: dict[int, str] = {}

    def open(self) -> None:
        """After the writer opened (and migrated) the ledger."""
        self._conn = schema.connect_reader(self.db_path, check_same_thread=False)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def verify(self, secret: str) -> Principal | None:
        if self._conn is None:
            raise RuntimeError("the auth store is not open")
        principal = auth.verify_token(self._conn, secret)
        if principal is not None:
            self._used[principal.id] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return principal

    async def flush(self) -> None:
        """Write the batched ``last_used_at`` values through the writer thread."""
        used, self._used = self._used, {}
        if used:
            await self.runner.run_conn(lambda conn: auth.touch_tokens(conn, used))


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of a request or WebSocket upgrade ("" for another scheme; None: none)."""
    return _bearer(scope)


CHALLENGE = {"WWW-Authenticate": 'Bearer realm="nummerlapp"'}


class AccessMiddleware:
    """Answers 401/403 for protected routes before anything else runs (see module docstring)."""

    def __init__(self, app: ASGIApp, store: AuthStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        found = next(((r, m) for r in RULES if r.method == method and (m := r.path.match(path))), None)
        if found is None:
            await self.app(scope, receive, send)
            return
        rule, match = found
        principal = await self._principal(scope)
        if isinstance(principal, JSONResponse):
            await principal(scope, receive, send)
            return
        counter = match.groupdict().get("counter")
        why = principal.refusal(rule.permission, counter)
        if why is None:
            scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)
            return
        if why == "wrong_counter":
            refused = error_response(
                403, "wrong_counter", f"this token is bound to counter {principal.counter}, not {counter}"
            )
        else:
            refused = error_response(403, "forbidden", f"a {principal.role} token may not {method} {path}")
        await refused(scope, receive, send)

    async def _principal(self, scope: Scope) -> Principal | JSONResponse:
        secret = _bearer(scope)
        if secret is None:
            found = await self.store.sessions(scope) if self.store.sessions is not None else None
            if found is not None:
                return found
            return error_response(
                401, "unauthorized", "this needs a token: Authorization: Bearer <token>", CHALLENGE
            )
        principal = self.store.verify(secret)
        if principal is None:
            return error_response(401, "invalid_token", "the token is unknown or revoked", CHALLENGE)
        return principal


def principal(conn: HTTPConnection) -> Principal:
    """Who the middleware let through (only on routes that :data:`RULES` protects)."""
    who = conn.scope.get("state", {}).get("principal")
    if not isinstance(who, Principal):
        raise RuntimeError(f"{conn.url.path} is not protected by a rule: no principal")
    return who
