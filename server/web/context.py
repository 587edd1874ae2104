"""Who is asking, in which language, and the uniform refusals of the web pages.

Every page and every fetch starts here: the signed session cookie is read (an expired one is
told apart from none, so the sign-in page can say why), the user is re-read from the ledger's
``users`` table (a disabled account stops at once), and state-changing requests must carry the
session's CSRF token. Refusals are the same JSON shape as the API's
(``{"error": {"code", "message"}}``) with the message already in the user's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import Translate, translator
from nummerlapp.common.protocol import error_body
from nummerlapp.server.api.auth import Permission, UserInfo
from nummerlapp.server.api.services import services
from nummerlapp.server.web.backend import Backend
from nummerlapp.server.web.render import choose_language, render
from nummerlapp.server.web.session import COOKIE, CSRF_HEADER, Session, SessionCodec, csrf_ok
from nummerlapp.server.web.strings import ledger_message

MAX_JSON_BYTES = 4096


@dataclass
class Ctx:
    """The request's session (possibly new), user and language."""

    request: Request
    session: Session
    user: UserInfo | None
    expired: bool
    lang: str
    dirty: bool = False  # the session changed and must be written back

    @property
    def _(self) -> Translate:
        return translator("web", self.lang)

    def update(self, **changes: Any) -> None:
        self.session = self.session.with_(**changes)
        self.dirty = True

    def save(self, response: Response) -> Response:
        """Write the session cookie back when it changed (or is new)."""
        if self.dirty:
            codec = codec_of(self.request)
            response.set_cookie(
                value=codec.dumps(self.session), **codec.cookie_kwargs(self.request.url.scheme == "https")
            )
        return response


def codec_of(request: Request) -> SessionCodec:
    return services(request).web.sessions


def backend(request: Request) -> Backend:
    return services(request).web.backend


async def context(request: Request) -> Ctx:
    codec = codec_of(request)
    session, expired = codec.loads(request.cookies.get(COOKIE))
    dirty = False
    if session is None:
        session, dirty = Session.fresh(), True
    user = None
    if session.user_id is not None and session.sid is not None:
        user = await backend(request).session_user(session.sid, session.user_id)
        if user is None:  # signed out, password changed or disabled since: a signed-out session
            session, dirty = Session.fresh(session.lang), True
    explicit = request.query_params.get("lang")
    lang = choose_language(request, explicit if explicit else session.lang)
    ctx = Ctx(request, session, user, expired, lang, dirty)
    if explicit and explicit == lang and session.lang != lang:
        ctx.update(lang=lang)  # remember the choice for the next pages
    return ctx


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({**error_body(code, message).encode(), **extra}, status_code=status)


CLICK_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def click_key(_: Translate, body: dict[str, Any]) -> str | JSONResponse:
    """A page action's click key (the replay cache remembers answers by it), or the 422 that
    refuses it."""
    key = body.get("key")
    if not isinstance(key, str) or not CLICK_KEY.match(key):
        return error(422, "invalid_key", _("The request lacks a valid click key."))
    return key


async def read_json(request: Request, ctx: Ctx) -> dict[str, Any] | JSONResponse:
    """The request body as a JSON object, or a 4xx answer saying what is wrong with it."""
    _ = ctx._
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        return error(413, "too_large", _("The request is too large."))
    try:
        data = json.loads(raw or b"{}")
        # Lone surrogates ("\ud800") parse as text Python cannot encode: refuse them here, once,
        # rather than meet a UnicodeEncodeError in argon2 or SQLite later.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):  # RecursionError: arrays 2,000 deep
        return error(422, "invalid_json", _("The request is not valid JSON."))
    if not isinstance(data, dict):
        return error(422, "invalid_json", _("The request must be a JSON object."))
    return data


def require_user_json(ctx: Ctx, permission: Permission | None = None) -> JSONResponse | None:
    """401 without a signed-in user, 403 without the CSRF header or without ``permission``
    (the one rule table, server/api/auth.py: the same as for a token of the user's role)."""
    _ = ctx._
    if ctx.user is None:
        if ctx.expired:
            return error(401, "session_expired", _("Your session has expired. Please sign in again."))
        return error(401, "not_signed_in", _("Please sign in."))
    if not csrf_ok(ctx.session, ctx.request.headers.get(CSRF_HEADER)):
        return error(403, "csrf", _("This page is out of date. Reload it and try again."))
    if permission is not None and not ctx.user.may(permission):
        return error(403, "forbidden", _("Only a technician (admin) may do this."))
    return None


def user_page(ctx: Ctx, template: str, status_code: int = 200, **values: Any) -> Response:
    """A page for the signed-in user, in their language with the session's CSRF token (and the
    session written back when it changed)."""
    page = render(
        ctx.request,
        template,
        ctx.lang,
        status_code=status_code,
        csrf=ctx.session.csrf,
        user=ctx.user,
        **values,
    )
    return ctx.save(page)


def redirect(url: str) -> RedirectResponse:
    """303: after a POST the browser fetches the next page with GET."""
    return RedirectResponse(url, status_code=303)


def refusal_body(_: Translate, exc: LedgerError) -> dict[str, Any]:
    """A ledger refusal as the API's error body, its sentence in the page's language."""
    return error_body(exc.code, ledger_message(_, exc.code, exc.message)).encode()


def ledger_refusal(ctx: Ctx, exc: LedgerError) -> JSONResponse:
    """A ledger refusal as a JSON answer with the refusal's own status."""
    return JSONResponse(refusal_body(ctx._, exc), status_code=exc.status)


async def page_user(
    request: Request, path: str, permission: Permission, forbidden: Callable[[Translate], str]
) -> tuple[Ctx, Response | None]:
    """A page's gate: the context, and the answer instead of the page when there is one (sign-in
    for nobody, 403 ``forbidden.html`` saying ``forbidden(_)`` without ``permission``)."""
    ctx = await context(request)
    if ctx.user is None:
        query = f"?expired=1&next={path}" if ctx.expired else f"?next={path}"
        return ctx, ctx.save(redirect("/desk/signin" + query))
    if not ctx.user.may(permission):
        return ctx, user_page(ctx, "forbidden.html", 403, show_desk_link=True, message=forbidden(ctx._))
    return ctx, None


async def json_user(
    request: Request,
    permission: Permission,
    forbidden: Callable[[Translate], str],
    counter: str | None = None,
) -> Ctx | Response:
    """A page fetch's gate: the context of a signed-in user with the CSRF header who may
    ``permission`` (at ``counter``), or the refusal (403 ``forbidden`` says ``forbidden(_)``)."""
    ctx = await signed_in_json(request)
    if isinstance(ctx, Response):
        return ctx
    assert ctx.user is not None
    if not ctx.user.may(permission, counter):
        return error(403, "forbidden", forbidden(ctx._))
    return ctx


async def signed_in_json(request: Request) -> Ctx | Response:
    """A fetch's first gate: the context of a signed-in user with the CSRF header (``ctx.user``
    is set), or the refusal (:func:`require_user_json`)."""
    ctx = await context(request)
    refused = require_user_json(ctx)
    return ctx if refused is None else refused
