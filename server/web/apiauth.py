"""Lets a signed-in admin's browser *read* admin API resources with its session cookie.

The report page (``server/stats/web``) polls ``GET /api/v1/stats`` from the browser, which
holds a session cookie, not a bearer token. This authenticator, added to the API's
``auth.extra`` hooks, turns a valid session into the user's principal — but only for safe
methods (GET, HEAD). A POST to ``/api/v1`` still needs a bearer token, so no cookie can be
abused to change state through the API (the pages' own POSTs carry a CSRF token instead).
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from starlette.types import Scope

from nummerlapp.server.api.auth import Principal
from nummerlapp.server.web.session import COOKIE

SAFE_METHODS = ("GET", "HEAD")


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is simply no session
                return None
            morsel = jar.get(COOKIE)
            return morsel.value if morsel is not None else None
    return None


def session_authenticator(state: Any) -> Any:
    """An ``async fn(scope) -> Principal | None`` for ``app.state.auth.extra``."""

    async def authenticate(scope: Scope) -> Principal | None:
        if scope.get("method") not in SAFE_METHODS:
            return None
        session, _expired = state.web_sessions.loads(_cookie(scope))
        if session is None or session.user_id is None:
            return None
        user = await state.web_backend.user(session.user_id)
        if user is None:
            return None
        return Principal("user", user.id, user.role, user.counter, user.username)

    return authenticate
