"""What every benchmark shares: figures, the CPU budgets (cgroup quota), memory by mapping.

A *figure* is one number a benchmark produces, with its unit, its goal and which way is better.
A benchmark runs several times; each run gives one value per figure, and the results file keeps
all of them (``runs``) with min/median/max, so a comparison can tell noise from a regression.

A *budget* is the CPU a device process may use. ``host`` is the machine as it is; ``pi4`` puts
the measured process into a cgroup with a CPU quota (half of one core by default): see
``CpuLimit`` and docs/benchmarks/method.md for why a quota and not ``taskset``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# -- figures ---------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured quantity across runs. ``key`` is stable (used by ``compare``); ``name`` is prose."""

    key: str
    name: str
    unit: str
    better: str  # "lower" | "higher"
    goal: float | None = None
    budget: str = "host"
    runs: list[float] = field(default_factory=list)
    abs_margin: float = 0.0  # noise below this absolute difference is never a regression
    note: str = ""

    def add(self, value: float | None) -> None:
        if value is not None:
            self.runs.append(float(value))

    def to_json(self) -> dict[str, Any]:
        runs = self.runs
        spread = (
            {"min": min(runs), "median": statistics.median(runs), "max": max(runs), "n": len(runs)}
            if runs
            else None
        )
        met = None
        if runs and self.goal is not None:
            value = statistics.median(runs)
            met = value < self.goal if self.better == "lower" else value >= self.goal
        return {
            "key": self.key,
            "name": self.name,
            "budget": self.budget,
            "value": statistics.median(runs) if runs else None,
            "unit": self.unit,
            "goal": self.goal,
            "better": self.better,
            "met": met,
            "spread": spread,
            "runs": runs,
            "abs_margin": self.abs_margin,
            "note": self.note,
        }


class Figures:
    """The figures of one benchmark in one budget, made on first use and filled run by run."""

    def __init__(self, bench: str, budget: str) -> None:
        self.bench, self.budget = bench, budget
        self.items: dict[str, Figure] = {}
        self.details: dict[str, Any] = {}  # tables for the page (memory split, bytes per ticket)

    def fig(
        self, key: str, name: str, unit: str, better: str, goal: float | None = None, **kw: Any
    ) -> Figure:
        full = f"{self.bench}.{key}"
        if full not in self.items:
            self.items[full] = Figure(full, name, unit, better, goal, self.budget, **kw)
        return self.items[full]

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() | {"bench": self.bench} for f in self.items.values()]


# -- CPU budgets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    name: str
    quota_us: int | None = None  # per period; None = no limit
    period_us: int = 100_000

    @property
    def cores(self) -> float | None:
        return None if self.quota_us is None else self.quota_us / self.period_us

    def describe(self) -> str:
        if self.quota_us is None:
            return f"the whole machine ({os.cpu_count()} cores, shared)"
        return (
            f"cgroup CPU quota {self.quota_us} µs per {self.period_us} µs period "
            f"= {self.cores:.2f} of one core"
        )


HOST = Budget("host")
PI4 = Budget("pi4", quota_us=5_000, period_us=10_000)


def _own_cgroup(controller: str) -> tuple[Path, str] | None:
    """(mount of the cgroup v1 ``controller`` or v2, our path in it), or None."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                base = Path("/sys/fs/cgroup") / controller
                if base.is_dir():
                    return base, path.lstrip("/")
        if (Path("/sys/fs/cgroup") / "cgroup.controllers").exists():
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                if line.startswith("0::"):
                    return Path("/sys/fs/cgroup"), line[3:].lstrip("/")
    return None


class CpuLimit:
    """A child cgroup with a CPU quota; processes are put into it by pid, and it is removed after.

    cgroup v1 (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``) or v2 (``cpu.max``). A quota limits
    CPU *time* per period across all the process's threads, as a slower CPU would: a process that
    wants 30 ms of CPU gets it spread over 60 ms of wall time at 50 %. Not available without root
    (``CpuLimit.available()`` says why).
    """

    def __init__(self, budget: Budget) -> None:
        assert budget.quota_us is not None
        self.budget = budget
        found = _own_cgroup("cpu")
        if found is None:
            raise OSError("no cpu cgroup controller mounted")
        base, own = found
        self.v2 = base.name != "cpu"
        self.parent = base / own if own else base
        self.path = self.parent / f"nummerlapp-bench-{os.getpid()}-{budget.name}"

    @staticmethod
    def available(budget: Budget) -> str | None:
        """None if a limited cgroup can be made here, else why not."""
        try:
            with CpuLimit(budget):
                return None
        except OSError as exc:
            return str(exc)

    def __enter__(self) -> CpuLimit:
        self.path.mkdir()
        try:
            if self.v2:
                (self.path / "cpu.max").write_text(f"{self.budget.quota_us} {self.budget.period_us}")
            else:
                (self.path / "cpu.cfs_period_us").write_text(str(self.budget.period_us))
                (self.path / "cpu.cfs_quota_us").write_text(str(self.budget.quota_us))
        except OSError:
            self.path.rmdir()
            raise
        return self

    def confine(self, pid: int) -> None:
        """Move ``pid`` (all its threads; children it starts later follow) into the limit."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def release(self, pid: int) -> None:
        """Move ``pid`` back out (a helper the limited process started, like the test server)."""
        with contextlib.suppress(ProcessLookupError, OSError):
            (self.parent / "cgroup.procs").write_text(str(pid))

    def preexec(self) -> Callable[[], None]:
        """For ``subprocess.Popen(preexec_fn=...)``: the child enters the limit before ``exec``."""
        procs = str(self.path / "cgroup.procs")

        def enter() -> None:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        return enter

    def throttled(self) -> dict[str, int]:
        """``nr_periods``, ``nr_throttled``, ``throttled_time`` (ns) so far."""
        out: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                k, _, v = line.partition(" ")
                out[k] = int(v)
        return out

    def __exit__(self, *exc: object) -> None:
        # Anything still inside (a process that outlived the benchmark) goes back to the parent.
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                self.release(int(pid))
        with contextlib.suppress(OSError):
            self.path.rmdir()


@contextlib.contextmanager
def limit(budget: Budget) -> Iterator[CpuLimit | None]:
    """``CpuLimit`` for a limited budget, None for the host."""
    if budget.quota_us is None:
        yield None
        return
    with CpuLimit(budget) as lim:
        yield lim


# -- memory ----------------------------------------------------------------------------------------

# What a resident mapping belongs to, by its path (first match wins).
MAPPING_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("software GL: libLLVM (llvmpipe's JIT)", ("libLLVM",)),
    (
        "software GL: Mesa driver + GL/EGL",
        (
            "_dri.so",
            "libgallium",
            "libGL",
            "libEGL",
            "libglapi",
            "libgbm",
            "libdrm",
            "libvulkan",
            "libxcb",
            "libX11",
            "libwayland",
        ),
    ),
    (
        "SDL2 + its libraries",
        (
            "libSDL2",
            "libSDL",
            "libfreetype",
            "libpng",
            "libjpeg",
            "libtiff",
            "libwebp",
            "libharfbuzz",
            "libmpg123",
            "libogg",
            "libvorbis",
            "libopus",
            "libFLAC",
        ),
    ),
    ("fonts", (".ttf", ".otf", ".ttc", "fontconfig")),
    ("Kivy's compiled modules", ("/kivy/",)),
    ("Python + its compiled modules", ("libpython", "/python3", "lib-dynload", "site-packages", ".cpython-")),
    ("other shared libraries", (".so",)),
)


def classify(path: str) -> str:
    if not path or path.startswith("[anon") or path == "[heap]":
        return "anonymous: heap, arenas, GL buffers, thread stacks"
    if path.startswith("[stack"):
        return "anonymous: heap, arenas, GL buffers, thread stacks"
    for kind, needles in MAPPING_KINDS:
        if any(n in path for n in needles):
            return kind
    if path.startswith("/dev/") or path.startswith("/memfd:"):
        return "device / shared memory (GL, DRM)"
    return "other mapped files"


def memory(pid: int | str = "self") -> dict[str, Any]:
    """RSS, PSS and its anonymous/file split (smaps_rollup) and resident MB per kind of mapping."""
    proc = Path(f"/proc/{pid}")
    rollup: dict[str, float] = {}
    for line in (proc / "smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[-1] == "kB":
            rollup[key.strip()] = int(parts[0]) / 1024
    kinds: dict[str, float] = {}
    largest: dict[str, float] = {}
    name = ""
    for line in (proc / "smaps").read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if "-" in parts[0] and not parts[0].endswith(":"):
            name = " ".join(parts[5:]) if len(parts) > 5 else ""
        elif parts[0] == "Rss:":
            mb = int(parts[1]) / 1024
            kind = classify(name)
            kinds[kind] = kinds.get(kind, 0.0) + mb
            short = Path(name).name if name.startswith("/") else (name or "[anonymous]")
            largest[short] = largest.get(short, 0.0) + mb
    status = {}
    for line in (proc / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "Threads"):
            status[key] = int(value.split()[0]) / (1024 if key != "Threads" else 1)
    return {
        "rss_mb": rollup.get("Rss", float("nan")),
        "pss_mb": rollup.get("Pss", float("nan")),
        "anon_mb": rollup.get("Anonymous", float("nan")),
        "file_mb": status.get("RssFile", float("nan")),
        "hwm_mb": status.get("VmHWM", float("nan")),
        "threads": int(status.get("Threads", 0)),
        "kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "largest": dict(sorted(largest.items(), key=lambda kv: -kv[1])[:10]),
        "malloc_in_use_mb": malloc_in_use_mb() if pid == "self" else None,
    }


def malloc_in_use_mb() -> float:
    """Bytes glibc malloc has handed out and not got back (mallinfo2), in MB."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                    "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]  # fmt: skip

    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return float("nan")
    fn.restype = MallInfo2
    info = fn()
    return float(info.uordblks + info.hblkhd) / 2**20


def offscreen(env: MutableMapping[str, str], home_prefix: str = "nummerlapp-bench-kivy-") -> None:
    """Kivy offscreen, quiet and with its own home in ``env`` (as tests/conftest.py sets it), where
    ``env`` does not say otherwise: ``os.environ`` before Kivy's first import, or a child's."""
    env.setdefault("SDL_VIDEODRIVER", "offscreen")
    env.setdefault("KIVY_NO_ARGS", "1")
    env.setdefault("KIVY_NO_CONSOLELOG", "1")
    env.setdefault("KIVY_NO_FILELOG", "1")
    if "KIVY_HOME" not in env:
        env["KIVY_HOME"] = tempfile.mkdtemp(prefix=home_prefix)


def kivy_env(home: str | None = None) -> dict[str, str]:
    """The environment a device process needs offscreen, with a Kivy home of its own."""
    env = dict(os.environ)
    env["KIVY_HOME"] = home or tempfile.mkdtemp(prefix="nummerlapp-bench-kivy-")
    offscreen(env)
    return env
