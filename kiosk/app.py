"""The Kivy skin over ``KioskFlow``: one window, rebuilt from the flow's state when it changes.

Kivy runs inside asyncio (``App.async_run(async_lib="asyncio")``): the flow's timers, the HTTP
client and zeroconf share the loop with the UI, and Kivy callbacks run in that loop, so a button's
``on_press`` can start the flow's issuing task directly. Blocking work (printer IO, argon2) is in
threads inside the flow; nothing here blocks.

Import this module only after ``kiosk.window.configure_window()`` (Kivy reads its window settings when the
window is first created).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.common.heap import SETTLE_HEAP_S, settle_heap
from nummerlapp.common.i18n import translator
from nummerlapp.kiosk import checkin_screens, theme, words
from nummerlapp.kiosk.flow import KioskFlow, Screen
from nummerlapp.kiosk.screens import BUILDERS, Ctx
from nummerlapp.kiosk.technician import HOLD_S, LogTail, PinEntry, in_corner, pin_screen, technician_screen
from nummerlapp.kiosk.widgets import Text, paint
from nummerlapp.skin.app import SkinApp
from nummerlapp.skin.enrol_screen import EnrolScreen

log = logging.getLogger(__name__)

IDENTIFY_S = 10.0  # how long the kiosk names itself after Identify
SCREENS = {**BUILDERS, **checkin_screens.BUILDERS}
ENTER_KEYS = (13, 271)  # Return, keypad Enter: a USB scanner ends its code with one
BACKSPACE_KEY = 8


class KioskRoot(BoxLayout):
    """Top bar + the current screen. Watches every touch for the idle timer and the hidden corner."""

    def __init__(self, app: KioskApp, **kw: Any) -> None:
        super().__init__(orientation="vertical", **kw)
        self.app = app
        self._hold: Any = None
        self._hold_uid: int | None = None

    def on_touch_down(self, touch: Any) -> bool:
        if self.app.flow is None:  # the enrolment screen: nothing to touch
            return bool(super().on_touch_down(touch))
        self.app.flow.touch()
        if in_corner(self.app.metrics(), touch.x, touch.y):
            self._hold_uid = touch.uid
            self._hold = Clock.schedule_once(lambda _dt: self._open_technician(), HOLD_S)
        return bool(super().on_touch_down(touch))

    def on_touch_move(self, touch: Any) -> bool:
        if touch.uid == self._hold_uid and not in_corner(self.app.metrics(), touch.x, touch.y):
            self._cancel_hold()
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if touch.uid == self._hold_uid:
            self._cancel_hold()
        return bool(super().on_touch_up(touch))

    def _open_technician(self) -> None:
        if self.app.flow is not None:
            self.app.flow.open_technician()

    def _cancel_hold(self) -> None:
        if self._hold is not None:
            self._hold.cancel()
        self._hold = None
        self._hold_uid = None


class KioskApp(SkinApp[KioskFlow]):
    """The visitor kiosk's window (skin/app.py: the flow on screen, or the enrolment screen), with
    a top bar (the site's name and the clock), the technician screens and a scanner's keys."""

    title = "Nummerlapp kiosk"

    def __init__(
        self,
        flow: KioskFlow | None,
        *,
        version: str = "",
        log_tail: LogTail | None = None,
        now: Callable[[], dt.datetime] | None = None,
        size: tuple[int, int] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(flow, size=size, **kw)
        self.version = version
        self.log_tail = log_tail
        self._now = now or self._site_now
        self.pin = PinEntry()
        self.clock_label: Text | None = None
        # A technician's Identify (device.identify for this kiosk): the top bar turns yellow and
        # names the kiosk for IDENTIFY_S seconds, over whatever screen a visitor is on.
        self.identifying: tuple[str, float] | None = None  # (name, until: time.monotonic())

    def _site_now(self) -> dt.datetime:
        if self.flow is None:
            return dt.datetime.now().astimezone()
        return dt.datetime.now(self.flow.settings.site.tz)

    # -- building -------------------------------------------------------------------------------

    def build(self) -> Widget:
        root = super().build()
        Clock.schedule_once(lambda _dt: settle_heap(), SETTLE_HEAP_S)
        return root

    def _build_root(self) -> Widget:
        root = KioskRoot(self)
        self.top_bar = BoxLayout(size_hint_y=None)
        self.top_bar_color = paint(self.top_bar, theme.NAVY_LIGHT)
        root.add_widget(self.top_bar)
        self.content = BoxLayout()
        root.add_widget(self.content)
        return root

    def _start(self) -> None:
        Window.bind(on_textinput=self._typed, on_key_down=self._key_down)
        Clock.schedule_interval(self._every_second, 1.0)

    def identify(self, name: str) -> None:
        """Show which kiosk this is (the technician page's or the API's Identify)."""
        self.identifying = (name, time.monotonic() + IDENTIFY_S)
        self.render(force=True)

    def _view_key(self) -> tuple[Any, ...]:
        f = self.flow
        if f is None:
            return ("enrol",)
        return (
            self.identifying is not None,
            f.screen,
            f.lang,
            f.large_text,
            tuple(Window.size),
            f.departments,
            f.ticket,
            f.print_fault,
            f.ask_reason,
            f.notice,
            f.reference,
            f.check_in_problem,
            f.site_closure,
            f.pin_failed,
            f.pin_locked(),
            self.pin.digits,
            f.tech_message,
            f.printer_state if f.screen == Screen.TECHNICIAN else None,
            f.service_ok if f.screen == Screen.TECHNICIAN else None,
            f.is_resting(),
        )

    def _draw(self) -> None:
        assert self.content is not None
        m = self.metrics()
        if self.flow is None:
            self._render_enrolment(m)
            return
        ctx = Ctx(self.flow, m, translator("kiosk", self.flow.lang), self._now())
        self._build_top_bar(ctx)
        self.content.clear_widgets()
        if self.flow.screen == Screen.TECH_PIN:
            widget = pin_screen(ctx, self.pin, lambda: self.render())
        elif self.flow.screen == Screen.TECHNICIAN:
            widget = technician_screen(ctx, self.log_tail, self.version)
        else:
            self.pin.digits = ""
            widget = SCREENS[self.flow.screen](ctx)
        self.content.add_widget(widget)

    def _render_enrolment(self, m: theme.Metrics) -> None:
        assert self.content is not None
        self._build_top_bar_site("", m)  # the site's name is the screen's headline
        self.content.clear_widgets()
        self.enrol_screen = EnrolScreen(m, self.enrol_lang)
        self.enrol_screen.show(self.enrol_view)
        self.content.add_widget(self.enrol_screen)

    def _build_top_bar_site(self, site: str, m: theme.Metrics | None = None) -> None:
        """The top bar while enrolling: the site's name once the service said it, and the clock."""
        m = m or self.metrics()
        bar = self.top_bar
        bar.clear_widgets()
        bar.height = m.px(9)
        bar.padding = (m.px(4), 0)
        bar.add_widget(Text(site, m.px(3.6), theme.WHITE, bold=True, fixed=True))
        self.clock_label = Text(
            words.clock(self._now()), m.px(4.6), theme.WHITE, bold=True, halign="right", fixed=True,
            size_hint_x=0.35,
        )  # fmt: skip
        bar.add_widget(self.clock_label)

    # -- a USB scanner (or a keyboard) types the reference -------------------------------------

    def _typed(self, _window: Any, text: str) -> None:
        if self.flow is None:
            return
        for char in text:
            self.flow.type_key(char)

    def _key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        if self.flow is None:
            return False
        if key in ENTER_KEYS:
            self.flow.submit_reference()
            return True
        if key == BACKSPACE_KEY:
            self.flow.erase()
            return True
        return False

    def _build_top_bar(self, c: Ctx) -> None:
        if self.identifying is None:
            self.top_bar_color.rgba = theme.rgba(theme.NAVY_LIGHT)
            self._build_top_bar_site(c.flow.settings.site.name, c.m)
            return
        self.top_bar_color.rgba = theme.rgba(theme.YELLOW)  # seen across the room; no clock meanwhile
        bar, m = self.top_bar, c.m
        bar.clear_widgets()
        bar.add_widget(Text(self.identifying[0], m.px(4.6), theme.INK, bold=True, fixed=True))
        self.clock_label = None

    def _every_second(self, _dt: float) -> None:
        if self.clock_label is not None:
            self.clock_label.text = words.clock(self._now())
        if self.identifying is not None and time.monotonic() >= self.identifying[1]:
            self.identifying = None
            self.render(force=True)
        if self.flow is not None and self.flow.screen == Screen.TECHNICIAN and self.renders % 1 == 0:
            self.render(force=True)  # the log tail moves


async def run_app(app: KioskApp, flow: KioskFlow, **run_kw: Any) -> None:
    """Run window and flow on this loop until the window closes, then stop the flow's work."""
    runner = asyncio.get_running_loop().create_task(flow.run(**run_kw))
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await flow.aclose()
