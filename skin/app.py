"""What the kiosk's and the exit terminal's windows share: a flow on screen or the enrolment screen,
rebuilt when what it shows changes, and screenshots.

A skin's app subclasses :class:`SkinApp` with its flow's type, builds its root in
:meth:`SkinApp._build_root`, starts its timers in :meth:`SkinApp._start`, says what its screen
shows in :meth:`SkinApp._view_key` and draws it in :meth:`SkinApp._draw`. Import only after the
skin's ``configure_window()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.client.enrol import EnrolView
from nummerlapp.common import theme
from nummerlapp.skin.enrol_screen import EnrolScreen


class Flow(Protocol):
    """What the window needs of a skin's flow (kiosk.flow.KioskFlow, feedback.flow.FeedbackFlow)."""

    @property
    def large_text(self) -> bool: ...

    def subscribe(self, fn: Callable[[Any], None]) -> None: ...


F = TypeVar("F", bound=Flow)


class SkinApp(App, Generic[F]):
    """A device's window. ``flow`` holds all state; this class only draws it.

    Without a flow (enrolling: no token yet, so no settings) it shows the enrolment screen
    (skin/enrol_screen.py); :meth:`attach` puts a flow on screen, :meth:`show_enrolment` goes
    back (the skin's device.py)."""

    def __init__(self, flow: F | None, *, size: tuple[int, int] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow = flow
        self._size = size
        self._key: Any = None
        self.content: BoxLayout | None = None  # where the screen goes (_build_root sets it)
        self.renders = 0
        self.enrol_view = EnrolView()
        self.enrol_lang = "nb"
        self.enrol_screen: EnrolScreen | None = None
        self.first_frame = asyncio.Event()

    def attach(self, flow: F) -> None:
        """Put ``flow`` on screen (enrolled: the settings came from the service)."""
        self.flow = flow
        flow.subscribe(self._flow_changed)
        self.render(force=True)

    def show_enrolment(self, view: EnrolView | None = None) -> None:
        """The enrolment screen (no flow: not enrolled, or revoked), showing ``view``."""
        self.flow = None
        if view is not None:
            self.enrol_view = view
        if self.enrol_screen is not None and self.content is not None and self._key == ("enrol",):
            self.enrol_screen.show(self.enrol_view)
            return
        self.render(force=True)

    def _flow_changed(self, changed: object) -> None:
        if changed is self.flow:
            self.render()

    def metrics(self) -> theme.Metrics:
        large = self.flow.large_text if self.flow is not None else False
        return theme.Metrics(int(Window.width), int(Window.height), large)

    def build(self) -> Widget:
        if self._size is not None and tuple(Window.size) != self._size:
            Window.size = self._size
        Window.clearcolor = theme.rgba(theme.NAVY)
        root = self._build_root()
        if self.flow is not None:
            self.flow.subscribe(self._flow_changed)
        Window.bind(size=lambda *_: self.render(force=True))
        self._start()
        self.render(force=True)
        Clock.schedule_once(lambda _dt: self.first_frame.set(), 0)
        return root

    def _build_root(self) -> Widget:
        """The window's root widget; sets :attr:`content`."""
        raise NotImplementedError

    def _start(self) -> None:
        """The skin's timers and key bindings (before the first render)."""

    def _view_key(self) -> tuple[Any, ...]:
        """What the screen shows: a change of it rebuilds the screen (``("enrol",)`` without a flow)."""
        raise NotImplementedError

    def _draw(self) -> None:
        """Rebuild the screen in :attr:`content`."""
        raise NotImplementedError

    def render(self, force: bool = False) -> None:
        """Rebuild the screen when what it shows changed (the flow notifies on every change)."""
        if self.content is None:
            return
        key = self._view_key()
        if key == self._key and not force:
            return
        self._key = key
        self.renders += 1
        self._draw()

    def screenshot(self, path: Path) -> Path:
        """Write the window as PNG to exactly ``path`` (Kivy's own adds a counter to the name)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        made = Window.screenshot(name=str(path.with_suffix("")) + "-shot.png")
        Path(made).replace(path)
        return path
