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
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.client.enrol import EnrolView
from nummerlapp.common import theme
from nummerlapp.feedback import screens
from nummerlapp.feedback.flow import FeedbackFlow
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


class FeedbackApp(App):
    """The exit terminal's window. ``flow`` holds all state; this class only draws it.

    Without a flow (enrolling: no token yet, so no settings) it shows the enrolment screen
    (skin/enrol_screen.py); :meth:`attach` puts a flow on screen, :meth:`show_enrolment` goes
    back (feedback/device.py)."""

    title = "Nummerlapp feedback"

    def __init__(self, flow: FeedbackFlow | None, *, size: tuple[int, int] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow = flow
        self._size = size
        self._key: Any = None
        self.content: FeedbackRoot | None = None
        self.renders = 0
        self.enrol_view = EnrolView()
        self.enrol_lang = "nb"
        self.enrol_screen: EnrolScreen | None = None
        self.first_frame = asyncio.Event()

    def attach(self, flow: FeedbackFlow) -> None:
        """Put ``flow`` on screen (enrolled: the settings came from the service)."""
        self.flow = flow
        flow.subscribe(lambda changed: self.render() if changed is self.flow else None)
        self.render(force=True)

    def show_enrolment(self, view: EnrolView | None = None) -> None:
        """The enrolment screen (no flow: not enrolled, or revoked), showing ``view``."""
        self.flow = None
        if view is not None:
            self.enrol_view = view
        if self.enrol_screen is not None and self._key == ("enrol",):
            self.enrol_screen.show(self.enrol_view)
            return
        self.render(force=True)

    def metrics(self) -> theme.Metrics:
        large = self.flow.large_text if self.flow is not None else False
        return theme.Metrics(int(Window.width), int(Window.height), large)

    def build(self) -> Widget:
        if self._size is not None and tuple(Window.size) != self._size:
            Window.size = self._size
        Window.clearcolor = theme.rgba(theme.NAVY)
        self.content = FeedbackRoot(self)
        if self.flow is not None:
            self.flow.subscribe(lambda changed: self.render() if changed is self.flow else None)
        Window.bind(size=lambda *_: self.render(force=True))
        Clock.schedule_interval(lambda _dt: self._tick(), TICK_S)
        self.render(force=True)
        Clock.schedule_once(lambda _dt: self.first_frame.set(), 0)
        return self.content

    def _tick(self) -> None:
        if self.flow is not None:
            self.flow.tick()

    def _view_key(self) -> tuple[Any, ...]:
        f = self.flow
        if f is None:
            return ("enrol",)
        return (f.screen, f.index, f.lang, f.large_text, f.chosen, tuple(Window.size))

    def render(self, force: bool = False) -> None:
        """Rebuild the screen when what it shows changed (the flow notifies on every change)."""
        if self.content is None:
            return
        key = self._view_key()
        if key == self._key and not force:
            return
        self._key = key
        self.renders += 1
        self.content.clear_widgets()
        if self.flow is None:
            self.enrol_screen = EnrolScreen(self.metrics(), self.enrol_lang, "feedback")
            self.enrol_screen.show(self.enrol_view)
            self.content.add_widget(self.enrol_screen)
            return
        self.content.add_widget(screens.build(self.flow, self.metrics()))

    def screenshot(self, path: Path) -> Path:
        """Write the window as PNG to exactly ``path`` (Kivy's own adds a counter to the name)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        made = Window.screenshot(name=str(path.with_suffix("")) + "-shot.png")
        Path(made).replace(path)
        return path


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
