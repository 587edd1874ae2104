"""The desk pages: sign-in, choice of counter, and the desk itself with its actions.

A desk acts through the same ledger operations as the HTTP API (``next``, ``recall``, …), run
on the server's writer thread, so boards hear about a call the same way whichever door it came
through. Each action is guarded three ways against acting twice (see ``guard.py``): the page
disables buttons in flight, the click's idempotency key is remembered, and the ledger refuses
when the counter's current ticket is no longer the one the desk saw (checked in the same
writer-thread step as the action).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import Translate
from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.actions import ACTIONS, ActionSpec, CounterAction, Outcome, Target
from nummerlapp.server.api.auth import Permission, UserInfo
from nummerlapp.server.api.services import services
from nummerlapp.server.ledger import CounterState, Ledger, Ticket
from nummerlapp.server.web.context import (
    Ctx,
    backend,
    click_key,
    context,
    error,
    json_user,
    read_json,
    redirect,
    refusal_body,
    signed_in_json,
    user_page,
)
from nummerlapp.server.web.floor import desk_floor_boot
from nummerlapp.server.web.guard import Answer
from nummerlapp.server.web.render import department_label, render
from nummerlapp.server.web.session import CSRF_FIELD, Session, csrf_ok
from nummerlapp.server.web.strings import desk_strings
from nummerlapp.server.web.throttle import KNOWN_COOKIE, KNOWN_MAX_AGE_S, Reservation

log = logging.getLogger(__name__)

RECEPTION = "reception"
# where sign-in may send the browser back to
_NEXT_PAGES = ("/desk", "/tech", "/reports", "/messages", "/manager")
T = TypeVar("T")


class Stale(LedgerError):
    """The counter moved on since the desk looked (another tab, desk or API call)."""

    code = "stale"


def allowed_counters(settings: Settings, user: UserInfo) -> list[str]:
    """The counters ``user`` may work at (the rule table's :data:`Permission.COUNTER_WORK`)."""
    return [c.id for c in settings.counters if user.may(Permission.COUNTER_WORK, c.id)]


def may_use_reception(user: UserInfo) -> bool:
    """The reception (tickets on a visitor's behalf) is for those who may issue and are not
    bound to one counter."""
    return user.counter is None and user.may(Permission.ISSUE_TICKET)


# -- sign-in ------------------------------------------------------------------------------


async def signin_page(request: Request) -> Response:
    ctx = await context(request)
    _ = ctx._
    if ctx.user is not None:
        return ctx.save(redirect("/desk"))
    notice = None
    if ctx.expired or request.query_params.get("expired"):
        notice = _("Your session has expired. Please sign in again.")
    elif request.query_params.get("bye"):
        notice = _("You are signed out.")
    nxt = request.query_params.get("next", "/desk")
    response = render(
        request,
        "signin.html",
        ctx.lang,
        csrf=ctx.session.csrf,
        notice=notice,
        error=None,
        username="",
        next=nxt if nxt in _NEXT_PAGES else "/desk",
    )
    return ctx.save(response)


async def signin_submit(request: Request) -> Response:
    ctx = await context(request)
    _ = ctx._
    form = await request.form()
    username = str(form.get("username") or "").strip().lower()[:64]
    password = str(form.get("password") or "")[:256]
    nxt = str(form.get("next") or "/desk")
    nxt = nxt if nxt in _NEXT_PAGES else "/desk"
    lang = str(form.get("lang") or "")
    if lang in services(request).settings.site.languages:
        ctx.lang = lang

    def again(message: str, status: int) -> Response:
        page = render(
            request,
            "signin.html",
            ctx.lang,
            status_code=status,
            csrf=ctx.session.csrf,
            notice=None,
            error=message,
            username=username,
            next=nxt,
        )
        return ctx.save(page)

    if not csrf_ok(ctx.session, str(form.get(CSRF_FIELD) or "")):
        # No cookie (a fresh session was made just now) or a stale form: the page shown next
        # carries the new token, so the next try works.
        ctx.dirty = True
        return again(_("The sign-in form was out of date. Please try again."), 403)
    return await _check_password(request, ctx, username, password, nxt, again)


async def _check_password(
    request: Request, ctx: Ctx, username: str, password: str, nxt: str, again: Callable[[str, int], Response]
) -> Response:
    """The limited password check (server/web/throttle.py) and, when right, a new session."""
    _ = ctx._
    web = services(request).web
    limiter = web.signin_limiter
    client = request.client.host if request.client else "?"
    known = username in web.sessions.known_loads(request.cookies.get(KNOWN_COOKIE), KNOWN_MAX_AGE_S)
    place = limiter.reserve(client, username, known)  # before any await: parallel requests queue here
    if not isinstance(place, Reservation):
        log.info("desk sign-in for %r from %s: too many attempts (no check)", username, client)
        response = again(_("Too many failed attempts. Wait a minute and try again."), 429)
        response.headers["Retry-After"] = str(int(place + 0.999))
        return response
    principal = None
    try:
        if username and password:
            principal = await backend(request).verify_user(username, password)
    finally:
        limiter.settle(place, principal is not None)
    log.info(
        "sign-in check #%d for %r from %s: %s",
        limiter.checks,
        username,
        client,
        "ok" if principal else "refused",
    )
    if principal is None:
        return again(_("Wrong user name or password."), 401)
    # A new session (and CSRF token) at sign-in: a token planted before sign-in is worthless.
    # Its id is a row of the ledger's sessions table, so signing out really ends it.
    sid = await backend(request).write_accounts(lambda conn: auth.start_session(conn, principal.id, client))
    counter = principal.counter if principal.role == "staff" else None
    ctx.session = Session.fresh(ctx.lang).with_(user_id=principal.id, counter=counter, sid=sid)
    ctx.dirty = True
    log.info("desk sign-in: %s (%s)", principal.name, principal.role)
    response = ctx.save(redirect(nxt))
    accounts = [a for a in web.sessions.known_loads(request.cookies.get(KNOWN_COOKIE), KNOWN_MAX_AGE_S)]
    accounts = [a for a in accounts if a != username] + [username]
    response.set_cookie(
        KNOWN_COOKIE,
        web.sessions.known_dumps(accounts),
        max_age=KNOWN_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/desk/signin",
    )
    return response


async def signout(request: Request) -> Response:
    ctx = await context(request)
    form = await request.form()
    if ctx.user is not None and not csrf_ok(ctx.session, str(form.get(CSRF_FIELD) or "")):
        return error(403, "csrf", ctx._("This page is out of date. Reload it and try again."))
    sid = ctx.session.sid
    if ctx.user is not None and sid is not None:  # the server forgets the session: copies die too
        await backend(request).write_accounts(lambda conn: auth.end_session(conn, sid))
    ctx.session = Session.fresh(ctx.lang)
    ctx.dirty = True
    return ctx.save(redirect("/desk/signin?bye=1"))


# -- counter choice -------------------------------------------------------------------------


def _signin_redirect(ctx: Ctx, nxt: str = "/desk") -> Response:
    query = "?expired=1" if ctx.expired else ""
    if nxt != "/desk":
        query += ("&" if query else "?") + "next=" + nxt
    return ctx.save(redirect("/desk/signin" + query))


async def counter_page(request: Request) -> Response:
    ctx = await context(request)
    if ctx.user is None:
        return _signin_redirect(ctx)
    settings = services(request).settings
    ids = allowed_counters(settings, ctx.user)
    if not ids and not may_use_reception(ctx.user) and ctx.user.may(Permission.READ_STATS):
        return ctx.save(redirect("/manager"))  # a manager has no desk: the live view is theirs
    if len(ids) == 1 and not may_use_reception(ctx.user):
        ctx.update(counter=ids[0])
        return ctx.save(redirect("/desk"))
    counters = []
    for cid in ids:
        counter = settings.counter(cid)
        assert counter is not None  # allowed_counters() names only the site's counters
        deps = ", ".join(department_label(request, d, ctx.lang) for d in counter.departments)
        counters.append({"id": cid, "name": counter.label(ctx.lang), "deps": deps})
    return user_page(
        ctx, "counter.html", counters=counters, reception=may_use_reception(ctx.user), error=None
    )


async def counter_submit(request: Request) -> Response:
    ctx = await context(request)
    if ctx.user is None:
        return _signin_redirect(ctx)
    form = await request.form()
    if not csrf_ok(ctx.session, str(form.get(CSRF_FIELD) or "")):
        return error(403, "csrf", ctx._("This page is out of date. Reload it and try again."))
    choice = str(form.get("counter") or "")
    if choice == RECEPTION and may_use_reception(ctx.user):
        ctx.update(counter=RECEPTION)
    elif choice in allowed_counters(services(request).settings, ctx.user):
        ctx.update(counter=choice)
    else:
        return error(403, "forbidden_counter", ctx._("You may not work at this counter."))
    return ctx.save(redirect("/desk"))


# -- the desk -----------------------------------------------------------------------------


def _faults(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for dev in devices:
        state = printer_state(dev.get("printer"))
        if state and state not in ("ok", "unknown"):
            out.append({"id": dev["id"], "name": dev.get("name") or dev["id"], "printer": state})
    return out


def printer_state(value: object) -> str | None:
    """A device's printer state as a word (``ok``, ``paper_end``, …), whatever shape it came in."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("state", "status"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None


async def desk_page(request: Request) -> Response:
    ctx = await context(request)
    if ctx.user is None:
        return _signin_redirect(ctx)
    settings = services(request).settings
    chosen = ctx.session.counter
    if chosen == RECEPTION and may_use_reception(ctx.user):
        counter = None
    elif chosen is not None and chosen in allowed_counters(settings, ctx.user):
        counter = settings.counter(chosen)
    else:
        return ctx.save(redirect("/desk/counter"))
    be = backend(request)
    snapshot = await be.snapshot()
    devices = await be.devices()
    floor_boot = await desk_floor_boot(request, ctx, counter.id if counter else None)
    departments = {
        d.id: {"id": d.id, "prefix": d.prefix, "label": d.label(ctx.lang)} for d in settings.departments
    }
    boot = {
        "lang": ctx.lang,
        "counter": {
            "id": counter.id,
            "name": counter.label(ctx.lang),
            "departments": list(counter.departments),
        }
        if counter
        else None,
        "departments": departments,
        "wait_target_min": settings.site.wait_target_min,
        "timezone": settings.site.timezone,
        "server_now": services(request).clock().timestamp(),  # the ledger's clock
        "state": snapshot,
        "faults": _faults(devices),
        "strings": desk_strings(ctx._),
        **floor_boot,
    }
    return user_page(
        ctx,
        "desk.html",
        counter=counter,
        can_change_counter=len(allowed_counters(settings, ctx.user)) > 1 or may_use_reception(ctx.user),
        all_departments=list(departments.values()),
        boot=boot,
    )


# -- desk actions (fetch, JSON) -------------------------------------------------------------


def _success_message(
    _: Translate, request: Request, lang: str, action: CounterAction, result: Outcome
) -> str:
    if isinstance(result, CounterState):
        return _("The counter is paused.") if result.state == "paused" else _("The counter is open.")
    if result is None:
        return _("Nobody is waiting.")
    said = {
        CounterAction.NEXT: _("Called %(number)s."),
        CounterAction.RECALL: _("Called %(number)s again."),
        CounterAction.NO_SHOW: _("%(number)s did not come."),
        CounterAction.TRANSFER: _("%(number)s now waits for %(department)s."),
        CounterAction.SERVE: _("%(number)s has arrived: serving."),
        CounterAction.CALL: _("Called %(number)s out of turn."),
        CounterAction.PARK: _("%(number)s is parked: call it back when the visitor returns."),
    }.get(action, _("%(number)s is done."))
    if action is CounterAction.TRANSFER:
        said = said.replace("%(department)s", department_label(request, result.department, lang))
    return said.replace("%(number)s", result.number)


def _spec(name: str) -> ActionSpec | None:
    """The action of ``/desk/api/counters/{counter}/{name}``: the API's own table."""
    try:
        return ACTIONS.get(CounterAction(name))
    except ValueError:
        return None


def _action_body(
    _: Translate, spec: ActionSpec, settings: Settings, body: dict[str, Any]
) -> tuple[str, str | None, Target] | JSONResponse:
    """(click key, the ticket id the desk saw, the action's target), or the 422 that refuses it."""
    key, expect, department = click_key(_, body), body.get("expect"), body.get("department")
    wanted = body.get("ticket")
    if isinstance(key, JSONResponse):
        return key
    if expect is not None and not isinstance(expect, str):
        return error(422, "invalid_expect", _("The request is malformed."))
    if spec.needs_department and (not isinstance(department, str) or settings.department(department) is None):
        return error(422, "unknown_department", _("Choose a department to transfer to."))
    if spec.needs_ticket and (not isinstance(wanted, str) or not wanted.strip() or len(wanted) > 64):
        return error(422, "invalid_ticket", _("Type the number to call, for example A012."))
    target = Target(
        department if isinstance(department, str) else None, wanted if isinstance(wanted, str) else None
    )
    return key, expect, target


async def _once(
    request: Request,
    ctx: Ctx,
    key: str,
    op: Callable[[Ledger], T],
    answer: Callable[[T], Answer],
) -> Response:
    """Run the ledger operation ``op`` once per click ``key`` of this user (a repeat gets the
    first answer): ``answer(result)``, or the ledger's refusal; with the counters' state now."""
    be = backend(request)

    async def act() -> Answer:
        try:
            result = await be.run(op)
        except LedgerError as exc:
            return exc.status, refusal_body(ctx._, exc)
        return answer(result)

    assert ctx.user is not None
    (status, payload), _replayed = await services(request).web.replay.once(f"{ctx.user.id}:{key}", act)
    return JSONResponse({**payload, "state": await be.snapshot()}, status_code=status)


async def counter_action(request: Request) -> Response:
    ctx = await signed_in_json(request)
    if isinstance(ctx, Response):
        return ctx
    assert ctx.user is not None
    _ = ctx._
    settings = services(request).settings
    counter_id = request.path_params["counter"]
    action = request.path_params["action"]
    if counter_id not in allowed_counters(settings, ctx.user):
        log.warning("desk: %s tried %s at counter %r", ctx.user.username, action, counter_id)
        return error(403, "forbidden_counter", _("You may not work at this counter."))
    spec = _spec(action)
    if spec is None:
        return error(404, "unknown_action", _("Unknown action."))
    if not ctx.user.may(spec.permission, counter_id):
        return error(403, "forbidden_counter", _("You may not work at this counter."))
    body = await read_json(request, ctx)
    if isinstance(body, JSONResponse):
        return body
    checked = _action_body(_, spec, settings, body)
    if isinstance(checked, JSONResponse):
        return checked
    key, expect, target = checked
    user = ctx.user

    def guarded(ledger: Ledger) -> Outcome:
        if spec.acts_on_current:
            state = ledger.counter(counter_id)
            current = state.ticket.id if state.ticket is not None else None
            if current != expect:
                raise Stale("the counter moved on", code="stale")
        return spec.perform(ledger, counter_id, target)

    def done(result: Outcome) -> Answer:
        log.info("desk: %s %s at counter %s", user.username, action, counter_id)
        payload: dict[str, Any] = {"message": _success_message(_, request, ctx.lang, spec.action, result)}
        payload[spec.answers] = None if result is None else result.to_json()
        return 200, payload

    return await _once(request, ctx, key, guarded, done)


async def issue_ticket(request: Request) -> Response:
    """Reception: a ticket on a visitor's behalf (shown on screen; the visitor notes the number)."""
    ctx = await json_user(request, Permission.ISSUE_TICKET, lambda _: _("You may not work at this counter."))
    if isinstance(ctx, Response):
        return ctx
    assert ctx.user is not None
    _ = ctx._
    body = await read_json(request, ctx)
    if isinstance(body, JSONResponse):
        return body
    key, department = click_key(_, body), body.get("department")
    if isinstance(key, JSONResponse):
        return key
    settings = services(request).settings
    if not isinstance(department, str) or settings.department(department) is None:
        return error(404, "unknown_department", _("Unknown department."))
    lang = body.get("lang") if body.get("lang") in settings.site.languages else ctx.lang
    source = f"desk:{ctx.user.username}"

    def issued(ticket: Ticket) -> Answer:
        label = department_label(request, department, ctx.lang)
        message = _("Ticket %(number)s for %(department)s.").replace("%(number)s", ticket.number)
        return 201, {"ticket": ticket.to_json(), "message": message.replace("%(department)s", label)}

    return await _once(request, ctx, key, lambda ledger: ledger.issue(department, lang, source), issued)
