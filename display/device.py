"""A board with no site file: it enrols, takes its settings from the service and follows changes.

``main.py display`` without ``--config`` runs this (docs/DISPLAY.md, "Enrolment"):

1. no token in the state folder → the enrolment screen (display/enrol_screen.py) shows the code
   the service gave (client/enrol.py) until a technician approves it;
2. with a token → ``GET /config``: the board's options (zone, languages, message line, counter
   names) from the site file the server holds; the board screen replaces the enrolment screen;
3. the event stream carries the board's token (the service lists it as connected);
   ``config.changed`` fetches the configuration again and the board shows it at once (zone,
   message line, departments); a refused token (revoked) deletes the token file and the
   enrolment screen comes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nummerlapp.client.enrol import (
    Device,
    DeviceConfig,
    DeviceLink,
    EnrolView,
    Identity,
    StateDir,
    keep_enrolled,
    run_window,
)
from nummerlapp.client.events import EventStream
from nummerlapp.common.protocol import API_PREFIX
from nummerlapp.display.app import BoardOptions, _resolver, _start_discovery, _stop_discovery


@dataclass(frozen=True)
class DeviceBoard:
    """How a board without a site file starts."""

    state_dir: Path
    lang: str | None  # None: the site's (once known); "nb" on the enrolment screen
    zone: str | None  # --zone: overrides the approved zone
    overrides: dict[str, Any]  # the command line's BoardOptions values (id, name, mDNS, …)


def options_for(config: DeviceConfig, board: DeviceBoard) -> BoardOptions:
    """The board's options from the service's configuration and the command line."""
    zone = board.zone or config.device.get("zone") or None
    overrides = dict(board.overrides)
    if config.name and "board_name" not in overrides:
        overrides["board_name"] = config.name
    return BoardOptions.from_settings(config.settings, lang=board.lang, zone_id=zone, **overrides)


class Skin:
    """Swaps the window between the enrolment screen and the board screen."""

    def __init__(self, app: Any, lang: str) -> None:
        from kivy.core.window import Window  # noqa: PLC0415  # after configure_window

        from nummerlapp.display.enrol_screen import EnrolScreen  # noqa: PLC0415  # after configure_window

        self.app = app
        self.window = Window
        width, height = Window.size
        self.enrol = EnrolScreen(int(width), int(height), lang)
        self.enrolling = False

    def show_enrolment(self, view: EnrolView) -> None:
        if not self.enrolling and self.app.root is not None:
            self.window.remove_widget(self.app.root)
            self.window.add_widget(self.enrol)
        self.enrolling = True
        self.enrol.show(view)

    def show_board(self) -> None:
        if self.enrolling and self.app.root is not None:
            self.window.remove_widget(self.enrol)
            self.window.add_widget(self.app.root)
        self.enrolling = False

    def apply(self, options: BoardOptions) -> None:
        """New options (a changed configuration) on screen now."""
        app = self.app
        app.options = options
        if app.announcer is not None:
            app.announcer.counter_names = options.counter_names
        if app.screen is not None:
            shown = app.words(app.state)
            app._shown = shown
            app.screen.show(shown)
            app._pending_frame = time.perf_counter()


async def run_device_board(app: Any, board: DeviceBoard, tasks: Sequence[Callable[[], Any]] = ()) -> None:
    """Run the board until its window closes (``tasks`` as in :func:`display.app.run_board`)."""
    options: BoardOptions = app.options
    aiozc, browser, advertiser = await _start_discovery(options)
    found = await _resolver(options, browser)

    async def resolve() -> str | None:
        base = await found()
        return None if base is None else str(base).rstrip("/").removesuffix(API_PREFIX)

    identity = Identity(options.board_id, "display", options.board_name or options.board_id)
    device = Device(StateDir(board.state_dir), identity, resolve, "board")

    async def work() -> None:
        while app.root is None:  # the window is built on the loop's first turns
            await asyncio.sleep(0.02)
        skin = Skin(app, board.lang or "nb")
        await keep_enrolled(lambda: _enrolled(app, skin, device, board), "board")

    try:
        await run_window(app, work, tasks)
    finally:
        if app.stream is not None:
            await app.stream.close()
        if app.announcer is not None:
            await app.announcer.close()
        await _stop_discovery(aiozc, browser, advertiser)


async def _enrolled(app: Any, skin: Skin, device: Device, board: DeviceBoard) -> None:
    """One enrolment's life: enrol if needed, work until revoked."""
    async with device.session(skin.show_enrolment) as (base, token, api):

        def changed(config: DeviceConfig) -> None:
            skin.apply(options_for(config, board))
            if app.stream is not None:  # departments added or gone: a fresh snapshot
                asyncio.get_running_loop().create_task(app.stream.resync())

        tls = device.state.tls()
        link = DeviceLink(api, base, device.identity.device_id, on_config=changed, tls=tls)
        try:
            skin.apply(options_for(await link.refresh(), board))
            skin.show_board()
            app.stream = EventStream(device.resolve, token=token, tls=tls)
            async for message in app.stream:
                await link.handle(message)
                app.feed(message)
        finally:
            if app.stream is not None:
                await app.stream.close()
