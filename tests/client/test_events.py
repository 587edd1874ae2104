"""client/events.py against the real site service (a real process, a real WebSocket).

Gaps, hanging handshakes and a resolver that changes its answer cannot be produced on demand by
the real service, so those tests serve a small WebSocket (or silent TCP) server of their own on
127.0.0.1; everything else, the crash-and-wake case included, talks to ``python main.py server``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from nummerlapp.client.events import STREAM_DOWN, EventStream, StreamDown, backoff_delays, events_url
from nummerlapp.common import protocol as P
from nummerlapp.config import load_settings
from nummerlapp.server.ledger import Ledger
from nummerlapp.tests.protocol import samples
from nummerlapp.tests.server.serverproc import ServerProcess, free_port, run_cli, write_site

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
        """Keeps each message as its wire form (plus ``_t``, when it arrived); the stream has
        already decoded it with the protocol module, so what is kept here passed that check."""
        async for message in self.stream:
            if isinstance(message, StreamDown):
                seen: dict[str, Any] = {"type": message.type, "reason": message.reason}
            else:
                seen = message.encode()
                assert type(P.decode_event(seen)) is type(message)  # and it round-trips
            seen["_t"] = time.monotonic()
            self.messages.append(seen)
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


Script = Callable[[ServerConnection, int, int], Awaitable[None]]


def scripted(script: Script) -> Callable[[ServerConnection], Awaitable[None]]:
    """A fake service: the n-th connection gets a snapshot at seq ``base`` = 100 × n, then
    ``script(ws, n, base)``, and stays open until the client closes it."""
    connections = itertools.count(1)

    async def handler(ws: ServerConnection) -> None:
        n = next(connections)
        await ws.send(samples.snapshot(100 * n).encode_json())
        await script(ws, n, 100 * n)
        await ws.wait_closed()

    return handler


async def test_a_seq_gap_forces_a_fresh_snapshot(reader_factory: Any) -> None:
    async def script(ws: ServerConnection, n: int, base: int) -> None:
        await ws.send(issued(base + 1))
        await ws.send(issued(base + 1))  # duplicate
        if n == 1:
            await ws.send(issued(base + 5))  # gap

    port = free_port()
    async with serve(scripted(script), "127.0.0.1", port):
        reader = reader_factory(EventStream(f"http://127.0.0.1:{port}"))
        await reader.wait_for(lambda m: m["type"] == "snapshot" and m["seq"] == 200)
        await reader.wait_for(lambda m: m["seq"] == 201)
        kinds = [(m["type"], m["seq"]) for m in reader.messages]
        # the gapped event (105) is never handed on, the duplicate neither; no "down" for a resync
        assert kinds == [("snapshot", 100), ("ticket.issued", 101), ("snapshot", 200), ("ticket.issued", 201)]
        await reader.close()


class CountingStream(EventStream):
    """An EventStream that notes when each connection attempt starts (and to which URL)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts: list[tuple[float, str]] = []

    async def _connect(self, url: str) -> Any:
        self.attempts.append((time.monotonic(), url))
        return await super()._connect(url)


async def test_nothing_listening_reports_down_once_and_keeps_trying(reader_factory: Any) -> None:
    port = free_port()

    async def resolver() -> str:
        return f"http://127.0.0.1:{port}"

    stream = CountingStream(resolver, max_backoff=0.4)
    reader = reader_factory(stream)
    await reader.wait_for(lambda m: m["type"] == STREAM_DOWN)
    while len(stream.attempts) < 6:
        await asyncio.sleep(0.1)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(stream.attempts)]
    assert gaps[0] >= 0.09 and max(gaps) < 0.4 + 0.3 and gaps[-1] >= 0.35  # doubling, then the cap
    assert sum(m["type"] == STREAM_DOWN for m in reader.messages) == 1


def issued(seq: int) -> str:
    return P.TicketIssued(
        seq=seq, at=samples.AT, ticket=samples.ticket("A001"), departments=[samples.state("nav", 1)]
    ).encode_json()


async def test_unknown_types_are_skipped_and_a_malformed_known_one_drops_the_link(
    reader_factory: Any,
) -> None:
    """Clients ignore event types they do not know (their seq still counts) but refuse a known
    type in a wrong shape: the stream reconnects for a fresh snapshot instead of passing it on."""

    async def script(ws: ServerConnection, n: int, base: int) -> None:
        await ws.send(json.dumps({"type": "queue.rebalanced", "seq": base + 1, "at": samples.AT, "x": 1}))
        unknown_keys = json.loads(issued(base + 2))
        unknown_keys["mood"] = "sunny"
        unknown_keys["ticket"]["colour"] = "blue"
        await ws.send(json.dumps(unknown_keys))
        if n == 1:
            bad = json.loads(issued(base + 3))
            bad["ticket"]["counter"] = "1"  # a bare counter id: v1.0's shape, refused by a v1.1 client
            await ws.send(json.dumps(bad))

    port = free_port()
    async with serve(scripted(script), "127.0.0.1", port):
        reader = reader_factory(EventStream(f"http://127.0.0.1:{port}", first_backoff=0.05))
        await reader.wait_for(lambda m: m["type"] == "snapshot" and m["seq"] == 200)
        await reader.wait_for(lambda m: m.get("seq") == 202)
        kinds = [(m["type"], m.get("seq")) for m in reader.messages]
        assert ("ticket.issued", 102) in kinds and all(t != "queue.rebalanced" for t, _ in kinds)
        assert ("ticket.issued", 103) not in kinds  # the malformed one was never handed on
        first = next(m for m in reader.messages if m.get("seq") == 102)
        assert "mood" not in first and "colour" not in first["ticket"]  # unknown keys dropped
        await reader.close()


def snapshot_server(seq: int = 7) -> Any:
    """A WebSocket handler that sends one snapshot and then keeps the connection open."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(samples.snapshot(seq).encode_json())
        await ws.wait_closed()

    return handler


async def test_wake_after_a_crash_connects_to_the_new_port_at_once(
    tmp_path: Path, reader_factory: Any
) -> None:
    """The board's crash case: SIGKILL (no mDNS goodbye), a restart on a new port, then mDNS hears
    the new record and wakes the stream, which must connect now rather than at its next backoff."""
    first = ServerProcess(write_site(tmp_path / "site.toml"), tmp_path / "ledger.db")
    first.start()
    target = {"url": first.url}

    async def resolver() -> str:  # what the board's mDNS table says right now
        return target["url"]

    backoff = 3.0  # long on purpose: connecting within it can only be the wake
    stream = CountingStream(resolver, first_backoff=backoff, max_backoff=backoff)
    reader = reader_factory(stream)
    second: ServerProcess | None = None
    try:
        await reader.wait_for(lambda m: m["type"] == "snapshot")
        first.stop(signal.SIGKILL)
        await reader.wait_for(lambda m: m["type"] == STREAM_DOWN, timeout=5)
        second = ServerProcess(first.config, first.db)  # same ledger, a new port
        assert second.port != first.port
        await asyncio.to_thread(second.start)
        await asyncio.sleep(0.05)
        # still waiting out its backoff on the dead address (the resolver still names it)
        assert not stream.connected and all(
            url.endswith(f":{first.port}/api/v1/events") for _, url in stream.attempts
        )
        count = len(reader.messages)
        target["url"] = second.url  # the new record arrives...
        woken = time.monotonic()
        stream.wake()  # ...and the board's browser callback wakes the stream
        snap = await reader.wait_for(lambda m: m["type"] == "snapshot", start=count, timeout=backoff)
        took = snap["_t"] - woken
        print(f"\nwake → snapshot from the new port: {took * 1000:.1f} ms (backoff {backoff} s)")
        assert took < 0.5, took
        assert stream.url == second.ws_url and stream.connected and stream.connects == 2
        assert snap["state"]["site"]["id"] == "testsite"
    finally:
        if second is not None:
            second.stop()


async def test_a_refused_attempt_re_resolves_before_waiting(reader_factory: Any) -> None:
    dead, live = free_port(), free_port()
    answers = iter([f"http://127.0.0.1:{dead}"])

    async def resolver() -> str:  # the old address once, then the new one
        return next(answers, f"http://127.0.0.1:{live}")

    async with serve(snapshot_server(), "127.0.0.1", live):
        stream = CountingStream(resolver, first_backoff=5.0, max_backoff=5.0)
        reader = reader_factory(stream)
        start = time.monotonic()
        snap = await reader.wait_for(lambda m: m["type"] == "snapshot", timeout=3)
        assert snap["_t"] - start < 0.5  # not after the 5 s backoff
        assert [m["type"] for m in reader.messages] == [STREAM_DOWN, "snapshot"]
        assert [url.split(":")[-1] for _, url in stream.attempts] == [
            f"{dead}/api/v1/events",
            f"{live}/api/v1/events",
        ]
        await reader.close()


async def test_wake_abandons_a_hanging_attempt_and_leaves_a_live_link_alone(reader_factory: Any) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never answers the handshake: a host that is going away
        writer.close()

    hang = await asyncio.start_server(silent, "127.0.0.1", 0)
    hang_port = hang.sockets[0].getsockname()[1]
    live = free_port()
    target = {"url": f"http://127.0.0.1:{hang_port}"}

    async def resolver() -> str:
        return target["url"]

    async with hang, serve(snapshot_server(), "127.0.0.1", live):
        stream = CountingStream(resolver, open_timeout=10.0)
        reader = reader_factory(stream)
        while not stream.attempts:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the handshake is hanging
        target["url"] = f"http://127.0.0.1:{live}"
        woken = time.monotonic()
        stream.wake()
        snap = await reader.wait_for(lambda m: m["type"] == "snapshot", timeout=3)
        assert snap["_t"] - woken < 0.5
        assert [m["type"] for m in reader.messages] == ["snapshot"]  # abandoned, not "down"
        stream.wake()  # connected: nothing to do
        await asyncio.sleep(0.2)
        assert stream.connected and stream.connects == 1 and len(stream.attempts) == 2
        await reader.close()


async def test_two_dead_addresses_in_turn_do_not_make_a_busy_loop(reader_factory: Any) -> None:
    ports = itertools.cycle([free_port(), free_port()])

    async def resolver() -> str:  # a confused table: a different dead address every time
        return f"http://127.0.0.1:{next(ports)}"

    stream = CountingStream(resolver, max_backoff=0.4)
    reader = reader_factory(stream)
    await asyncio.sleep(1.5)
    # one skipped wait per backoff step at most: 0.1+0.2+0.4+0.4 → about 5 steps, 10 attempts
    assert 4 <= len(stream.attempts) <= 12, len(stream.attempts)
    assert sum(m["type"] == STREAM_DOWN for m in reader.messages) == 1
