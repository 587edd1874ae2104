"""A real board or kiosk process without a site file or token, observed from inside (tests only).

``python -m nummerlapp.tests.enrolment.devices board WORKDIR ARGV…`` runs ``main.py display ARGV``
(``kiosk`` or ``feedback`` instead of ``board``: ``main.py kiosk|feedback ARGV``) with one observer task beside it: every
0.2 s it writes what the window shows (the enrolment screen's labels, or the board's / the
kiosk's or the exit terminal's) to WORKDIR/status.jsonl, with a screenshot whenever that changed. The test believes
those records, never a log line. For a kiosk, a file ``WORKDIR/touch-<department>`` asks the
observer for a real touch (down, up) on that department's button; the file goes when done.
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


def terminal_main(kind: str, workdir: Path, argv: list[str]) -> int:
    """A kiosk's or an exit terminal's run (``kind``), observed (both skins: ``app.flow`` or none)."""
    from nummerlapp.feedback import device as feedback_device  # noqa: PLC0415  # only these runs need them
    from nummerlapp.kiosk import device as kiosk_device  # noqa: PLC0415  # (as above)

    module: Any = kiosk_device if kind == "kiosk" else feedback_device
    name = "run_device_kiosk" if kind == "kiosk" else "run_device_terminal"
    original = getattr(module, name)
    status: IO[str] = open(workdir / "status.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    def seen_now(app: Any) -> dict[str, Any]:
        flow = app.flow
        if flow is None:
            enrol = app.enrol_screen
            return {"screen": "enrolment", "texts": enrol.texts() if enrol is not None else {}}
        if kind == "feedback":
            question = flow.question
            return {
                "screen": str(flow.screen),
                "question": question.id if question else None,
                "lang": flow.lang,
            }
        return {
            "screen": str(flow.screen),
            "identify": app.identifying[0] if app.identifying is not None else None,
            "departments": [[d.id, d.label(flow.lang), d.open] for d in flow.departments],
            "ticket": flow.ticket.number if flow.ticket is not None else None,
            "printer": flow.printer_state.state,
        }

    async def touch(app: Any) -> None:
        from kivy.tests.common import UnitTestTouch  # noqa: PLC0415  # after configure_window

        for request in sorted(workdir.glob("touch-*")):
            dep = request.name.removeprefix("touch-")
            button = next((w for w in app.root.walk() if getattr(w, "dep_id", None) == dep), None)
            if button is not None:
                x, y = button.to_window(*button.center)
                finger = UnitTestTouch(x, y)
                finger.touch_down()
                await asyncio.sleep(0.05)
                finger.touch_up()
            request.unlink()

    async def observe(app: Any) -> None:
        from kivy.core.window import Window  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

        shots, last = 0, None
        while not (workdir / "stop").exists():
            await asyncio.sleep(0.2)
            if app.root is None:
                continue
            await touch(app)
            seen = seen_now(app)
            if seen == last:
                continue
            last = seen
            await asyncio.sleep(0.3)  # the frame with these labels
            shots += 1
            png = workdir / f"shot-{shots:03d}.png"
            os.replace(Window.screenshot(name=str(png)), png)
            status.write(json.dumps({**seen, "t": time.monotonic(), "png": str(png)}) + "\n")
            status.flush()

    async def observed(app: Any, device: Any, tasks: Any = ()) -> None:
        await original(app, device, tasks=[lambda: observe(app)])

    setattr(module, name, observed)
    return main.main(argv)


if __name__ == "__main__":
    if sys.argv[1] == "board":
        sys.exit(board_main(Path(sys.argv[2]), sys.argv[3:]))
    sys.exit(terminal_main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:]))
