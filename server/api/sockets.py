"""The event socket, ``GET /api/v1/events`` (WebSocket): snapshot first, then every event.

Order of work (why no event is lost or repeated): subscribe to the hub, *then* take the snapshot
in the writer thread, send it, then forward buffered events skipping ``seq <= snapshot seq``
(see server/api/hub.py). Two tasks per client: the pump sends, the listener notices the client
leaving. If the hub drops the client (buffer full) the pump is cancelled even when stuck in a
send on a full socket, and the socket is closed with 1013; the client reconnects to a fresh
snapshot. On shutdown uvicorn closes every socket with 1012 ("service restart").

A socket opened with a device's token (kiosk, display, feedback) is that device: the technician's
device list (``GET /api/v1/devices``) shows it connected while the socket is open, under the id
it enrolled with (a device token made by hand, not by enrolment, names itself with
``?device=<id>``). A socket without a device token is not a device, whatever it names itself
(PROTOCOL.md v1.1). When the device's token is revoked the service closes its socket (1008).
The socket of an *enrolled* device's own token (its id read from the enrolment, never from the
query) also gets the messages addressed to that device (``Hub.publish_device``: a kiosk's
``appointment.slip``), outside the ``seq`` order like the alarms.

Who is asking (PROTOCOL.md v1.1, "More counter actions"): the socket accepts a token
(``Authorization: Bearer``) or a signed-in page's session cookie (only from a page of this very
host: a cross-site page's socket carries no session). A principal whose role may hear alarms
(:data:`~server.api.auth.Permission.HEAR_ALARMS`: staff, manager, admin) gets the staff channel
as well: after the snapshot, an ``alarm.raised`` for each alarm that stands, then every
``alarm.*`` as it happens. Those messages carry the ``seq`` of the latest site event and do not
take one (they are outside the site-wide order; a client handles them apart from its gap check);
a public or device socket never gets them and so never sees a gap. An unknown or revoked bearer
token is refused (HTTP 403 before the upgrade); no token is simply the public stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from nummerlapp.common.protocol import Alarm, AlarmRaised, Snapshot, SnapshotMessage
from nummerlapp.server.api.access import AuthStore, bearer_token
from nummerlapp.server.api.auth import Permission, Principal
from nummerlapp.server.api.hub import CLOSE_SHUTDOWN, CLOSE_TOO_SLOW, Hub, Subscription

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CLOSE_WAIT_S = 2.0


DEVICE_ROLES = frozenset({"kiosk", "display", "feedback"})
CLOSE_REVOKED = 1008


@dataclass(frozen=True)
class SocketClient:
    """A device's event socket (opened with its token), for the device list."""

    role: str
    address: str
    token_id: int | None = None
    enrolled: bool = False  # the id is the enrolment's (the token's own device), not a query's
    kick: asyncio.Event = field(default_factory=asyncio.Event, compare=False)  # set: close it (revoked)


def _same_origin(websocket: WebSocket) -> bool:
    """A browser names the page that opens a socket in ``Origin``: a session cookie counts only
    when that page is this host's own (no cross-site socket hijacking)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = websocket.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


async def socket_principal(websocket: WebSocket, auth: AuthStore | None) -> Principal | bool | None:
    """The socket's principal; None: public (no credentials); False: a bad token (refuse)."""
    if auth is None:
        return None
    secret = bearer_token(websocket.scope)
    if secret is not None:
        found = auth.verify(secret)
        return found if found is not None else False
    if auth.sessions is None or not _same_origin(websocket):
        return None
    # The pages' session authenticator reads a session for safe requests; the upgrade is a GET.
    return await auth.sessions({**websocket.scope, "method": "GET"})


async def serve_events(
    websocket: WebSocket,
    hub: Hub,
    snapshot: Callable[[], Awaitable[Snapshot]],
    clients: dict[str, SocketClient],
    *,
    auth: AuthStore | None = None,
    alarms: Callable[[], Awaitable[list[Alarm]]] | None = None,
    device_of: Callable[[int], Awaitable[Any]] | None = None,
) -> None:
    who = await socket_principal(websocket, auth)
    if who is False:
        await websocket.close(code=1008, reason="the token is unknown or revoked")
        return
    staff = isinstance(who, Principal) and who.may(Permission.HEAR_ALARMS)
    await websocket.accept()
    sub = hub.subscribe(staff=staff)
    device, entry = await _device_entry(websocket, who, device_of)
    _register(clients, sub, device, entry)
    pump: asyncio.Task[None] | None = None
    listen: asyncio.Task[None] | None = None
    try:
        snap = await snapshot()
        await websocket.send_text(SnapshotMessage(seq=snap.seq, state=snap).encode_json())
        if staff and alarms is not None:
            for alarm in await alarms():  # the alarms that stand now (a reconnecting desk too)
                await websocket.send_text(AlarmRaised(seq=snap.seq, at=alarm.at, alarm=alarm).encode_json())
        pump = asyncio.create_task(_pump(websocket, sub, snap.seq))
        listen = asyncio.create_task(_listen(websocket))
        running = pump

        def drop() -> None:
            running.cancel()

        sub.on_drop = drop
        await _until_done(websocket, {pump, listen}, entry)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        sub.close()
        if entry is not None and clients.get(device) is entry:
            clients.pop(device, None)
        for task in (pump, listen):
            if task is not None and not task.done():
                task.cancel()
        for task in (pump, listen):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
        await _close(websocket, sub)


def _register(
    clients: dict[str, SocketClient], sub: Subscription, device: str, entry: SocketClient | None
) -> None:
    """A device's socket: listed as connected; an enrolled one's also gets its own messages."""
    if entry is None:
        return
    clients[device] = entry
    if entry.enrolled:
        sub.device = device  # messages for this device (Hub.publish_device) reach it


async def _until_done(
    websocket: WebSocket, tasks: set[asyncio.Task[None]], entry: SocketClient | None
) -> None:
    """Until the pump or the listener ends, or the device's token is revoked (then close 1008)."""
    kicked = asyncio.create_task(entry.kick.wait()) if entry is not None else None
    try:
        await asyncio.wait({*tasks, *([kicked] if kicked else [])}, return_when=asyncio.FIRST_COMPLETED)
        if kicked is not None and kicked.done():
            with contextlib.suppress(Exception):
                reason = "the device's token was revoked"
                await asyncio.wait_for(websocket.close(CLOSE_REVOKED, reason), CLOSE_WAIT_S)
    finally:
        if kicked is not None and not kicked.done():
            kicked.cancel()


async def _device_entry(
    websocket: WebSocket, who: Principal | bool | None, device_of: Callable[[int], Awaitable[Any]] | None
) -> tuple[str, SocketClient | None]:
    """(device id, entry) for a socket opened with a device token; ("", None) for anyone else."""
    if not isinstance(who, Principal) or who.kind != "token" or who.role not in DEVICE_ROLES:
        return "", None
    found = await device_of(who.id) if device_of is not None else None
    device = found.id if found is not None else websocket.query_params.get("device", "")
    if not _NAME.match(device):
        return "", None
    peer = websocket.client
    address = peer.host if peer else ""
    return device, SocketClient(who.role, address, token_id=who.id, enrolled=found is not None)


async def _pump(websocket: WebSocket, sub: Subscription, after: int) -> None:
    last = after
    while True:
        batch = await sub.next_batch()
        if not batch:  # dropped or shutting down
            return
        for seq, text in batch:
            if seq is not None:  # None: a staff- or device-channel message, outside the seq order
                if seq <= last:
                    continue
                last = seq
            await websocket.send_text(text)


async def _listen(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _close(websocket: WebSocket, sub: Subscription) -> None:
    if websocket.application_state != WebSocketState.CONNECTED:
        return
    if websocket.client_state != WebSocketState.CONNECTED:
        return
    if sub.dropped:
        code, reason = CLOSE_TOO_SLOW, "too slow: reconnect for a fresh snapshot"
    elif sub.closing:
        code, reason = CLOSE_SHUTDOWN, "server shutting down"
    else:
        code, reason = 1000, ""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code, reason), CLOSE_WAIT_S)
