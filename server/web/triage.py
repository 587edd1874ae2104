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

Printing the reference as a slip at a kiosk's printer needs a print job sent to a kiosk, which
the protocol has no way to do yet; the QR code on screen is what this page gives.
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
from nummerlapp.config.hours import service_day
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import services
from nummerlapp.server.web.context import backend, context, error, read_json, refusal_body, require_user_json
from nummerlapp.server.web.guard import Answer
from nummerlapp.server.web.render import department_label

_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def qr_svg(text: str) -> str:
    """The reference as an SVG QR code (drawn on the server: no script library in the page)."""
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    svg: str = img.to_string(encoding="unicode")
    return svg


async def book_visit(request: Request) -> Response:
    ctx = await context(request)
    refused = require_user_json(ctx, Permission.BOOK_APPOINTMENTS)
    if refused is not None:
        return refused
    assert ctx.user is not None
    _ = ctx._
    body = await read_json(request, ctx)
    if isinstance(body, JSONResponse):
        return body
    key, department, time = body.get("key"), body.get("department"), body.get("time")
    if not isinstance(key, str) or not _KEY.match(key):
        return error(422, "invalid_key", _("The request lacks a valid click key."))
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
