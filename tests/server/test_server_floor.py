"""Issue 17 over the wire, on a real server process: serve, call out of turn, park and call back,
a department closed by hand, and the silent alarm, which reaches staff, manager and admin sockets
and never a board, a kiosk or the public stream, nor makes a gap in their ``seq``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from nummerlapp.common import protocol as P
from nummerlapp.tests.server.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(120)


def bearer(server: ServerProcess, role: str, counter: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(role, counter)}"}


async def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def drain(ws: ClientConnection, quiet: float = 0.6) -> list[dict[str, Any]]:
    """Every message until the socket stays quiet for ``quiet`` seconds."""
    out: list[dict[str, Any]] = []
    while True:
        try:
            out.append(await recv(ws, quiet))
        except TimeoutError:
            return out


def clear(http: httpx.Client, admin: dict[str, str], counter: str) -> None:
    http.post(f"/counters/{counter}/open", headers=admin)
    http.post(f"/counters/{counter}/done", headers=admin)


def test_serve_call_park_over_http(server: ServerProcess, http: httpx.Client, admin: dict[str, str]) -> None:
    clear(http, admin, "2")
    desk2 = bearer(server, "staff", "2")
    first = http.post("/tickets", json={"department": "nav"}, headers=admin).json()
    second = http.post("/tickets", json={"department": "bygg"}, headers=admin).json()
    assert (
        http.post("/counters/2/call", json={"ticket": second["number"]}, headers=desk2).json()["ticket"]["id"]
        == second["id"]
    )
    served = http.post("/counters/2/serve", headers=desk2).json()["ticket"]
    assert served["status"] == "serving"
    parked = http.post("/counters/2/park", headers=desk2)
    assert parked.status_code == 200 and parked.json()["ticket"]["status"] == "parked"
    P.CurrentTicketAnswer.model_validate(parked.json())
    # next skips the parked ticket and calls the NAV one
    assert http.post("/counters/2/next", headers=desk2).json()["ticket"]["id"] == first["id"]
    back = http.post("/counters/2/call", json={"ticket": second["id"]}, headers=desk2)
    assert back.status_code == 200 and back.json()["ticket"]["status"] == "called"
    assert http.get(f"/tickets/{first['id']}", headers=admin).json()["status"] == "done"
    # refusals, in the contract's shape
    missing = http.post("/counters/2/call", json={"ticket": "B999"}, headers=desk2)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "unknown_ticket")
    busy = http.post("/counters/2/call", json={"ticket": second["number"]}, headers=desk2)
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "not_waiting")
    assert http.post("/counters/2/call", json={}, headers=desk2).status_code == 422
    assert http.post("/counters/2/call", json={"ticket": "x", "extra": 1}, headers=desk2).status_code == 422
    other = http.post("/counters/3/park", headers=desk2)
    assert (other.status_code, other.json()["error"]["code"]) == (403, "wrong_counter")
    assert http.post("/counters/2/park").status_code == 401  # auth before anything
    clear(http, admin, "2")
    nothing = http.post("/counters/2/park", headers=desk2)
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "no_current_ticket")


def test_department_closed_and_opened_by_a_manager(
    server: ServerProcess, http: httpx.Client, admin: dict[str, str]
) -> None:
    manager = bearer(server, "manager")
    closed = http.post("/departments/bygg/close", headers=manager)
    assert closed.status_code == 200 and closed.json()["department"]["open"] is False
    refused = http.post("/tickets", json={"department": "bygg"}, headers=admin)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "department_closed")
    assert http.post("/tickets", json={"department": "nav"}, headers=admin).status_code == 201
    assert http.post("/departments/bygg/hours", headers=manager).json()["department"]["open"] is True
    assert http.post("/departments/nope/close", headers=manager).status_code == 404
    staff = http.post("/departments/bygg/close", headers=bearer(server, "staff"))
    assert (staff.status_code, staff.json()["error"]["code"]) == (403, "forbidden")
    assert http.post("/site/close", headers=manager).status_code == 200
    assert http.post("/site/hours", headers=manager).status_code == 200


async def test_the_silent_alarm_reaches_staff_only_and_no_seq_gap(
    server: ServerProcess, admin: dict[str, str]
) -> None:
    desk1 = bearer(server, "staff", "1")
    kiosk = bearer(server, "kiosk")
    display = bearer(server, "display")
    manager = bearer(server, "manager")
    with pytest.raises(InvalidStatus):  # a bad token is refused, not taken for the public stream
        async with connect(server.ws_url, additional_headers={"Authorization": "Bearer nl_nope"}):
            pass
    async with (
        connect(server.ws_url) as public,
        connect(server.ws_url + "?device=board-1&role=board", additional_headers=display) as board,
        connect(server.ws_url + "?device=kiosk-1&role=kiosk", additional_headers=kiosk) as kiosk_ws,
        connect(server.ws_url, additional_headers=bearer(server, "staff", "2")) as colleague,
        connect(server.ws_url, additional_headers=manager) as boss_ws,
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
    ):
        sockets = {
            "public": public,
            "board": board,
            "kiosk": kiosk_ws,
            "staff": colleague,
            "manager": boss_ws,
        }
        snaps = {name: await recv(ws) for name, ws in sockets.items()}
        assert {s["type"] for s in snaps.values()} == {"snapshot"}
        await http.post("/tickets", json={"department": "nav"}, headers=admin)
        raised = await http.post("/counters/1/alarm", headers=desk1)
        assert raised.status_code == 202
        alarm = P.AlarmAnswer.model_validate(raised.json()).alarm
        assert (alarm.counter.id, alarm.counter.name) == ("1", "Skranke 1")
        # admins may clear but not raise (the alarm is a desk's own); a desk only at its own counter
        assert (await http.post("/counters/1/alarm", headers=admin)).status_code == 403
        assert (await http.post("/counters/2/alarm", headers=desk1)).status_code == 403
        await http.post("/tickets", json={"department": "nav"}, headers=admin)
        cleared = await http.post(f"/alarms/{alarm.id}/clear", headers=manager)
        assert cleared.status_code == 200 and cleared.json()["alarm"]["id"] == alarm.id
        assert (await http.post("/alarms/al_unknown/clear", headers=manager)).status_code == 404
        assert (await http.post(f"/alarms/{alarm.id}/clear", headers=kiosk)).status_code == 403
        await http.post("/tickets", json={"department": "nav"}, headers=admin)
        seen = {name: await drain(ws) for name, ws in sockets.items()}

    for name in ("public", "board", "kiosk"):
        kinds = [m["type"] for m in seen[name]]
        assert not any(k.startswith("alarm.") for k in kinds), (name, kinds)
        seqs = [snaps[name]["seq"], *(m["seq"] for m in seen[name])]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (name, seqs)  # +1 each, no gap
        assert kinds.count("ticket.issued") == 3
    for name in ("staff", "manager"):
        alarms = [m for m in seen[name] if m["type"].startswith("alarm.")]
        assert [(m["type"], m["alarm"]["id"]) for m in alarms] == [
            ("alarm.raised", alarm.id),
            ("alarm.cleared", alarm.id),
        ]
        for message in alarms:
            assert isinstance(P.decode_event(message), P.AlarmRaised | P.AlarmCleared)
        ordered = [m["seq"] for m in seen[name] if not m["type"].startswith("alarm.")]
        assert ordered == list(range(snaps[name]["seq"] + 1, snaps[name]["seq"] + 1 + len(ordered)))


async def test_a_staff_socket_that_connects_later_hears_the_standing_alarm(server: ServerProcess) -> None:
    desk1 = bearer(server, "staff", "1")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        alarm = (await http.post("/counters/1/alarm", headers=desk1)).json()["alarm"]
        async with connect(server.ws_url, additional_headers=bearer(server, "admin")) as admin_ws:
            assert (await recv(admin_ws))["type"] == "snapshot"
            standing = await recv(admin_ws)
            assert (standing["type"], standing["alarm"]["id"]) == ("alarm.raised", alarm["id"])
        async with connect(server.ws_url) as public:
            assert (await recv(public))["type"] == "snapshot"
            assert await drain(public, 0.5) == []
        await http.post(f"/alarms/{alarm['id']}/clear", headers=desk1)
