"""The HTTP endpoints of PROTOCOL.md and this project's extensions (docs/API.md).

Authentication already happened in ``server.api.access.AccessMiddleware`` (the one rule table); handlers
read the principal with ``principal(request)`` and the app's parts with ``services(request)``. Every
ledger call goes through the writer thread (``runner.run(lambda ledger: …)``). The counter actions'
routes are made from ``server.api.actions.ACTIONS``.
Answers are the protocol module's shapes (``nummerlapp.common.protocol``), encoded once into a
``JSONResponse``; the declared ``response_model`` is the same class, so /openapi.json comes from
it (and the fuzz test checks the two agree) without a second validation pass on every request.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.server.api.access import principal
from nummerlapp.server.api.actions import ACTIONS, ActionSpec, CounterAction, Outcome, Target
from nummerlapp.server.api.enrolment import device_list
from nummerlapp.server.api.errors import documented as _errors
from nummerlapp.server.api.errors import error_response, retry_after
from nummerlapp.server.api.reports import TooManyDevices
from nummerlapp.server.api.services import Services, services
from nummerlapp.server.ledger import CounterState, Ledger, Ticket

router = APIRouter()

CounterId = Path(min_length=1, max_length=64, description="counter id, e.g. `2`")
DeviceId = Path(min_length=1, max_length=64, description="the device's own id")


def _state(request: Request) -> Services:
    return services(request)


def _answer(shape: P.Wire, status_code: int = 200) -> JSONResponse:
    return JSONResponse(shape.encode(), status_code=status_code)


# -- public -------------------------------------------------------------------------------------


@router.get("/health", response_model=P.Health, tags=["public"])
async def health(request: Request) -> JSONResponse:
    """Liveness: `{"status": "ok", "version", "site"}`, and `tls_sha256` when serving TLS."""
    st = _state(request)
    extra = {} if st.tls_sha256 is None else {"tls_sha256": st.tls_sha256}
    return _answer(P.Health(status="ok", version=request.app.version, site=st.settings.site.id, **extra))


@router.get("/state", response_model=P.Snapshot, tags=["public"])
async def state(request: Request) -> JSONResponse:
    """The board snapshot (also the first message on the event socket)."""
    return _answer(await _state(request).runner.run(lambda ledger: ledger.state()))


@router.get("/events", include_in_schema=False)
async def events_over_http() -> JSONResponse:
    return error_response(426, "upgrade_required", "GET /api/v1/events is a WebSocket: connect with ws://")


@router.get(
    "/tickets/{ticket_id}",
    response_model=P.Ticket,
    responses=_errors(401, 403, 404, 422),
    tags=["tickets"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def get_ticket(request: Request, ticket_id: str = Path(max_length=200)) -> JSONResponse:
    """A ticket by its id, with fresh `ahead` and `estimated_wait_s`. Needs a token from v1.1 on
    (ids are on the boards' event stream); a visitor's phone uses `GET /follow/{follow}`."""
    ticket = await _state(request).runner.run(lambda ledger: ledger.ticket(ticket_id))
    return _answer(ticket.wire())


# -- tickets and counters ---------------------------------------------------------------------------


@router.post(
    "/tickets",
    status_code=201,
    response_model=P.IssuedTicket,
    responses=_errors(401, 403, 404, 409, 422, 429),
    tags=["tickets"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def issue(request: Request, body: P.IssueBody) -> JSONResponse:
    """Issue a ticket (kiosk, staff, admin). Kiosk tokens: one per `site.kiosk_interval_s`."""
    who = principal(request)
    if who.role == "kiosk":
        wait = _state(request).limiter.check(who.id)
        if wait > 0:
            return error_response(
                429,
                "too_many_requests",
                f"this kiosk took a ticket less than {_state(request).limiter.interval:g} s ago; try again shortly",
                headers=retry_after(wait),
            )
    source = who.name if who.kind == "token" else f"user#{who.id}"
    ticket = await _state(request).runner.run(lambda ledger: ledger.issue(body.department, body.lang, source))
    return _answer(ticket.issued(), status_code=201)


async def _act(request: Request, spec: ActionSpec, counter_id: str, target: Target) -> JSONResponse:
    def perform(ledger: Ledger) -> Outcome:
        return spec.perform(ledger, counter_id, target)

    result = await _state(request).runner.run(perform)
    if spec.answers == "counter":
        assert isinstance(result, CounterState)
        return _answer(P.CounterAnswer(counter=result.wire()))
    assert result is None or isinstance(result, Ticket)
    return _answer(P.TicketAnswer(ticket=None if result is None else result.wire()))


_ANSWERS: dict[str, type[P.Wire]] = {"ticket": P.TicketAnswer, "counter": P.CounterAnswer}
_SPECIAL_ANSWERS: dict[CounterAction, type[P.Wire]] = {
    CounterAction.SERVE: P.CurrentTicketAnswer,
    CounterAction.CALL: P.CurrentTicketAnswer,
    CounterAction.PARK: P.CurrentTicketAnswer,
}


def _counter_route(spec: ActionSpec) -> None:
    """The route of one counter action, from its row in ``ACTIONS``."""
    if spec.needs_department:

        async def action(request: Request, body: P.TransferBody, counter_id: str = CounterId) -> JSONResponse:
            return await _act(request, spec, counter_id, Target(department=body.department))

    elif spec.needs_ticket:

        async def action(request: Request, body: P.CallBody, counter_id: str = CounterId) -> JSONResponse:  # type: ignore[misc]
            return await _act(request, spec, counter_id, Target(ticket=body.ticket))

    else:

        async def action(request: Request, counter_id: str = CounterId) -> JSONResponse:  # type: ignore[misc]
            return await _act(request, spec, counter_id, Target())

    action.__name__ = "counter_" + spec.action.value.replace("-", "_")
    action.__doc__ = spec.summary
    router.post(
        f"/counters/{{counter_id}}/{spec.action.value}",
        response_model=_SPECIAL_ANSWERS.get(spec.action, _ANSWERS[spec.answers]),
        responses=_errors(401, 403, 404, 409, 422)
        if spec.answers == "ticket"
        else _errors(401, 403, 404, 422),
        tags=["counters"],
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )(action)


for _spec in ACTIONS.values():
    _counter_route(_spec)


def _site_action(name: str, value: bool | None, doc: str) -> None:
    async def action(request: Request) -> JSONResponse:
        def set_open(ledger: Ledger) -> P.Site:
            ledger.set_site_open(value)
            return ledger.state().site

        return _answer(P.SiteAnswer(site=await _state(request).runner.run(set_open)))

    action.__name__ = f"site_{name}"
    action.__doc__ = doc
    router.post(
        f"/site/{name}",
        response_model=P.SiteAnswer,
        responses=_errors(401, 403),
        tags=["site"],
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )(action)


_site_action(
    "open", True, "Open the site now, whatever the hours say, for the rest of the service day (admin)."
)
_site_action("close", False, "Close the site now for the rest of the service day (admin).")
_site_action("hours", None, "Extension: drop today's override; the opening hours rule again (admin).")


# -- devices (extensions) -------------------------------------------------------------------------


@router.post(
    "/devices/{device_id}/status",
    response_model=P.DeviceAnswer,
    responses=_errors(401, 403, 422, 429),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def device_status(
    request: Request, body: P.DeviceStatusBody, device_id: str = DeviceId
) -> JSONResponse:
    """A kiosk's or board's heartbeat and printer state → `device.status` event."""
    role = "board" if body.role == "display" else body.role
    if body.printer is None:
        status = P.DeviceReport(version=body.version)
    else:
        status = P.DeviceReport(version=body.version, printer=P.PrinterReport(**dict(body.printer)))
    who = principal(request)
    gate = _state(request).reports
    key = f"{role}|{body.name or ''}|{status.encode_json()}"
    try:
        known = gate.check(who.id, who.role == "admin", device_id, key)
    except TooManyDevices:
        return error_response(
            403, "too_many_devices", "this token already reports for as many devices as it may"
        )
    if isinstance(known, P.Device):  # the same as last time: no write, no event
        return _answer(P.DeviceAnswer(device=known))
    if isinstance(known, float):
        return error_response(
            429, "too_many_requests", "this device reports too often", headers=retry_after(known)
        )

    def report(ledger: Ledger) -> P.Device:
        return ledger.report_device(device_id, role, status, body.name or None)

    device = await _state(request).runner.run(report)
    gate.written(device_id, key, device)
    return _answer(P.DeviceAnswer(device=device))


@router.get(
    "/devices",
    response_model=P.DeviceList,
    responses=_errors(401, 403),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def devices(request: Request) -> JSONResponse:
    """Every enrolled device, and devices heard over mDNS or reporting status; whether each is
    connected (its event socket, opened with its token, is open now) (admin)."""
    return _answer(P.DeviceList(devices=await device_list(_state(request))))


@router.post(
    "/devices/{device_id}/identify",
    response_model=P.Accepted,
    status_code=202,
    responses=_errors(401, 403, 404, 422),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def identify(request: Request, device_id: str = DeviceId) -> JSONResponse:
    """Ask a device to show itself (blink, show its id): a `device.identify` event (admin)."""
    await _state(request).runner.run(lambda ledger: ledger.identify(device_id))
    return _answer(P.Accepted(ok=True), status_code=202)
