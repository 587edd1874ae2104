"""The board's Kivy widgets: a thin skin that copies BoardText strings into labels.

Design for a wall ten metres away, on a Raspberry-Pi-class computer:

* Sizes are in units of the screen's short side / 1080, so one tree serves 1920x1080 and
  1080x1920 (the layout switches between side by side and stacked on the aspect ratio).
  At 1080 px the latest number is 300 px tall, about 28 cm on a 55" screen: readable from well
  beyond 10 m (the usual rule is 1 cm of letter height per 3-4 m).
* Colours: white (#FFFFFF) and warm yellow (#FFD60A) on deep navy (#0A1A2F) — contrast 17:1 and
  13:1, far beyond WCAG AA's 4.5:1 (and AAA's 7:1); secondary text #C9D3E0 is 11:1.
  The highlight for a new call inverts to navy on yellow (13:1) and does not rely on colour
  alone: the panel changes as a whole, visible from the side of the eye.
* Nothing animates while idle. Labels are only assigned new strings; Kivy ignores equal values,
  and its window draws only when a canvas changed, so an idle board draws once a minute (clock).
"""

from __future__ import annotations

from collections.abc import Sequence

from kivy.core.text import LabelBase
from kivy.graphics import Color, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from nummerlapp.common import textshape
from nummerlapp.display.view import BoardText, DepartmentText

NAVY = (0x0A / 255, 0x1A / 255, 0x2F / 255, 1)
PANEL = (0x13 / 255, 0x29 / 255, 0x4B / 255, 1)
YELLOW = (0xFF / 255, 0xD6 / 255, 0x0A / 255, 1)
WHITE = (1, 1, 1, 1)
GREY = (0xC9 / 255, 0xD3 / 255, 0xE0 / 255, 1)
AMBER = (0xFF / 255, 0xB0 / 255, 0x00 / 255, 1)
RED_GREY = (0xF2 / 255, 0xB8 / 255, 0xB5 / 255, 1)  # "closed": light, still 10:1 on the panel
CLEAR = (0, 0, 0, 0)


class Panel(BoxLayout):
    """A BoxLayout with a rounded background whose colour can change (the highlight)."""

    def __init__(self, bg: Sequence[float] = PANEL, radius: float = 0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            self._color = Color(*bg)
            self._rect = RoundedRectangle(pos=self.pos, size=self.size, radius=[radius])
        self.bind(pos=self._sync, size=self._sync)

    def _sync(self, *_args: object) -> None:
        self._rect.pos = self.pos
        self._rect.size = self.size

    def set_bg(self, rgba: Sequence[float]) -> None:
        if tuple(self._color.rgba) != tuple(rgba):
            self._color.rgba = rgba


def text(
    size: float, color: Sequence[float] = WHITE, bold: bool = False, halign: str = "left", **kw: object
) -> Label:
    """A label that aligns inside its box and shortens instead of spilling over its neighbours."""
    label = Label(
        font_size=size, color=color, bold=bold, halign=halign, valign="middle", shorten=True,
        shorten_from="right", **kw,
    )  # fmt: skip
    label.bind(size=lambda w, s: setattr(w, "text_size", s))
    label.ltr_halign = halign  # put() mirrors it for right-to-left text
    label.default_font = label.font_name
    return label


def _rtl_font() -> str | None:
    return textshape.kivy_rtl_font(LabelBase)  # DejaVu Sans: Kivy's Roboto has no Arabic letters


def put(label: Label, value: str, rtl: bool = False) -> None:
    """Show ``value`` on a one-line ``label``: right-to-left text shaped and reordered for
    Kivy (common/textshape.py), in a font that has its letters, and with left alignment mirrored
    when the board's language is written right to left. Equal values change nothing."""
    right_to_left = textshape.has_rtl(value)
    font = (_rtl_font() if right_to_left else None) or label.default_font
    halign = label.ltr_halign
    if rtl and halign == "left":
        halign = "right"
    elif rtl and halign == "right":
        halign = "left"
    if label.font_name != font:
        label.font_name = font
    if label.halign != halign:
        label.halign = halign
    cut = "left" if right_to_left else "right"  # a shortened line loses its end, not its start
    if label.shorten_from != cut:
        label.shorten_from = cut
    label.text = textshape.visual(value, rtl=rtl if right_to_left else None)


class DepartmentCard(Panel):
    """One department of the zone: name, people waiting, estimated wait."""

    def __init__(self, u: float, portrait: bool) -> None:
        if portrait:
            super().__init__(orientation="horizontal", padding=[24 * u, 8 * u], spacing=16 * u, radius=16 * u)
            self.name = text(46 * u, bold=True)
            self.count = text(64 * u, YELLOW, bold=True, halign="right", size_hint_x=0.45, markup=True)
            self.wait = text(40 * u, GREY, halign="right", size_hint_x=0.45)
            self.name.size_hint_x = 0.9
        else:
            super().__init__(orientation="vertical", padding=[20 * u, 12 * u], radius=16 * u)
            self.name = text(42 * u, bold=True, halign="center", size_hint_y=0.32)
            self.count = text(88 * u, YELLOW, bold=True, halign="center", size_hint_y=0.42, markup=True)
            self.wait = text(38 * u, GREY, halign="center", size_hint_y=0.26)
        for w in (self.name, self.count, self.wait):
            self.add_widget(w)

    def show(self, dep: DepartmentText, rtl: bool = False) -> None:
        put(self.name, dep.name, rtl)
        small = int(self.count.font_size * 0.5)
        label = f"[size={small}][color=#C9D3E0]{textshape.visual(dep.waiting_label)}[/color][/size]"
        wanted = (_rtl_font() if textshape.has_rtl(dep.waiting_label) else None) or self.count.default_font
        if self.count.font_name != wanted:
            self.count.font_name = wanted
        # right to left the count stands at the right of its word: "ينتظرون 3" reads "3 waiting"
        self.count.text = (f"{label} {dep.waiting}" if rtl else f"{dep.waiting} {label}") if dep.open else "–"
        put(self.wait, dep.wait, rtl)
        self.wait.color = GREY if dep.open else RED_GREY


class BoardScreen(FloatLayout):
    """The whole board. ``show(text)`` updates it; ``highlight(on)`` marks a new call."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.portrait = height > width
        u = min(width, height) / 1080
        self.u = u
        with self.canvas.before:
            Color(*NAVY)
            self._bg = RoundedRectangle(pos=self.pos, size=self.size)
        self.bind(size=lambda *_: setattr(self._bg, "size", self.size))

        body = BoxLayout(orientation="vertical", padding=24 * u, spacing=18 * u)
        self.add_widget(body)

        # top bar: site name, connection mark, clock
        top = BoxLayout(orientation="horizontal", size_hint_y=None, height=96 * u, spacing=20 * u)
        self.site = text((46 if self.portrait else 54) * u, bold=True)
        self.status_box = Panel(bg=CLEAR, radius=40 * u, padding=[24 * u, 0], size_hint_x=None, width=0)
        self.status = text(44 * u, NAVY, bold=True, halign="center")
        self.status_box.add_widget(self.status)
        self.clock = text(72 * u, bold=True, halign="right", size_hint_x=None, width=220 * u)
        for w in (self.site, self.status_box, self.clock):
            top.add_widget(w)
        body.add_widget(top)

        # the latest call, very large, and the previous ones
        main = BoxLayout(orientation="vertical" if self.portrait else "horizontal", spacing=24 * u)
        self.latest_box = Panel(orientation="vertical", padding=[40 * u, 20 * u], radius=28 * u)
        head = BoxLayout(size_hint_y=None, height=64 * u)
        self.heading_number = text(46 * u, GREY)
        self.note = text(46 * u, YELLOW, bold=True, halign="right")
        head.add_widget(self.heading_number)
        head.add_widget(self.note)
        self.latest_box.add_widget(head)
        self.number = text(300 * u, YELLOW, bold=True, halign="center")
        self.latest_box.add_widget(self.number)
        self.go_to = text(46 * u, GREY, size_hint_y=None, height=64 * u)
        self.counter = text(110 * u, WHITE, bold=True, halign="center", size_hint_y=None, height=140 * u)
        self.latest_box.add_widget(self.go_to)
        self.latest_box.add_widget(self.counter)
        previous_box = Panel(orientation="vertical", padding=[36 * u, 20 * u], spacing=4 * u, radius=28 * u)
        self.heading_previous = text(46 * u, GREY, size_hint_y=None, height=64 * u)
        previous_box.add_widget(self.heading_previous)
        self.previous: list[tuple[Label, Label]] = []
        for _ in range(5):
            row = BoxLayout(orientation="horizontal", spacing=20 * u)
            number = text(76 * u, WHITE, bold=True, size_hint_x=0.45)
            counter = text(58 * u, WHITE, halign="right", size_hint_x=0.55)
            row.add_widget(number)
            row.add_widget(counter)
            previous_box.add_widget(row)
            self.previous.append((number, counter))
        if self.portrait:
            self.latest_box.size_hint_y = 1.25
            main.add_widget(self.latest_box)
            main.add_widget(previous_box)
        else:
            self.latest_box.size_hint_x = 1.45
            main.add_widget(self.latest_box)
            main.add_widget(previous_box)
        body.add_widget(main)

        # departments of the zone
        self.departments_box = BoxLayout(
            orientation="vertical" if self.portrait else "horizontal",
            spacing=(10 if self.portrait else 20) * u,
            size_hint_y=None,
            height=(420 if self.portrait else 230) * u,
        )
        self.cards: list[DepartmentCard] = []
        body.add_widget(self.departments_box)

        # the site's message line
        self.message_box = Panel(
            bg=CLEAR, radius=16 * u, size_hint_y=None, height=72 * u, padding=[24 * u, 0]
        )
        self.message = text(42 * u, WHITE, halign="center")
        self.message_box.add_widget(self.message)
        body.add_widget(self.message_box)

        # identify: the board's name over everything, for a technician across the room
        self.identify_box = Panel(
            bg=CLEAR, radius=32 * u, size_hint=(0.8, 0.3), pos_hint={"center_x": 0.5, "center_y": 0.5}
        )
        self.identify_label = text(90 * u, NAVY, bold=True, halign="center")
        self.identify_box.add_widget(self.identify_label)
        self.add_widget(self.identify_box)
        self.identify_box.opacity = 0

    def show(self, board: BoardText) -> None:
        rtl = board.rtl
        self.site.text = board.site_name
        put(self.status, board.status, rtl)
        self.status_box.set_bg(AMBER if board.status else CLEAR)
        self.status_box.width = (420 if board.status else 0) * self.u  # the site name gives way
        put(self.heading_number, board.heading_number, rtl)
        put(self.note, board.latest_note, rtl)
        self.number.text = board.latest_number
        put(self.go_to, board.go_to if board.latest_number else "", rtl)
        put(self.counter, board.latest_counter, rtl)
        put(self.heading_previous, board.heading_previous, rtl)
        for i, (number, counter) in enumerate(self.previous):
            shown = board.previous[i] if i < len(board.previous) else ("", "")
            number.text = shown[0]
            put(counter, shown[1], rtl)
        if len(self.cards) != len(board.departments):
            self.departments_box.clear_widgets()
            self.cards = [DepartmentCard(self.u, self.portrait) for _ in board.departments]
            for card in self.cards:
                self.departments_box.add_widget(card)
        for card, dep in zip(self.cards, board.departments, strict=True):
            card.show(dep, rtl)
        put(self.message, board.message, rtl)
        self.message_box.set_bg(PANEL if board.message else CLEAR)

    def highlight(self, on: bool) -> None:
        """A new call: the latest panel turns yellow with navy text, then back."""
        self.latest_box.set_bg(YELLOW if on else PANEL)
        self.number.color = NAVY if on else YELLOW
        self.counter.color = NAVY if on else WHITE
        self.heading_number.color = self.go_to.color = NAVY if on else GREY
        self.note.color = NAVY if on else YELLOW

    def identify(self, name: str | None) -> None:
        put(self.identify_label, name or "")
        self.identify_box.set_bg(YELLOW if name else CLEAR)
        self.identify_box.opacity = 1 if name else 0

    def texts(self) -> dict[str, object]:
        """What the labels say right now (tests read this)."""
        return {
            "site": self.site.text,
            "status": self.status.text,
            "number": self.number.text,
            "counter": self.counter.text,
            "go_to": self.go_to.text,
            "heading_number": self.heading_number.text,
            "note": self.note.text,
            "previous": [(n.text, c.text) for n, c in self.previous if n.text],
            "departments": [(c.name.text, _count(c.count.text), c.wait.text) for c in self.cards],
            "message": self.message.text,
            "clock": self.clock.text,
            "identify": self.identify_label.text if self.identify_box.opacity else "",
            "portrait": self.portrait,
        }


def _count(markup: str) -> str:
    """The number of people waiting from a card's count label (either side of its word)."""
    return next((t for t in markup.split(" ") if t.isdigit() or t == "–"), "")


__all__ = ["BoardScreen", "DepartmentCard", "Panel", "Widget"]
