"""Lets a signed-in page user's browser *read* API resources with its session cookie.

The report page (``server/stats/web``) polls ``GET /api/v1/stats`` from the browser, which
holds a session cookie, not a bearer token. This authenticator (the API's
``AuthStore.sessions``) turns a valid session into the user's principal — but only for safe
methods (GET, HEAD). What that principal may then read is the one rule table's business
(server/api/auth.py), exactly as for a token of the same role. A POST to ``/api/v1`` still needs
a bearer token, so no cookie can be abused to change state through the API (the pages' own
POSTs carry a CSRF token instead).
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import Scope

from nummerlapp.server.api.access import Authenticator
from nummerlapp.server.api.auth import Principal
from nummerlapp.server.web.parts import WebParts
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


def session_authenticator(web: WebParts) -> Authenticator:
    """An ``async fn(scope) -> Principal | None`` for ``AuthStore.sessions``."""

    async def authenticate(scope: Scope) -> Principal | None:
        if scope.get("method") not in SAFE_METHODS:
            return None
        session, _expired = web.sessions.loads(_cookie(scope))
        if session is None or session.user_id is None or session.sid is None:
            return None
        user = await web.backend.session_user(session.sid, session.user_id)
        return None if user is None else user.principal()

    return authenticate
