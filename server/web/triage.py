"""Reception triage (issue 15): a walk-in turned into a timed return, "Byggesak 10:40".

The receptionist picks a department and a time today; the service books a visit on the spot
(``source`` = ``desk:<user>``, no name or anything else about the visitor) and the page shows
its reference large and as a QR code for the visitor to photograph (the kiosk's scanner reads
it back at check-in). The section is a template include (templates/_triage.html) with its own
script (static/triage.js), which also lists the day's visits from ``GET /api/v1/appointments``
(the session may read it: server/web/apiauth.py) and warns when a checked-in visit whose time
has come is still waiting.

    POST /desk/api/appointments   {"key", "department", "time": "HH:MM"} → 201
        {"appointment": {…}, "label": "Byggesak 10:40", "qr_svg": "<svg…>"}
    GET  /desk/api/kiosks → {"kiosks": [{"id", "name"}], "languages": [{"code", "name"}], "default"}
    POST /desk/api/appointments/{reference}/slip   {"key", "kiosk", "lang"?} → 202 {"ok", "message"}

"Print at kiosk": the visit's slip (department, time, reference, its QR code) is printed at the
chosen kiosk's printer through the same function as ``POST /api/v1/appointments/{reference}/slip``
(server/api/appointments.py ``send_slip``): an ``appointment.slip`` message to that kiosk's own
event socket and no other. The kiosks to choose from are the enrolled ones connected now; the
slip's language is one of the site's (the visitor's, chosen by the receptionist).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import Translate, language_name
from nummerlapp.common.protocol import error_body
from nummerlapp.config.hours import service_day
from nummerlapp.server.api import appointments as api_appointments
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import services
from nummerlapp.server.web.context import (
    Ctx,
    backend,
    click_key,
    context,
    error,
    read_json,
    refusal_body,
    require_user_json,
)
from nummerlapp.server.web.guard import Answer
from nummerlapp.server.web.render import department_label

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def qr_svg(text: str) -> str:
    """The reference as an SVG QR code (drawn on the server: no script library in the page)."""
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    svg: str = img.to_string(encoding="unicode")
    return svg


async def _action(request: Request, permission: Permission) -> tuple[Ctx, dict[str, Any], str] | Response:
    """A triage action's gate: the signed-in user who may ``permission``, the JSON body and its
    click key, or the refusal."""
    ctx = await context(request)
    refused = require_user_json(ctx, permission)
    if refused is not None:
        return refused
    body = await read_json(request, ctx)
    if isinstance(body, JSONResponse):
        return body
    key = click_key(ctx._, body)
    if isinstance(key, JSONResponse):
        return key
    return ctx, body, key


async def book_visit(request: Request) -> Response:
    gate = await _action(request, Permission.BOOK_APPOINTMENTS)
    if isinstance(gate, Response):
        return gate
    ctx, body, key = gate
    assert ctx.user is not None
    _ = ctx._
    department, time = body.get("department"), body.get("time")
    svc = services(request)
    if not isinstance(department, str) or svc.settings.department(department) is None:
        return error(404, "unknown_department", _("Unknown department."))
    found = _TIME.match(time) if isinstance(time, str) else None
    if found is None:
        return error(422, "invalid_time", _("Give a time like 10:40."))
    tz = svc.settings.site.tz
    day = service_day(svc.clock(), tz)
    start = dt.datetime.combine(day, dt.time(int(found[1]), int(found[2])), tzinfo=tz)
    source = f"desk:{ctx.user.username}"[:100]
    be = backend(request)

    async def act() -> Answer:
        try:
            made = await be.run(lambda ledger: ledger.book(department, start, None, source))
        except LedgerError as exc:
            return exc.status, refusal_body(_, exc)
        label = f"{department_label(request, department, ctx.lang)} {start:%H:%M}"
        payload: dict[str, Any] = {
            "appointment": made.encode(),
            "label": label,
            "qr_svg": qr_svg(made.reference),
        }
        return 201, payload

    (status, payload), _replayed = await svc.web.replay.once(f"{ctx.user.id}:{key}", act)
    return JSONResponse(payload, status_code=status)


# -- the slip at a kiosk ------------------------------------------------------------------------


def _slip_refusal(_: Translate, exc: LedgerError) -> str:
    """The sentence for a refused slip, in the page's language."""
    messages = {
        "unknown_appointment": _("No booked visit has this code."),
        "unknown_device": _("That kiosk is not enrolled any more. Choose another one."),
        "kiosk_offline": _("That kiosk is not connected now. Choose another one or try again."),
        "cancelled": _("This visit was cancelled: there is no slip to print."),
        "already_checked_in": _("This visit is already checked in: there is no slip to print."),
        "too_late": _("This visit's time has passed: there is no slip to print."),
        "invalid_language": _("Choose one of the site's languages."),
    }
    return messages.get(exc.code, exc.message)


async def kiosk_list(request: Request) -> Response:
    """The kiosks a slip can be printed at (enrolled, socket connected now) and its languages."""
    ctx = await context(request)
    refused = require_user_json(ctx, Permission.PRINT_SLIP)
    if refused is not None:
        return refused
    svc = services(request)
    kiosks = await api_appointments.connected_kiosks(svc)
    languages = svc.settings.site.languages
    return JSONResponse(
        {
            "kiosks": [k.encode() for k in kiosks],
            "languages": [{"code": code, "name": language_name(code)} for code in languages],
            "default": svc.settings.site.default_language,
        }
    )


async def print_slip(request: Request) -> Response:
    gate = await _action(request, Permission.PRINT_SLIP)
    if isinstance(gate, Response):
        return gate
    ctx, body, key = gate
    assert ctx.user is not None
    _ = ctx._
    kiosk, lang = body.get("kiosk"), body.get("lang")
    if not isinstance(kiosk, str) or not 0 < len(kiosk) <= 64:
        return error(422, "invalid_kiosk", _("Choose a kiosk."))
    if lang is not None and not isinstance(lang, str):
        return error(422, "invalid_language", _("Choose one of the site's languages."))
    reference = str(request.path_params["reference"])[:64]
    svc = services(request)
    names = {k.id: k.name for k in await api_appointments.connected_kiosks(svc)}

    async def act() -> Answer:
        try:
            await api_appointments.send_slip(svc, reference, kiosk, lang)
        except LedgerError as exc:
            return exc.status, error_body(exc.code, _slip_refusal(_, exc)).encode()
        done = _("The slip is printing at %(kiosk)s.") % {"kiosk": names.get(kiosk, kiosk)}
        return 202, {"ok": True, "message": done}

    (status, payload), _replayed = await svc.web.replay.once(f"{ctx.user.id}:{key}", act)
    return JSONResponse(payload, status_code=status)
