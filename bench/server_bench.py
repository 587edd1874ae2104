"""Site-service benchmark: call latency to 50 sockets, and durable issues per second over HTTP.

    .venv/bin/python bench/server_bench.py [--sockets 50] [--calls 200] [--issues 3000] [--clients 16]

Starts the real server (``main.py server``) on a free loopback port with a temporary ledger
(synchronous=FULL, so every issue is fsynced before its 201), then:
1. latency: 50 WebSocket clients connected; for each of ``--calls`` rounds a ticket is issued and
   ``POST /counters/1/next`` sent; the time from sending ``next`` to each socket receiving that
   ticket's ``ticket.called`` is one sample (50 per round). Prints p50/p99/max.
2. throughput: ``--clients`` concurrent HTTP/1.1 keep-alive clients issue ``--issues`` tickets
   (admin token, so no kiosk rate limit) across 3 departments; prints issues/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server.serverproc import SITE_TOML, ServerProcess  # noqa: E402

BIG_SITE = SITE_TOML.replace("max_number = 3", "max_number = 9999")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def latency(server: ServerProcess, admin: dict[str, str], sockets: int, calls: int) -> list[float]:
    conns = [await connect(server.ws_url, max_queue=None) for _ in range(sockets)]
    for ws in conns:
        json.loads(await ws.recv())  # snapshot
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=10) as http:
        for _ in range(calls):
            t = (await http.post("/tickets", json={"department": "nav"})).json()

            async def wait_call(ws: object, sent: list[float], ticket_id: str = t["id"]) -> float:
                while True:
                    event = json.loads(await ws.recv())  # type: ignore[attr-defined]
                    if event["type"] == "ticket.called" and event["ticket"]["id"] == ticket_id:
                        return time.perf_counter() - sent[0]

            sent = [0.0]
            waiters = [asyncio.create_task(wait_call(ws, sent)) for ws in conns]
            await asyncio.sleep(0)
            sent[0] = time.perf_counter()
            r = await http.post("/counters/1/next")
            assert r.json()["ticket"]["id"] == t["id"], r.text
            samples += await asyncio.gather(*waiters)
    for ws in conns:
        await ws.close()
    return samples


async def throughput(server: ServerProcess, admin: dict[str, str], issues: int, clients: int) -> float:
    per = issues // clients
    deps = ["nav", "bygg", "tiny"]

    async def worker(k: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as http:
            for i in range(per):
                r = await http.post("/tickets", json={"department": deps[(k + i) % 3]})
                assert r.status_code == 201, r.text

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    return per * clients / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=50)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--issues", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nummerlapp-bench-") as tmp:
        site = Path(tmp) / "site.toml"
        site.write_text(BIG_SITE.format(kiosk_interval=2.0), encoding="utf-8")
        server = ServerProcess(site, Path(tmp) / "ledger.db")
        server.start()
        try:
            admin = {"Authorization": f"Bearer {server.token('admin', name='bench')}"}
            samples = asyncio.run(latency(server, admin, args.sockets, args.calls))
            ms = [s * 1000 for s in samples]
            print(
                f"next -> ticket.called at {args.sockets} sockets, {len(ms)} samples: "
                f"p50 {statistics.median(ms):.2f} ms, p99 {pct(ms, 99):.2f} ms, max {max(ms):.2f} ms"
            )
            rate = asyncio.run(throughput(server, admin, args.issues, args.clients))
            print(f"issues over HTTP, durable, {args.clients} clients: {rate:.0f} issues/s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
