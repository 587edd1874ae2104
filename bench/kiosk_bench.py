"""Kiosk figures: cold start to an interactive home screen, memory, touch to first printer byte.

    .venv/bin/python bench/kiosk_bench.py [--runs 3] [--touches 4] [--budget host|pi4] [--trace]

Each run starts a fresh kiosk process (bench/kiosk_probe.py: the real kiosk, offscreen SDL, Mesa)
against one real site service on 127.0.0.1 and a printer on a real pty (socat). The fake thermal
printer at the pty's far end runs in *this* process, outside any CPU limit put on the kiosk:
- cold start: from spawning the process to the home screen drawn with its buttons (three frames
  after the screen is built; touches are taken from then on), wall clock;
- memory: RSS (and its split, bench.common.memory) after the home screen has been idle 2 s;
- touch to first byte: from the touch-down to the first ticket byte read at the printer's end of
  the pty (status query, POST /tickets with its fsync, layout, serial write), per touch; the
  first touch of a process is counted like the others.
With ``--budget pi4`` the kiosk process runs inside a cgroup CPU quota (bench.common.PI4); the
service and the printer do not.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nummerlapp.bench.common import HOST, PI4, Budget, Figure, Figures, kivy_env, limit
from nummerlapp.tests.kiosk.ptyprinter import FakeThermalPrinter, PtyPair
from nummerlapp.tests.kiosk.test_render import site_file
from nummerlapp.tests.server.serverproc import ServerProcess

PROBE = Path(__file__).with_name("kiosk_probe.py")


def collect(
    figs: Figures,
    budget: Budget,
    runs: int = 3,
    touches: int = 4,
    trace: bool = False,
    profile: bool = False,
    shot: Path | None = None,
    log: Any = print,
    env: dict[str, str] | None = None,
    kivy: dict[str, str] | None = None,
) -> None:
    goal_t2b = 15.0 if budget.quota_us is None else 50.0
    cold = figs.fig(
        "cold_start_s", "kiosk cold start → interactive home screen", "s", "lower", 2.0, abs_margin=0.1
    )
    t2b = figs.fig(
        "touch_to_first_byte_ms",
        "kiosk touch → first printer byte, median",
        "ms",
        "lower",
        goal_t2b,
        abs_margin=3.0,
    )
    t2b_max = figs.fig("touch_to_first_byte_max_ms", "kiosk touch → first printer byte, worst touch", "ms", "lower",
                       abs_margin=5.0)  # fmt: skip
    rss = figs.fig("rss_mb", "kiosk RSS, home screen idle", "MB", "lower", 200.0, abs_margin=5.0)
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    srv = ServerProcess(site_file(tmp / "site.toml"), tmp / "ledger.db")
    srv.start()
    reports = _Reports(figs, cold, rss, log)
    traces = reports.traces
    try:
        with limit(budget) as lim:
            for i in range(runs):
                job = {
                    "server": srv.url.removesuffix("/api/v1"),
                    "token": srv.token("kiosk", name=f"bench {i}"),
                    "config": str(srv.config),
                    "size": [1080, 1920],
                    "lang": "nb",
                    "department": "nav",
                    "touches": touches,
                    "trace": trace,
                    "profile": profile,
                    "shot": str(shot) if shot and i == 0 else None,
                    "kivy": kivy or {},
                }
                with PtyPair(tmp) as pty:
                    fake = FakeThermalPrinter(pty.device)
                    job["pty_host"] = str(pty.host)
                    spawned = time.time()
                    proc = subprocess.Popen(
                        [sys.executable, str(PROBE), json.dumps(job)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                        env=kivy_env(str(tmp / f"kivy-{i}")) | (env or {}),
                        preexec_fn=lim.preexec() if lim else None,
                    )
                    try:
                        times = _follow(proc, fake, functools.partial(reports.note, spawned=spawned))
                        proc.wait(30)
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait()
                        fake.close()
                    if proc.returncode != 0:
                        raise RuntimeError(
                            f"kiosk probe failed:\n{proc.stderr.read()[-3000:] if proc.stderr else ''}"
                        )
                if times:
                    t2b.add(statistics.median(times))
                    t2b_max.add(max(times))
                log(
                    f"  kiosk run {i + 1} ({budget.name}): cold start {cold.runs[-1]:.2f} s, RSS {rss.runs[-1]:.0f} MB, "
                    f"touch→first byte {', '.join(f'{t:.1f}' for t in times)} ms"
                )
    finally:
        srv.stop()
    if traces:
        figs.details["trace"] = traces
        for steps in traces:
            log("  trace: " + ", ".join(f"{k} {ms:.1f}" for k, ms in steps))


@dataclass
class _Reports:
    """What a probe reports besides its touches, into the figures and their details."""

    figs: Figures
    cold: Figure
    rss: Figure
    log: Any
    traces: list[Any] = field(default_factory=list)

    def note(self, ev: dict[str, Any], spawned: float) -> None:
        details = self.figs.details
        if ev["ev"] == "ready":
            self.cold.add(ev["wall"] - spawned)
        elif ev["ev"] == "memory":
            self.rss.add(ev["rss_mb"])
            details.setdefault("memory", []).append(ev)
        elif ev["ev"] == "profile":
            details.setdefault("profile", []).append(ev["text"])
            self.log(ev["text"])
        elif ev["ev"] == "trace":
            self.traces.append(ev["steps"])
        elif ev["ev"] == "done":
            details.setdefault("memory_after_visits", []).append(ev)


def _follow(
    proc: subprocess.Popen[str], fake: FakeThermalPrinter, note: Callable[[dict[str, Any]], None]
) -> list[float]:
    """Read the probe's JSON lines until it ends; each touch's time to the first printer byte (ms).

    After a touch the whole ticket is awaited at the printer's end, then the probe is told to go
    on; every other line goes to ``note``.
    """
    assert proc.stdin is not None and proc.stdout is not None
    times: list[float] = []
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        ev = json.loads(line)
        if ev["ev"] != "touched":
            note(ev)
            continue
        ok = fake.wait_for(b"\x1dV", 10)  # the cut: the whole ticket is there
        if ok and fake.first_byte_at is not None:
            times.append((fake.first_byte_at - ev["t"]) * 1000)
        fake.data.clear()
        fake.first_byte_at = None
        proc.stdin.write("next\n")
        proc.stdin.flush()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--touches", type=int, default=4)
    ap.add_argument("--budget", choices=("host", "pi4"), default="host")
    ap.add_argument("--trace", action="store_true", help="timestamps of the steps between touch and write")
    ap.add_argument("--profile", action="store_true", help="cProfile of each process's first touch")
    ap.add_argument("--shot", type=Path, help="screenshots PREFIX-home.png, PREFIX-ticket.png (first run)")
    ap.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the kiosk process (experiments)"
    )
    ap.add_argument("--kivy", action="append", default=[], help="section.key=value Kivy config (experiments)")
    args = ap.parse_args()
    budget = HOST if args.budget == "host" else PI4
    figs = Figures("kiosk", budget.name)
    collect(
        figs,
        budget,
        args.runs,
        args.touches,
        args.trace,
        args.profile,
        args.shot,
        env=dict(e.split("=", 1) for e in args.env),
        kivy=dict(k.split("=", 1) for k in args.kivy),
    )
    for f in figs.to_json():
        s = f["spread"]
        print(
            f"{f['name']:50s} {f['value']:8.2f} {f['unit']}  (min {s['min']:.2f}, max {s['max']:.2f}, goal {f['goal']})"
        )
    for m in figs.details.get("memory", [])[:1]:
        print("memory by kind (MB): " + json.dumps({k: round(v, 1) for k, v in m["kinds"].items()}))


if __name__ == "__main__":
    main()
