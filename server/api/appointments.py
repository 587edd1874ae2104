"""Booked visits over HTTP (PROTOCOL.md v1.1, "Booked visits (appointments)").

    POST   /api/v1/appointments                          staff, manager, admin, booking → 201
    GET    /api/v1/appointments?date=YYYY-MM-DD          staff, manager, admin, booking
    DELETE /api/v1/appointments/{reference}              staff, manager, admin, booking → 200
    POST   /api/v1/appointments/{reference}/check-in     kiosk, staff, admin → 201

Who may call them is the one rule table (server/api/auth.py, ``BOOK_APPOINTMENTS`` and
``CHECK_IN``), checked by the middleware (server/api/access.py) before a body is read. The
rules of booking, check-in and the order of calls are the ledger's (server/ledger/appointments.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.config.hours import service_day
from nummerlapp.server.api.access import principal
from nummerlapp.server.api.errors import documented, error_response
from nummerlapp.server.api.services import services

router = APIRouter()
BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
Reference = Path(min_length=1, max_length=64, description="the visit's reference, e.g. `K7QX2M4P`")
# a string of format "date" (pydantic would read "1.5e3" as a Unix time), parsed in the route
Day = Query(default="", json_schema_extra={"format": "date"}, description="service day (default: today)")


def _answer(shape: P.Wire, status_code: int = 200) -> JSONResponse:
    return JSONResponse(shape.encode(), status_code=status_code)


def _source(request: Request) -> str:
    who = principal(request)
    return who.name[:100] if who.kind == "token" and who.name else f"{who.role}#{who.id}"


@router.post(
    "/appointments",
    status_code=201,
    response_model=P.AppointmentAnswer,
    responses=documented(401, 403, 404, 409, 422),
    tags=["appointments"],
    openapi_extra=BEARER,
)
async def book(request: Request, body: P.AppointmentCreate) -> JSONResponse:
    """Book a visit: `{"department", "start", "reference"?}`. No name or any other personal data.

    Without a reference the service makes one (8 characters, no look-alikes). 404
    `unknown_department`; 409 `duplicate_reference`; 422 for a start without a UTC offset."""
    source = _source(request)
    made = await services(request).runner.run(
        lambda ledger: ledger.book(body.department, body.start, body.reference, source)
    )
    return _answer(P.AppointmentAnswer(appointment=made), 201)


@router.get(
    "/appointments",
    response_model=P.AppointmentList,
    responses=documented(401, 403, 422),
    tags=["appointments"],
    openapi_extra=BEARER,
)
async def list_appointments(request: Request, date: str = Day) -> JSONResponse:
    """The visits of one service day, by start, with their status now. Unknown query keys: 422."""
    unknown = sorted(set(request.query_params) - {"date"})
    if unknown:
        return error_response(422, "invalid_request", f"unknown query parameter {unknown[0]!r}")
    svc = services(request)
    try:
        given = "date" in request.query_params  # given empty is an error, not "today"
        day = dt.date.fromisoformat(date) if given else service_day(svc.clock(), svc.settings.site.tz)
    except ValueError:
        return error_response(422, "invalid_request", f"date {date!r} is not a day like 2026-12-03")
    found = await svc.runner.run(lambda ledger: ledger.appointments_on(day))
    return _answer(P.AppointmentList(appointments=found))


@router.delete(
    "/appointments/{reference}",
    response_model=P.AppointmentAnswer,
    responses=documented(401, 403, 404, 409),
    tags=["appointments"],
    openapi_extra=BEARER,
)
async def cancel(request: Request, reference: str = Reference) -> JSONResponse:
    """Cancel a visit (again: no change). 404 `unknown_appointment`; 409 `already_checked_in`."""
    done = await services(request).runner.run(lambda ledger: ledger.cancel_appointment(reference))
    return _answer(P.AppointmentAnswer(appointment=done))


@router.post(
    "/appointments/{reference}/check-in",
    status_code=201,
    response_model=P.CheckInAnswer,
    responses=documented(401, 403, 404, 409, 422),
    tags=["appointments"],
    openapi_extra=BEARER,
)
async def check_in(
    request: Request, body: P.CheckInBody | None = None, reference: str = Reference
) -> JSONResponse:
    """The visitor is here → the visit's ticket with `appointment: {reference, start}` and `follow`.

    It is called before walk-ins once `start` has come. 404 `unknown_appointment`; 409
    `not_today`, `already_checked_in`, `cancelled`, `too_late` (past start + the site's grace)."""
    lang = None if body is None else body.lang
    source = _source(request)
    ticket = await services(request).runner.run(lambda ledger: ledger.check_in(reference, lang, source))
    return _answer(P.CheckInAnswer(ticket=ticket.issued()), 201)
