"""The kiosk's few Kivy widgets: painted panels, wrapping text, big buttons, the printer arrow.

Plain Python rather than kv language: the screens are rebuilt from the flow's state on every change,
and a builder function reads more directly than rules spread over a .kv file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.core.text import LabelBase
from kivy.graphics import Color, Ellipse, Line, RoundedRectangle, Triangle
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from nummerlapp.common import textshape
from nummerlapp.kiosk import theme
from nummerlapp.kiosk.theme import Rgb


def rtl_kwargs(text: str, kw: dict[str, Any], mirror: bool = True) -> dict[str, Any]:
    """Right-to-left text (Arabic): a font with its glyphs, and (``mirror``) left alignment
    mirrored to right."""
    if textshape.has_rtl(text):
        font = textshape.kivy_rtl_font(LabelBase)  # DejaVu Sans: Kivy's Roboto has no Arabic
        if font is not None:
            kw.setdefault("font_name", font)
        if mirror and kw.get("halign", "left") == "left":
            kw["halign"] = "right"
    return kw


def paint(widget: Widget, rgb: Rgb, radius: float = 0, border: Rgb | None = None, width: float = 3) -> Color:
    """Give ``widget`` a (rounded) background that follows its position and size."""
    with widget.canvas.before:
        color = Color(*theme.rgba(rgb))
        rect = RoundedRectangle(pos=widget.pos, size=widget.size, radius=[radius])
        if border is not None:
            Color(*theme.rgba(border))
            line = Line(rounded_rectangle=(*widget.pos, *widget.size, radius or 1), width=width)
        else:
            line = None

    def follow(*_: Any) -> None:
        rect.pos = widget.pos
        rect.size = widget.size
        if line is not None:
            line.rounded_rectangle = (*widget.pos, *widget.size, radius or 1)

    widget.bind(pos=follow, size=follow)
    return color


class Text(Label):
    """A label that wraps inside its width; height follows the text unless ``fixed`` is given."""

    def __init__(
        self, text: str, size: float, rgb: Rgb = theme.WHITE, *, bold: bool = False, **kw: Any
    ) -> None:
        kw.setdefault("halign", "left")
        kw.setdefault("valign", "middle")
        fixed = kw.pop("fixed", False)
        name = kw.pop("name", "")
        self.logical = text  # what the flow said; ``text`` holds the drawn (shaped, reordered) form
        self.rtl = textshape.has_rtl(text)
        kw = rtl_kwargs(text, kw)
        super().__init__(
            text=textshape.visual(text), font_size=size, color=theme.rgba(rgb), bold=bold, markup=False, **kw
        )
        self.name = name
        if not fixed:
            self.size_hint_y = None
        self.bind(width=self._wrap)
        if not fixed:
            self.bind(texture_size=self._grow)

    def _wrap(self, *_: Any) -> None:
        self.text_size = (self.width, None if self.size_hint_y is None else self.height)
        if self.rtl and self.width > 1:
            # wrap in logical order, then reorder each line (textshape's docstring says why)
            core = CoreLabel(font_size=self.font_size, font_name=self.font_name, bold=self.bold)
            lines = textshape.wrap_visual(self.logical, self.width - 2, lambda s: core.get_extents(s)[0])
            self.text = "\n".join(lines)

    def _grow(self, *_: Any) -> None:
        self.height = self.texture_size[1]


class PillButton(ButtonBehavior, Label):
    """A rounded button with one line of text. ``on_press`` (touch down) is the action."""

    def __init__(
        self,
        text: str,
        font: float,
        action: Callable[[], Any],
        *,
        fill: Rgb = theme.NAVY_LIGHT,
        ink: Rgb = theme.WHITE,
        border: Rgb | None = theme.MIST,
        radius: float = 24,
        name: str = "",
        **kw: Any,
    ) -> None:
        kw = rtl_kwargs(text, kw, mirror=False)  # a button keeps its one line centred
        super().__init__(
            text=textshape.visual(text),
            font_size=font,
            color=theme.rgba(ink),
            bold=True,
            halign="center",
            **kw,
        )
        self.name = name or text
        self._fill = fill
        self._bg = paint(self, fill, radius, border)
        self._action = action
        self.bind(size=lambda *_: setattr(self, "text_size", (self.width - 16, None)))

    def on_press(self) -> None:
        self._bg.rgba = theme.rgba(theme.PRESSED) if self._fill != theme.YELLOW else theme.rgba(theme.WHITE)
        self._action()

    def on_release(self) -> None:
        self._bg.rgba = theme.rgba(self._fill)


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
