"""A real board (display/app.py) offscreen: messages in turn, then a call takes the screen.

    python tests/feedback/board_messages_script.py '{"messages": [...], "out": DIR}'

Prints one JSON line of what the message and number labels said. Runs in its own process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="nummerlapp-kivy-"))

from nummerlapp.display.app import BoardApp, BoardOptions, configure_window
from nummerlapp.tests.protocol.samples import called, site, snapshot

JOB = json.loads(sys.argv[1])
OUT = Path(JOB["out"])
facts: dict[str, Any] = {"rotation": [], "shots": []}


async def shoot(name: str) -> None:
    from kivy.core.window import Window  # noqa: PLC0415  # after configure_window

    path = OUT / f"board-messages-{name}.png"
    os.replace(Window.screenshot(name=str(path)), path)
    facts["shots"].append(str(path))


async def drive(app: Any) -> None:
    while app.frames < 1:
        await asyncio.sleep(0.01)
    snap = snapshot(seq=10)
    snap = snap.model_copy(
        update={"state": snap.state.model_copy(update={"site": site(messages=JOB["messages"])})}
    )
    app.feed(snap)
    app.screen.highlight(False)
    await app.drawn()
    await shoot("rotating")
    for _ in range(len(JOB["messages"])):  # the board's own clock turns the line: note each one
        shown = app.screen.texts()["message"]
        facts["rotation"].append(shown)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if app.screen.texts()["message"] != shown:
                break
    app.feed(called(11, "A012", "2"))
    await app.drawn()
    texts = app.screen.texts()
    facts["during_call"] = {"number": texts["number"], "message": texts["message"]}
    await shoot("call")
    await asyncio.sleep(app.options.highlight_s + 0.5)
    await app.drawn()
    facts["after_call"] = app.screen.texts()["message"]


def main() -> None:
    configure_window(1920, 1080)
    options = BoardOptions(
        lang="nb", mdns=False, announce=False, board_id="board-test", message_period_s=0.8, highlight_s=1.5,
        zone=("nav", "byggesak", "bolig", "tolk"),
    )  # fmt: skip
    app = BoardApp(options)

    async def run() -> None:
        task = asyncio.create_task(drive(app))
        task.add_done_callback(lambda _t: app.stop())
        await app.async_run(async_lib="asyncio")
        await task

    asyncio.run(run())
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
