"""The exit terminal's process for its benchmark (bench/feedback_bench.py starts it).

    python bench/feedback_probe.py IDLE_S feedback --config SITE --server URL --token T --no-mdns …

The real terminal, started as ``main.py feedback`` starts it (the same command module, options and
window set-up), with one observer task beside it. One JSON line per event on stdout: ``ready``
(the first question drawn with its faces, three frames after; ``time.time()`` of that moment, so
the benchmark measures from the moment it spawned the process), ``memory`` (after two more seconds
of idle: ``bench.common.memory``, as the kiosk's and the board's), ``idle`` (the process's CPU
over IDLE_S seconds of nobody touching it, and the frames drawn meanwhile). Then it stops.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from nummerlapp import main
from nummerlapp.bench.common import memory
from nummerlapp.feedback import runner

SETTLE_S = 2.0


def emit(event: str, **facts: Any) -> None:
    print(json.dumps({"event": event, **facts}), flush=True)


async def observe(app: Any, idle_s: float) -> None:
    from kivy.core.window import Window  # noqa: PLC0415  # Kivy: only once the terminal set its window up

    from nummerlapp.tests.kivyclock import frames  # noqa: PLC0415  # (as above: it imports kivy.clock)

    flips = [0]
    Window.bind(on_flip=lambda *_: flips.__setitem__(0, flips[0] + 1))
    while app.root is None or not app.root.children:
        await asyncio.sleep(0.005)
    await frames(3)  # the first question drawn with its faces, as the kiosk's "ready"
    emit("ready", wall=time.time())
    await asyncio.sleep(SETTLE_S)
    emit("memory", **memory())
    drawn, cpu, wall = flips[0], time.process_time(), time.perf_counter()
    await asyncio.sleep(idle_s)
    busy = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
    emit("idle", cpu_pct=busy, frames=flips[0] - drawn)
    app.stop()


def probe(idle_s: float, argv: list[str]) -> int:
    # feedback.app imports Kivy, which must not load before the terminal has set its window up
    # (runner.configure_window): so run_app is wrapped right after that, on the terminal's own path.
    set_up = runner.configure_window  # type: ignore[attr-defined]  # runner imports it by name: patched there

    def configure_then_observe(*args: Any, **kw: Any) -> None:
        set_up(*args, **kw)
        from nummerlapp.feedback import app as feedback_app  # noqa: PLC0415  # Kivy: after the window set-up

        original = feedback_app.run_app

        async def run_app(app: Any, tasks: Any = ()) -> None:
            await original(app, (lambda: observe(app, idle_s), *tasks))

        feedback_app.run_app = run_app

    runner.configure_window = configure_then_observe  # type: ignore[attr-defined]  # (as above)
    return main.main(argv)


if __name__ == "__main__":
    sys.exit(probe(float(sys.argv[1]), sys.argv[2:]))
