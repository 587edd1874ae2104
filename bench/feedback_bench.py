"""Exit terminal figures: cold start to the first question, memory, idle CPU (issue 18).

Each run starts a fresh terminal process (bench/feedback_probe.py: the real ``main.py feedback``
path, offscreen SDL, Mesa) against a real service, inside the budget's CPU limit when there is one
(the service stays outside: it stands for another machine).

- cold start: from spawning the process to the first question drawn with its faces (three frames
  after): what a visitor at the exit waits for after a power cut;
- RSS: ``bench.common.memory()`` of the terminal's own process, first question drawn and idle 2 s
  (the kiosk's and the board's moment and way);
- idle CPU: the process's CPU over the idle period, nobody touching it.

    python bench/feedback_bench.py [--runs 2] [--idle 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nummerlapp.bench.common import HOST, Budget, Figures, kivy_env, limit
from nummerlapp.tests.server.serverproc import ServerProcess

PROBE = Path(__file__).with_name("feedback_probe.py")
EXAMPLE_SITE = Path(__file__).resolve().parents[1] / "config" / "example_site.toml"


def one_run(folder: Path, idle: float, lim: Any) -> dict[str, Any]:
    folder.mkdir(parents=True)
    site = EXAMPLE_SITE  # its exit questions (the test site has none)
    server = ServerProcess(site, folder / "ledger.db", extra=("--no-mdns",))
    server.start()
    try:
        token = server.token("feedback")
        args = ["feedback", "--config", str(site), "--server", server.url.removesuffix("/api/v1")]
        args += ["--token", token, "--no-mdns", "--outbox", str(folder / "outbox")]
        spawned = time.time()
        done = subprocess.run(
            [sys.executable, str(PROBE), str(idle), *args], capture_output=True, text=True, timeout=180,
            env=kivy_env(str(folder / "kivy")), preexec_fn=lim.preexec() if lim else None,
        )  # fmt: skip
    finally:
        server.stop()
    facts: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            fact = json.loads(line)
            facts[fact.pop("event")] = fact
    if {"ready", "memory", "idle"} - set(facts):
        raise RuntimeError(
            f"the terminal probe stopped early (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    facts["cold_start_s"] = facts["ready"]["wall"] - spawned
    return facts


def collect(
    figs: Figures,
    budget: Budget = HOST,
    runs: int = 2,
    idle: float = 10.0,
    log: Callable[[str], None] = print,
) -> None:
    cold = figs.fig(
        "cold_start_s", "exit terminal cold start → first question", "s", "lower", 2.0, abs_margin=0.1
    )
    rss = figs.fig("rss_mb", "exit terminal RSS, first question idle", "MB", "lower", 200.0, abs_margin=5.0)
    cpu = figs.fig(
        "idle_cpu_pct", "exit terminal idle CPU (% of one core)", "%", "lower", 3.0, abs_margin=0.5
    )
    with limit(budget) as lim, tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        for i in range(runs):
            facts = one_run(Path(tmp) / f"run{i}", idle, lim)
            cold.add(facts["cold_start_s"])
            rss.add(facts["memory"]["rss_mb"])
            cpu.add(facts["idle"]["cpu_pct"])
            figs.details.setdefault("memory", []).append(facts["memory"])
            log(
                f"  terminal run {i + 1} ({budget.name}): cold start {cold.runs[-1]:.2f} s, "
                f"RSS {rss.runs[-1]:.0f} MB, idle CPU {cpu.runs[-1]:.2f} % ({facts['idle']['frames']} frames)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    figs = Figures("feedback", HOST.name)
    collect(figs, runs=args.runs, idle=args.idle)
    for figure in figs.to_json():
        print(figure["key"], figure["value"], figure["unit"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
