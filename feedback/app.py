"""The Kivy skin over :class:`~nummerlapp.feedback.flow.FeedbackFlow`: one window, rebuilt when
what it shows changes.

Kivy runs inside asyncio (``App.async_run(async_lib="asyncio")``): the flow's tick, the outbox's
sender and the HTTP client share one loop. Every touch anywhere tells the flow the visit is
alive; buttons call the flow's methods; nothing here decides anything.

Import this module only after ``feedback.window.configure_window()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.feedback import screens
from nummerlapp.feedback.flow import FeedbackFlow
from nummerlapp.skin.app import SkinApp
from nummerlapp.skin.enrol_screen import EnrolScreen

TICK_S = 0.1


class FeedbackRoot(BoxLayout):
    """Holds the current screen; sees every touch first (the idle timer)."""

    def __init__(self, app: FeedbackApp, **kw: Any) -> None:
        super().__init__(**kw)
        self.app = app

    def on_touch_down(self, touch: Any) -> bool:
        if self.app.flow is not None:
            self.app.flow.touch()
        return bool(super().on_touch_down(touch))


class FeedbackApp(SkinApp[FeedbackFlow]):
    """The exit terminal's window (skin/app.py: the flow on screen, or the enrolment screen)."""

    title = "Nummerlapp feedback"

    def _build_root(self) -> Widget:
        self.content = FeedbackRoot(self)
        return self.content

    def _start(self) -> None:
        Clock.schedule_interval(lambda _dt: self._tick(), TICK_S)

    def _tick(self) -> None:
        if self.flow is not None:
            self.flow.tick()

    def _view_key(self) -> tuple[Any, ...]:
        f = self.flow
        if f is None:
            return ("enrol",)
        return (f.screen, f.index, f.lang, f.large_text, f.chosen, tuple(Window.size))

    def _draw(self) -> None:
        assert self.content is not None
        self.content.clear_widgets()
        if self.flow is None:
            self.enrol_screen = EnrolScreen(self.metrics(), self.enrol_lang, "feedback")
            self.enrol_screen.show(self.enrol_view)
            self.content.add_widget(self.enrol_screen)
            return
        self.content.add_widget(screens.build(self.flow, self.metrics()))


async def run_app(app: FeedbackApp, tasks: tuple[Callable[[], Coroutine[Any, Any, Any]], ...] = ()) -> None:
    """Run the window and ``tasks`` (the outbox's sender, …) on this loop until the window closes."""
    running: list[asyncio.Task[Any]] = [asyncio.get_running_loop().create_task(t()) for t in tasks]
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
