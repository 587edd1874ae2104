"""``POST /api/v1/appointments/{reference}/slip`` on a real server process, with real sockets.

Kiosks, a board and an exit terminal enrol the way devices do (``POST /enrolments``, approved by
an admin, the token fetched once); each opens the event socket with its own token, beside a
staff socket, the public stream, and a kiosk token made by hand that names itself after the
entrance kiosk. A slip reaches the entrance kiosk's socket and no other; nobody sees a gap in
``seq``; every refusal (unknown visit, not a kiosk, offline, cancelled, bad language, no token,
wrong role) changes nothing and sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from nummerlapp.common import protocol as P
from nummerlapp.tests.server.serverproc import ServerProcess, running_server

pytestmark = pytest.mark.timeout(120)
OSLO = ZoneInfo("Europe/Oslo")
QUIET_S = 0.6  # how long a socket must stay silent to count as "got nothing"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("slip"))


def enrol(http: httpx.Client, admin: dict[str, str], device: str, role: str, name: str) -> str:
    asked = http.post("/enrolments", json={"device": device, "role": role, "name": name})
    assert asked.status_code == 201, asked.text
    found = asked.json()["enrolment"]
    assert http.post(f"/enrolments/{found['code']}/approve", headers=admin).status_code == 200
    token = http.get(f"/enrolments/{found['id']}").json()["enrolment"]["token"]
    assert isinstance(token, str)
    return token


class Socket:
    """One event socket, its messages collected in a task."""

    def __init__(self, name: str, ws: ClientConnection) -> None:
        self.name, self.ws = name, ws
        self.messages: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                self.messages.append(json.loads(raw))

    async def wait_for(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.messages:
                if message["type"] == kind:
                    return message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name} never got {kind}: {self.messages}")
            await asyncio.sleep(0.02)

    def kinds(self) -> list[str]:
        return [m["type"] for m in self.messages]


@contextlib.asynccontextmanager
async def sockets(server: ServerProcess, tokens: dict[str, str | None]) -> AsyncIterator[dict[str, Socket]]:
    opened: dict[str, Socket] = {}
    try:
        for name, token in tokens.items():
            url = server.ws_url + ("?device=kiosk-entrance&role=kiosk" if name == "impostor" else "")
            headers = {"Authorization": f"Bearer {token}"} if token else None
            ws = await connect(url, additional_headers=headers, proxy=None)
            opened[name] = Socket(name, ws)
            await opened[name].wait_for("snapshot")
        yield opened
    finally:
        for sock in opened.values():
            await sock.ws.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sock.task, 5)


def book(http: httpx.Client, headers: dict[str, str], minutes: int = 30) -> dict[str, Any]:
    start = (dt.datetime.now(OSLO) + dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    made = http.post(
        "/appointments", json={"department": "bygg", "start": start.isoformat()}, headers=headers
    )
    assert made.status_code == 201, made.text
    visit: dict[str, Any] = made.json()["appointment"]
    return visit


async def test_a_slip_reaches_that_kiosk_only_and_makes_no_gap(server: ServerProcess) -> None:
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    staff = {"Authorization": f"Bearer {server.token('staff')}"}
    manager = {"Authorization": f"Bearer {server.token('manager')}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        tokens: dict[str, str | None] = {
            "entrance": enrol(http, admin, "kiosk-entrance", "kiosk", "Kiosk ved inngangen"),
            "other_kiosk": enrol(http, admin, "kiosk-2", "kiosk", "Kiosk 2"),
            "board": enrol(http, admin, "board-1", "display", "Tavle"),
            "exit": enrol(http, admin, "feedback-1", "feedback", "Utgangen"),
            "impostor": server.token("kiosk", name="hand-made"),  # names itself kiosk-entrance
            "staff": staff["Authorization"].removeprefix("Bearer "),
            "public": None,
        }
        enrol(http, admin, "kiosk-offline", "kiosk", "Kiosk i kjelleren")  # never connects
        visit = book(http, staff)
        reference = visit["reference"]
        async with sockets(server, tokens) as socks:
            seq = http.get("/state").json()["seq"]
            # the list the desk page chooses from: enrolled kiosks with a socket now
            slip = http.post(f"/appointments/{reference}/slip", json={"kiosk": "kiosk-entrance", "lang": "en"},
                             headers=staff)  # fmt: skip
            assert slip.status_code == 202 and slip.json() == {"ok": True}
            got = await socks["entrance"].wait_for("appointment.slip")
            assert got["device"] == {"id": "kiosk-entrance"} and got["lang"] == "en"
            assert got["appointment"] == {
                "reference": reference,
                "department": "bygg",
                "start": visit["start"],
            }
            assert got["seq"] == seq  # takes no seq of its own
            assert isinstance(P.decode_event(got), P.AppointmentSlip)
            # the default language is the site's first; a manager may send one too
            again = http.post(
                f"/appointments/{reference}/slip", json={"kiosk": "kiosk-entrance"}, headers=manager
            )
            assert again.status_code == 202
            await asyncio.sleep(QUIET_S)
            slips = [m for m in socks["entrance"].messages if m["type"] == "appointment.slip"]
            assert [m["lang"] for m in slips] == ["en", "nb"]
            # the next site event: seq + 1 everywhere, no gap
            assert http.post("/tickets", json={"department": "nav"}, headers=admin).status_code == 201
            for sock in socks.values():
                issued = await sock.wait_for("ticket.issued")
                assert issued["seq"] == seq + 1, sock.name
                if sock.name != "entrance":
                    assert "appointment.slip" not in sock.kinds(), (sock.name, sock.kinds())
                    assert reference not in json.dumps(sock.messages), sock.name
            assert http.get("/state").json()["seq"] == seq + 1


async def test_refusals_change_nothing_and_send_nothing(server: ServerProcess) -> None:
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    staff = {"Authorization": f"Bearer {server.token('staff')}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        entrance = enrol(http, admin, "kiosk-door", "kiosk", "Kiosk ved døra")
        enrol(http, admin, "kiosk-away", "kiosk", "Kiosk på lager")
        board = enrol(http, admin, "board-door", "display", "Tavle ved døra")
        visit, gone = book(http, staff), book(http, staff, minutes=45)
        assert http.delete(f"/appointments/{gone['reference']}", headers=staff).status_code == 200
        ref = visit["reference"]
        async with sockets(server, {"entrance": entrance, "board": board, "public": None}) as socks:
            before = (http.get("/state").json()["seq"], http.get("/appointments", headers=staff).json())
            cases: list[tuple[str, dict[str, Any], dict[str, str], int, str]] = [
                ("ZZZZ2222", {"kiosk": "kiosk-door"}, staff, 404, "unknown_appointment"),
                (ref, {"kiosk": "kiosk-nowhere"}, staff, 404, "unknown_device"),
                (ref, {"kiosk": "board-door"}, staff, 404, "unknown_device"),  # connected, not a kiosk
                (ref, {"kiosk": "kiosk-away"}, staff, 409, "kiosk_offline"),  # enrolled, no socket
                (gone["reference"], {"kiosk": "kiosk-door"}, staff, 409, "cancelled"),
                (ref, {"kiosk": "kiosk-door", "lang": "de"}, staff, 422, "invalid_request"),
                (ref, {"kiosk": "kiosk-door", "colour": "red"}, staff, 422, "invalid_request"),
                (ref, {}, staff, 422, "invalid_request"),
                (ref, {"kiosk": "kiosk-door"}, {}, 401, "unauthorized"),
                (ref, {"kiosk": "kiosk-door"}, {"Authorization": "Bearer nl_" + "x" * 43}, 401, "invalid_token"),
                (ref, {"kiosk": "kiosk-door"}, {"Authorization": f"Bearer {entrance}"}, 403, "forbidden"),
                (ref, {"kiosk": "kiosk-door"}, {"Authorization": f"Bearer {server.token('booking')}"}, 403,
                 "forbidden"),
            ]  # fmt: skip
            for reference, body, headers, status, code in cases:
                answer = http.post(f"/appointments/{reference}/slip", json=body, headers=headers)
                assert answer.status_code == status, (reference, body, answer.text)
                assert answer.json()["error"]["code"] == code, answer.text
            await asyncio.sleep(QUIET_S)
            for sock in socks.values():
                assert sock.kinds() == ["snapshot"], (sock.name, sock.kinds())
            after = (http.get("/state").json()["seq"], http.get("/appointments", headers=staff).json())
            assert after == before
        # a visit checked in has no slip to print any more
        assert http.post(f"/appointments/{ref}/check-in", headers=admin).status_code == 201
        async with sockets(server, {"entrance": entrance}):
            late = http.post(f"/appointments/{ref}/slip", json={"kiosk": "kiosk-door"}, headers=staff)
            assert late.status_code == 409 and late.json()["error"]["code"] == "already_checked_in"


def test_the_route_is_documented(server: ServerProcess) -> None:
    schema = httpx.get(server.url.removesuffix("/api/v1") + "/openapi.json", timeout=10).json()
    route = schema["paths"]["/api/v1/appointments/{reference}/slip"]["post"]
    assert {"202", "401", "403", "404", "409", "422"} <= set(route["responses"])
    assert route["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SlipBody")


def test_the_rule_table_names_who_may() -> None:
    from nummerlapp.server.api.auth import GRANTS, Permission, Role  # noqa: PLC0415

    assert GRANTS[Permission.PRINT_SLIP] == {Role.STAFF, Role.MANAGER, Role.ADMIN}
