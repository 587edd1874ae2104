"""The kiosk process of the kiosk benchmark (bench/kiosk_bench.py starts it; not run by hand).

    python bench/kiosk_probe.py '<json job>'

The real kiosk (``KioskFlow`` + ``KioskApp`` + ``KioskPrinter`` with pyserial on the host end of a
pty pair) against the real service, offscreen. The benchmark process holds the fake printer at the
other end of the pty and the clock of the first ticket byte (``time.monotonic()`` is one clock for
every process on the machine), so the printer's thread is never inside the kiosk's CPU limit.

One JSON line per event on stdout: ``ready`` (home screen drawn with its buttons, three frames
after; the wall clock of that moment), ``memory`` (after ``idle_s`` seconds of idle on the home
screen: the same ``bench.common.memory`` the board benchmark uses), then per touch ``touched``
(the monotonic time of the touch-down), after which it waits for one line on stdin (the benchmark
saw the ticket's first byte) before the next touch; ``trace`` with ``--trace`` timestamps of the
steps between touch and write; ``done``.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import gc
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from nummerlapp.bench.common import offscreen

offscreen(os.environ, "kiosk-bench-kivy-")

JOB: dict[str, Any] = json.loads(sys.argv[1])
T0 = time.monotonic()

try:  # an import error would be swallowed by Kivy's logger: say it where the benchmark reads
    from nummerlapp.kiosk.window import configure_window

    configure_window(*JOB["size"])
    if JOB.get("kivy"):  # experiments: {"graphics.multisamples": "0", ...}
        from kivy.config import Config

        for dotted, value in JOB["kivy"].items():
            Config.set(*dotted.split(".", 1), value)

    from kivy.base import EventLoop
    from kivy.input.motionevent import MotionEvent

    from nummerlapp.bench.common import memory
    from nummerlapp.client.api import ApiClient
    from nummerlapp.config import load_settings
    from nummerlapp.kiosk.app import KioskApp, run_app
    from nummerlapp.kiosk.flow import KioskFlow, Screen
    from nummerlapp.kiosk.ports import DeviceInfo
    from nummerlapp.kiosk.printing import KioskPrinter
    from nummerlapp.tests import kivyclock
    from nummerlapp.tests.kiosk.ptyprinter import on_pty
    from nummerlapp.tests.kivyclock import frames
except BaseException:
    import traceback

    os.write(2, traceback.format_exc().encode())
    raise SystemExit(1) from None


class Touch(MotionEvent):  # type: ignore[misc]  # Kivy is untyped
    """A finger on the window: what ``kivy.tests.common.UnitTestTouch`` does, without importing that
    module, which imports pytest into the measured process (~15 MB of its resident set that a real
    kiosk never has)."""

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        args = {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)}
        super().__init__("bench", 99, args, is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)

    def down(self) -> None:
        EventLoop.post_dispatch_input("begin", self)

    def up(self) -> None:
        EventLoop.post_dispatch_input("end", self)


def emit(event: str, **facts: Any) -> None:
    print(json.dumps({"ev": event, **facts}), flush=True)


until = functools.partial(kivyclock.until, timeout=15.0)


TRACE: list[tuple[str, float]] = []


def traced(owner: Any, name: str) -> None:
    """Record when ``owner.name`` starts and returns (``--trace``: where the time goes)."""
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        async def awrapper(*a: Any, **kw: Any) -> Any:
            TRACE.append((f"{name} start", time.monotonic()))
            try:
                return await original(*a, **kw)
            finally:
                TRACE.append((f"{name} end", time.monotonic()))

        setattr(owner, name, awrapper)
    else:

        def wrapper(*a: Any, **kw: Any) -> Any:
            TRACE.append((f"{name} start", time.monotonic()))
            try:
                return original(*a, **kw)
            finally:
                TRACE.append((f"{name} end", time.monotonic()))

        setattr(owner, name, wrapper)


async def main() -> None:
    settings = load_settings(Path(JOB["config"]))
    printer = KioskPrinter(settings, on_pty(settings, JOB["pty_host"]))
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        async with ApiClient(JOB["server"], JOB.get("token")) as api:
            flow = KioskFlow(
                settings,
                api,
                printer,
                DeviceInfo("kiosk-bench", "Benchmark kiosk", "bench", {"printer": "pty"}),
                default_lang=JOB["lang"],
            )
            app = KioskApp(flow, version="bench", size=tuple(JOB["size"]))
            runner = loop.create_task(run_app(app, flow, refresh_s=2.0, printer_s=30.0))
            await app.first_frame.wait()
            try:
                await until(lambda: flow.screen == Screen.HOME, what="home screen")
                await frames(3)
                emit("ready", wall=time.time(), since_start_s=time.monotonic() - T0)
                await until(lambda: flow.printer_state.state != "unknown", what="first printer poll")
                await asyncio.sleep(JOB.get("idle_s", 2.0))
                emit("memory", **memory())  # before any screenshot (its pixel buffers stay in the heap)
                if JOB.get("shot"):
                    app.screenshot(Path(f"{JOB['shot']}-home.png"))
                if JOB.get("trace"):
                    traced(flow, "_printer_status")
                    traced(flow.api, "issue_ticket")
                    traced(printer, "print_ticket")
                    traced(printer._backend, "print_ops")
                    traced(printer._backend.transport, "write")
                    traced(flow, "press_department")
                    traced(flow, "_changed")

                    def gc_seen(phase: str, info: dict[str, int]) -> None:
                        TRACE.append((f"gc{info['generation']} {phase}", time.monotonic()))

                    gc.callbacks.append(gc_seen)
                profiler = None
                if JOB.get("profile"):  # cProfile of the first touch, until its print has begun
                    profiler = cProfile.Profile()
                for _ in range(JOB.get("touches", 3)):
                    await until(lambda: flow.screen == Screen.HOME, what="home again")
                    await frames(2)
                    flow._t.last_issue = float("-inf")  # the one-touch guard: no sleeping for it
                    flow._t.home_since = float("-inf")
                    card = next(w for w in app.root.walk() if getattr(w, "dep_id", None) == JOB["department"])
                    x, y = card.to_window(*card.center)
                    TRACE.clear()
                    touch = Touch(x, y)
                    touched = time.monotonic()
                    if profiler is not None:
                        profiler.enable()
                    touch.down()
                    await frames(1)
                    touch.up()
                    await until(lambda: flow.screen in (Screen.TICKET, Screen.PRINT_FAILED), what="ticket")
                    emit("touched", t=touched, screen=str(flow.screen.value))
                    if JOB.get("shot") and not Path(f"{JOB['shot']}-ticket.png").exists():
                        await frames(3)
                        app.screenshot(Path(f"{JOB['shot']}-ticket.png"))
                    if profiler is not None:
                        profiler.disable()

                        out = io.StringIO()
                        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
                        emit("profile", text=out.getvalue())
                        profiler = None
                    await stdin.readline()  # the benchmark saw the first byte
                    if JOB.get("trace"):
                        emit("trace", steps=[(k, (t - touched) * 1000) for k, t in TRACE])
                emit("done", **memory())
            finally:
                app.stop()
                await asyncio.wait_for(runner, 10)
    finally:
        printer.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException:  # Kivy's logger hides tracebacks
        import traceback

        os.write(2, traceback.format_exc().encode())
        raise SystemExit(1) from None
