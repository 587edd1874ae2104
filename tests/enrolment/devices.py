"""A real board process without a site file or token, observed from inside (tests only).

``python -m nummerlapp.tests.enrolment.devices board WORKDIR ARGV…`` runs ``main.py display ARGV``
with one observer task beside it: every 0.2 s it writes what the window shows (the enrolment
screen's labels, or the board's) to WORKDIR/status.jsonl, with a screenshot whenever that changed.
The test believes those records, never a log line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from nummerlapp import main
from nummerlapp.display import device as display_device


def board_main(workdir: Path, argv: list[str]) -> int:
    original = display_device.run_device_board
    status: IO[str] = open(workdir / "status.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    async def observe(app: Any) -> None:
        from kivy.core.window import Window  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

        shots, last = 0, None
        while not (workdir / "stop").exists():
            await asyncio.sleep(0.2)
            enrol = next((w for w in Window.children if type(w).__name__ == "EnrolScreen"), None)
            if enrol is not None:
                seen: dict[str, Any] = {"screen": "enrolment", "texts": enrol.texts()}
            elif app.screen is not None and app.frames > 0:
                seen = {"screen": "board", "texts": app.screen.texts()}
            else:
                continue
            if seen == last:
                continue
            last = seen
            await asyncio.sleep(0.3)  # the frame with these labels
            shots += 1
            png = workdir / f"shot-{shots:03d}.png"
            os.replace(Window.screenshot(name=str(png)), png)
            status.write(json.dumps({**seen, "t": time.monotonic(), "png": str(png)}) + "\n")
            status.flush()

    async def run_device_board(app: Any, board: Any, tasks: Any = ()) -> None:
        await original(app, board, tasks=[lambda: observe(app)])

    display_device.run_device_board = run_device_board
    return main.main(argv)


if __name__ == "__main__":
    sys.exit(board_main(Path(sys.argv[2]), sys.argv[3:]))
