"""The event socket, ``GET /api/v1/events`` (WebSocket): snapshot first, then every event.

Order of work (why no event is lost or repeated): subscribe to the hub, *then* take the snapshot
in the writer thread, send it, then forward buffered events skipping ``seq <= snapshot seq``
(see server/api/hub.py). Two tasks per client: the pump sends, the listener notices the client
leaving. If the hub drops the client (buffer full) the pump is cancelled even when stuck in a
send on a full socket, and the socket is closed with 1013; the client reconnects to a fresh
snapshot. On shutdown uvicorn closes every socket with 1012 ("service restart").

A client may name itself with query parameters ``?device=<id>&role=board`` so the technician's
device list (``GET /api/v1/devices``) shows it; both are optional and never required.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from nummerlapp.common.protocol import Snapshot, SnapshotMessage
from nummerlapp.server.api.hub import CLOSE_SHUTDOWN, CLOSE_TOO_SLOW, Hub, Subscription

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CLOSE_WAIT_S = 2.0


@dataclass(frozen=True)
class SocketClient:
    """An event-socket client that named itself (``?device=…&role=…``), for the device list."""

    role: str
    address: str


async def serve_events(
    websocket: WebSocket,
    hub: Hub,
    snapshot: Callable[[], Awaitable[Snapshot]],
    clients: dict[str, SocketClient],
) -> None:
    await websocket.accept()
    sub = hub.subscribe()
    device = websocket.query_params.get("device", "")
    role = websocket.query_params.get("role", "board")
    entry: SocketClient | None = None
    if _NAME.match(device) and _NAME.match(role):
        peer = websocket.client
        entry = SocketClient(role, f"{peer.host}:{peer.port}" if peer else "")
        clients[device] = entry
    pump: asyncio.Task[None] | None = None
    listen: asyncio.Task[None] | None = None
    try:
        snap = await snapshot()
        await websocket.send_text(SnapshotMessage(seq=snap.seq, state=snap).encode_json())
        pump = asyncio.create_task(_pump(websocket, sub, snap.seq))
        listen = asyncio.create_task(_listen(websocket))
        running = pump

        def drop() -> None:
            running.cancel()

        sub.on_drop = drop
        await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
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


async def _pump(websocket: WebSocket, sub: Subscription, after: int) -> None:
    last = after
    while True:
        batch = await sub.next_batch()
        if not batch:  # dropped or shutting down
            return
        for seq, text in batch:
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
