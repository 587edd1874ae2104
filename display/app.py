"""The board app: Kivy, the event stream, discovery and announcements sharing one asyncio loop.

    options = BoardOptions.from_settings(settings, lang="nb")
    configure_window(1920, 1080)            # before anything imports kivy.core.window
    asyncio.run(run_board(BoardApp(options)))

One loop owns everything (DESIGN.md): ``App.async_run(async_lib="asyncio")`` drives Kivy, the
event stream is a task, zeroconf is ``AsyncZeroconf``, espeak-ng is an asyncio subprocess. The
UI is a skin: every message goes through :func:`display.state.reduce`, then the screen copies
:func:`display.view.board_text` into its labels. Side effects hang off *changes* of the state
(a rising ``call_serial`` highlights and announces; a rising ``identify_serial`` shows the
board's name; ``in_sync`` turning false asks the stream for a fresh snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from nummerlapp.client.events import EventStream, Message
from nummerlapp.common.discovery import Advertiser, Browser, _zc_interfaces
from nummerlapp.common.errors import ConfigError
from nummerlapp.common.heap import SETTLE_HEAP_S, settle_heap
from nummerlapp.common.i18n import translator
from nummerlapp.display.announce import Announcer, KivyPlayer, Player, SpeechCache
from nummerlapp.display.state import BoardState, new_calls, next_message, reduce
from nummerlapp.display.view import board_text

if TYPE_CHECKING:
    from nummerlapp.config.model import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoardOptions:
    """Everything a board needs to know, made once from the site file and the command line."""

    lang: str = "nb"
    site_id: str | None = None  # mDNS: the site whose server to find (None: any)
    server_url: str = ""  # fixed address when mDNS finds nothing (or mDNS is off)
    zone: tuple[str, ...] | None = None  # departments shown (None: all)
    message: str = ""  # the site file's message line in ``lang``
    board_id: str = field(default_factory=lambda: f"board-{socket.gethostname()}")
    board_name: str = ""
    voice_languages: tuple[str, ...] = ()
    site_language: str = "nb"
    announce: bool = True
    mdns: bool = True
    mdns_interfaces: tuple[str, ...] | None = None
    cache_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "nummerlapp-board")
    highlight_s: float = 6.0
    identify_s: float = 8.0
    # Languages shown in turn, each for ``language_period_s`` (``()``: ``lang`` only); the site
    # file's message line and counter names per language (docs/LANGUAGES.md).
    languages: tuple[str, ...] = ()
    language_period_s: float = 12.0
    messages: Mapping[str, str] = field(default_factory=dict)
    counter_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # "You said, we did" (issue 16): each of the service's board messages stays this long; a new
    # call blanks the line for ``highlight_s`` (docs/DISPLAY.md).
    message_period_s: float = 10.0

    @classmethod
    def from_settings(
        cls, settings: Settings, lang: str | None = None, zone_id: str | None = None, **overrides: Any
    ) -> BoardOptions:
        site = settings.site
        languages = (lang,) if lang else settings.board.languages
        lang = lang or (languages[0] if languages else site.default_language)
        zone = settings.zone(zone_id or settings.board.zone)
        if zone_id and zone is None:
            raise ConfigError(settings.source, "--zone", f"no zone {zone_id!r} in the site file")
        values: dict[str, Any] = {
            "lang": lang,
            "site_id": site.id,
            "server_url": site.server_url,
            "zone": zone.departments if zone is not None else None,
            "message": site.message.get(lang, ""),
            "voice_languages": settings.board.voice_languages or (site.default_language,),
            "site_language": site.default_language,
            "announce": settings.board.announce,
            "languages": languages if len(languages) > 1 else (),
            "language_period_s": float(settings.board.language_period_s),
            "messages": dict(site.message),
            "counter_names": {c.id: dict(c.names) for c in settings.counters if c.names},
        }
        values.update(overrides)
        return cls(**values)


def configure_window(
    width: int,
    height: int,
    *,
    fullscreen: bool = False,
    rotation: int = 0,
    maxfps: int = 30,
    multisamples: int = 0,
) -> None:
    """Set Kivy's window up before it exists (Kivy reads Config when the window is made).

    ``maxfps`` 30: the board changes a few times a minute; while something moves, 30 frames a
    second is smooth to anyone in the room, and the Pi spends half the wake-ups idling. A change
    does not wait for the next tick: the clock is Kivy's "interrupt" one (:func:`_interruptible_clock`).
    ``multisamples`` 0 (Kivy's default is 2): MSAA only smooths the panels' rounded corners (text
    is antialiased in its own textures), and at 1920x1080 its buffers cost ~60 MB of RSS with a
    software renderer (docs/benchmarks/display.md).
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy's image providers: SDL2_image only (PNG, JPEG…). The list Kivy would try loads Pillow
    # and its codec libraries into the device (~2 MB resident) though no screen draws an image
    # file (docs/benchmarks/display.md, "Memory").
    os.environ.setdefault("KIVY_IMAGE", "sdl2")
    from kivy.config import Config  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "rotation", str(rotation))
    Config.set("graphics", "maxfps", str(maxfps))
    Config.set("kivy", "kivy_clock", "interrupt")  # an event's frame now, not at the next tick (below)
    Config.set("graphics", "multisamples", str(multisamples))
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def _interruptible_clock() -> None:
    """Let a change wake the frame loop at once, with the frame rate still capped at ``maxfps``.

    Kivy's default clock sleeps until the next tick whatever happens, so a call waited up to 33 ms
    (16 on average) before its frame was even begun. Kivy's "interrupt" clock (configure_window)
    wakes the sleep when something is scheduled for the next frame, as a label whose text changed
    is. Under asyncio it waits with ``asyncio.wait_for``, whose timeout raises out of Kivy's main
    loop (Kivy 2.3.1: every idle tick ends in that timeout), so the board sets the clock's async
    library itself and gives it a wait that ends quietly. Measured (docs/benchmarks/display.md):
    event → frame 47 → 27 ms on the host; idle CPU 0.7 → 1.3 % of a core (an event wait per tick
    instead of a plain sleep).
    """
    from kivy.clock import Clock  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    Clock.init_async_lib("asyncio")

    async def wait_for(awaitable: Any, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await awaitable

    Clock._async_wait_for = wait_for  # Kivy's own hook for this (init_async_lib sets it)


def _make_app_class() -> type:
    from kivy.app import App  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window
    from kivy.clock import Clock  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window
    from kivy.core.window import Window  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    from nummerlapp.display.widgets import BoardScreen  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    class BoardApp(App):
        """The Kivy app. ``feed(message)`` is the only way state changes."""

        title = "Nummerlapp"

        def __init__(self, options: BoardOptions, player: Player | None = None) -> None:
            super().__init__()
            self.options = options
            self.state = BoardState(board_id=options.board_id)
            self.screen: BoardScreen | None = None
            self.stream: EventStream | None = None
            self.announcer: Announcer | None = None
            if options.announce:
                self.announcer = Announcer(
                    SpeechCache(options.cache_dir),
                    player or KivyPlayer(),
                    options.voice_languages,
                    options.site_language,
                    counter_names=options.counter_names,
                )
            self.language_turn = 0  # which of options.languages is shown
            self.frames = 0
            self.latencies: list[float] = []  # message fed → next frame, seconds
            self._pending_frame: float | None = None  # when a change was shown that no frame drew yet
            self._shown: Any = None  # the BoardText on the labels
            self._frame_event: asyncio.Event | None = None
            self._unhighlight: Any = None
            self._unidentify: Any = None
            self.on_message: Callable[[Message], None] | None = None  # for tests/bench

        # -- Kivy

        async def async_run(self, async_lib: str | None = None) -> None:
            """Kivy's loop on asyncio, with the interrupting clock (:func:`_interruptible_clock`)
            whoever starts the board (``run_board``, an enrolled board's ``run_window``)."""
            if async_lib not in (None, "asyncio"):
                raise ValueError(f"the board runs on asyncio, not {async_lib!r}")
            _interruptible_clock()
            await super().async_run()  # no library named: Kivy keeps the clock's (set above)

        def build(self) -> BoardScreen:
            width, height = Window.size
            self.screen = BoardScreen(int(width), int(height))
            self._shown = self.words(self.state)
            self.screen.show(self._shown)
            self._tick_clock(0)
            Clock.schedule_interval(self._tick_clock, 1.0)
            if len(self.options.languages) > 1:
                Clock.schedule_interval(self._next_language, self.options.language_period_s)
            Clock.schedule_interval(self._message_tick, self.options.message_period_s)
            Window.bind(on_flip=self._on_flip)
            Clock.schedule_once(lambda _dt: settle_heap(), SETTLE_HEAP_S)
            return self.screen

        @property
        def shown_language(self) -> str:
            """The language on the board now (the site file's ``board.languages`` in turn)."""
            langs = self.options.languages
            return langs[self.language_turn % len(langs)] if langs else self.options.lang

        def words(self, state: BoardState) -> Any:
            o, lang = self.options, self.shown_language
            message = o.messages.get(lang) or (o.message if lang == o.lang else "")
            return board_text(
                state, lang, o.zone, message, counter_names=o.counter_names, site_language=o.site_language
            )

        def _next_language(self, _dt: float = 0) -> None:
            self.language_turn += 1
            text = self.words(self.state)
            if self.screen is not None and text != self._shown:
                self._shown = text
                self.screen.show(text)
                self._pending_frame = time.perf_counter()

        def _tick_clock(self, _dt: float) -> None:
            if self.screen is not None:
                self.screen.clock.text = time.strftime("%H:%M")  # equal text: no redraw

        def _on_flip(self, *_args: object) -> None:
            self.frames += 1
            if self._pending_frame is not None:
                self.latencies.append(time.perf_counter() - self._pending_frame)
                self._pending_frame = None
            if self._frame_event is not None:
                self._frame_event.set()

        async def next_frame(self, timeout: float = 5.0) -> None:
            """Wait for the window's next flip (a drawn frame)."""
            self._frame_event = asyncio.Event()
            await asyncio.wait_for(self._frame_event.wait(), timeout)

        async def drawn(self, timeout: float = 5.0) -> None:
            """Return once every change fed so far is on screen (at once if it already is)."""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while self._pending_frame is not None:
                await self.next_frame(max(0.01, deadline - loop.time()))

        # -- state

        def feed(self, message: Message) -> None:
            old = self.state
            new = reduce(old, message)
            if new is old or new == old:
                return
            self._show(new)
            calls = new_calls(old, new)
            if calls:
                self._highlight()
                if self.announcer is not None:
                    for call in calls:
                        self.announcer.announce(call)
            if new.identify_serial != old.identify_serial:
                self._identify()
            if new.connected and not new.in_sync and self.stream is not None:
                asyncio.get_running_loop().create_task(self.stream.resync())
            if self.on_message is not None:
                self.on_message(message)

        def _highlight(self) -> None:
            if self.screen is None:
                return
            self.screen.highlight(True)
            self._calls_until = time.monotonic() + self.options.highlight_s
            if self._unhighlight is not None:
                self._unhighlight.cancel()

            def done(_dt: float) -> None:
                if self.screen is not None:
                    self.screen.highlight(False)
                self._next_message()  # the call has had the screen: the message line comes back

            self._unhighlight = Clock.schedule_once(done, self.options.highlight_s)

        def _message_tick(self, _dt: float = 0) -> None:
            if time.monotonic() >= getattr(self, "_calls_until", 0.0):  # a new call keeps the screen
                self._next_message()

        def _next_message(self) -> None:
            """The next board message (or the held one back): :func:`display.state.next_message`."""
            new = next_message(self.state)
            if new == self.state:
                return
            self._show(new)

        def _show(self, new: BoardState) -> None:
            """Take ``new`` as the board's state, and draw it if what it shows changed."""
            self.state = new
            text = self.words(new)
            if self.screen is not None and text != self._shown:
                # only a change of what is shown draws a frame: waiting for one otherwise would hang
                self._shown = text
                self.screen.show(text)
                self._pending_frame = time.perf_counter()

        def _identify(self) -> None:
            if self.screen is None:
                return

            name = self.options.board_name or self.options.board_id
            self.screen.identify(
                translator("display", self.options.lang)("This is board {name}").format(name=name)
            )
            if self._unidentify is not None:
                self._unidentify.cancel()
            self._unidentify = Clock.schedule_once(
                lambda _dt: self.screen.identify(None), self.options.identify_s
            )

    return BoardApp


_APP_CLASS: type | None = None


def BoardApp(options: BoardOptions, player: Player | None = None) -> Any:
    """Make the board's Kivy app (the class is built on first use, after configure_window)."""
    global _APP_CLASS
    if _APP_CLASS is None:
        _APP_CLASS = _make_app_class()
    return _APP_CLASS(options, player)


async def _resolver(options: BoardOptions, browser: Any) -> Callable[[], Any]:
    first = True

    async def resolve() -> str | None:
        nonlocal first
        if browser is not None:
            wait = 3.0 if first else (1.0 if options.server_url else 2.0)
            first = False
            device = await browser.wait_for(lambda d: True, wait)
            if device is not None:
                return str(device.base_url)
        return options.server_url or None

    return resolve


async def run_board(app: Any, tasks: Sequence[Callable[[], Any]] = ()) -> None:
    """Run the board until its window closes: Kivy, stream, discovery, advertisement.

    ``tasks`` are extra coroutine functions run alongside (tests and benchmarks drive the board
    with them); when all of them finish, the app stops.
    """
    options: BoardOptions = app.options
    aiozc, browser, advertiser = await _start_discovery(options)
    server: Any = await _resolver(options, browser) if browser is not None else options.server_url
    if not server:
        raise ConfigError("<board>", "server", "no --server address and mDNS is off: nothing to connect to")
    app.stream = EventStream(server)
    if browser is not None:
        stream = app.stream

        def heard(device: Any, present: bool) -> None:
            # The service's record was added or changed (a restart, maybe on a new port; after a
            # crash no goodbye came, so the stream may still be retrying the dead address): try
            # the new address now rather than at the next backoff step.
            if present and not stream.connected:
                log.info("board: heard the service at %s; connecting", device.base_url)
                stream.wake()

        browser.on_change = heard

    async def consume() -> None:
        async for message in app.stream:
            app.feed(message)

    async def extra() -> None:
        try:
            await asyncio.gather(*(t() for t in tasks))
        finally:
            app.stop()

    consumer = asyncio.create_task(consume())
    driver = asyncio.create_task(extra()) if tasks else None
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        await app.stream.close()
        for task in (consumer, driver):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if driver is not None and driver.done() and not driver.cancelled() and driver.exception():
            raise driver.exception()  # type: ignore[misc]
        if app.announcer is not None:
            await app.announcer.close()
        await _stop_discovery(aiozc, browser, advertiser)


async def _start_discovery(options: BoardOptions) -> tuple[Any, Any, Any]:
    """(zeroconf, the service browser, the board's advertisement); all None with mDNS off."""
    if not options.mdns:
        return None, None, None
    interfaces = list(options.mdns_interfaces) if options.mdns_interfaces else None
    aiozc = AsyncZeroconf(interfaces=_zc_interfaces(interfaces), ip_version=IPVersion.V4Only)
    browser = Browser(role="server", site=options.site_id, interfaces=interfaces, aiozc=aiozc)
    await browser.start()
    advertiser = Advertiser(
        "board", options.site_id or "", 0, device_id=options.board_id, interfaces=interfaces, aiozc=aiozc,
        properties={"name": options.board_name or options.board_id, "zone": ",".join(options.zone or ())},
    )  # fmt: skip
    try:
        await advertiser.start()
    except Exception as exc:  # a board that cannot advertise still shows calls
        log.warning("board: could not advertise over mDNS: %s", exc)
        return aiozc, browser, None
    return aiozc, browser, advertiser


async def _stop_discovery(aiozc: Any, browser: Any, advertiser: Any) -> None:
    if advertiser is not None:
        await advertiser.stop()
    if browser is not None:
        await browser.stop()
    if aiozc is not None:
        await aiozc.async_close()
