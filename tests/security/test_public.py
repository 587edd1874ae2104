"""The visitors' port serves phones and nothing else; follow secrets appear nowhere public;
the follow stream pushes each changed view (PROTOCOL.md v1.1 "The public surface")."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from starlette.routing import Mount, Route, WebSocketRoute

from nummerlapp.config import load_settings
from nummerlapp.server.api.app import create_app
from nummerlapp.server.api.public import create_public_app
from nummerlapp.server.web.phone import PUBLIC_STATIC
from nummerlapp.tests.security.conftest import Target

# answer 200 on the visitors' port without a secret: health, and the phone page's own two files
ALLOWED = {"/api/v1/health"} | {f"/static/web/{name}" for name in PUBLIC_STATIC}


def _lan_routes(tmp: Path, site: Path) -> list[tuple[str, set[str], bool]]:
    """(path with dummy values, methods, websocket?) of every route of the LAN app."""
    app = create_app(load_settings(site), tmp / "routes.db")
    found = []
    for route in app.routes:
        path = re.sub(r"\{[^}]+\}", "x1", getattr(route, "path", ""))
        if isinstance(route, Mount):
            found.append((path + "/ui.css", {"GET"}, False))
            found.append((path + "/desk.js", {"GET"}, False))
        elif isinstance(route, WebSocketRoute):
            found.append((path, {"GET"}, True))
        elif isinstance(route, Route):
            found.append((path, set(route.methods or {"GET"}) - {"HEAD"}, False))
    return found


def test_every_staff_and_device_path_is_404_on_the_visitors_port(hardened: Target, tmp_path: Path) -> None:
    routes = _lan_routes(tmp_path, hardened.site)
    assert len(routes) > 30
    kiosk = {"Authorization": f"Bearer {hardened.token('kiosk')}"}
    with httpx.Client(base_url=hardened.public, timeout=10) as http:
        for path, methods, _socket in routes:
            if path in ALLOWED:
                continue
            for method in methods:
                for headers in ({}, hardened.admin, kiosk):  # a token opens nothing there either
                    res = http.request(method, path, headers=headers, json={})
                    assert res.status_code == 404, (method, path, res.status_code, res.text[:200])
        for path in ("/openapi.json", "/docs", "/redoc", "/api/v1/state", "/desk", "/tech", "/reports"):
            assert http.get(path).status_code == 404, path

    async def sockets() -> None:
        for path, _methods, is_socket in routes:
            if not is_socket or path.startswith("/api/v1/follow/"):
                continue
            with pytest.raises(websockets.InvalidStatus):
                async with websockets.connect(hardened.public.replace("http", "ws") + path):
                    pass

    asyncio.run(sockets())


def test_no_follow_secret_on_the_event_stream_or_state(hardened: Target) -> None:
    async def scenario() -> tuple[list[str], list[str], str]:
        seen: list[str] = []
        follows: list[str] = []
        ws_url = hardened.base.replace("http", "ws") + "/api/v1/events"
        async with (
            websockets.connect(ws_url) as events,
            httpx.AsyncClient(base_url=hardened.base + "/api/v1", headers=hardened.admin) as http,
        ):
            seen.append(str(await events.recv()))
            for dep in ("nav", "nav", "bygg", "nav", "tiny"):
                issued = (await http.post("/tickets", json={"department": dep})).json()
                follows.append(issued["follow"])
                got = (await http.get(f"/tickets/{issued['id']}")).text  # by id, with a token
                seen.append(got)
            for action in ("next", "recall", "serve", "next", "no-show", "next", "done"):
                await http.post(f"/counters/2/{action}")
            await http.post("/counters/1/next")
            await http.post("/counters/1/transfer", json={"department": "bygg"})
            await http.post("/counters/3/pause")
            await http.post("/counters/3/open")
            while True:
                try:
                    seen.append(str(await asyncio.wait_for(events.recv(), 1.0)))
                except TimeoutError:
                    break
            state = (await http.get("/state")).text
            for follow in follows:  # the phones' own view has no id and no secret of others
                seen.append((await http.get(f"{hardened.public}/api/v1/follow/{follow}")).text)
        return seen, follows, state

    seen, follows, state = asyncio.run(scenario())
    assert len(seen) > 20 and all(len(f) >= 22 for f in follows)
    everything = "\n".join([*seen, state])
    for follow in follows:
        assert everything.count(follow) == 0, follow
    assert '"follow"' not in everything


def test_the_follow_stream_pushes_each_change_once(hardened: Target) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=hardened.base + "/api/v1", headers=hardened.admin) as http:
            await _drain(http, "3")
            first = (await http.post("/tickets", json={"department": "bygg"})).json()
            mine = (await http.post("/tickets", json={"department": "bygg"})).json()
            url = f"{hardened.public.replace('http', 'ws')}/api/v1/follow/{mine['follow']}/events"
            views: list[dict[str, Any]] = []
            async with websockets.connect(url) as phone, websockets.connect(url) as spouse:
                views.append(json.loads(await phone.recv()))
                assert json.loads(await spouse.recv()) == views[0]  # a family follows one ticket
                for _ in range(3):  # other departments' calls change nothing for this phone
                    await http.post("/tickets", json={"department": "nav"})
                    await http.post("/counters/1/next")
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(phone.recv(), 0.5)
                for action in ("next", "next", "serve", "done"):  # calls `first`, then mine
                    await http.post(f"/counters/3/{action}")
                    views.append(json.loads(await asyncio.wait_for(phone.recv(), 5)))
                    assert json.loads(await asyncio.wait_for(spouse.recv(), 5)) == views[-1]
            assert first["number"] not in json.dumps(views)
            return views

    views = asyncio.run(scenario())
    tickets = [v["ticket"] for v in views]
    assert all(v["type"] == "ticket" for v in views)
    assert [t["status"] for t in tickets] == ["waiting", "waiting", "called", "serving", "done"]
    assert [t["ahead"] for t in tickets[:2]] == [1, 0]
    assert tickets[2]["counter"] == {"id": "3", "name": "Skranke 3"}
    assert set(tickets[0]) == {"number", "department", "status", "ahead", "estimated_wait_s", "counter"}


def test_unknown_follow_and_too_many_phones_are_refused(hardened: Target) -> None:
    async def scenario() -> None:
        base = hardened.public.replace("http", "ws")
        for bad in ("AAAAAAAAAAAAAAAAAAAAAA", "t_not-a-secret", "x" * 60):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(f"{base}/api/v1/follow/{bad}/events"):
                    pass
            assert refused.value.response.status_code == 404
        async with httpx.AsyncClient(headers=hardened.admin) as http:
            issued = (await http.post(hardened.base + "/api/v1/tickets", json={"department": "tiny"})).json()
        url = f"{base}/api/v1/follow/{issued['follow']}/events"
        phones = [await websockets.connect(url) for _ in range(8)]
        try:
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url):
                    pass
            assert refused.value.response.status_code == 429
        finally:
            for phone in phones:
                await phone.close()

    asyncio.run(scenario())
    assert httpx.get(f"{hardened.public}/api/v1/follow/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404


async def _drain(http: httpx.AsyncClient, counter: str) -> None:
    for _ in range(50):
        await http.post(f"/counters/{counter}/done")
        if (await http.post(f"/counters/{counter}/next")).json().get("ticket") is None:
            return


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_visitors_port_survives_fuzzing(hardened: Target, tmp_path: Path, mode: GenerationMode) -> None:
    """Schemathesis over the visitors' app's own schema, sent to the visitors' port: no 5xx."""
    lan = create_app(load_settings(hardened.site), tmp_path / "schema.db")
    schema = schemathesis.openapi.from_dict(create_public_app(lan).openapi())
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    assert {op.path for op in operations} >= {"/api/v1/health", "/api/v1/follow/{follow}"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=hardened.public, timeout=10)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE
