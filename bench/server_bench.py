"""Site-service benchmark: call latency to 50 sockets, and durable issues per second over HTTP.

    .venv/bin/python bench/server_bench.py [--sockets 50] [--calls 200] [--issues 3000] [--clients 16]
                                           [--http raw|httpx] [--ws raw|websockets]
                                           [--loop uvloop|asyncio] [--runs 1] [--writer]

Starts the real server (``main.py server``) on a free loopback port with a temporary ledger
(synchronous=FULL, so every issue is fsynced before its 201), then:
1. latency: 50 WebSocket clients connected; for each of ``--calls`` rounds a ticket is issued and
   ``POST /counters/1/next`` sent; the time from sending ``next`` to each socket receiving that
   ticket's ``ticket.called`` is one sample (50 per round). Prints p50/p99/max.
2. throughput: ``--clients`` concurrent HTTP/1.1 keep-alive clients issue ``--issues`` tickets
   (admin token, so no kiosk rate limit) across 3 departments; prints issues/s.

The benchmark's own clients share the machine's 2 cores with the server, so their cost matters.
By default they run on uvloop and send HTTP with a minimal HTTP/1.1 keep-alive client (below:
one request at a time per connection, status line + Content-Length + JSON body checked), which
costs about a fifth of httpx per request; ``--http httpx --loop asyncio`` gives the old client.
A real site's kiosks and desk pages are other machines: only the server's cost is the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect

from nummerlapp.bench.common import HOST, Budget, CpuLimit, Figures, limit
from nummerlapp.config import load_settings
from nummerlapp.server.api import runner as runner_mod
from nummerlapp.server.ledger import Ledger
from nummerlapp.tests.server.serverproc import SITE_TOML, ServerProcess

ROOT = Path(__file__).resolve().parent.parent

BIG_SITE = SITE_TOML.replace("max_number = 999", "max_number = 9999").replace(
    "max_number = 3", "max_number = 9999"
)


class RawHttp:
    """A minimal HTTP/1.1 keep-alive JSON client: one connection, one request at a time."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        rest = url.split("://", 1)[1]
        hostport, _, prefix = rest.partition("/")
        self.host, _, port = hostport.partition(":")
        self.port = int(port)
        self.prefix = "/" + prefix if prefix else ""
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawHttp:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def post(self, path: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, object]]:
        assert self._reader is not None and self._writer is not None
        data = json.dumps(body or {}).encode()
        self._writer.write(
            (
                f"POST {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length"
        )
        return status, json.loads(await self._reader.readexactly(length))


def _frame_at(buf: bytearray, pos: int) -> tuple[int, int, int] | None:
    """(opcode, header length, payload length) of the unmasked frame at ``pos``; None until all of
    it has arrived."""
    if len(buf) - pos < 2:
        return None
    opcode, n = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
    head = 2
    if n == 126:
        if len(buf) - pos < 4:
            return None
        n, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
    elif n == 127:
        if len(buf) - pos < 10:
            return None
        n, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
    if len(buf) - pos < head + n:
        return None
    return opcode, head, n


class RawWs(asyncio.Protocol):
    """A minimal WebSocket client (RFC 6455 handshake and framing, text messages, answers pings).

    Server frames are unmasked and unfragmented (uvicorn sends each message as one frame), so a
    message costs a header parse and a slice: the 50 board sockets of the latency measure then
    cost the benchmark process a small fraction of what the ``websockets`` client costs.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._handshake = True
        self._messages: deque[str] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    @classmethod
    async def connect(cls, url: str) -> RawWs:
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(cls, host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        assert proto.transport is not None
        proto.transport.write(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await proto._ready
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._ready.done():
            self._ready.set_exception(ConnectionError("closed during the handshake"))
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _handshaken(self) -> bool:
        """Whether the handshake's answer is in (and taken off the buffer): frames may follow."""
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(buf[:end]).split(b" ", 2)[1]
        if status != b"101":
            self._ready.set_exception(ConnectionError(f"handshake answered {status!r}"))
            return False
        del buf[: end + 4]
        self._handshake = False
        self._ready.set_result(None)
        return True

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if self._handshake and not self._handshaken():
            return
        pos = 0
        while (frame := _frame_at(buf, pos)) is not None:
            opcode, head, n = frame
            payload = bytes(buf[pos + head : pos + head + n])
            pos += head + n
            if opcode == 1:
                self._messages.append(payload.decode())
            elif opcode == 9:  # ping: answer with a masked pong
                self._send(0xA, payload)
            elif opcode == 8:
                self.closed = True
        del buf[:pos]
        self._wake()

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None and len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    async def recv(self) -> str:
        while not self._messages:
            if self.closed:
                raise ConnectionError("the socket closed")
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._messages.popleft()

    async def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


def http_client(kind: str, server: ServerProcess, headers: dict[str, str], timeout: float) -> Any:
    if kind == "raw":
        return RawHttp(server.url, headers)
    return _Httpx(httpx.AsyncClient(base_url=server.url, headers=headers, timeout=timeout))


class _Httpx:
    """httpx behind RawHttp's interface (``--http httpx``)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> _Httpx:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)

    async def post(self, path: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, object]]:
        r = await self.client.post(path, json=body or {})
        return r.status_code, r.json()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def latency(
    server: ServerProcess,
    admin: dict[str, str],
    sockets: int,
    calls: int,
    http_kind: str = "raw",
    ws_kind: str = "raw",
) -> list[float]:
    conns: list[Any]
    if ws_kind == "raw":
        conns = [await RawWs.connect(server.ws_url) for _ in range(sockets)]
    else:
        conns = [await connect(server.ws_url, max_queue=None) for _ in range(sockets)]
    for ws in conns:
        json.loads(await ws.recv())  # snapshot
    samples: list[float] = []
    async with http_client(http_kind, server, admin, 10) as http:
        for _ in range(calls):
            status, t = await http.post("/tickets", {"department": "nav"})
            assert status == 201, t

            async def wait_call(ws: Any, sent: list[float], ticket_id: object = t["id"]) -> float:
                while True:
                    event = json.loads(await ws.recv())
                    if event["type"] == "ticket.called" and event["ticket"]["id"] == ticket_id:
                        return time.perf_counter() - sent[0]

            sent = [0.0]
            waiters = [asyncio.create_task(wait_call(ws, sent)) for ws in conns]
            await asyncio.sleep(0)
            sent[0] = time.perf_counter()
            status, r = await http.post("/counters/1/next")
            assert status == 200 and r["ticket"]["id"] == t["id"], r
            samples += await asyncio.gather(*waiters)
    for ws in conns:
        await ws.close()
    return samples


async def throughput(
    server: ServerProcess, admin: dict[str, str], issues: int, clients: int, http_kind: str = "raw"
) -> float:
    per = issues // clients
    deps = ["nav", "bygg", "tiny"]

    async def worker(k: int) -> None:
        async with http_client(http_kind, server, admin, 30) as http:
            for i in range(per):
                status, body = await http.post("/tickets", {"department": deps[(k + i) % 3]})
                assert status == 201, body

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    return per * clients / (time.perf_counter() - start)


async def writer_only(issues: int, callers: int, batch_max: int) -> tuple[float, float]:
    """The writer thread alone, in-process: ``callers`` tasks awaiting ``runner.run(… issue …)``.

    Returns (issues/s, tickets per commit). ``batch_max=1`` is one transaction per issue (no group
    commit), the writer as it was before.
    """

    commits: list[int] = []
    saved = runner_mod.BATCH_MAX
    runner_mod.BATCH_MAX = batch_max
    try:
        with tempfile.TemporaryDirectory(prefix="nummerlapp-bench-") as tmp:
            site = Path(tmp) / "site.toml"
            site.write_text(BIG_SITE.format(kiosk_interval=2.0), encoding="utf-8")
            runner = runner_mod.LedgerRunner(
                Path(tmp) / "ledger.db", load_settings(site), on_events=lambda ev: commits.append(len(ev))
            )
            await runner.start()
            deps = ["nav", "bygg", "tiny"]
            per = issues // callers

            async def caller(k: int) -> None:
                for i in range(per):
                    await runner.run(partial(Ledger.issue, department_id=deps[(k + i) % 3]))

            start = time.perf_counter()
            await asyncio.gather(*(caller(k) for k in range(callers)))
            elapsed = time.perf_counter() - start
            await runner.close()
    finally:
        runner_mod.BATCH_MAX = saved
    return per * callers / elapsed, sum(commits) / max(1, len(commits))


@contextlib.contextmanager
def big_server(lim: CpuLimit | None = None) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """A fresh service on a fresh ledger of BIG_SITE (its process inside ``lim``'s quota, if
    any), and an admin's request headers; stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="nummerlapp-bench-") as tmp:
        site = Path(tmp) / "site.toml"
        site.write_text(BIG_SITE.format(kiosk_interval=2.0), encoding="utf-8")
        server = ServerProcess(site, Path(tmp) / "ledger.db")
        server.start()
        try:
            if lim is not None and server.proc is not None:
                lim.confine(server.proc.pid)
            yield server, {"Authorization": f"Bearer {server.token('admin', name='bench')}"}
        finally:
            server.stop()


def run(coro: Any, loop: str) -> Any:
    if loop == "uvloop":
        return uvloop.run(coro)
    return asyncio.run(coro)


def collect(
    figs: Figures,
    budget: Budget = HOST,
    runs: int = 2,
    sockets: int = 50,
    calls: int = 100,
    issues: int = 1600,
    clients: int = 16,
    log: Any = print,
) -> None:
    """``runs`` fresh servers; with a limited budget the server process runs inside it, the
    benchmark's clients (standing in for other machines) outside."""
    p50 = figs.fig(
        "call_p50_ms", f"next → ticket.called at {sockets} boards, p50", "ms", "lower", abs_margin=0.5
    )
    p99 = figs.fig("call_p99_ms", f"next → ticket.called at {sockets} boards, p99", "ms", "lower", 10.0,
                   abs_margin=1.0)  # fmt: skip
    rate = figs.fig("issues_per_s", f"durable issues over HTTP, {clients} clients", "1/s", "higher", 1000.0)
    with limit(budget) as lim:
        for i in range(runs):
            with big_server(lim) as (server, admin):
                ms = [x * 1000 for x in run(latency(server, admin, sockets, calls), "uvloop")]
                p50.add(statistics.median(ms))
                p99.add(pct(ms, 99))
                rate.add(run(throughput(server, admin, issues, clients), "uvloop"))
            log(
                f"  server run {i + 1} ({budget.name}): p50 {p50.runs[-1]:.2f} ms, p99 {p99.runs[-1]:.2f} ms, "
                f"{rate.runs[-1]:.0f} issues/s  (load {os.getloadavg()[0]:.2f})"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=50)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--issues", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--http", choices=("raw", "httpx"), default="raw", help="the bench's HTTP client")
    ap.add_argument("--ws", choices=("raw", "websockets"), default="raw", help="the bench's WebSocket client")
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="the bench's event loop")
    ap.add_argument("--runs", type=int, default=1, help="repeat both measures, each run on a fresh server")
    ap.add_argument(
        "--writer",
        action="store_true",
        help="measure only the ledger writer thread in-process (group commit on/off)",
    )
    args = ap.parse_args()
    if args.writer:
        for _ in range(args.runs):
            for batch_max in (1, 256):
                rate, per_commit = run(writer_only(args.issues, args.clients, batch_max), args.loop)
                print(
                    f"writer thread in-process, {args.clients} callers, BATCH_MAX {batch_max}: "
                    f"{rate:.0f} durable issues/s, {per_commit:.1f} tickets per commit"
                    f"  (load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
        return
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; clients: http {args.http}, ws {args.ws}, on {args.loop}"
    )
    for _ in range(args.runs):  # a fresh server and ledger per run
        with big_server() as (server, admin):
            samples = run(latency(server, admin, args.sockets, args.calls, args.http, args.ws), args.loop)
            ms = [s * 1000 for s in samples]
            print(
                f"next -> ticket.called at {args.sockets} sockets, {len(ms)} samples: "
                f"p50 {statistics.median(ms):.2f} ms, p99 {pct(ms, 99):.2f} ms, max {max(ms):.2f} ms"
                f"  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            rate = run(throughput(server, admin, args.issues, args.clients, args.http), args.loop)
            print(
                f"issues over HTTP, durable, {args.clients} clients: {rate:.0f} issues/s"
                f"  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
