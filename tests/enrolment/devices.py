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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nummerlapp import main
from nummerlapp.display import device as display_device


async def record_changes(workdir: Path, look: Callable[[], Awaitable[dict[str, Any] | None]]) -> None:
    """Until WORKDIR/stop: every 0.2 s ``look()`` at the window (None: nothing to record yet);
    when what it sees changed, a screenshot of that frame and a record in WORKDIR/status.jsonl."""
    from kivy.core.window import Window  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    shots, last = 0, None
    with open(workdir / "status.jsonl", "a", encoding="utf-8") as status:
        while not (workdir / "stop").exists():
            await asyncio.sleep(0.2)
            seen = await look()
            if seen is None or seen == last:
                continue
            last = seen
            await asyncio.sleep(0.3)  # the frame with these labels
            shots += 1
            png = workdir / f"shot-{shots:03d}.png"
            os.replace(Window.screenshot(name=str(png)), png)
            status.write(json.dumps({**seen, "t": time.monotonic(), "png": str(png)}) + "\n")
            status.flush()


def observed(
    module: Any, name: str, workdir: Path, look: Callable[[Any], Awaitable[dict[str, Any] | None]]
) -> None:
    """``module.name`` (a device's ``run_device_…(app, device, tasks)``) with the observer beside it."""
    original = getattr(module, name)

    async def run(app: Any, device: Any, tasks: Any = ()) -> None:
        await original(app, device, tasks=[lambda: record_changes(workdir, lambda: look(app))])

    setattr(module, name, run)


def board_main(workdir: Path, argv: list[str]) -> int:
    async def look(app: Any) -> dict[str, Any] | None:
        from kivy.core.window import Window  # noqa: PLC0415  # after configure_window

        enrol = next((w for w in Window.children if type(w).__name__ == "EnrolScreen"), None)
        if enrol is not None:
            return {"screen": "enrolment", "texts": enrol.texts()}
        if app.screen is not None and app.frames > 0:
            return {"screen": "board", "texts": app.screen.texts()}
        return None

    observed(display_device, "run_device_board", workdir, look)
    return main.main(argv)


def terminal_main(kind: str, workdir: Path, argv: list[str]) -> int:
    """A kiosk's or an exit terminal's run (``kind``), observed (both skins: ``app.flow`` or none)."""
    from nummerlapp.feedback import device as feedback_device  # noqa: PLC0415  # only these runs need them
    from nummerlapp.kiosk import device as kiosk_device  # noqa: PLC0415  # (as above)

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

    async def look(app: Any) -> dict[str, Any] | None:
        if app.root is None:
            return None
        await touch(app)
        return seen_now(app)

    if kind == "kiosk":
        observed(kiosk_device, "run_device_kiosk", workdir, look)
    else:
        observed(feedback_device, "run_device_terminal", workdir, look)
    return main.main(argv)


if __name__ == "__main__":
    if sys.argv[1] == "board":
        sys.exit(board_main(Path(sys.argv[2]), sys.argv[3:]))
    sys.exit(terminal_main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:]))
