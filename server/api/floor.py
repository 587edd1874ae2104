"""Issue 17's endpoints beside the counter actions: the silent alarm and a department opened or
closed by hand (docs/API.md).

The alarm is not a ticket action: it answers 202 ``{"alarm"}``, is logged in the ledger (counter
and time, no name) and goes out on the hub's staff channel only (:meth:`Hub.publish_staff`), so
no board, kiosk, phone or public socket ever sees it or a gap in ``seq`` because of it. The desk
page raises and clears alarms through :func:`raise_alarm` and :func:`clear_alarm` too, so both
doors do the same.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.server.api.errors import documented as _errors
from nummerlapp.server.api.services import Services, services

router = APIRouter()

CounterId = Path(min_length=1, max_length=64, description="counter id, e.g. `2`")
AlarmId = Path(min_length=1, max_length=64, description="the alarm's id (`al_…`)")
DepartmentId = Path(min_length=1, max_length=64, description="department id, e.g. `nav`")


async def raise_alarm(svc: Services, counter_id: str) -> P.Alarm:
    """Log the alarm (durable first), then tell the staff sockets."""
    alarm = await svc.runner.run(lambda ledger: ledger.raise_alarm(counter_id))
    svc.hub.publish_staff(P.AlarmRaised(seq=svc.hub.last_seq, at=alarm.at, alarm=alarm).encode())
    return alarm


async def clear_alarm(svc: Services, alarm_id: str) -> P.Alarm:
    alarm = await svc.runner.run(lambda ledger: ledger.clear_alarm(alarm_id))
    svc.hub.publish_staff(P.AlarmCleared(seq=svc.hub.last_seq, at=alarm.at, alarm=alarm).encode())
    return alarm


@router.post(
    "/counters/{counter_id}/alarm",
    status_code=202,
    response_model=P.AlarmAnswer,
    responses=_errors(401, 403, 404, 422),
    tags=["counters"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def counter_alarm(request: Request, counter_id: str = CounterId) -> JSONResponse:
    """The desk's silent alarm (staff of that counter) → 202 and `alarm.raised` to staff,
    manager and admin sockets only. A counter's standing alarm is answered again, not doubled."""
    alarm = await raise_alarm(services(request), counter_id)
    return JSONResponse(P.AlarmAnswer(alarm=alarm).encode(), status_code=202)


@router.post(
    "/alarms/{alarm_id}/clear",
    response_model=P.AlarmAnswer,
    responses=_errors(401, 403, 404, 422),
    tags=["counters"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def alarm_clear(request: Request, alarm_id: str = AlarmId) -> JSONResponse:
    """A colleague has seen to it (staff, manager, admin) → `alarm.cleared`; 404 `unknown_alarm`."""
    alarm = await clear_alarm(services(request), alarm_id)
    return JSONResponse(P.AlarmAnswer(alarm=alarm).encode())


def _department_route(name: Literal["open", "close", "hours"], value: bool | None, doc: str) -> None:
    async def action(request: Request, department_id: str = DepartmentId) -> JSONResponse:
        svc = services(request)
        changed = await svc.runner.run(lambda ledger: ledger.set_department_open(department_id, value))
        return JSONResponse(P.DepartmentAnswer(department=changed).encode())

    action.__name__ = f"department_{name}"
    action.__doc__ = doc
    router.post(
        f"/departments/{{department_id}}/{name}",
        response_model=P.DepartmentAnswer,
        responses=_errors(401, 403, 404, 422),
        tags=["site"],
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )(action)


_department_route(
    "open",
    True,
    "Extension: open one department for the rest of the service day, whatever its own hours say "
    "(the site's state still rules) → `department.changed` (manager, admin).",
)
_department_route(
    "close",
    False,
    "Extension: close one department for the rest of the service day (new tickets: 409 "
    "`department_closed`; those waiting are still called) → `department.changed` (manager, admin).",
)
_department_route(
    "hours",
    None,
    "Extension: drop today's open/close of the department: its hours rule again (manager, admin).",
)
