"""Board benchmark: event-to-frame time, idle CPU and draws, RSS and its split, rediscovery after a restart.

    .venv/bin/python bench/display_bench.py [--calls 20] [--idle 20] [--size 1920x1080]

    .venv/bin/python bench/display_bench.py --tracemalloc     # also the Python heap

Runs a real site service (``main.py server``, mDNS on 127.0.0.1 only) and, in this process, the
real board (Kivy offscreen, finding the service by mDNS, announcing into a recording player).
Prints one line per figure; docs/benchmarks/display.md records them and how they were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nummerlapp.bench.common import (
    HOST,
    Budget,
    Figures,
    kivy_env,
    limit,
    malloc_in_use_mb,
    memory,
    offscreen,
)

ROOT = Path(__file__).resolve().parents[1]
offscreen(os.environ, "nummerlapp-kivy-")  # before Kivy's first import

import httpx  # noqa: E402

from nummerlapp.display.announce import RecordingPlayer  # noqa: E402
from nummerlapp.display.app import BoardApp, BoardOptions, configure_window, run_board  # noqa: E402
from nummerlapp.tests.server.serverproc import ServerProcess, free_port, write_site  # noqa: E402


def memory_status() -> dict[str, float]:
    """VmRSS and its split (RssAnon, RssFile, RssShmem) from /proc/self/status, in MB."""
    wanted = ("VmRSS", "RssAnon", "RssFile", "RssShmem")
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            found[key] = int(value.split()[0]) / 1024
    return found


def rss_by_mapping(top: int = 6) -> list[tuple[str, float]]:
    """Resident MB per mapped file (anonymous mappings together), largest first (/proc/self/smaps)."""
    totals: dict[str, int] = {}
    name = "[anonymous]"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anonymous]"
        elif parts and parts[0] == "Rss:":
            totals[name] = totals.get(name, 0) + int(parts[1])
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [(Path(k).name if k.startswith("/") else k, v / 1024) for k, v in ranked]


def _short(path: str) -> str:
    """A source path as its package under the repo or the standard library ("stdlib:asyncio")."""
    if path.startswith(str(ROOT)):
        return Path(path).relative_to(ROOT).parts[0]
    if "/lib/python3" in path:
        return "stdlib:" + path.split("/lib/python3", 1)[1].split("/")[1].removesuffix(".py")
    return path


def memory_figures(figures: dict[str, str], stage: str) -> None:
    status = memory_status()
    figures[f"{stage}: VmRSS (MB)"] = f"{status.get('VmRSS', float('nan')):.0f}"
    split = ", ".join(
        f"{k.removeprefix('Rss')} {status.get(k, float('nan')):.0f}"
        for k in ("RssAnon", "RssFile", "RssShmem")
    )
    figures[f"{stage}: split (MB)"] = split


PROBE = Path(__file__).with_name("display_probe.py")


def board_memory(folder: Path, lim: Any = None) -> dict[str, Any]:
    """The resident set of a real board process (``main.py display``'s path, bench/display_probe.py),
    first screen drawn and idle 2 s: measured as the kiosk's is, in its own process."""
    folder.mkdir(parents=True)
    server = ServerProcess(write_site(folder / "site.toml"), folder / "ledger.db", extra=("--no-mdns",))
    server.start()
    try:
        args = [
            "display",
            "--config",
            str(folder / "site.toml"),
            "--server",
            server.url.removesuffix("/api/v1"),
        ]
        args += ["--no-mdns", "--mute", "--state-dir", str(folder / "state"), "--cache", str(folder / "wav")]
        done = subprocess.run(
            [sys.executable, str(PROBE), *args], capture_output=True, text=True, timeout=120,
            env=kivy_env(str(folder / "kivy")), preexec_fn=lim.preexec() if lim else None,
        )  # fmt: skip
    finally:
        server.stop()
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            fact: dict[str, Any] = json.loads(line)
            if fact.pop("event", None) == "memory":
                return fact
    raise RuntimeError(f"the board probe said nothing (exit {done.returncode}):\n{done.stderr[-3000:]}")


def collect(
    figs: Figures, budget: Budget = HOST, runs: int = 1, calls: int = 10, idle: float = 10.0,
    rediscovery: bool = True, log: Any = print,
) -> None:  # fmt: skip
    """``runs`` board processes (this script with ``--json``); with a limited budget the board
    runs inside it and its service is moved out."""

    e2f = figs.fig("event_to_frame_ms", "board event → frame, median", "ms", "lower", 100.0, abs_margin=5.0)
    e2f95 = figs.fig("event_to_frame_p95_ms", "board event → frame, p95", "ms", "lower", abs_margin=10.0)
    h2f = figs.fig("http_next_to_frame_ms", "board: HTTP next → frame, median", "ms", "lower", abs_margin=5.0)
    cpu = figs.fig("idle_cpu_pct", "board idle CPU (% of one core)", "%", "lower", 3.0, abs_margin=0.5)
    rss = figs.fig("rss_mb", "board RSS, first screen idle", "MB", "lower", 160.0, abs_margin=5.0)
    redis = figs.fig("rediscovery_s", "board reconnected after the service restarts (worst of 3 kinds)", "s",
                     "lower", 2.0, abs_margin=0.3)  # fmt: skip
    with limit(budget) as lim, tempfile.TemporaryDirectory(prefix="board-bench-") as tmp:
        for i in range(runs):
            out = Path(tmp) / f"run{i}.json"
            cmd = [sys.executable, __file__, "--calls", str(calls), "--idle", str(idle), "--json", str(out)]
            if lim is not None:
                cmd += ["--release-to", str(lim.parent / "cgroup.procs")]
            if not rediscovery:
                cmd.append("--no-rediscovery")
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=300,
                env=kivy_env(str(Path(tmp) / f"kivy-{i}")), preexec_fn=lim.preexec() if lim else None,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"board benchmark failed:\n{done.stderr[-3000:]}")
            facts = json.loads(out.read_text())
            e2f.add(statistics.median(facts["event_to_frame_ms"]))
            lat = sorted(facts["event_to_frame_ms"])
            e2f95.add(lat[max(0, int(len(lat) * 0.95) - 1)])
            h2f.add(statistics.median(facts["http_to_frame_ms"]))
            cpu.add(facts["idle_cpu_pct"])
            board = board_memory(Path(tmp) / f"probe-{i}", lim)  # the board's own process, as the kiosk's
            rss.add(board["rss_mb"])
            if facts.get("rediscovery_s"):
                redis.add(max(facts["rediscovery_s"]))
            figs.details.setdefault("memory", []).append(board)
            figs.details.setdefault("memory_after_calls", []).append(facts["memory_after_calls"])
            log(
                f"  board run {i + 1} ({budget.name}): event→frame {e2f.runs[-1]:.1f} ms, idle CPU {cpu.runs[-1]:.2f} %, "
                f"RSS {rss.runs[-1]:.0f} MB"
            )
    if not redis.runs:
        del figs.items[redis.key]


# The service restarts for the rediscovery figures; only mDNS can tell the board where it went.
# A graceful stop (SIGTERM: mDNS goodbye) and a crash (SIGKILL: the dead port stays in the
# board's table until the restart's announcement replaces it); then the same port.
RESTARTS = (
    (signal.SIGTERM, "a stop + restart on a new port", True),
    (signal.SIGKILL, "a crash + restart on a new port", True),
    (signal.SIGTERM, "a stop + restart on the same port", False),
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--idle", type=float, default=20.0)
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--maxfps", type=int, default=30)
    p.add_argument("--multisamples", type=int, default=0, help="Kivy MSAA samples (the board uses 0)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here (python -m bench)")
    p.add_argument("--no-rediscovery", action="store_true", help="skip the service restarts")
    p.add_argument(
        "--release-to",
        help="a cgroup.procs file: the service process is moved there (out of this process's CPU limit)",
    )
    p.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the Python heap (tracemalloc: slower, and its own bookkeeping adds to RSS)",
    )
    return p.parse_args()


async def until(predicate: Callable[..., object], timeout: float = 20.0) -> float:
    """Seconds until ``predicate()`` holds (polled every 2 ms); TimeoutError after ``timeout``."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


async def measure_calls(
    app: Any, server: ServerProcess, token: str, calls: int, figures: dict[str, str], out: dict[str, Any]
) -> None:
    """Event → frame and HTTP next → frame over ``calls`` calls at counter 1."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        for _ in range(calls):
            (await http.post("/tickets", json={"department": "nav"})).raise_for_status()
        await asyncio.sleep(2)  # let the refresh and first frames settle
        app.latencies.clear()
        http_to_frame = []
        for _ in range(calls):
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
    out["event_to_frame_ms"] = [x * 1000 for x in lat]
    out["http_to_frame_ms"] = [x * 1000 for x in http_to_frame]


def heap_figures(figures: dict[str, str]) -> None:
    """The Python heap now and at its peak, and the packages holding most of it (tracemalloc)."""
    current, peak = tracemalloc.get_traced_memory()
    figures["idle board: Python heap now / peak (MB, tracemalloc)"] = (
        f"{current / 2**20:.1f} / {peak / 2**20:.1f}"
    )
    by_package: dict[str, int] = {}
    for stat in tracemalloc.take_snapshot().statistics("filename"):
        path = stat.traceback[0].filename
        package = path.split("site-packages/")[-1] if "site-packages/" in path else path
        key = package.split("/")[0] if "site-packages/" in path else _short(path)
        by_package[key] = by_package.get(key, 0) + stat.size
    for key, size in sorted(by_package.items(), key=lambda kv: -kv[1])[:8]:
        figures[f"  Python heap allocated in {key} (MB)"] = f"{size / 2**20:.1f}"


async def measure_rediscovery(
    app: Any,
    server: ServerProcess,
    start_server: Callable[[], None],
    figures: dict[str, str],
    out: dict[str, Any],
) -> None:
    """For each of RESTARTS: seconds from the service answering again to the board connected."""
    runs: list[float] = out.setdefault("rediscovery_s", [])
    for sig, label, new_port in RESTARTS:
        server.stop(sig)
        await until(lambda: not app.state.connected, 5)
        await asyncio.sleep(1.0)  # the stream is well into its backoff
        if new_port:
            server.port = free_port()
        connects = app.stream.connects

        def start() -> float:
            start_server()  # returns once /health answers (polled every 50 ms)
            return time.perf_counter()

        starting = asyncio.ensure_future(asyncio.to_thread(start))
        await until(lambda c=connects: app.stream.connects > c and app.state.connected, 30)
        connected = time.perf_counter()
        healthy = await starting
        figures[f"rediscovery after {label} (s)"] = f"{connected - healthy:+.3f}"
        runs.append(connected - healthy)


def main() -> int:
    args = parse_args()
    if args.tracemalloc:
        tracemalloc.start()
    width, height = (int(v) for v in args.size.split("x"))

    configure_window(width, height, maxfps=args.maxfps, multisamples=args.multisamples)

    tmp = Path(tempfile.mkdtemp(prefix="board-bench-"))
    server = ServerProcess(
        write_site(tmp / "site.toml"), tmp / "ledger.db", extra=("--mdns-interface", "127.0.0.1")
    )

    def start_server() -> None:
        server.start()
        if args.release_to and server.proc is not None:
            Path(args.release_to).write_text(str(server.proc.pid))

    start_server()
    token = server.token("admin")
    options = BoardOptions(
        lang="nb", site_id="testsite", mdns=True, mdns_interfaces=("127.0.0.1",), board_id="bench-board",
        voice_languages=("nb",), site_language="nb", cache_dir=tmp / "wav",
    )  # fmt: skip
    figures: dict[str, str] = {}
    out: dict[str, Any] = {}  # --json: numbers, not text
    memory_figures(figures, "before Kivy's window (Python and the board's libraries)")
    app = BoardApp(options, player=RecordingPlayer())  # imports kivy.core.window: the GL context
    memory_figures(figures, "with the window, before the loop runs")

    async def drive() -> None:
        await until(lambda: app.state.connected, 30)
        # The board's first screen drawn and idle: memory measured as the kiosk's is (bench.common.memory).
        await until(lambda: app.frames >= 1, 30)
        await asyncio.sleep(2.0)
        out["memory"] = memory()
        figures["first screen, idle 2 s: RSS (MB)"] = f"{out['memory']['rss_mb']:.0f}"
        await measure_calls(app, server, token, args.calls, figures, out)
        await app.announcer.wait_idle(120)
        app.screen.highlight(False)
        await asyncio.sleep(8)  # highlight over, refresh done: the board is idle now
        frames, cpu, wall = app.frames, time.process_time(), time.perf_counter()
        await asyncio.sleep(args.idle)
        cpu_pct = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
        figures["idle CPU (% of one core)"] = f"{cpu_pct:.2f}"
        figures[f"frames drawn in {args.idle:.0f} s idle"] = str(app.frames - frames)
        out["idle_cpu_pct"] = cpu_pct
        out["idle_frames"] = app.frames - frames
        out["memory_after_calls"] = memory()
        memory_figures(figures, "idle board")
        figures["idle board: glibc malloc in use (MB)"] = f"{malloc_in_use_mb():.0f}"
        if args.tracemalloc:
            heap_figures(figures)
        for name, mb in rss_by_mapping():
            figures[f"  resident in {name} (MB)"] = f"{mb:.0f}"
        if not args.no_rediscovery:
            await measure_rediscovery(app, server, start_server, figures, out)

    try:
        asyncio.run(run_board(app, [drive]))
    finally:
        server.stop()
    print(
        f"board benchmark, {args.size}, maxfps {args.maxfps}, multisamples {args.multisamples}, {args.calls} calls"
    )
    for key, value in figures.items():
        print(f"  {key:60s} {value}")
    if args.json:
        args.json.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except SystemExit:  # argparse's --help and usage errors end as they should
        raise
    except BaseException:  # Kivy's logger hides tracebacks: write it where collect() reads it
        import traceback

        os.write(2, traceback.format_exc().encode())
        raise SystemExit(1) from None
    sys.exit(code)
