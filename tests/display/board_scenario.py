"""One rendered board scenario in its own process (Kivy's global state stays out of pytest).

    python tests/display/board_scenario.py fixture --size 1920x1080 --lang nb --out board.png
    python tests/display/board_scenario.py server --server http://127.0.0.1:PORT --token T --out x.png

Prints one JSON line: what the labels said, frame latencies, the screenshot path. ``fixture``
feeds hand-made PROTOCOL.md messages; ``server`` connects to a real service, issues tickets and
calls over HTTP, and waits for the call to be drawn.

    python tests/display/board_scenario.py control --server http://127.0.0.1:PORT/api/v1 --out x.png

``control`` is driven step by step (tests/e2e): one JSON command per stdin line, one JSON answer
per stdout line — ``connected``/``down`` (wait for the link, or for the reconnecting mark),
``call`` (wait until a number is shown and its announcement played), ``texts``, ``shot``, ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from nummerlapp.client.events import StreamDown
from nummerlapp.common import protocol as P
from nummerlapp.display.announce import RecordingPlayer
from nummerlapp.display.app import BoardApp, BoardOptions, configure_window, run_board
from nummerlapp.tests.protocol.samples import AT, call, called, counter, snapshot

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="nummerlapp-kivy-"))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("fixture", "server", "control"))
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--lang", default="nb")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--highlight", action="store_true", help="screenshot while the new call is highlighted")
    p.add_argument("--down", action="store_true", help="drop the stream before the screenshot")
    p.add_argument("--identify", action="store_true")
    p.add_argument("--server", default="")
    p.add_argument("--token", default="")
    p.add_argument("--wav-dir", type=Path, default=None)
    p.add_argument("--clock", default="", help="HH:MM on the board's clock (pictures within opening hours)")
    return p.parse_args()


async def shoot(app: Any, out: Path) -> str:
    from kivy.core.window import Window  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    out.parent.mkdir(parents=True, exist_ok=True)
    written = Window.screenshot(name=str(out))
    os.replace(written, out)
    return str(out)


async def fixture(app: Any, args: argparse.Namespace, result: dict[str, Any]) -> None:
    while app.frames < 1:  # built and drawn once
        await asyncio.sleep(0.01)
    calls = [
        call("B004", "3", "x"),
        call("A010", "2", "x"),
        call("C002", "4", "x"),
        call("A009", "1", "x"),
        call("A008", "2", "x"),
        call("B003", "3", "x"),
    ]
    snap = snapshot(seq=40, calls=calls)
    snap.state.counters.append(counter("4", ["bolig"]))
    app.feed(snap)
    app.feed(called(41, "A012", "2"))
    if args.identify:
        app.feed(P.DeviceIdentify(seq=42, at=AT, device=P.DeviceRef(id=app.options.board_id)))
    if args.down:
        app.feed(StreamDown("test"))
    if not args.highlight:
        app.screen.highlight(False)
    await app.drawn()  # the fed messages changed labels: one frame draws them
    result["screenshot"] = await shoot(app, args.out)


async def server(app: Any, args: argparse.Namespace, result: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not app.state.connected:
        assert loop.time() < deadline, "the board never connected"
        await asyncio.sleep(0.02)
    result["before"] = app.screen.texts()
    headers = {"Authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(base_url=args.server, headers=headers, timeout=10) as http:
        for dep in ("nav", "nav", "bygg"):
            (await http.post("/tickets", json={"department": dep})).raise_for_status()
        sent = time.perf_counter()
        ticket = (await http.post("/counters/2/next")).json()["ticket"]
    result["called"] = ticket["number"]
    while app.screen.number.text != ticket["number"]:
        assert loop.time() < deadline, f"the call never showed: {app.screen.texts()}"
        await asyncio.sleep(0.005)
    await app.drawn()
    result["http_to_frame_s"] = time.perf_counter() - sent
    # the refresh after the call brings the service's own counts; wait for it
    while app.screen.texts()["departments"][0][1] != "1":
        assert loop.time() < deadline, f"counts never refreshed: {app.screen.texts()}"
        await asyncio.sleep(0.02)
    await app.drawn()
    result["screenshot"] = await shoot(app, args.out)
    if app.announcer is not None:
        await app.announcer.wait_idle(30)
        result["played"] = [p.path.name for p in app.announcer.player.played]


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """stdin's lines on the loop; "" at the end. A daemon thread: a blocked read never holds up the exit."""
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return lines


async def _until(app: Any, predicate: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {app.screen.texts()}")
        await asyncio.sleep(0.01)


async def _command(app: Any, cmd: dict[str, Any], answer: dict[str, Any]) -> None:
    """Carry out one control command (not ``quit``); what it reports goes into ``answer``."""
    timeout = float(cmd.get("timeout", 15))
    if cmd["cmd"] == "connected":
        await _until(app, lambda: app.state.connected and not app.screen.texts()["status"], timeout, "link")
    elif cmd["cmd"] == "down":
        await _until(app, lambda: bool(app.screen.texts()["status"]), timeout, "the reconnecting mark")
    elif cmd["cmd"] == "call":
        number = str(cmd["number"])
        await _until(app, lambda: bool(app.screen.number.text == number), timeout, number)
        if app.announcer is not None:
            await app.announcer.wait_idle(timeout)
    elif cmd["cmd"] == "shot":
        answer["screenshot"] = await shoot(app, Path(cmd["out"]))
    elif cmd["cmd"] != "texts":
        raise ValueError(f"unknown command {cmd['cmd']!r}")
    await app.drawn()  # what was fed is on screen


async def control(app: Any, args: argparse.Namespace, result: dict[str, Any]) -> None:
    lines = _stdin_lines(asyncio.get_running_loop())
    while app.frames < 1:
        await asyncio.sleep(0.01)
    while line := (await lines.get()).strip():
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            return
        answer: dict[str, Any] = {"cmd": cmd["cmd"]}
        try:
            await _command(app, cmd, answer)
        except Exception as exc:
            answer["error"] = repr(exc)
        answer["texts"] = app.screen.texts()
        if app.announcer is not None:
            answer["played"] = [p.path.name for p in app.announcer.player.played]
            answer["announced"] = [call.number for call in app.announcer.announced]
        print(json.dumps(answer), flush=True)


# The example site's counters in its three languages (the site file's `name = {nb = …, en = …}`).
COUNTER_NAMES = {
    cid: {"nb": f"Skranke {cid}", "sv": f"Disk {cid}", "en": f"Counter {cid}"} for cid in ("1", "2", "3", "4")
}


def main() -> int:
    args = parse()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.clock:  # the board's clock reads time.strftime("%H:%M"); a picture shows a morning
        real = time.strftime
        time.strftime = lambda fmt, *a: args.clock if fmt == "%H:%M" else real(fmt, *a)

    configure_window(width, height)

    options = BoardOptions(
        lang=args.lang,
        server_url=args.server,
        mdns=False,
        zone=("nav", "byggesak", "bolig", "tolk") if args.mode == "fixture" else None,
        message={"nb": "Velkommen! Husk å ta med legitimasjon.", "en": "Welcome! Please bring your ID."}.get(
            args.lang, ""
        ),
        board_id="board-test",
        board_name="Venterom 1",
        counter_names=COUNTER_NAMES if args.mode == "fixture" else {},
        announce=args.mode != "fixture",
        voice_languages=("nb", "en"),
        cache_dir=args.wav_dir or Path(tempfile.mkdtemp(prefix="board-wav-")),
    )
    app = BoardApp(options, player=RecordingPlayer())
    result: dict[str, Any] = {}

    async def drive() -> None:
        try:
            if args.mode == "fixture":
                await fixture(app, args, result)
            else:
                await (server if args.mode == "server" else control)(app, args, result)
            result["texts"] = app.screen.texts()
            result["latencies"] = app.latencies
        except BaseException as exc:
            result["error"] = repr(exc)
            raise

    async def run() -> None:
        if args.mode == "fixture":
            task = asyncio.create_task(drive())
            task.add_done_callback(lambda _t: app.stop())
            await app.async_run(async_lib="asyncio")
            await task
        else:
            await run_board(app, [drive])

    try:
        asyncio.run(run())
    finally:
        print(json.dumps(result))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
