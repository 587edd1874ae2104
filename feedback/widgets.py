"""The exit terminal's Kivy widgets: painted panels, wrapping text, pill buttons, faces, yes and no.

The palette and sizes are common/theme.py's, and ``paint``, ``Text`` and the pill button are the
skins' shared widgets (skin/widgets.py), as the kiosk's are.

Faces are drawn, not fonts or images: a coloured disc (red for the worst to green for the best)
with dark eyes and a mouth whose curve goes from a frown to a smile, and the face's name under
it, so neither colour nor shape alone carries the meaning. A chosen answer gets a thick yellow
frame and a light ground, visible from the side of the eye.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.common import theme
from nummerlapp.common.theme import Rgb
from nummerlapp.skin.widgets import PillButton
from nummerlapp.skin.widgets import Text as Text
from nummerlapp.skin.widgets import paint as paint

# worst → best; every one carries INK features at ≥ 4.5:1 (tests/feedback/test_words.py)
FACE_COLOURS: tuple[Rgb, ...] = (
    (0xF2, 0x8B, 0x82),  # 1 very bad
    (0xF7, 0xB9, 0x6B),  # 2 bad
    (0xF5, 0xDC, 0x6E),  # 3 ok
    (0xB5, 0xDC, 0x8A),  # 4 good
    (0x7F, 0xCF, 0x8E),  # 5 very good
)
YES: Rgb = (0x7F, 0xCF, 0x8E)
NO: Rgb = (0xF2, 0x8B, 0x82)
CHOSEN_GROUND: Rgb = theme.PRESSED


Pill = PillButton  # the exit terminal's name for the skins' pill button


class _Disc(Widget):
    """A coloured disc in an ink ring, and the ink marks a subclass draws in it (:meth:`_marks`
    makes them, :meth:`_place` puts them for the disc's centre ``cx, cy``, radius and diameter)."""

    def __init__(self, ground: Rgb, **kw: Any) -> None:
        super().__init__(**kw)
        with self.canvas:
            Color(*theme.rgba(ground))
            self._disc = Ellipse()
            Color(*theme.rgba(theme.INK))
            self._ring = Line(circle=(0, 0, 1), width=2)
            self._marks()
        self.bind(pos=self._draw, size=self._draw)

    def _marks(self) -> None:
        raise NotImplementedError

    def _place(self, cx: float, cy: float, r: float, d: float) -> None:
        raise NotImplementedError

    def _draw(self, *_: Any) -> None:
        d = min(self.width, self.height)
        # from x/y and width/height, not center_x/center_y: Kivy may hand a stale cached centre
        cx, cy, r = self.x + self.width / 2, self.y + self.height / 2, d / 2
        self._disc.pos = (cx - r, cy - r)
        self._disc.size = (d, d)
        self._ring.circle = (cx, cy, r)
        self._place(cx, cy, r, d)


class Face(_Disc):
    """A face for answer ``value`` (1 worst … 5 best): disc, eyes, and a frown-to-smile mouth."""

    def __init__(self, value: int, **kw: Any) -> None:
        self.value = value
        super().__init__(FACE_COLOURS[value - 1], **kw)

    def _marks(self) -> None:
        self._eyes = (Ellipse(), Ellipse())
        self._mouth = Line(bezier=(0, 0, 0, 0, 0, 0), width=3)

    def _place(self, cx: float, cy: float, r: float, d: float) -> None:
        self._ring.width = max(1.5, d / 60)
        e = d * 0.11
        for eye, dx in zip(self._eyes, (-0.32, 0.32), strict=True):
            eye.pos = (cx + dx * r - e / 2, cy + 0.22 * r - e / 2)
            eye.size = (e, e)
        # mouth: a quadratic curve; its middle sags (1) or rises (5), straight for 3
        bend = (self.value - 3) / 2  # -1 … 1
        half, y = 0.45 * r, cy - 0.35 * r
        self._mouth.bezier = (cx - half, y, cx, y - bend * 0.45 * r, cx + half, y)
        self._mouth.width = max(2.0, d / 28)


class Mark(_Disc):
    """A tick (yes) or a cross (no) in a disc: the answer's shape beside its word."""

    def __init__(self, yes: bool, **kw: Any) -> None:
        self.yes = yes
        super().__init__(YES if yes else NO, **kw)

    def _marks(self) -> None:
        self._a = Line(points=[], width=4, cap="round", joint="round")
        self._b = Line(points=[], width=4, cap="round")

    def _place(self, cx: float, cy: float, r: float, d: float) -> None:
        w = max(3.0, d / 16)
        self._a.width = self._b.width = w
        if self.yes:
            self._a.points = [cx - 0.45 * r, cy, cx - 0.12 * r, cy - 0.35 * r, cx + 0.48 * r, cy + 0.38 * r]
            self._b.points = []
        else:
            k = 0.4 * r
            self._a.points = [cx - k, cy - k, cx + k, cy + k]
            self._b.points = [cx - k, cy + k, cx + k, cy - k]


class AnswerCard(ButtonBehavior, BoxLayout):
    """One answer: a face (or tick/cross) and its name on a white card; yellow frame when chosen.

    ``across``: the face beside its name (portrait's stacked cards), else above it."""

    def __init__(
        self,
        value: int,
        label: str,
        scale: str,
        chosen: bool,
        m: theme.Metrics,
        action: Callable[[int], Any],
        *,
        across: bool = False,
        rtl: bool = False,
        **kw: Any,
    ) -> None:
        pad = m.px(1.4)
        super().__init__(
            orientation="horizontal" if across else "vertical", padding=pad, spacing=m.px(2), **kw
        )
        self.name = f"answer:{value}"
        self.value = value
        self.chosen = chosen
        self._fill = CHOSEN_GROUND if chosen else theme.WHITE
        self._bg = paint(self, self._fill, m.px(2.2), theme.YELLOW if chosen else None, width=m.px(1.1))
        drawing = Face(value) if scale == "faces" else Mark(yes=value == 1)
        if across:
            words = Text(
                label, m.font(4.2), theme.INK, bold=chosen, fixed=True, halign="right" if rtl else "left"
            )
            drawing.size_hint_x = None
            drawing.width = m.px(13)
            parts = (words, drawing) if rtl else (drawing, words)
        else:
            words = Text(
                label, m.font(3.4), theme.INK, bold=chosen, fixed=True, halign="center", size_hint_y=0.3
            )
            parts = (drawing, words)
        for part in parts:
            self.add_widget(part)
        self._action = action

    def on_press(self) -> None:
        self._bg.rgba = theme.rgba(CHOSEN_GROUND)
        self._action(self.value)
