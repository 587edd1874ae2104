"""The results file: its shape, the comparison of two of them, and the page made from one.

A results file (bench/results.json) is one JSON object::

    {"schema": 1, "date": ..., "commit": ..., "dirty": bool, "command": ..., "duration_s": ...,
     "machine": {"cpu": ..., "cores": ..., "kernel": ..., "python": ..., "memory_gb": ...},
     "budgets": {"host": {...}, "pi4": {"quota_us": 50000, "period_us": 100000, "method": ...}},
     "figures": [{"key", "bench", "budget", "name", "value", "unit", "goal", "better", "met",
                  "spread": {"min", "median", "max", "n"}, "runs": [...], "abs_margin", "note"}],
     "skipped": [{"what", "why"}], "details": {bench: {budget: {...}}}}

``value`` is the median over runs. A figure is identified by ``key`` and ``budget`` together.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The relative part of the noise margin (see ``margin``): a median must move by more than this
# share of the old median *and* beyond the old runs' range before it counts as worse.
DEFAULT_REL_MARGIN = 0.10


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema") != 1 or not isinstance(data.get("figures"), list):
        raise ValueError(f"{path}: not a benchmark results file (schema 1)")
    return data


def by_id(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["key"], f["budget"]): f for f in results["figures"] if f.get("spread")}


# -- comparison ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    key: str
    budget: str
    name: str
    unit: str
    old: float
    new: float
    limit: float  # the worst the new median may be without counting as worse
    worse: bool
    better: bool

    def line(self) -> str:
        arrow = "worse" if self.worse else ("better" if self.better else "same")
        return (
            f"{arrow:6s} {self.key} [{self.budget}] {self.old:.4g} → {self.new:.4g} {self.unit} "
            f"(limit {self.limit:.4g}; {self.name})"
        )


def margin(old: dict[str, Any], rel: float = DEFAULT_REL_MARGIN) -> float:
    """How far past the old runs' range a new median may lie and still be noise.

    max(rel × old median, old max − old min, the figure's absolute margin): the relative part
    covers a figure measured once (no spread), the spread part a noisy one (its own runs already
    disagreed by that much), the absolute part a figure so small that scheduler noise is larger
    than any relative share of it (a 0.5 ms layout, 1 % idle CPU).
    """
    s = old["spread"]
    return float(max(rel * abs(s["median"]), s["max"] - s["min"], float(old.get("abs_margin") or 0.0)))


def compare_figure(old: dict[str, Any], new: dict[str, Any], rel: float = DEFAULT_REL_MARGIN) -> Change:
    """Worse when the new median lies beyond the old worst run by more than ``margin``."""
    m = margin(old, rel)
    o, n = old["spread"], new["spread"]
    if old["better"] == "lower":
        limit = o["max"] + m
        worse, better = n["median"] > limit, n["median"] < o["min"] - m
    else:
        limit = o["min"] - m
        worse, better = n["median"] < limit, n["median"] > o["max"] + m
    return Change(
        old["key"], old["budget"], old["name"], old["unit"], o["median"], n["median"], limit, worse, better
    )


def compare(old: dict[str, Any], new: dict[str, Any], rel: float = DEFAULT_REL_MARGIN) -> list[Change]:
    """Every figure in both files, old order."""
    newer = by_id(new)
    return [compare_figure(f, newer[i], rel) for i, f in by_id(old).items() if i in newer]


def report(
    old: dict[str, Any], new: dict[str, Any], rel: float = DEFAULT_REL_MARGIN, out: Any = print
) -> int:
    """Print the comparison; 1 if anything got worse, else 0."""
    changes = compare(old, new, rel)
    worse = [c for c in changes if c.worse]
    better = [c for c in changes if c.better]
    out(
        f"compared {len(changes)} figures ({old.get('commit', '?')[:10]} → {new.get('commit', '?')[:10]}); "
        f"noise margin max({rel:.0%} of the old median, the old runs' spread, the figure's own floor) "
        "beyond the old worst run"
    )
    only_old = set(by_id(old)) - set(by_id(new))
    only_new = set(by_id(new)) - set(by_id(old))
    for c in worse:
        out("  " + c.line())
    for c in better:
        out("  " + c.line())
    if only_old:
        out(f"  not in the new file: {', '.join(f'{k} [{b}]' for k, b in sorted(only_old))}")
    if only_new:
        out(f"  new figures: {', '.join(f'{k} [{b}]' for k, b in sorted(only_new))}")
    out(f"{len(worse)} worse, {len(better)} better, {len(changes) - len(worse) - len(better)} within noise")
    return 1 if worse else 0


# -- the page --------------------------------------------------------------------------------------


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return "–"
    a = abs(v)
    text = f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 0.1 else f"{v:.3f}"
    return text


def _goal(f: dict[str, Any]) -> str:
    if f.get("goal") is None:
        return ""
    return f"{'<' if f['better'] == 'lower' else '≥'} {_num(f['goal'])}"


def _met(f: dict[str, Any]) -> str:
    return {True: "met", False: "**not met**", None: ""}[f.get("met")]


BENCH_TITLES = {
    "kiosk": ("Kiosk", "benchmarks/kiosk.md"),
    "printer": ("Printer", "benchmarks/printer.md"),
    "display": ("Board", "benchmarks/display.md"),
    "server": ("Site service", "benchmarks/server.md"),
    "ledger": ("Ticket ledger", "benchmarks/ledger.md"),
    "stats": ("Statistics", "benchmarks/stats.md"),
    "follow": ("Phones following their tickets", "benchmarks/follow.md"),
    "feedback": ("Exit terminal", "benchmarks/feedback.md"),
}


def render(results: dict[str, Any], source: str = "bench/results.json") -> str:
    """docs/BENCHMARKS.md from one results file (nothing on the page comes from anywhere else)."""
    m = results["machine"]
    budgets = results["budgets"]
    lines = [
        "# Benchmarks",
        "",
        f"<!-- GENERATED by `python -m bench render {source}`: do not edit; rerun the benchmarks. -->",
        "",
        f"Every figure on this page comes from `{source}`, written by `python -m bench` on "
        f"{results['date']} at commit `{results['commit'][:12]}`{' (with uncommitted changes)' if results.get('dirty') else ''} "
        f"in {results['duration_s']:.0f} s ({results['command']}).",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']:.0f} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; load average before the run {m.get('load_before', '?')}.",
        "",
        "Each figure is the **median over runs**; *spread* is min – max over the runs (their number in "
        "brackets). The pages linked per part say how each is measured and where the time goes.",
        "",
        "## How to run, compare, render",
        "",
        "```",
        ".venv/bin/python -m bench                     # every benchmark, both budgets (~5 min); writes bench/results.json + this page",
        ".venv/bin/python -m bench --quick             # one run each, smaller sizes (~1.5 min)",
        ".venv/bin/python -m bench --only kiosk,display --budget pi4",
        ".venv/bin/python -m bench --compare OLD.json  # after the run: what got worse (exit 1 if anything)",
        ".venv/bin/python -m bench compare OLD.json NEW.json",
        ".venv/bin/python -m bench render bench/results.json",
        "```",
        "",
        "A figure counts as **worse** when its new median lies beyond the old *worst* run by more than "
        "max(10 % of the old median, the old runs' spread, the figure's own absolute floor). The spread term "
        "means a figure that was noisy must move by more than its own noise; the 10 % covers figures with a "
        "single run; the floor (e.g. 0.5 % for idle CPU, 3 ms for touch → byte) keeps scheduler jitter on "
        "tiny values from counting. `--margin` changes the 10 %.",
        "",
        "## The budgets",
        "",
    ]
    for name, b in budgets.items():
        lines.append(f"- **{name}**: {b['description']}")
    pi = budgets.get("pi4")
    if pi and pi.get("method"):
        lines += ["", pi["method"]]
    lines += _device_table(results["figures"], list(budgets))
    lines += _other_table(results["figures"])
    details = results.get("details", {})
    lines += _memory_table(details)
    lines += _trace_table(details)
    old_design = details.get("follow", {}).get("host", {}).get("old_design")
    if old_design:
        lines += ["", f"Phones following, the design before the follow stream (issue 14): {old_design}."]
    table = details.get("printer", {}).get("host", {}).get("bytes_table")
    if table:
        lines += ["", "## Printer: bytes per ticket and time on the wire (8N1, computed from the bytes)", ""]
        lines += table
    skipped = results.get("skipped", [])
    if skipped:
        lines += ["", "## Not measured", ""]
        lines += [f"- **{s['what']}**: {s['why']}" for s in skipped]
    lines += ["", "## The parts", ""]
    for _bench, (title, page) in BENCH_TITLES.items():
        lines.append(f"- [{title}]({page})")
    return "\n".join(lines) + "\n"


DEVICES = ("kiosk", "display", "feedback", "server")  # their figures are shown per budget, side by side


def _device_table(figs: list[dict[str, Any]], names: list[str]) -> list[str]:
    lines = ["", "## Device figures, both budgets side by side", ""]
    device = [f for f in figs if f["bench"] in DEVICES]
    head = (
        "| figure | " + " | ".join(f"{b}: median (spread) [runs]" for b in names) + " | goal (host / pi4) |"
    )
    lines += [head, "|---|" + "---|" * len(names) + "---|"]
    seen: dict[str, dict[str, dict[str, Any]]] = {}
    for f in device:
        seen.setdefault(f["key"], {})[f["budget"]] = f
    for per in seen.values():
        first = next(iter(per.values()))
        cells = []
        for b in names:
            got = per.get(b)
            if got is None or not got.get("spread"):
                cells.append("–")
                continue
            s = got["spread"]
            cells.append(
                f"**{_num(got['value'])}** {got['unit']} ({_num(s['min'])}–{_num(s['max'])}) [{s['n']}] {_met(got)}".strip()
            )
        goals = " / ".join(_goal(per[b]) if b in per else "–" for b in names)
        lines.append(f"| {first['name']} | " + " | ".join(cells) + f" | {goals} |")
    return lines


def _other_table(figs: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## Other figures (host)", ""]
    lines += ["| part | figure | median | spread [runs] | goal | |", "|---|---|---|---|---|---|"]
    for f in figs:
        if f["bench"] in DEVICES or not f.get("spread"):
            continue
        s = f["spread"]
        part = BENCH_TITLES.get(f["bench"], (f["bench"], ""))
        lines.append(
            f"| [{part[0]}]({part[1]}) | {f['name']} | **{_num(f['value'])}** {f['unit']} | "
            f"{_num(s['min'])}–{_num(s['max'])} [{s['n']}] | {_goal(f)} | {_met(f)} |"
        )
    return lines


def _memory_table(details: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    mem_rows = []
    for bench, label in (("kiosk", "kiosk"), ("display", "board"), ("feedback", "exit terminal")):
        mem = details.get(bench, {}).get("host", {}).get("memory")
        if mem:
            mem_rows.append((label, mem[0]))
    if mem_rows:
        kinds: list[str] = []
        for _, mem in mem_rows:
            kinds += [k for k in mem["kinds"] if k not in kinds]
        lines += [
            "",
            "## Memory: where the resident set is (host, first screen drawn and idle 2 s, first run)",
            "",
            "Measured the same way for each (`bench/common.py: memory()` on the device's own process: "
            "`/proc/PID/smaps_rollup`, and `/proc/PID/smaps` summed by what each mapping is).",
            "",
            "| MB | " + " | ".join(label for label, _ in mem_rows) + " |",
            "|---|" + "---:|" * len(mem_rows),
            "| **RSS** | " + " | ".join(f"**{mem['rss_mb']:.0f}**" for _, mem in mem_rows) + " |",
            "| PSS (shared pages divided among their users) | "
            + " | ".join(f"{mem['pss_mb']:.0f}" for _, mem in mem_rows)
            + " |",
        ]
        for k in kinds:
            lines.append(
                f"| {k} | " + " | ".join(f"{mem['kinds'].get(k, 0):.0f}" for _, mem in mem_rows) + " |"
            )
        lines.append(
            "| of the anonymous: glibc malloc in use (Python objects, Kivy, SDL, Mesa's heap allocations) | "
            + " | ".join(f"{mem.get('malloc_in_use_mb') or float('nan'):.0f}" for _, mem in mem_rows)
            + " |"
        )
        lines.append("| threads | " + " | ".join(str(mem["threads"]) for _, mem in mem_rows) + " |")
    return lines


def _trace_table(details: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    trace = details.get("kiosk", {}).get("host", {}).get("trace")
    if trace:
        lines += [
            "",
            "## Kiosk: where a touch's time goes (host, `--trace` runs: ms after the touch-down)",
            "",
        ]
        lines += ["| step | " + " | ".join(f"touch {i + 1}" for i in range(len(trace))) + " |"]
        lines += ["|---|" + "---:|" * len(trace)]
        steps: list[str] = []
        for t in trace:
            steps += [k for k, _ in t if k not in steps]
        for step in steps:
            cells = [next((f"{ms:.1f}" for k, ms in t if k == step), "") for t in trace]
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return lines


def summary(results: dict[str, Any]) -> str:
    """One line per figure, for the terminal."""
    out = []
    for f in results["figures"]:
        if not f.get("spread"):
            continue
        s = f["spread"]
        out.append(
            f"{f['budget']:5s} {f['key']:38s} {_num(f['value']):>9s} {f['unit']:5s} "
            f"({_num(s['min'])}–{_num(s['max'])}, n={s['n']}) {_goal(f):>8s} {_met(f).strip('*')}"
        )
    return "\n".join(out)


def median(values: list[float]) -> float:
    return statistics.median(values)
