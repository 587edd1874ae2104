"""Board benchmark: event-to-frame time, idle CPU and draws, RSS, rediscovery after a restart.

    .venv/bin/python bench/display_bench.py [--calls 20] [--idle 20] [--size 1920x1080]

Runs a real site service (``main.py server``, mDNS on 127.0.0.1 only) and, in this process, the
real board (Kivy offscreen, finding the service by mDNS, announcing into a recording player).
Prints one line per figure; docs/benchmarks/display.md records them and how they were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="nummerlapp-kivy-"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--idle", type=float, default=20.0)
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--maxfps", type=int, default=30)
    args = p.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from display.app import BoardApp, BoardOptions, configure_window, run_board

    configure_window(width, height, maxfps=args.maxfps)
    import httpx

    from display.announce import RecordingPlayer
    from tests.server.serverproc import ServerProcess, free_port, write_site

    tmp = Path(tempfile.mkdtemp(prefix="board-bench-"))
    server = ServerProcess(
        write_site(tmp / "site.toml"), tmp / "ledger.db", extra=("--mdns-interface", "127.0.0.1")
    )
    server.start()
    token = server.token("admin")
    options = BoardOptions(
        lang="nb", site_id="testsite", mdns=True, mdns_interfaces=("127.0.0.1",), board_id="bench-board",
        voice_languages=("nb",), site_language="nb", cache_dir=tmp / "wav",
    )  # fmt: skip
    app = BoardApp(options, player=RecordingPlayer())
    figures: dict[str, str] = {}

    async def until(predicate: object, timeout: float = 20.0) -> float:
        start = time.perf_counter()
        while not predicate():  # type: ignore[operator]
            if time.perf_counter() - start > timeout:
                raise TimeoutError("condition not met")
            await asyncio.sleep(0.002)
        return time.perf_counter() - start

    async def drive() -> None:
        await until(lambda: app.state.connected, 30)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
            for _ in range(args.calls):
                (await http.post("/tickets", json={"department": "nav"})).raise_for_status()
            await asyncio.sleep(2)  # let the refresh and first frames settle
            app.latencies.clear()
            http_to_frame = []
            for _ in range(args.calls):
                frames = app.frames
                sent = time.perf_counter()
                number = (await http.post("/counters/1/next")).json()["ticket"]["number"]
                await until(lambda n=number, f=frames: app.screen.number.text == n and app.frames > f)
                http_to_frame.append(time.perf_counter() - sent)
                await asyncio.sleep(0.3)
            lat = sorted(app.latencies)
            figures["event-to-frame median (ms)"] = f"{statistics.median(lat) * 1000:.1f}"
            figures["event-to-frame p95 (ms)"] = f"{lat[int(len(lat) * 0.95) - 1] * 1000:.1f}"
            figures["HTTP next → frame median (ms)"] = f"{statistics.median(http_to_frame) * 1000:.1f}"
        await app.announcer.wait_idle(120)
        app.screen.highlight(False)
        await asyncio.sleep(8)  # highlight over, refresh done: the board is idle now
        frames, cpu, wall = app.frames, time.process_time(), time.perf_counter()
        await asyncio.sleep(args.idle)
        cpu_pct = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
        figures["idle CPU (% of one core)"] = f"{cpu_pct:.2f}"
        figures[f"frames drawn in {args.idle:.0f} s idle"] = str(app.frames - frames)
        figures["RSS (MB)"] = f"{rss_mb():.0f}"
        # rediscovery: the service restarts on another port; only mDNS can tell the board where
        server.stop()
        await until(lambda: not app.state.connected, 5)
        server.port = free_port()
        connects = app.stream.connects
        server.start()
        up = time.perf_counter()
        await until(lambda: app.stream.connects > connects and app.state.connected, 20)
        figures["rediscovery after restart on a new port (s)"] = f"{time.perf_counter() - up:.2f}"
        server.stop()
        await until(lambda: not app.state.connected, 5)
        connects = app.stream.connects
        server.start()
        up = time.perf_counter()
        await until(lambda: app.stream.connects > connects and app.state.connected, 20)
        figures["reconnect after restart on the same port (s)"] = f"{time.perf_counter() - up:.2f}"

    try:
        asyncio.run(run_board(app, [drive]))
    finally:
        server.stop()
    print(f"board benchmark, {args.size}, maxfps {args.maxfps}, {args.calls} calls")
    for key, value in figures.items():
        print(f"  {key:48s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
