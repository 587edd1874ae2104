"""The site service's HTTP + WebSocket API (PROTOCOL.md, plus the extensions in docs/API.md).

``create_app(settings, db_path, ...)`` builds a FastAPI app whose lifespan opens the ledger in its
writer thread (server/api/runner.py), fans events out through the hub (server/api/hub.py) and, if given,
advertises over mDNS (server/api/mdns.py). What other parts (server/web/) may use is on ``app.state``.

Authentication is an ASGI middleware, not a route dependency: FastAPI decodes a JSON body before
it runs any dependency, so a dependency could only answer 401 *after* a malformed body had already
produced a 422. The middleware matches the protected routes itself and answers 401/403 before
routing, validation or the ledger see the request. Tokens are looked up per request on a
read-only connection (a unique-index probe, microseconds), so a token made or revoked by the
``token`` command in another process takes effect on the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from nummerlapp.common.errors import LedgerError
from nummerlapp.server.api import auth as auth_mod
from nummerlapp.server.api import models as m
from nummerlapp.server.api.hub import DEFAULT_MAX_QUEUE, Hub
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.api.sockets import serve_events

if TYPE_CHECKING:
    from nummerlapp.config.model import Settings
    from nummerlapp.server.api.mdns import ServerMdns

log = logging.getLogger(__name__)
API = "/api/v1"
TICK_S = 30.0  # Ledger.tick(): day roll-over and opening-hour changes become events
TOUCH_FLUSH_S = 60.0  # tokens.last_used_at is written at most this often


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nummerlapp")
    except Exception:
        return "0.1.0"


# -- errors -------------------------------------------------------------------------------------

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    426: "upgrade_required",
    429: "too_many_requests",
}


def error_body(code: str, message: str, extra: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The protocol's error body; scalar ``extra`` details (e.g. ``next_open``) ride along."""
    err: dict[str, Any] = {"code": code, "message": message}
    for key, value in (extra or {}).items():
        if isinstance(value, str | int | float | bool) or value is None:
            err[key] = value
    return {"error": err}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, extra), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx, including FastAPI's own 404/405/422, answers ``{"error": {code, message}}``."""

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (bytes that are not UTF-8)
            return error_response(422, "invalid_request", f"the request body could not be read: {exc.detail}")
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(exc))

    async def ledger_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)
        status = exc.status if 400 <= exc.status < 500 else 409
        code = "invalid_request" if status == 422 else exc.code
        return error_response(status, code, exc.message, extra=exc.details)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LedgerError, ledger_error)


# -- authentication -----------------------------------------------------------------------------

# (method, path pattern, roles allowed). A ``counter`` group is checked against a bound staff token.
RULES: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = (
    ("POST", re.compile(rf"^{API}/tickets/?$"), frozenset({"kiosk", "staff", "admin"})),
    (
        "POST",
        re.compile(
            rf"^{API}/counters/(?P<counter>[^/]+)/(next|recall|serve|no-show|done|transfer|pause|open)/?$"
        ),
        frozenset({"staff", "admin"}),
    ),
    ("POST", re.compile(rf"^{API}/site/(open|close|hours)/?$"), frozenset({"admin"})),
    ("POST", re.compile(rf"^{API}/devices/[^/]+/status/?$"), frozenset({"kiosk", "display", "admin"})),
    ("POST", re.compile(rf"^{API}/devices/[^/]+/identify/?$"), frozenset({"admin"})),
    ("GET", re.compile(rf"^{API}/devices/?$"), frozenset({"admin"})),
    ("GET", re.compile(rf"^{API}/stats/?$"), frozenset({"admin"})),  # server/stats/web/
)

Authenticator = Callable[[Scope], Awaitable["auth_mod.Principal | None"]]


class AuthService:
    """Token lookups for the middleware, plus hooks other parts may add (web sessions).

    ``extra`` authenticators (``async fn(scope) -> Principal | None``) are tried when the request
    has no bearer token; server/web/ uses this for signed-in staff.
    """

    def __init__(self, db_path: Path, runner: LedgerRunner) -> None:
        self.db_path = db_path
        self.runner = runner
        self.extra: list[Authenticator] = []
        self._conn: Any = None
        self._used: dict[int, str] = {}

    def open(self) -> None:
        from nummerlapp.server.ledger.schema import connect

        self._conn = connect(self.db_path, readonly=True, check_same_thread=False)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def verify(self, secret: str) -> auth_mod.Principal | None:
        principal = auth_mod.verify_token(self._conn, secret)
        if principal is not None:
            import datetime as dt

            self._used[principal.id] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return principal

    async def flush(self) -> None:
        """Write the batched ``last_used_at`` values through the writer thread."""
        used, self._used = self._used, {}
        if used:
            await self.runner.run_conn(lambda conn: auth_mod.touch_tokens(conn, used))


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


class AuthMiddleware:
    """Answers 401/403 for protected routes before anything else runs (see module docstring)."""

    def __init__(self, app: ASGIApp, service: AuthService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        rule = next((r for r in RULES if r[0] == method and r[1].match(path)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        match = rule[1].match(path)
        assert match is not None
        principal = await self._principal(scope)
        if isinstance(principal, JSONResponse):
            await principal(scope, receive, send)
            return
        counter = match.groupdict().get("counter")
        if principal.role not in rule[2]:
            refusal = error_response(403, "forbidden", f"a {principal.role} token may not {method} {path}")
        elif counter is not None and not principal.may_act_on_counter(counter):
            refusal = error_response(
                403, "wrong_counter", f"this token is bound to counter {principal.counter}, not {counter}"
            )
        else:
            scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)

    async def _principal(self, scope: Scope) -> auth_mod.Principal | JSONResponse:
        secret = _bearer(scope)
        challenge = {"WWW-Authenticate": 'Bearer realm="nummerlapp"'}
        if secret is None:
            for fn in self.service.extra:
                found = await fn(scope)
                if found is not None:
                    return found
            return error_response(
                401, "unauthorized", "this needs a token: Authorization: Bearer <token>", challenge
            )
        principal = self.service.verify(secret)
        if principal is None:
            return error_response(401, "invalid_token", "the token is unknown or revoked", challenge)
        return principal


# -- the app ------------------------------------------------------------------------------------

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": m.ErrorOut, "description": code}
    for status, code in _STATUS_CODES.items()
    if status in (401, 403, 404, 409, 422, 429)
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: _ERRORS[s] for s in statuses}


class KioskLimiter:
    """One ticket per kiosk token per ``interval`` seconds (a child pressing fifty times wastes no paper)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[int, float] = {}

    def check(self, token_id: int) -> float:
        """0 when allowed now (and recorded), else the seconds to wait."""
        now = time.monotonic()
        last = self._last.get(token_id)
        if last is not None and now - last < self.interval:
            return self.interval - (now - last)
        self._last[token_id] = now
        return 0.0


def create_app(
    settings: Settings,
    db_path: Path,
    *,
    clock: Callable[[], Any] | None = None,
    client_queue: int = DEFAULT_MAX_QUEUE,
    mdns: ServerMdns | None = None,
) -> FastAPI:
    """Build the site service app. Stable signature; everything else is keyword-only.

    - ``settings``: the site (config.load_settings); ``db_path``: the ledger's SQLite file.
    - ``clock``: ``() -> aware datetime`` for the ledger (tests move time); None: the real clock.
    - ``client_queue``: events buffered per WebSocket client before it is dropped (code 1013).
    - ``mdns``: a :class:`server.api.mdns.ServerMdns` started/stopped with the app; None: no mDNS.

    ``app.state`` then holds: ``settings``, ``db_path``, ``runner`` (``await runner.call("next",
    "2")`` or ``runner.call(bound_method, *args)``; every ledger call goes through it), ``hub``,
    ``auth`` (:class:`AuthService`; append to ``auth.extra`` for web sessions), ``mdns``,
    ``snapshot()`` and ``ticket(id)`` (async, read-only), ``limiter`` (kiosk rate limit).
    """
    db_path = Path(db_path)
    hub = Hub(client_queue)
    runner = LedgerRunner(db_path, settings, clock=clock, on_events=hub.publish_threadsafe)
    service = AuthService(db_path, runner)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind_loop(asyncio.get_running_loop())
        await runner.start()
        service.open()
        tasks = [asyncio.create_task(_every(TICK_S, lambda: runner.call("tick")))]
        tasks.append(asyncio.create_task(_every(TOUCH_FLUSH_S, service.flush)))
        if mdns is not None:
            await mdns.start()
        log.info("site service for %r ready (ledger %s)", settings.site.id, db_path)
        try:
            yield
        finally:
            hub.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if mdns is not None:
                with contextlib.suppress(Exception):
                    await mdns.stop()
            with contextlib.suppress(Exception):
                await service.flush()
            service.close()
            await runner.close()
            log.info("site service stopped")

    app = FastAPI(
        title="Nummerlapp site service",
        version=_version(),
        description="Queue tickets for public service centres. Wire protocol v1: docs/PROTOCOL.md, docs/API.md.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db_path = db_path
    app.state.runner = runner
    app.state.hub = hub
    app.state.auth = service
    app.state.mdns = mdns
    app.state.limiter = KioskLimiter(settings.site.kiosk_interval_s)

    async def snapshot() -> dict[str, Any]:
        snap: dict[str, Any] = await runner.call("snapshot")
        return snap

    async def ticket(ticket_id: str) -> dict[str, Any]:
        t = await runner.call("ticket", ticket_id)
        return dict(t.to_json())

    app.state.snapshot = snapshot
    app.state.ticket = ticket
    app.state.hub_clients = {}  # device id -> {"role", "address"} of sockets that named themselves
    install_error_handlers(app)
    app.add_middleware(AuthMiddleware, service=service)

    from nummerlapp.server.api.routes import router

    app.include_router(router, prefix=API)

    @app.websocket(f"{API}/events")
    async def events(websocket: WebSocket) -> None:
        await serve_events(websocket, hub, snapshot, app.state.hub_clients)

    _declare_bearer(app)

    for module in WEB_MODULES:
        _install_web(app, module)
    return app


def _declare_bearer(app: FastAPI) -> None:
    """Add the bearer scheme the routes' ``security`` names to /openapi.json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["HTTPBearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "a token made with `python main.py token --role ROLE`",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Parts that add pages or endpoints to the app, each with ``install(app)``: the desk, technician
# and phone pages (issue 7) and the statistics report (issue 8).
WEB_MODULES = ("nummerlapp.server.web", "nummerlapp.server.stats.web")


def _install_web(app: FastAPI, name: str) -> None:
    """Mount an optional part when it is present (a missing part is not an error)."""
    import importlib

    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return
    install = getattr(module, "install", None)
    if install is None:
        log.warning("%s has no install(app) yet: not mounted", name)
        return
    install(app)


async def _every(period: float, fn: Callable[[], Awaitable[Any]]) -> None:
    while True:
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job failed")
        await asyncio.sleep(period)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
