"""The board process of the board benchmark's memory figure (bench/display_bench.py starts it).

    python bench/display_probe.py display --config SITE --server URL --no-mdns --mute …

The real board, started as ``main.py display`` starts it (the same command module, options and
window set-up), with one observer task beside it: once the first screen is drawn and has been idle
for two seconds, it prints one JSON line, ``{"event": "memory", …}`` from ``bench.common.memory``
(the function the kiosk's probe uses), and the benchmark ends the process. So the figure is the
board's own process, as the kiosk's is: not the benchmark's, which also holds a test server's
helpers and an HTTP client.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from nummerlapp import main
from nummerlapp.bench.common import memory
from nummerlapp.display import app as display_app

IDLE_S = 2.0


def probe(argv: list[str]) -> int:
    original = display_app.run_board

    async def observe(app: Any) -> None:
        while app.frames < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(IDLE_S)
        print(json.dumps({"event": "memory", **memory()}), flush=True)

    async def run_board(app: Any, tasks: Any = ()) -> None:
        await original(app, [lambda: observe(app), *tasks])

    display_app.run_board = run_board
    return main.main(argv)


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1:]))
