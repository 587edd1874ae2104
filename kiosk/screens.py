"""One builder per visitor screen: the flow's state in, a Kivy widget tree out.

Layout rules that matter for the people in front of the kiosk:
- Portrait: the headline sits high (it is read, not touched); department buttons fill the middle
  and lower part, and the language switch is at the bottom, so everything touchable is within
  reach from a wheelchair. Landscape: buttons in a grid, still with the language switch at the
  bottom.
- The number on the ticket screen is the largest thing the kiosk ever shows.
- Every screen a visitor can be stuck on offers the language switch, so a fault can be read in
  the visitor's own language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from nummerlapp.common.i18n import Translate
from nummerlapp.kiosk import theme, words
from nummerlapp.kiosk.flow import AskReason, KioskFlow, Screen
from nummerlapp.kiosk.hours import ClosedReason
from nummerlapp.kiosk.ports import DepartmentView
from nummerlapp.kiosk.widgets import DepartmentCard, DownArrow, PillButton, Step, Text
from nummerlapp.skin.widgets import language_pill, switch_pill


@dataclass
class Ctx:
    """What every builder needs: the flow, the sizes, the words, the time."""

    flow: KioskFlow
    m: theme.Metrics
    _: Translate
    now: dt.datetime

    @property
    def lang(self) -> str:
        return self.flow.lang


def _column(m: theme.Metrics, **kw: Any) -> BoxLayout:
    return BoxLayout(orientation="vertical", padding=(m.px(5), m.px(3)), spacing=m.px(2.2), **kw)


def _headline(c: Ctx, text: str, sub: str = "", *, size: float = 7.5, centre: bool = False) -> list[Widget]:
    align = "center" if centre else "left"
    out: list[Widget] = [Text(text, c.m.font(size), theme.WHITE, bold=True, halign=align)]
    if sub:
        out.append(Text(sub, c.m.font(3.8), theme.MIST, halign=align))
    return out


def language_bar(c: Ctx, lead: Widget | None = None) -> BoxLayout:
    """Each language in its own name; the chosen one in yellow. Plus the large-text switch, and
    ``lead`` first (the appointment button, where the row has room for it)."""
    m, flow = c.m, c.flow
    bar = BoxLayout(orientation="horizontal", size_hint_y=None, height=m.target(11), spacing=m.px(1.6))
    if lead is not None:
        bar.add_widget(lead)
    # five languages and the text switch share one row: smaller letters rather than split words
    shrink = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.78}.get(len(flow.settings.site.languages), 0.66)
    font = (m.font(3.6) if not m.large_text else m.font(3.0)) * shrink
    for lang in flow.settings.site.languages:
        bar.add_widget(language_pill(lang, font, flow.set_language, lang == flow.lang))
    larger = c._("Normal text") if m.large_text else c._("Larger text")
    bar.add_widget(
        switch_pill(larger, font, flow.toggle_large_text, m.large_text, name="large-text", size_hint_x=1.25)
    )
    return bar


def _ok_button(c: Ctx, action: Callable[[], Any], text: str | None = None) -> Widget:
    row = BoxLayout(size_hint_y=None, height=c.m.target(11))
    row.add_widget(Widget())
    row.add_widget(
        PillButton(
            text or c._("OK"),
            c.m.font(4.4),
            action,
            fill=theme.YELLOW,
            ink=theme.INK,
            border=None,
            name="ok",
            size_hint_x=1.4,
        )
    )
    row.add_widget(Widget())
    return row


def _card(c: Ctx, dep: DepartmentView) -> DepartmentCard:
    status = (
        words.queue(c._, dep.waiting, dep.estimated_wait_s)
        if dep.open
        else words.closure(c._, dep.closure, c.now, c.lang)
    )
    return DepartmentCard(
        dep.id, dep.label(c.lang), dep.line(c.lang), status, dep.open, c.m, c.flow.press_department
    )


def _cards(c: Ctx, deps: tuple[DepartmentView, ...]) -> GridLayout:
    m = c.m
    n = max(1, len(deps))
    cols = (1 if n <= 5 else 2) if m.portrait else (2 if n <= 6 else 3)
    grid = GridLayout(cols=cols, spacing=m.px(2.2))
    if m.portrait:
        rows = -(-n // cols)
        card_h = m.px(20 if not m.large_text else 24)
        grid.size_hint_y = None
        grid.height = rows * card_h + (rows - 1) * m.px(2.2)
    for dep in deps:
        grid.add_widget(_card(c, dep))
    return grid


def home(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    col = _column(m)
    for w in _headline(c, c._("Choose a service"), c._("Touch a button to get your queue number")):
        col.add_widget(w)
    message = flow.settings.site.message.get(c.lang, "")
    if message:
        col.add_widget(Text(message, m.font(3.6), theme.YELLOW))
    if flow.notice:
        dep = flow.department(flow.notice)
        if dep is not None:
            text = c._("{service} has just closed.").format(service=dep.label(c.lang))
            col.add_widget(Text(text, m.font(4), theme.CLOSED_REASON, bold=True))
    if m.portrait:  # the upper part is read, not touched: the buttons stay within reach
        col.add_widget(Widget())
        # the steps only where they leave the cards, the appointment button and the languages
        # their full size (four cards and the steps overran the headline on 1080x1920)
        if not m.large_text and len(flow.departments) <= 3:
            col.add_widget(_steps(c))
            col.add_widget(Widget())
    col.add_widget(_cards(c, flow.departments))
    for widget in visitor_controls(c):
        col.add_widget(widget)
    return col


def visitor_controls(c: Ctx) -> list[Widget]:
    """The appointment button and the language bar: one row on a landscape screen (a row of its
    own squeezed the department cards on 1280x800), two on a portrait one or with many languages."""
    if not c.m.portrait and len(c.flow.settings.site.languages) <= 4:
        return [language_bar(c, lead=appointment_button(c, size_hint_x=2.4))]
    return [appointment_button(c), language_bar(c)]


def appointment_button(c: Ctx, **kw: Any) -> Widget:
    """ "I have an appointment": always on the home and closed screens, in the visitor's language."""
    m = c.m
    return PillButton(
        c._("I have an appointment"),
        m.font(4.4),
        c.flow.open_appointment,
        fill=theme.WHITE,
        ink=theme.INK,
        border=theme.YELLOW,
        name="appointment",
        size_hint_y=None,
        height=m.target(11),
        **kw,
    )


def _steps(c: Ctx) -> Widget:
    m = c.m
    box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=m.px(1.6), padding=(m.px(1), 0))
    box.add_widget(Text(c._("How it works"), m.font(4.4), theme.MIST, bold=True))
    texts = (
        c._("Choose what your visit is about"),
        c._("Take your ticket from the printer"),
        c._("Wait until your number is shown on the screen"),
    )
    for i, text in enumerate(texts, 1):
        box.add_widget(Step(i, text, m))
    box.height = m.font(4.4) * 1.3 + len(texts) * (m.px(6.5) + m.px(1.6))
    return box


def closed(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    col = _column(m)
    closure = flow.site_closure
    if closure is not None and closure.next_open is not None:
        when = words.opening(c._, closure.next_open, c.now, c.lang)
    else:
        when = words.closure(c._, closure, c.now, c.lang)
    for w in _headline(c, c._("We are closed"), when, size=9):
        col.add_widget(w)
    emergency = closure is None or closure.reason == ClosedReason.CLOSED_NOW  # the hours would mislead
    if not emergency and not m.large_text:
        col.add_widget(Text(c._("Opening hours"), m.font(4), theme.WHITE, bold=True))
        col.add_widget(Text(_week(c), m.font(3.4), theme.MIST))
    col.add_widget(Widget())
    col.add_widget(_cards(c, flow.departments))
    for widget in visitor_controls(c):
        col.add_widget(widget)
    return col


def _week(c: Ctx) -> str:
    """This week's site hours, one weekday per line, in the visitor's language."""

    hours = c.flow.settings.site.hours
    start = c.now.date() - dt.timedelta(days=c.now.weekday())
    lines = []
    for i in range(7):
        day = start + dt.timedelta(days=i)
        name = format_date(day, "EEEE", locale=c.lang)
        spans = ", ".join(str(iv) for iv in hours.intervals_on(day)) or c._("closed")
        lines.append(f"{name[:1].upper() + name[1:]}:  {spans}")
    return "\n".join(lines)


def issuing(c: Ctx) -> Widget:
    col = _column(c.m)
    col.add_widget(Widget())
    printing = c.flow.ticket is not None
    sub = c._("Printing your ticket…") if printing else c._("Getting your number…")
    for w in _headline(c, c._("One moment, please"), sub, centre=True):
        col.add_widget(w)
    col.add_widget(Widget())
    return col


def _number_block(c: Ctx, col: BoxLayout, title: str) -> None:
    m, flow = c.m, c.flow
    ticket = flow.ticket
    assert ticket is not None
    col.add_widget(Text(title, m.font(6), theme.WHITE, bold=True, halign="center"))
    size = 30 if m.portrait else 24
    col.add_widget(Text(ticket.number, m.px(size), theme.YELLOW, bold=True, halign="center", name="number"))
    dep = flow.department(ticket.department) or flow.ticket_department
    if dep is not None:
        col.add_widget(Text(dep.label(c.lang), m.font(5), theme.WHITE, halign="center"))


def ticket(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    col = _column(m)
    col.add_widget(Widget(size_hint_y=0.3))
    _number_block(c, col, c._("Your number"))
    t = flow.ticket
    assert t is not None
    info = words.ahead(c._, t.ahead or 0)  # a ticket just issued is waiting: ahead is a count
    wait = words.wait(c._, t.estimated_wait_s)
    col.add_widget(Text(info + ("\n" + wait if wait else ""), m.font(4.4), theme.MIST, halign="center"))
    col.add_widget(Widget(size_hint_y=0.3))
    col.add_widget(
        Text(c._("Take your ticket from the printer below"), m.font(4.4), theme.WHITE, halign="center")
    )
    col.add_widget(DownArrow(size_hint_y=None, height=m.px(12)))
    col.add_widget(_ok_button(c, flow.dismiss))
    return col


def print_failed(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    col = _column(m)
    col.add_widget(Widget(size_hint_y=0.3))
    _number_block(c, col, c._("Your number"))
    col.add_widget(
        Text(
            c._("The ticket could not be printed."),
            m.font(5),
            theme.CLOSED_REASON,
            bold=True,
            halign="center",
        )
    )
    hint = c._("Please remember your number, or take a photo of it. Staff have been told.")
    col.add_widget(Text(hint, m.font(4.2), theme.WHITE, halign="center"))
    col.add_widget(Widget(size_hint_y=0.3))
    col.add_widget(_ok_button(c, flow.dismiss))
    return col


def _notice(
    c: Ctx, title: str, why: str, *, below: Sequence[Widget] = (), buttons: Sequence[Widget] = ()
) -> Widget:
    """A screen that tells the visitor something: the headline and why in the middle, ``below``
    them, then the screen's ``buttons`` and the language bar at the foot."""
    col = _column(c.m)
    col.add_widget(Widget(size_hint_y=0.4))
    for w in [*_headline(c, title, why, centre=True), *below]:
        col.add_widget(w)
    col.add_widget(Widget(size_hint_y=0.6))
    for w in buttons:
        col.add_widget(w)
    col.add_widget(language_bar(c))
    return col


def printer_fault(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    taken = Text(
        c._("No number was taken. Please ask at the reception."),
        m.font(4.6),
        theme.YELLOW,
        bold=True,
        halign="center",
    )
    ok = [] if flow.is_resting() else [_ok_button(c, flow.dismiss)]
    why = words.printer_problem(c._, flow.print_fault)
    return _notice(c, c._("No numbers right now"), why, below=[taken], buttons=ok)


def unreachable(c: Ctx) -> Widget:
    sub = c._("Connecting to the queue system. Trying again…")
    return _notice(c, c._("One moment, please"), sub)


def ask_reception(c: Ctx) -> Widget:
    flow = c.flow
    why = words.ask_reception(c._, flow.ask_reason)
    ok = [] if flow.ask_reason == AskReason.UNREACHABLE else [_ok_button(c, flow.dismiss)]
    return _notice(c, c._("Please ask at the reception"), why, buttons=ok)


BUILDERS: dict[Screen, Callable[[Ctx], Widget]] = {
    Screen.HOME: home,
    Screen.CLOSED: closed,
    Screen.ISSUING: issuing,
    Screen.TICKET: ticket,
    Screen.PRINT_FAILED: print_failed,
    Screen.PRINTER_FAULT: printer_fault,
    Screen.UNREACHABLE: unreachable,
    Screen.ASK_RECEPTION: ask_reception,
}
