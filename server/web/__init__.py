"""Desk, technician and phone pages, served by the site service itself.

``install(app)`` adds them to the FastAPI app made by ``server.api.app.create_app``: plain
Starlette routes kept out of ``/openapi.json`` (they are pages, not the wire API), the static
scripts and styles (plain JS modules, no build step), and the session machinery (a per-site
signing secret beside the ledger). Pages:

    /desk/signin, /desk/counter, /desk     sign in, choose a counter, work at it
    /tech                                  devices, tokens, accounts, site file, reset (admin)
    /t/{ticket_id}                         one visitor's ticket, live, on their phone
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from nummerlapp.server.web import desk, phone, tech
from nummerlapp.server.web.apiauth import session_authenticator
from nummerlapp.server.web.backend import Backend
from nummerlapp.server.web.guard import FailureLimiter, ReplayCache
from nummerlapp.server.web.render import STATIC
from nummerlapp.server.web.session import DEFAULT_MAX_AGE_S, SessionCodec, load_or_make_secret

SESSION_ENV = "NUMMERLAPP_WEB_SESSION_S"  # session lifetime override (seconds), e.g. for a kiosk-like desk


async def _root(request: Request) -> Response:
    return RedirectResponse("/desk", status_code=307)


def install(app: Any) -> None:
    """Add the pages to ``app``; call after ``app.state.settings`` and ``app.state.runner`` exist
    (the secret is read lazily, on the first request, from beside the ledger file)."""
    state = app.state
    state.web_backend = Backend(state)
    state.web_replay = ReplayCache()
    state.web_signin_limiter = FailureLimiter()
    max_age = int(os.environ.get(SESSION_ENV, "0") or 0) or DEFAULT_MAX_AGE_S
    state.web_sessions = _LazyCodec(state, max_age)

    routes: list[tuple[str, Any, list[str]]] = [
        ("/", _root, ["GET"]),
        ("/desk/signin", desk.signin_page, ["GET"]),
        ("/desk/signin", desk.signin_submit, ["POST"]),
        ("/desk/signout", desk.signout, ["POST"]),
        ("/desk/counter", desk.counter_page, ["GET"]),
        ("/desk/counter", desk.counter_submit, ["POST"]),
        ("/desk", desk.desk_page, ["GET"]),
        ("/desk/api/counters/{counter}/{action}", desk.counter_action, ["POST"]),
        ("/desk/api/tickets", desk.issue_ticket, ["POST"]),
        ("/tech", tech.tech_page, ["GET"]),
        ("/tech/api/tokens", tech.create_token, ["POST"]),
        ("/tech/api/tokens/{token_id}/revoke", tech.revoke_token, ["POST"]),
        ("/tech/api/users", tech.create_user, ["POST"]),
        ("/tech/api/users/{username}/disable", tech.disable_user, ["POST"]),
        ("/tech/api/devices/{device_id}/identify", tech.identify, ["POST"]),
        ("/tech/api/reset", tech.reset_day, ["POST"]),
        ("/t/{ticket_id}", phone.ticket_page, ["GET"]),
    ]
    auth_service = getattr(state, "auth", None)
    if auth_service is not None and hasattr(auth_service, "extra"):
        auth_service.extra.append(session_authenticator(state))
    for path, endpoint, methods in routes:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)
    app.mount("/static/web", StaticFiles(directory=str(STATIC)), name="web-static")


class _LazyCodec(SessionCodec):
    """A :class:`SessionCodec` whose secret is loaded on first use: at install time the runner
    may not have opened the ledger yet, and the secret file lives beside it."""

    def __init__(self, state: Any, max_age_s: int) -> None:
        self._app_state = state
        self.max_age_s = max_age_s
        self._ready = False

    def _load(self) -> None:
        if not self._ready:
            db_path = state_db_path(self._app_state)
            secret = load_or_make_secret(db_path.with_name(db_path.name + ".web-secret"))
            SessionCodec.__init__(self, secret, self.max_age_s)
            self._ready = True

    def dumps(self, session: Any) -> str:
        self._load()
        return super().dumps(session)

    def loads(self, value: str | None) -> Any:
        self._load()
        return super().loads(value)


def state_db_path(state: Any) -> Any:
    backend: Backend = state.web_backend
    return backend.db_path()


__all__ = ["install"]
