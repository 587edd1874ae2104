"""client/events.py against the real site service (a real process, a real WebSocket).

Gaps cannot be produced on demand by the real service, so one test serves a gap from a small
WebSocket server of its own on 127.0.0.1; everything else talks to ``python main.py server``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from client.events import STREAM_DOWN, EventStream, backoff_delays, events_url
from tests.server.serverproc import ServerProcess, free_port, run_cli, write_site

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(write_site(tmp_path / "site.toml"), tmp_path / "ledger.db")
    proc.start()
    yield proc
    proc.stop()


def staff_token(server: ServerProcess) -> str:
    """Made the way a technician makes one: ``main.py token --role staff`` on the same files."""
    out = run_cli("token", "--role", "staff", "--config", str(server.config), "--db", str(server.db))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Reader:
    """Collects the stream's messages in a task; tests await the ones they expect."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.messages: list[dict[str, Any]] = []
        self._new = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.stream:
            message["_t"] = time.monotonic()
            self.messages.append(message)
            self._new.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0, start: int = 0) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            seen = start
            while True:
                for message in self.messages[seen:]:
                    if predicate(message):
                        return message
                seen = len(self.messages)
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def close(self) -> None:
        await self.stream.close()
        await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def reader_factory() -> AsyncIterator[Any]:
    made: list[Reader] = []

    def make(stream: EventStream) -> Reader:
        made.append(Reader(stream))
        return made[-1]

    yield make
    for r in made:
        await r.close()


def test_events_url_forms() -> None:
    assert events_url("http://h:1") == "ws://h:1/api/v1/events"
    assert events_url("http://h:1/api/v1") == "ws://h:1/api/v1/events"
    assert events_url("https://h/api/v1/") == "wss://h/api/v1/events"
    assert events_url("ws://h:2/api/v1/events") == "ws://h:2/api/v1/events"
    assert events_url("h:3") == "ws://h:3/api/v1/events"
    with pytest.raises(ValueError):
        events_url("ftp://h")


def test_backoff_is_capped_at_two_seconds() -> None:
    gen = backoff_delays()
    assert [round(next(gen), 2) for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]


async def test_snapshot_first_then_seq_plus_one(server: ServerProcess, reader_factory: Any) -> None:
    reader = reader_factory(EventStream(server.url))
    snap = await reader.wait_for(lambda m: m["type"] == "snapshot")
    assert reader.messages[0] is snap and snap["state"]["site"]["id"] == "testsite"
    headers = {"Authorization": f"Bearer {staff_token(server)}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        for dep in ("nav", "nav", "bygg"):
            assert (await http.post("/tickets", json={"department": dep})).status_code == 201
        called = (await http.post("/counters/1/next")).json()["ticket"]
    call = await reader.wait_for(lambda m: m["type"] == "ticket.called")
    assert call["ticket"]["number"] == called["number"] and call["counter"]["id"] == "1"
    events = [m for m in reader.messages if m["type"] != "snapshot"]
    assert [m["seq"] for m in events] == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(events)))
    assert [m["type"] for m in events] == ["ticket.issued"] * 3 + ["ticket.called"]
    assert reader.stream.connected and reader.stream.last_seq == call["seq"]


async def test_reconnects_after_a_restart_with_a_fresh_snapshot_and_no_missed_call(
    server: ServerProcess, reader_factory: Any
) -> None:
    headers = {"Authorization": f"Bearer {server.token('admin')}"}
    reader = reader_factory(EventStream(server.url))
    await reader.wait_for(lambda m: m["type"] == "snapshot")
    server.stop()
    stopped = time.monotonic()
    down = await reader.wait_for(lambda m: m["type"] == STREAM_DOWN, timeout=5)
    assert down["_t"] - stopped < 2.0  # the board can show "reconnecting" within 2 s
    assert not reader.stream.connected
    # while the service is down a desk's call reaches the ledger (here: the ledger itself)
    from config import load_settings
    from server.ledger import Ledger

    ledger = Ledger(server.db, load_settings(server.config))
    ledger.issue("nav")
    missed = ledger.next("2")
    ledger.close()
    assert missed is not None
    count = len(reader.messages)
    server.start()
    up = time.monotonic()
    snap = await reader.wait_for(lambda m: m["type"] == "snapshot", start=count, timeout=10)
    assert snap["_t"] - up < 2.5  # backoff capped at 2 s: back within one step of the service
    assert snap["state"]["calls"][0]["number"] == missed.number  # the missed call is in the snapshot
    # and the stream goes on after the reconnect
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        assert (await http.post("/tickets", json={"department": "bygg"})).status_code == 201
    issued = await reader.wait_for(lambda m: m["type"] == "ticket.issued", start=count)
    assert issued["seq"] == snap["seq"] + 1
    assert reader.stream.connects == 2


async def test_a_frozen_service_is_noticed_by_ping(server: ServerProcess, reader_factory: Any) -> None:
    reader = reader_factory(EventStream(server.url))
    await reader.wait_for(lambda m: m["type"] == "snapshot")
    assert server.proc is not None
    pid = server.proc.pid
    os.kill(pid, signal.SIGSTOP)  # the socket stays open but nobody answers: like a pulled cable
    try:
        frozen = time.monotonic()
        down = await reader.wait_for(lambda m: m["type"] == STREAM_DOWN, timeout=5)
        assert down["_t"] - frozen < 2.0
    finally:
        os.kill(pid, signal.SIGCONT)
    await reader.wait_for(lambda m: m["type"] == "snapshot", start=len(reader.messages) - 1, timeout=10)
    assert reader.stream.connected


async def test_a_seq_gap_forces_a_fresh_snapshot(reader_factory: Any) -> None:
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        base = 100 * connections
        await ws.send(json.dumps({"type": "snapshot", "seq": base, "state": {"seq": base, "calls": []}}))
        await ws.send(json.dumps({"type": "ticket.issued", "seq": base + 1, "at": "x"}))
        await ws.send(json.dumps({"type": "ticket.issued", "seq": base + 1, "at": "x"}))  # duplicate
        if connections == 1:
            await ws.send(json.dumps({"type": "ticket.issued", "seq": base + 5, "at": "x"}))  # gap
        await ws.wait_closed()

    port = free_port()
    async with serve(handler, "127.0.0.1", port):
        reader = reader_factory(EventStream(f"http://127.0.0.1:{port}"))
        await reader.wait_for(lambda m: m["type"] == "snapshot" and m["seq"] == 200)
        await reader.wait_for(lambda m: m["seq"] == 201)
        kinds = [(m["type"], m["seq"]) for m in reader.messages]
        # the gapped event (105) is never handed on, the duplicate neither; no "down" for a resync
        assert kinds == [("snapshot", 100), ("ticket.issued", 101), ("snapshot", 200), ("ticket.issued", 201)]
        await reader.close()


async def test_nothing_listening_reports_down_once_and_keeps_trying(reader_factory: Any) -> None:
    port = free_port()
    attempts: list[float] = []

    async def resolver() -> str:
        attempts.append(time.monotonic())
        return f"http://127.0.0.1:{port}"

    reader = reader_factory(EventStream(resolver, max_backoff=0.4))
    await reader.wait_for(lambda m: m["type"] == STREAM_DOWN)
    while len(attempts) < 6:
        await asyncio.sleep(0.1)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) < 0.4 + 0.3 and gaps[-1] >= 0.35  # doubling up to the cap, then the cap
    assert sum(m["type"] == STREAM_DOWN for m in reader.messages) == 1
