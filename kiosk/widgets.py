"""The kiosk's few Kivy widgets: painted panels, wrapping text, big buttons, the printer arrow.

Plain Python rather than kv language: the screens are rebuilt from the flow's state on every change,
and a builder function reads more directly than rules spread over a .kv file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics import Color, Ellipse, RoundedRectangle, Triangle
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from nummerlapp.kiosk import theme
from nummerlapp.kiosk.theme import Rgb
from nummerlapp.skin.widgets import PillButton as PillButton
from nummerlapp.skin.widgets import Text as Text
from nummerlapp.skin.widgets import paint as paint
from nummerlapp.skin.widgets import rtl_kwargs as rtl_kwargs


class DepartmentCard(ButtonBehavior, BoxLayout):
    """A department: its name large, what it is for below, and the queue or why it is closed.

    Closed departments stay on screen (a visitor should learn *why*, not wonder where it went);
    their card is dimmed and its press does nothing beyond what the flow decides.
    """

    def __init__(
        self,
        dep_id: str,
        name: str,
        line: str,
        status: str,
        is_open: bool,
        m: theme.Metrics,
        action: Callable[[str], Any],
        **kw: Any,
    ) -> None:
        pad = m.px(1.6)
        super().__init__(orientation="vertical", padding=(m.px(3.2), pad), spacing=m.px(0.3), **kw)
        self.dep_id = dep_id
        self.is_open = is_open
        self._fill = theme.WHITE if is_open else theme.CLOSED_BG
        self._bg = paint(self, self._fill, m.px(2))
        ink = theme.INK if is_open else theme.CLOSED_TEXT
        soft = theme.INK_SOFT if is_open else theme.CLOSED_TEXT
        self.add_widget(Widget())  # centre the text block vertically
        self.title = Text(name, m.font(5.6), ink, bold=True)
        self.add_widget(self.title)
        if line:
            self.add_widget(Text(line, m.font(3.4), soft))
        if status:
            self.add_widget(
                Text(status, m.font(3.2), soft if is_open else theme.CLOSED_REASON, bold=not is_open)
            )
        self.add_widget(Widget())
        self._action = action

    def on_press(self) -> None:
        if self.is_open:
            self._bg.rgba = theme.rgba(theme.PRESSED)
        self._action(self.dep_id)

    def on_release(self) -> None:
        self._bg.rgba = theme.rgba(self._fill)


class DownArrow(Widget):
    """A big arrow pointing at the ticket slot below the screen."""

    def __init__(self, rgb: Rgb = theme.YELLOW, **kw: Any) -> None:
        super().__init__(**kw)
        with self.canvas:
            Color(*theme.rgba(rgb))
            self._shaft = RoundedRectangle()
            self._head = Triangle()
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: Any) -> None:
        w = min(self.width, self.height * 0.8)
        cx, y, h = self.x + self.width / 2, self.y, self.height
        self._shaft.pos = (cx - w * 0.14, y + h * 0.45)
        self._shaft.size = (w * 0.28, h * 0.55)
        self._head.points = [cx - w * 0.5, y + h * 0.5, cx + w * 0.5, y + h * 0.5, cx, y]


class Step(BoxLayout):
    """One numbered step of "how it works": a yellow disc with the number, then the words."""

    def __init__(self, number: int, text: str, m: theme.Metrics, **kw: Any) -> None:
        disc = m.px(6.5)
        super().__init__(orientation="horizontal", spacing=m.px(3), size_hint_y=None, height=disc, **kw)
        badge = Label(text=str(number), font_size=m.font(3.8), bold=True, color=theme.rgba(theme.INK))
        badge.size_hint_x = None
        badge.width = disc
        with badge.canvas.before:
            Color(*theme.rgba(theme.YELLOW))
            circle = Ellipse(pos=badge.pos, size=(disc, disc))
        badge.bind(pos=lambda w, _p: setattr(circle, "pos", w.pos))
        words = Text(text, m.font(3.8), theme.WHITE, fixed=True)
        # right to left: the disc stands at the right, where the reader's eye starts
        for widget in (words, badge) if words.rtl else (badge, words):
            self.add_widget(widget)
