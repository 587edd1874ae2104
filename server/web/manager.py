"""The manager's live view (``/manager``): the day as it happens, and the few levers a manager has.

Who may: the one rule table (server/api/auth.py). Seeing the page and its figures is
``read_stats`` (manager, admin: the live view is a report of now); opening and closing the site or
one department is ``open_close_site``; the boards' message line is ``edit_board_messages``.
Nothing else: no tokens, users, devices or reset (those are the technician's page).

Per department: open or closed (and whether by hand today), how many wait, the longest wait, the
estimate for someone taking a ticket now, and which waiting tickets have passed or are expected to
pass the wait target (``site.wait_target_min``) and when. Per counter: open or paused, its current
ticket (and the visitor's language), or how long it has been idle. Standing silent alarms are
shown at the top, with a tone, like on the desks. The page refreshes from ``/manager/api/live``
whenever the event socket says something changed, and every 15 s (waits grow without events).

Page API (not part of the wire protocol; fetches with the session and the ``X-CSRF-Token`` header):
``GET /manager/api/live``; ``POST /manager/api/site/{open|close|hours}``;
``POST /manager/api/departments/{id}/{open|close|hours}``. The boards' message lines are shown
here and written on their own page, ``/messages`` (server/web/feedback.py), which this page links.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import language_name
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import services
from nummerlapp.server.ledger import Ledger
from nummerlapp.server.web.context import Ctx, error, json_user, ledger_refusal, page_user
from nummerlapp.server.web.render import render
from nummerlapp.server.web.strings import manager_strings

log = logging.getLogger(__name__)

_SWITCH = {"open": True, "close": False, "hours": None}


async def _live(request: Request) -> dict[str, Any]:
    view = await services(request).runner.run(lambda ledger: ledger.live_view())
    data = view.to_json()
    data["messages"] = [
        m.root for m in await services(request).runner.run(lambda ledger: ledger.board_messages())
    ]
    return data


async def manager_page(request: Request) -> Response:
    ctx, refused = await page_user(
        request,
        "/manager",
        Permission.READ_STATS,
        lambda _: _("Only a manager or an administrator may open this page."),
    )
    if refused is not None:
        return refused
    assert ctx.user is not None
    _ = ctx._
    settings = services(request).settings
    boot = {
        "lang": ctx.lang,
        "timezone": settings.site.timezone,
        "languages": {code: language_name(code) for code in settings.site.languages},
        "departments": {d.id: d.label(ctx.lang) for d in settings.departments},
        "counter_names": {c.id: c.label(ctx.lang) for c in settings.counters},
        "can_switch": ctx.user.may(Permission.OPEN_CLOSE_SITE),
        "can_edit_messages": ctx.user.may(Permission.EDIT_BOARD_MESSAGES),
        "can_clear_alarms": ctx.user.may(Permission.CLEAR_ALARM),
        "live": await _live(request),
        "strings": manager_strings(_),
    }
    page = render(
        request,
        "manager.html",
        ctx.lang,
        csrf=ctx.session.csrf,
        user=ctx.user,
        show_desk_link=ctx.user.may(Permission.COUNTER_WORK) or ctx.user.may(Permission.ISSUE_TICKET),
        on_manager=True,
        boot=boot,
    )
    return ctx.save(page)


async def _user_for(request: Request, permission: Permission) -> Ctx | Response:
    return await json_user(
        request, permission, lambda _: _("Only a manager or an administrator may do this.")
    )


async def live(request: Request) -> Response:
    """``GET /manager/api/live``."""
    ctx = await _user_for(request, Permission.READ_STATS)
    if isinstance(ctx, Response):
        return ctx
    return JSONResponse(await _live(request))


async def switch_site(request: Request) -> Response:
    """``POST /manager/api/site/{open|close|hours}``: for the rest of the service day."""
    ctx = await _user_for(request, Permission.OPEN_CLOSE_SITE)
    if isinstance(ctx, Response):
        return ctx
    how = request.path_params["how"]
    if how not in _SWITCH:
        return error(404, "not_found", ctx._("Unknown action."))
    value = _SWITCH[how]

    def act(ledger: Ledger) -> None:
        ledger.set_site_open(value)

    await services(request).runner.run(act)
    assert ctx.user is not None
    log.info("manager page: %s set the site %s for today", ctx.user.username, how)
    return JSONResponse({"live": await _live(request)})


async def switch_department(request: Request) -> Response:
    """``POST /manager/api/departments/{department}/{open|close|hours}``."""
    ctx = await _user_for(request, Permission.OPEN_CLOSE_SITE)
    if isinstance(ctx, Response):
        return ctx
    how, department = request.path_params["how"], request.path_params["department"]
    if how not in _SWITCH:
        return error(404, "not_found", ctx._("Unknown action."))
    value = _SWITCH[how]
    try:
        await services(request).runner.run(lambda ledger: ledger.set_department_open(department, value))
    except LedgerError as exc:
        return ledger_refusal(ctx, exc)
    assert ctx.user is not None
    log.info("manager page: %s set department %s %s for today", ctx.user.username, department, how)
    return JSONResponse({"live": await _live(request)})
