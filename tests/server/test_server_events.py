"""The event socket with real WebSocket clients: snapshot first, seq +1, slow clients dropped."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from nummerlapp.common import protocol as P
from nummerlapp.tests.server.serverproc import ServerProcess, write_site

pytestmark = pytest.mark.timeout(120)


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def test_snapshot_then_events_in_seq_order(server: ServerProcess, admin: dict[str, str]) -> None:
    async with (
        connect(server.ws_url) as a,
        # a device is a socket with a device token (PROTOCOL.md v1.1); a hand-made one names itself
        connect(
            server.ws_url + "?device=board-a",
            additional_headers={"Authorization": f"Bearer {server.token('display')}"},
        ) as b,
        httpx.AsyncClient(base_url=server.url, headers=admin) as http,
    ):
        snaps = [await recv_json(a), await recv_json(b)]
        for snap in snaps:
            assert snap["type"] == "snapshot" and snap["seq"] == snap["state"]["seq"]
            assert {"site", "departments", "counters", "calls"} <= set(snap["state"])
        # both clients can have subscribed at different seqs only if something changed in between
        start = snaps[0]["seq"]
        listed = (await http.get("/devices")).json()["devices"]
        assert any(d["id"] == "board-a" and "socket" in d["sources"] for d in listed)
        issued = (await http.post("/tickets", json={"department": "bygg"})).json()
        while True:  # the next bygg call at counter 3 may hit older tickets; call until ours
            called = (await http.post("/counters/3/next")).json()["ticket"]
            if called["id"] == issued["id"]:
                break
        for ws, snap in ((a, snaps[0]), (b, snaps[1])):
            seq = snap["seq"]
            seen: list[dict[str, Any]] = []
            while not any(e["type"] == "ticket.called" and e["ticket"]["id"] == issued["id"] for e in seen):
                event = await recv_json(ws)
                assert event["seq"] == seq + 1, (event, seq)
                assert isinstance(event["at"], str)
                seq = event["seq"]
                seen.append(event)
            issue_event = next(e for e in seen if e["type"] == "ticket.issued")
            assert issue_event["ticket"]["id"] == issued["id"]
            call = P.decode_event(seen[-1])
            assert isinstance(call, P.TicketCalled)
            assert (call.ticket.id, call.ticket.number, call.ticket.department) == (
                issued["id"],
                issued["number"],
                "bygg",
            )
            assert call.counter == call.ticket.counter == P.CounterRef(id="3", name="Skranke 3")
        assert start <= snaps[1]["seq"]


async def test_serve_sends_ticket_serving_once(server: ServerProcess, admin: dict[str, str]) -> None:
    staff4 = {"Authorization": f"Bearer {server.token('staff', '4')}"}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=staff4) as http,
        httpx.AsyncClient(base_url=server.url, headers=admin) as admin_http,
    ):
        while (await http.post("/counters/4/next")).json()["ticket"] is not None:
            pass  # counter 4 (department tiny) idle and its queue empty
        issued = (await admin_http.post("/tickets", json={"department": "tiny"})).json()
        assert (await http.post("/counters/4/next")).json()["ticket"]["id"] == issued["id"]
        async with connect(server.ws_url) as ws:
            seq = (await recv_json(ws))["seq"]
            assert (await http.post("/counters/4/serve")).json()["ticket"]["status"] == "serving"
            event = await recv_json(ws)
            assert event["type"] == "ticket.serving" and event["seq"] == seq + 1
            assert P.decode_event(event) == P.TicketServing.model_validate(event)
            assert event["counter"] == {"id": "4", "name": "Skranke 4"}
            assert event["ticket"]["id"] == issued["id"] and event["ticket"]["status"] == "serving"
            assert event["ticket"]["number"] == issued["number"]
            # serving again changes nothing: the next event on the socket is the done that follows
            assert (await http.post("/counters/4/serve")).status_code == 200
            assert (await http.post("/counters/4/done")).json()["ticket"]["status"] == "done"
            event = await recv_json(ws)
            assert event["type"] == "ticket.done" and event["seq"] == seq + 2
            assert event["ticket"]["id"] == issued["id"] and event["counter"] == {
                "id": "4",
                "name": "Skranke 4",
            }


@pytest.fixture(scope="module")
def small_queue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("slow")
    proc = ServerProcess(write_site(tmp / "site.toml"), tmp / "ledger.db", extra=("--client-queue", "8"))
    proc.start()
    yield proc
    proc.stop()


async def test_slow_client_is_dropped_others_keep_receiving(small_queue_server: ServerProcess) -> None:
    server = small_queue_server
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    # The slow board: a tiny receive window and a 1-message client queue, and it never reads.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: sets the window
    sock.connect(("127.0.0.1", server.port))
    board = {"Authorization": f"Bearer {server.token('display')}"}
    slow = await connect(
        server.ws_url + "?device=slow-board", sock=sock, max_queue=1, additional_headers=board
    )
    fast = await connect(server.ws_url, max_queue=None)
    received: list[int] = []
    start_seq = (await recv_json(fast))["seq"]

    async def read_fast() -> None:
        async for message in fast:
            received.append(json.loads(message)["seq"])

    reader = asyncio.create_task(read_fast())
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as http:

        async def slow_listed() -> bool:
            devices = (await http.get("/devices")).json()["devices"]
            return any(d["id"] == "slow-board" for d in devices)

        assert await slow_listed()
        issued = 0
        departments = ["nav", "bygg"]
        while await slow_listed():
            assert issued < 1900, "the stuck client was never dropped"
            batch = [
                http.post("/tickets", json={"department": departments[(issued + i) % 2]}) for i in range(50)
            ]
            results = await asyncio.gather(*batch)
            assert all(r.status_code == 201 for r in results)
            issued += 50
        print(f"slow client dropped after {issued} events")
        last = (await http.get("/state")).json()["seq"]
        # the fast client got every event, in order, no gap, while the slow one was dropped
        async with asyncio.timeout(20):
            while not received or received[-1] < last:
                await asyncio.sleep(0.01)
        assert received == list(range(start_seq + 1, last + 1))
    reader.cancel()
    # the slow client, reading at last, sees a contiguous prefix and then the socket closes
    got: list[int] = []
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(20):
            first = await recv_json(slow)
            assert first["type"] == "snapshot"
            while True:
                got.append(json.loads(await slow.recv())["seq"])
    assert len(got) < last - first["seq"]
    assert got == list(range(first["seq"] + 1, first["seq"] + 1 + len(got)))
    code = closed.value.rcvd.code if closed.value.rcvd is not None else None
    assert code in (1013, None)  # 1013 when the close frame got through, else an aborted socket
    await fast.close()
    await slow.close()
