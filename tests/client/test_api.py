"""client.api against the real site-service process (python main.py server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from nummerlapp.client.api import ApiClient, ApiUnavailable, RateLimited, Unauthorized
from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from nummerlapp.tests.server.serverproc import ServerProcess, free_port, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("api"))


@pytest.fixture
async def kiosk(server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(server.url.removesuffix("/api/v1"), server.token("kiosk", name="test kiosk")) as api:
        yield api


def base(server: ServerProcess) -> str:
    return server.url.removesuffix("/api/v1")


async def test_health_and_state(server: ServerProcess) -> None:
    async with ApiClient(base(server)) as api:
        health = await api.health()
        state = await api.get_state()
    assert health.status == "ok" and health.site == "testsite"
    assert state.site.open is True
    assert {d.id for d in state.departments} == {"nav", "bygg", "tiny"}
    assert {c.id: c.name for c in state.counters}["2"] == "Skranke 2"


async def test_issue_and_get_ticket(kiosk: ApiClient, server: ServerProcess) -> None:
    ticket = await kiosk.issue_ticket("bygg", "en")
    assert isinstance(ticket, P.IssuedTicket) and ticket.lang == "en" and ticket.counter is None
    assert ticket.number.startswith("B") and len(ticket.number) == 4
    assert ticket.department == "bygg" and ticket.status == "waiting"
    assert ticket.ahead is not None and ticket.ahead >= 0 and len(ticket.id) >= 16
    again = await kiosk.get_ticket(ticket.id)  # v1.1: a token (ids are on the boards' event stream)
    assert (again.id, again.number) == (ticket.id, ticket.number)
    with pytest.raises(Unauthorized):
        async with ApiClient(base(server)) as public:
            await public.get_ticket(ticket.id)
    with pytest.raises(NotFound):
        await kiosk.get_ticket("t_doesnotexist00000000000")


async def test_kiosk_interval_is_rate_limited(kiosk: ApiClient) -> None:
    await kiosk.issue_ticket("nav")
    with pytest.raises(RateLimited) as caught:
        await kiosk.issue_ticket("nav")
    assert caught.value.status == 429 and 1.0 <= caught.value.retry_after_s <= 2.0


async def test_unknown_department(kiosk: ApiClient) -> None:
    with pytest.raises(NotFound) as caught:
        await kiosk.issue_ticket("nope")
    assert caught.value.code == "unknown_department"


async def test_tokens_checked(server: ServerProcess) -> None:
    async with ApiClient(base(server)) as anonymous:
        with pytest.raises(Unauthorized) as caught:
            await anonymous.issue_ticket("nav")
    assert caught.value.status == 401
    async with ApiClient(base(server), server.token("display")) as board:
        with pytest.raises(Forbidden) as forbidden:
            await board.issue_ticket("nav")
    assert forbidden.value.status == 403 and not isinstance(forbidden.value, Unauthorized)


async def test_site_closed_and_queue_full(server: ServerProcess) -> None:
    admin_token = server.token("admin")
    async with ApiClient(base(server), admin_token) as admin:
        for _ in range(3):
            await admin.issue_ticket("tiny")
        with pytest.raises(Conflict) as full:
            await admin.issue_ticket("tiny")
        assert full.value.code == "queue_full"
        headers = {"Authorization": f"Bearer {admin_token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            assert (await http.post("/site/close")).status_code == 200
            try:
                with pytest.raises(Conflict) as closed:
                    await admin.issue_ticket("nav")
                assert closed.value.code == "site_closed"
                assert "next_open" in closed.value.details  # the error body's detail, decoded
                assert (await admin.get_state()).site.open is False
            finally:
                assert (await http.post("/site/open")).status_code == 200


async def test_report_device_status(kiosk: ApiClient, server: ServerProcess) -> None:
    device = await kiosk.report_device_status(
        "kiosk-7",
        role="kiosk",
        name="Entrance",
        version="0.1.0",
        printer=P.PrinterReport(state="paper_end", detail="x"),
    )
    assert device.id == "kiosk-7" and device.printer == P.PrinterReport(state="paper_end", detail="x")
    async with ApiClient(base(server), server.token("admin")) as admin:
        listed = P.DeviceList.model_validate(await admin._request("GET", "/devices")).devices
    mine = next(d for d in listed if d.id == "kiosk-7")
    assert mine.printer is not None and mine.printer.state == "paper_end" and "report" in mine.sources
    headers = {"Authorization": f"Bearer {server.token('kiosk')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:  # the service checks too
        bad = await http.post(
            "/devices/kiosk-7/status", json={"role": "kiosk", "printer": {"state": "on fire"}}
        )
        extra = await http.post("/devices/kiosk-7/status", json={"role": "kiosk", "zone": "x"})
    assert bad.status_code == extra.status_code == 422
    assert P.ErrorBody.model_validate(bad.json()).error.code == "invalid_request"


async def test_nothing_listening_is_unavailable_and_unsent() -> None:
    async with ApiClient(f"http://127.0.0.1:{free_port()}", "t", timeout_s=1.0) as api:
        with pytest.raises(ApiUnavailable) as caught:
            await api.issue_ticket("nav")
    assert caught.value.request_sent is False
    assert isinstance(caught.value, ServiceUnavailable)


async def test_lost_answer_is_marked_sent() -> None:
    """A service that takes the request and never answers: the ticket may exist; do not retry."""
    got = asyncio.Event()
    release = asyncio.Event()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        got.set()
        await release.wait()
        writer.close()

    srv = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with ApiClient(f"http://127.0.0.1:{port}", "t", timeout_s=0.3) as api:
            with pytest.raises(ApiUnavailable) as caught:
                await api.issue_ticket("nav")
    finally:
        release.set()
        srv.close()
        await srv.wait_closed()
    assert got.is_set() and caught.value.request_sent is True
