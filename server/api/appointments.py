"""Booked visits over HTTP (PROTOCOL.md v1.1, "Booked visits (appointments)").

    POST   /api/v1/appointments                          staff, manager, admin, booking → 201
    GET    /api/v1/appointments?date=YYYY-MM-DD          staff, manager, admin, booking
    DELETE /api/v1/appointments/{reference}              staff, manager, admin, booking → 200
    POST   /api/v1/appointments/{reference}/check-in     kiosk, staff, admin → 201
    POST   /api/v1/appointments/{reference}/slip         staff, manager, admin → 202 (extension)

Who may call them is the one rule table (server/api/auth.py, ``BOOK_APPOINTMENTS``,
``CHECK_IN`` and ``PRINT_SLIP``), checked by the middleware (server/api/access.py) before a body
is read. The rules of booking, check-in and the order of calls are the ledger's
(server/ledger/appointments.py).

The slip (:func:`send_slip`): a booked visit's reference printed at one kiosk's printer. It is no
change of the site's state (nothing is written, no ``seq`` is taken): an ``appointment.slip``
message goes to the event socket(s) of that enrolled kiosk only (``Hub.publish_device``), and
202 means a socket of the kiosk took it. The desk page's triage section sends it through the
same function (server/web/triage.py), and lists the kiosks to choose from with
:func:`connected_kiosks`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, LedgerError, NotFound
from nummerlapp.config.hours import service_day
from nummerlapp.server.api import enrolment
from nummerlapp.server.api.access import principal
from nummerlapp.server.api.errors import documented, error_response
from nummerlapp.server.api.services import Services, services

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


# -- the slip at a kiosk's printer (extension) ----------------------------------------------------

# A visit in these states has nothing left to check in with: its slip would mislead the visitor.
_NO_SLIP = {"cancelled": "cancelled", "no_show": "too_late"}


class InvalidLanguage(LedgerError):
    """A slip language the site does not offer (the API answers 422 ``invalid_request``)."""

    status = 422
    code = "invalid_language"


async def connected_kiosks(svc: Services) -> list[P.KioskChoice]:
    """The enrolled kiosks whose own event socket is connected now, by name."""
    rows = await svc.runner.run_conn(enrolment.enrolled)
    found = [P.KioskChoice(id=r.id, name=r.name) for r in rows if r.role == "kiosk"]
    return sorted((k for k in found if svc.hub.device_connected(k.id)), key=lambda k: (k.name, k.id))


async def send_slip(svc: Services, reference: str, kiosk: str, lang: str | None) -> P.Appointment:
    """Hand a booked visit's slip to that kiosk's socket(s); changes nothing anywhere.

    404 ``unknown_appointment``, ``unknown_device`` (not an enrolled kiosk); 409 ``cancelled``,
    ``already_checked_in``, ``too_late`` (a no-show), ``kiosk_offline`` (no socket now);
    422 for a language the site does not offer."""
    visit = await svc.runner.run(lambda ledger: ledger.appointment(reference))
    row = await svc.runner.run_conn(lambda conn: enrolment.device(conn, kiosk))
    if row is None or row.role != "kiosk":
        raise NotFound(f"no enrolled kiosk is called {kiosk!r}", code="unknown_device")
    languages = svc.settings.site.languages
    if lang is not None and lang not in languages:
        raise InvalidLanguage(f"lang must be one of {', '.join(languages)}, not {lang!r}")
    if visit.status != "booked":
        code = _NO_SLIP.get(visit.status, "already_checked_in")
        raise Conflict(f"this visit is {visit.status.replace('_', ' ')}: no slip to print", code=code)
    slip = P.AppointmentSlip(
        seq=svc.hub.last_seq,  # outside the order: takes no seq (P.OUT_OF_ORDER)
        at=P.iso(svc.clock().astimezone(svc.settings.site.tz)) or "",
        device=P.DeviceRef(id=kiosk),
        appointment=P.AppointmentSlipRef(
            reference=visit.reference, department=visit.department, start=visit.start
        ),
        lang=lang or svc.settings.site.default_language,
    )
    if svc.hub.publish_device(kiosk, slip.encode()) == 0:
        raise Conflict(f"kiosk {kiosk!r} is not connected now", code="kiosk_offline")
    return visit


@router.post(
    "/appointments/{reference}/slip",
    status_code=202,
    response_model=P.Accepted,
    responses=documented(401, 403, 404, 409, 422),
    tags=["appointments"],
    openapi_extra=BEARER,
)
async def print_slip(request: Request, body: P.SlipBody, reference: str = Reference) -> JSONResponse:
    """Extension: print the visit's slip at one connected kiosk: `{"kiosk", "lang"?}` → 202.

    The kiosk (and no other socket) gets `appointment.slip` and prints the department, the time,
    the reference and its QR code. 404 `unknown_appointment`, `unknown_device` (not an enrolled
    kiosk); 409 `kiosk_offline`, `cancelled`, `already_checked_in`, `too_late`; 422 for a
    language the site does not offer."""
    await send_slip(services(request), reference, body.kiosk, body.lang)
    return _answer(P.Accepted(ok=True), 202)
