"""The HTTP endpoints of PROTOCOL.md and this project's extensions (docs/API.md).

Authentication already happened in ``server.api.app.AuthMiddleware``; handlers read the principal from
``request.state.principal``. Every ledger call goes through the writer thread (``runner.call``).
Answers are returned as ``JSONResponse`` built from the ledger's own ``to_json()``: the declared
``response_model`` documents the shape in /openapi.json (and the fuzz test checks the two agree)
without a second validation pass on every request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from nummerlapp.server.api import models as m
from nummerlapp.server.api.app import _errors, error_response, retry_after

router = APIRouter()

CounterId = Path(min_length=1, max_length=64, description="counter id, e.g. `2`")
DeviceId = Path(min_length=1, max_length=64, description="the device's own id")


def _state(request: Request) -> Any:
    return request.app.state


def _principal(request: Request) -> Any:
    return request.state.principal


async def _call(request: Request, method: str, *args: Any) -> Any:
    return await _state(request).runner.call(method, *args)


def _ticket(t: Any) -> dict[str, Any] | None:
    return None if t is None else dict(t.to_json())


# -- public -------------------------------------------------------------------------------------


@router.get("/health", response_model=m.HealthOut, tags=["public"])
async def health(request: Request) -> JSONResponse:
    """Liveness: `{"status": "ok", "version", "site"}`."""
    return JSONResponse(
        {"status": "ok", "version": request.app.version, "site": _state(request).settings.site.id}
    )


@router.get("/state", response_model=m.SnapshotOut, tags=["public"])
async def state(request: Request) -> JSONResponse:
    """The board snapshot (also the first message on the event socket)."""
    return JSONResponse(await _state(request).snapshot())


@router.get("/events", include_in_schema=False)
async def events_over_http() -> JSONResponse:
    return error_response(426, "upgrade_required", "GET /api/v1/events is a WebSocket: connect with ws://")


@router.get(
    "/tickets/{ticket_id}",
    response_model=m.TicketOut,
    responses=_errors(404, 422),
    tags=["public"],
)
async def get_ticket(request: Request, ticket_id: str = Path(max_length=200)) -> JSONResponse:
    """A ticket by its unguessable id, with fresh `ahead` and `estimated_wait_s`."""
    return JSONResponse(await _state(request).ticket(ticket_id))


# -- tickets and counters ---------------------------------------------------------------------------


@router.post(
    "/tickets",
    status_code=201,
    response_model=m.TicketOut,
    responses=_errors(401, 403, 404, 409, 422, 429),
    tags=["tickets"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def issue(request: Request, body: m.IssueIn) -> JSONResponse:
    """Issue a ticket (kiosk, staff, admin). Kiosk tokens: one per `site.kiosk_interval_s`."""
    who = _principal(request)
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
    ticket = await _call(request, "issue", body.department, body.lang, source)
    return JSONResponse(_ticket(ticket), status_code=201)


def _counter_action(name: str, method: str, doc: str, model: type[Any] = m.TicketResult) -> None:
    async def action(request: Request, counter_id: str = CounterId) -> JSONResponse:
        return JSONResponse({"ticket": _ticket(await _call(request, method, counter_id))})

    action.__name__ = f"counter_{method}"
    action.__doc__ = doc
    router.post(
        f"/counters/{{counter_id}}/{name}",
        response_model=model,
        responses=_errors(401, 403, 404, 409, 422),
        tags=["counters"],
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )(action)


_counter_action(
    "next", "next", "Close the current ticket as done and call the next one (`ticket: null` if nobody waits)."
)
_counter_action("recall", "recall", "Announce the current ticket again.")
_counter_action(
    "serve",
    "start_serving",
    "Extension: the called visitor has arrived at the desk: the current ticket `called` → `serving` "
    "(`ticket.serving`). Already serving: 200 with the ticket, nothing changes, no event.",
    m.ServeResult,
)
_counter_action("no-show", "no_show", "The current ticket did not come: `no_show`.")
_counter_action("done", "done", "The current ticket is finished; the counter is idle.")


@router.post(
    "/counters/{counter_id}/transfer",
    response_model=m.TicketResult,
    responses=_errors(401, 403, 404, 409, 422),
    tags=["counters"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def transfer(request: Request, body: m.TransferIn, counter_id: str = CounterId) -> JSONResponse:
    """The current ticket waits in another department, keeping its place by original issue time."""
    return JSONResponse({"ticket": _ticket(await _call(request, "transfer", counter_id, body.department))})


def _counter_state(name: str, method: str, doc: str) -> None:
    async def action(request: Request, counter_id: str = CounterId) -> JSONResponse:
        counter = await _call(request, method, counter_id)
        return JSONResponse({"counter": counter.to_json()})

    action.__name__ = f"counter_{name}"
    action.__doc__ = doc
    router.post(
        f"/counters/{{counter_id}}/{name}",
        response_model=m.CounterResult,
        responses=_errors(401, 403, 404, 422),
        tags=["counters"],
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )(action)


_counter_state("pause", "pause", "The counter stops taking calls (`next` answers 409 `counter_paused`).")
_counter_state("open", "open_counter", "The counter takes calls again.")


def _site_action(name: str, value: bool | None, doc: str) -> None:
    async def action(request: Request) -> JSONResponse:
        runner = _state(request).runner
        await runner.call("set_site_open", value)
        snap = await _state(request).snapshot()
        return JSONResponse({"site": snap["site"]})

    action.__name__ = f"site_{name}"
    action.__doc__ = doc
    router.post(
        f"/site/{name}",
        response_model=m.SiteResult,
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
    response_model=m.DeviceResult,
    responses=_errors(401, 403, 422),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def device_status(request: Request, body: m.DeviceStatusIn, device_id: str = DeviceId) -> JSONResponse:
    """A kiosk's or board's heartbeat and printer state → `device.status` event."""
    role = "board" if body.role == "display" else body.role
    status: dict[str, Any] = {"version": body.version}
    if body.printer is not None:
        status["printer"] = body.printer.model_dump()
    runner = _state(request).runner

    def report(ledger: Any) -> dict[str, Any]:
        ledger.report_device(device_id, role, status, body.name or None)
        return next((d for d in ledger.devices() if d.get("id") == device_id), {"id": device_id})

    device = await runner.run(report)
    return JSONResponse({"device": device})


@router.get(
    "/devices",
    response_model=m.DevicesOut,
    responses=_errors(401, 403),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def devices(request: Request) -> JSONResponse:
    """Devices seen over mDNS, connected to the event socket, or reporting status (admin)."""
    st = _state(request)
    found: dict[str, dict[str, Any]] = {}

    def entry(device_id: str, role: str) -> dict[str, Any]:
        return found.setdefault(device_id, {"id": device_id, "role": role, "sources": []})

    for row in await st.runner.call("devices"):
        e = entry(str(row["id"]), str(row.get("role", "")))
        e.update({k: v for k, v in row.items() if k not in ("id", "sources")})
        e["sources"].append("report")
    for device_id, info in st.hub_clients.items():
        e = entry(device_id, info["role"])
        e.setdefault("address", info["address"])
        e["sources"].append("socket")
    if st.mdns is not None:
        for d in st.mdns.devices():
            e = entry(d.device_id, d.role)
            e.setdefault("address", f"{d.host}:{d.port}")
            e["sources"].append("mdns")
    return JSONResponse({"devices": sorted(found.values(), key=lambda d: (d["role"], d["id"]))})


@router.post(
    "/devices/{device_id}/identify",
    response_model=m.AcceptedOut,
    status_code=202,
    responses=_errors(401, 403, 404, 422),
    tags=["devices"],
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def identify(request: Request, device_id: str = DeviceId) -> JSONResponse:
    """Ask a device to show itself (blink, show its id): a `device.identify` event (admin)."""
    await _call(request, "identify", device_id)
    return JSONResponse({"ok": True}, status_code=202)
