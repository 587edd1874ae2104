"""Painted panels, wrapping text and pill buttons for the device skins (kiosk, exit terminal).

Plain Python rather than kv language: the screens are rebuilt from a flow's state on every change,
and a builder function reads more directly than rules spread over a .kv file. Right-to-left text
(Arabic) is shaped and reordered here, at the skin's edge (common/textshape.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.core.text import LabelBase
from kivy.graphics import Color, Line, RoundedRectangle
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from nummerlapp.common import textshape, theme
from nummerlapp.common.i18n import language_name
from nummerlapp.common.theme import Rgb


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


def switch_pill(text: str, font: float, action: Callable[[], Any], on: bool, **kw: Any) -> PillButton:
    """A pill that is one choice of several, or a switch (a language, larger text): yellow when on."""
    return PillButton(
        text,
        font,
        action,
        fill=theme.YELLOW if on else theme.NAVY_LIGHT,
        ink=theme.INK if on else theme.WHITE,
        border=None if on else theme.MIST,
        **kw,
    )


def language_pill(lang: str, font: float, choose: Callable[[str], Any], chosen: bool) -> PillButton:
    """A language in its own name, yellow when chosen; ``choose(lang)`` on a press."""
    name = language_name(lang)
    return switch_pill(
        name,
        font,
        functools.partial(choose, lang),
        chosen,
        name=f"lang:{lang}",
        size_hint_x=max(1.0, len(name) / 8),  # "Українська" needs the room
    )
