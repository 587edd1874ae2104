"""``python -m bench``: run every benchmark, write one results file, generate docs/BENCHMARKS.md.

    python -m bench [--quick] [--only kiosk,display,...] [--budget host,pi4] [--out bench/results.json]
                    [--page docs/BENCHMARKS.md | --no-page] [--compare OLD.json] [--margin 0.10]
    python -m bench render RESULTS.json [--page docs/BENCHMARKS.md]
    python -m bench compare OLD.json NEW.json [--margin 0.10]

The device benchmarks (kiosk, board, exit terminal) and the service run in both budgets: ``host`` (the machine
as it is) and ``pi4`` (a cgroup CPU quota of half a core standing in for a Raspberry Pi 4; needs
root and a cpu cgroup: without them the pi4 figures are skipped with the reason in the file).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nummerlapp.bench import results as res
from nummerlapp.bench.common import HOST, PI4, ROOT, Budget, CpuLimit, Figures

BENCHES = ("printer", "ledger", "stats", "server", "follow", "kiosk", "display", "feedback")
DEVICE = ("kiosk", "display", "feedback", "server")  # run in both budgets

PI4_METHOD = (
    "**How the pi4 budget is made, and why a quota.** The measured process (the kiosk, the board, "
    "or the site service) is started inside a child cgroup of the cpu controller with "
    "`cpu.cfs_quota_us = 5000` per `cpu.cfs_period_us = 10000`: at most half of one core's time, "
    "summed over all its threads, in every 10 ms. Everything that stands for *another* machine "
    "stays outside: the site service when the kiosk or board is measured, the fake thermal printer "
    "(it reads the pty in the benchmark process), and the benchmark's own HTTP and WebSocket "
    "clients when the service is measured. A Raspberry Pi 4's Cortex-A72 runs CPython at very roughly "
    "a third to a half of one core of this machine, and a Pi runs other things beside the kiosk; "
    "half a core is that order. A quota rather than `taskset`: pinning to one core of this machine "
    "would still give a whole, fast core (no slower than the host for a mostly single-threaded Python "
    "process), and the two cores are shared with other work, so a pinned core is not even a fixed "
    "budget; a quota caps CPU time whatever core it runs on, so the process really has less CPU per "
    "second, as on a slower machine. Why a 10 ms period and not the kernel's default 100 ms: a quota "
    "gives full speed in bursts and then throttles until the next period, so with 100 ms a step that "
    "lands at the end of a slice waits up to 50 ms, which a slower CPU never does (it stretches every "
    "step evenly); those pauses, not the work, made the pi4 tail figures (the service's p99 over two "
    "runs: 17.6 and 36.3 ms with 100 ms, 6.3 and 7.4 ms with 10 ms, the same CPU per second). A 10 ms "
    "period keeps a pause under 5 ms, closer to a slower CPU, at little cost to the kernel. Its other "
    "limits as a stand-in: memory bandwidth, caches "
    "and the SD card of a Pi are not modelled, and llvmpipe (software GL) here stands where a Pi "
    "has its V3D GPU, which makes drawing *more* expensive here than on the Pi. `bench/common.py` "
    "(`CpuLimit`) makes the cgroup, moves processes by pid and removes it afterwards."
)


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "memory_gb": mem_gb,
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def sizes(quick: bool) -> dict[str, dict[str, Any]]:
    """Arguments per benchmark; the default set runs in ~5 minutes on the 2-core reference VM."""
    if quick:
        return {
            "printer": {"runs": 2, "tickets": 10},
            "ledger": {"runs": 2, "n": 600},
            "stats": {"years": 1, "per_day": 2000, "raw_days": 34, "repeat": 3},
            "server": {"runs": 1, "calls": 50, "issues": 800},
            "follow": {"runs": 1, "phones": 300, "calls": 10},
            "kiosk": {"runs": 2, "touches": 3},
            "display": {"runs": 1, "calls": 6, "idle": 5.0},
            "feedback": {"runs": 1, "idle": 5.0},
        }
    return {
        "printer": {"runs": 3, "tickets": 30},
        "ledger": {"runs": 3, "n": 900},
        "stats": {"years": 3, "per_day": 10_000, "raw_days": 34, "repeat": 5},
        "server": {"runs": 2, "calls": 100, "issues": 1600},
        "follow": {"runs": 1, "phones": 1000, "calls": 30},
        "kiosk": {"runs": 3, "touches": 4},
        "display": {"runs": 2, "calls": 10, "idle": 10.0},
        "feedback": {"runs": 2, "idle": 10.0},
    }


def run_one(name: str, budget: Budget, kw: dict[str, Any], log: Callable[[str], None]) -> Figures:
    figs = Figures(name, budget.name)
    if name == "printer":
        from nummerlapp.bench import printer_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        printer_bench.collect(figs, log=log, **kw)
    elif name == "ledger":
        from nummerlapp.bench import ledger_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        ledger_bench.collect(figs, log=log, **kw)
    elif name == "stats":
        from nummerlapp.bench import stats_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        stats_bench.collect(figs, log=log, **kw)
    elif name == "server":
        from nummerlapp.bench import server_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        server_bench.collect(figs, budget, log=log, **kw)
    elif name == "follow":
        from nummerlapp.bench import follow_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        follow_bench.collect(figs, log=log, **kw)
    elif name == "feedback":
        from nummerlapp.bench import feedback_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        feedback_bench.collect(figs, budget, log=log, **kw)
    elif name == "kiosk":
        from nummerlapp.bench import kiosk_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        kiosk_bench.collect(figs, budget, log=log, **kw)
    elif name == "display":
        from nummerlapp.bench import display_bench  # noqa: PLC0415  # start-up: each loads its own heavy libraries

        display_bench.collect(figs, budget, rediscovery=budget.quota_us is None, log=log, **kw)
    return figs


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    only = [b for b in (args.only.split(",") if args.only else BENCHES)]
    unknown = set(only) - set(BENCHES)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))} (known: {', '.join(BENCHES)})")
    wanted = {HOST.name: HOST, PI4.name: PI4}
    budgets = [wanted[b] for b in args.budget.split(",")]
    skipped: list[dict[str, str]] = []
    why_not = CpuLimit.available(PI4) if PI4 in budgets else None
    if why_not:
        budgets.remove(PI4)
        skipped.append({"what": "the pi4 budget", "why": f"no CPU-limited cgroup could be made: {why_not}"})
    log = print if not args.quiet else (lambda _s: None)
    plan = sizes(args.quick)
    out: dict[str, Any] = {
        "schema": 1,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "command": "python -m bench" + (" " + " ".join(args.argv) if args.argv else ""),
        "machine": machine(),
        "budgets": {
            b.name: {
                "description": b.describe(),
                "quota_us": b.quota_us,
                "period_us": b.period_us,
                "method": PI4_METHOD if b.quota_us else "",
            }
            for b in budgets
        },
        "figures": [],
        "skipped": skipped,
        "details": {},
    }
    for name in only:
        for budget in budgets if name in DEVICE else [HOST]:
            t = time.monotonic()
            log(f"{name} [{budget.name}] …")
            try:
                figs = run_one(name, budget, plan[name], log)
            except Exception as exc:  # one broken benchmark must not lose the others' figures
                log(f"  FAILED: {exc!r}")
                out["skipped"].append({"what": f"{name} [{budget.name}]", "why": f"failed: {exc!r}"[:500]})
                continue
            out["figures"] += figs.to_json()
            out["details"].setdefault(name, {})[budget.name] = figs.details | {
                "seconds": round(time.monotonic() - t, 1)
            }
            log(f"  {name} [{budget.name}] done in {time.monotonic() - t:.0f} s")
    out["duration_s"] = time.monotonic() - started
    return out


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["render"]:
        ap = argparse.ArgumentParser(prog="python -m bench render")
        ap.add_argument("results", type=Path)
        ap.add_argument("--page", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
        a = ap.parse_args(argv[1:])
        a.page.write_text(res.render(res.load(a.results), _shown(a.results)), encoding="utf-8")
        print(f"wrote {a.page}")
        return 0
    if argv[:1] == ["compare"]:
        ap = argparse.ArgumentParser(prog="python -m bench compare")
        ap.add_argument("old", type=Path)
        ap.add_argument("new", type=Path)
        ap.add_argument("--margin", type=float, default=res.DEFAULT_REL_MARGIN)
        a = ap.parse_args(argv[1:])
        return res.report(res.load(a.old), res.load(a.new), a.margin)
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--quick", action="store_true", help="one or two runs each, smaller sizes")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHES)}")
    ap.add_argument("--budget", default="host,pi4", help="host, pi4 or host,pi4 (device benchmarks)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    ap.add_argument("--page", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    ap.add_argument("--no-page", action="store_true", help="do not regenerate the page")
    ap.add_argument("--compare", type=Path, help="a previous results file: report what got worse")
    ap.add_argument("--margin", type=float, default=res.DEFAULT_REL_MARGIN)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    a.argv = argv
    old = res.load(a.compare) if a.compare else None  # fail before a long run, not after
    results = run(a)
    write(results, a.out)
    print(f"\nwrote {a.out} ({len(results['figures'])} figures, {results['duration_s']:.0f} s)")
    print(res.summary(results))
    if not a.no_page:
        a.page.write_text(res.render(results, _shown(a.out)), encoding="utf-8")
        print(f"wrote {a.page}")
    if old is not None:
        return res.report(old, results, a.margin)
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
