"""What the real server sends decodes with the protocol module and re-encodes to the same JSON.

A real ``python main.py server`` process goes through a scenario that makes every event type it
sends (issue, call, recall, serve, done, no-show, transfer, pause/open, site open/close/hours,
device status and identify, and a technician's reset: void, counter and department changes) and
every answer; each is decoded with the class the contract names for it and encoded again. The
``counter`` of every event, answer and snapshot is a ``{"id", "name"}`` object (protocol v1.1).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from nummerlapp.common import protocol as P
from nummerlapp.tests.server.serverproc import ServerProcess, run_cli, running_server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("roundtrip"), kiosk_interval=0)


def roundtrip(model: type[P.Wire], data: Any) -> P.Wire:
    decoded = model.model_validate(data)
    assert decoded.encode() == data, model.__name__
    assert json.loads(decoded.encode_json()) == data
    return decoded


def counters_are_objects(data: Any, where: str = "") -> int:
    """Every ``counter`` key holds ``{"id", "name"}`` or null (a counter's own entry is its own
    shape, with the same id and name); returns how many were looked at."""
    seen = 0
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "counter":
                seen += 1
                assert value is None or (isinstance(value, dict) and {"id", "name"} <= value.keys()), (
                    where,
                    value,
                )
            elif key == "counters":
                assert all(isinstance(c, dict) for c in value), (where, value)
            seen += counters_are_objects(value, f"{where}.{key}")
    elif isinstance(data, list):
        seen += sum(counters_are_objects(v, where) for v in data)
    return seen


def tech_session(server: ServerProcess) -> tuple[httpx.Client, str]:
    """An admin signed in through the desk's form (as a person does), and the page's CSRF token."""
    out = run_cli(
        "user", "add", "rtadmin", "--role", "admin", "--password-stdin",
        "--config", str(server.config), "--db", str(server.db), stdin="roundtrip-password\n",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    web = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", follow_redirects=True, timeout=10)
    page = web.get("/desk/signin?lang=en").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    web.post(
        "/desk/signin", data={"username": "rtadmin", "password": "roundtrip-password", "csrf": csrf.group(1)}
    )
    tech = web.get("/tech").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', tech)
    assert token is not None, tech[:300]
    return web, token.group(1)


async def test_every_event_and_answer_round_trips(server: ServerProcess) -> None:
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    kiosk = {"Authorization": f"Bearer {server.token('kiosk')}"}
    answers: list[tuple[type[P.Wire], Any]] = []
    async with (
        httpx.AsyncClient(base_url=server.url, headers=admin) as http,
        httpx.AsyncClient(base_url=server.url, headers=kiosk) as device,
        connect(server.ws_url) as ws,
    ):

        async def post(path: str, model: type[P.Wire], body: Any = None, client: Any = http) -> Any:
            r = await client.post(path, json=body)
            assert r.status_code in (200, 201, 202), (path, r.text)
            answers.append((model, r.json()))
            return r.json()

        answers.append((P.Health, (await http.get("/health")).json()))
        answers.append((P.Snapshot, (await http.get("/state")).json()))
        issued = await post("/tickets", P.IssuedTicket, {"department": "nav", "lang": "en"}, device)
        await post("/tickets", P.IssuedTicket, {"department": "nav"}, device)
        await post("/tickets", P.IssuedTicket, {"department": "bygg"}, device)
        answers.append((P.Ticket, (await device.get(f"/tickets/{issued['id']}")).json()))
        await post("/counters/1/next", P.TicketAnswer)  # calls the first nav ticket
        await post("/counters/1/recall", P.TicketAnswer)
        await post("/counters/1/serve", P.CurrentTicketAnswer)
        await post("/counters/1/next", P.TicketAnswer)  # done, then the second nav ticket
        await post("/counters/1/no-show", P.TicketAnswer)
        await post("/counters/3/next", P.TicketAnswer)
        await post("/counters/3/transfer", P.TicketAnswer, {"department": "nav"})
        await post("/counters/1/next", P.TicketAnswer)  # the transferred ticket, from counter 1
        parked = await post("/counters/1/park", P.TicketAnswer)  # the visitor steps away
        await post("/counters/1/call", P.TicketAnswer, {"ticket": parked["ticket"]["number"]})  # and is back
        answers.append((P.Snapshot, (await http.get("/state")).json()))  # a counter holds a ticket
        await post("/counters/2/pause", P.CounterAnswer)
        await post("/counters/2/open", P.CounterAnswer)
        await post("/site/close", P.SiteAnswer)
        await post("/site/open", P.SiteAnswer)
        await post("/site/hours", P.SiteAnswer)
        await post("/config/reload", P.ConfigReloaded)  # the same file: config.changed all the same
        status = {
            "role": "kiosk",
            "name": "Entrance",
            "version": "1.0",
            "printer": {"state": "paper_near_end"},
        }
        await post("/devices/kiosk-1/status", P.DeviceAnswer, status, device)
        await post("/devices/kiosk-1/identify", P.Accepted)
        answers.append((P.DeviceList, (await http.get("/devices")).json()))
        await post("/tickets", P.IssuedTicket, {"department": "tiny"}, device)
        await post("/counters/4/next", P.TicketAnswer)  # held at counter 4 when the day is reset
        web, csrf = await asyncio.to_thread(tech_session, server)
        try:
            reset = await asyncio.to_thread(
                web.post, "/tech/api/reset", json={"confirm": "testsite"}, headers={"X-CSRF-Token": csrf}
            )
        finally:
            web.close()
        assert reset.status_code == 200, reset.text
        errors = [
            await http.post("/tickets", json={"department": "nope"}),
            await http.post("/counters/2/done"),
            await http.post("/tickets", json={"department": "nav", "colour": "red"}),
            await httpx.AsyncClient(base_url=server.url).post("/tickets", json={"department": "nav"}),
        ]
        await post("/site/close", P.SiteAnswer)
        errors.append(await http.post("/tickets", json={"department": "nav"}))  # closed: next_open
        await post("/site/hours", P.SiteAnswer)

        raw = [json.loads(await ws.recv())]
        while True:  # every event the scenario caused, until the socket stays quiet
            try:
                raw.append(json.loads(await asyncio.wait_for(ws.recv(), 2.0)))
            except TimeoutError:
                break

    kinds = set()
    for message in raw:
        event = P.decode_event(message)
        assert event is not None, message["type"]
        assert event.encode() == message, message["type"]
        assert P.decode_event(event.encode_json()) == event
        kinds.add(event.type)
    # alarms go to staff sockets only, never to this one (tests/server/test_server_floor.py)
    sent_by_server = P.EVENT_TYPES - {"alarm.raised", "alarm.cleared"}
    assert kinds == sent_by_server, sent_by_server - kinds
    for model, data in answers:
        roundtrip(model, data)
    for response in errors:
        assert 400 <= response.status_code < 500
        roundtrip(P.ErrorBody, response.json())
    assert "next_open" in errors[-1].json()["error"]
    looked_at = counters_are_objects([m for _, m in answers] + raw)
    assert looked_at > 30
    transferred = next(m for m in raw if m["type"] == "ticket.transferred")
    assert transferred["from"] == {"id": "bygg", "name": {"nb": "Byggesak", "en": "Building"}}
    issued_answer = next(d for m, d in answers if m is P.IssuedTicket)
    assert len(issued_answer["follow"]) >= 16  # v1.1: for the device that prints the QR code
    assert "appointment" not in issued_answer  # optional: absent for a walk-in
    assert not any("follow" in json.dumps(m) for m in raw)  # and nowhere on the event stream
    snap_with_ticket = [d for m, d in answers if m is P.Snapshot][-1]
    held = next(c["ticket"] for c in snap_with_ticket["counters"] if c["ticket"] is not None)
    full = next(d["ticket"] for m, d in answers if m is P.TicketAnswer and d["ticket"]["id"] == held["id"])
    assert held.keys() == full.keys() - {"ahead", "estimated_wait_s"}  # one ticket shape everywhere
