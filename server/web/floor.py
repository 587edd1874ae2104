"""The desk page's parts for issue 17: the silent alarm, its clearing, and the parked tickets.

The alarm goes through the same function as ``POST /api/v1/counters/{id}/alarm``
(server/api/floor.py): logged in the ledger, then sent on the hub's staff channel only. The
raising desk's own page shows it quietly (no sound at the desk where the trouble is); every
other desk, the technician page and the manager's page show it with the counter's name and a
tone. Clearing is open to staff, managers and admins (the rule table's ``clear_alarm``).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import language_name
from nummerlapp.server.api import floor as api_floor
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import services
from nummerlapp.server.web.context import Ctx, error, json_user, ledger_refusal, read_json

log = logging.getLogger(__name__)


def _alarm_names(request: Request, lang: str) -> dict[str, str]:
    """Each counter's name in the page's language (an alarm names its counter)."""
    return {c.id: c.label(lang) for c in services(request).settings.counters}


async def desk_floor_boot(request: Request, ctx: Ctx, counter: str | None) -> dict[str, Any]:
    """What the desk page's script needs for languages, parked tickets and alarms."""
    svc = services(request)
    parked: list[dict[str, Any]] = []
    if counter is not None:
        parked = [t.to_json() for t in await svc.runner.run(lambda ledger: ledger.parked(counter))]
    alarms = [a.encode() for a in await svc.runner.run(lambda ledger: ledger.open_alarms())]
    return {
        "languages": {code: language_name(code) for code in svc.settings.site.languages},
        "parked": parked,
        "alarms": alarms,
        "counter_names": _alarm_names(request, ctx.lang),
        "can_clear_alarms": ctx.user is not None and ctx.user.may(Permission.CLEAR_ALARM),
    }


async def _json_user(request: Request, permission: Permission, counter: str | None = None) -> Ctx | Response:
    return await json_user(request, permission, lambda _: _("You may not do this here."), counter)


async def _json_post(request: Request, permission: Permission, counter: str | None = None) -> Ctx | Response:
    """:func:`_json_user` for a POST whose body must be a JSON object (the alarms read nothing in it)."""
    ctx = await _json_user(request, permission, counter)
    if isinstance(ctx, Response):
        return ctx
    body = await read_json(request, ctx)
    return body if isinstance(body, JSONResponse) else ctx


async def desk_alarm(request: Request) -> Response:
    """``POST /desk/api/counters/{counter}/alarm``: the desk's silent alarm (202)."""
    counter = request.path_params["counter"]
    ctx = await _json_post(request, Permission.RAISE_ALARM, counter)
    if isinstance(ctx, Response):
        return ctx
    try:
        alarm = await api_floor.raise_alarm(services(request), counter)
    except LedgerError as exc:
        return ledger_refusal(ctx, exc)
    log.warning("silent alarm raised at counter %s", counter)  # no name: the log says where, not who
    return JSONResponse(
        {"alarm": alarm.encode(), "message": ctx._("Alarm sent. Colleagues are alerted.")}, 202
    )


async def clear_alarm(request: Request) -> Response:
    """``POST /desk/api/alarms/{alarm}/clear``: a colleague has seen to it (desk, technician,
    manager pages alike)."""
    ctx = await _json_post(request, Permission.CLEAR_ALARM)
    if isinstance(ctx, Response):
        return ctx
    try:
        alarm = await api_floor.clear_alarm(services(request), request.path_params["alarm"])
    except LedgerError as exc:
        return ledger_refusal(ctx, exc)
    log.info("silent alarm at counter %s cleared", alarm.counter.id)
    return JSONResponse({"alarm": alarm.encode(), "message": ctx._("Alarm cleared.")})


async def parked_list(request: Request) -> Response:
    """``GET /desk/api/counters/{counter}/parked``: today's parked tickets the counter may call."""
    counter = request.path_params["counter"]
    ctx = await _json_user(request, Permission.COUNTER_WORK, counter)
    if isinstance(ctx, Response):
        return ctx
    svc = services(request)
    if svc.settings.counter(counter) is None:
        return error(404, "unknown_counter", ctx._("Unknown counter."))
    parked = await svc.runner.run(lambda ledger: ledger.parked(counter))
    return JSONResponse({"parked": [t.to_json() for t in parked]})
