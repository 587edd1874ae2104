"""The booked-visit screens (issue 15): the reference keypad, "checked in", "too late", "ask".

Same rules as kiosk/screens.py: the flow's state in, a widget tree out, every screen in the
visitor's language with the language switch. The keypad has only the reference alphabet (no
0/O, 1/I/L to mistake), letters in alphabetical rows and the digits in their own row, keys at
least ``theme.MIN_TARGET_PX`` and much larger on a portrait pillar, a correction key and
"check in" that lights up only when the reference is whole. A USB scanner types into the same
line (kiosk/app.py); a serial one sends the whole code (kiosk/scanner.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from nummerlapp.common import protocol as P
from nummerlapp.kiosk import theme, words
from nummerlapp.kiosk.flow import CheckInProblem, Screen
from nummerlapp.kiosk.screens import (
    Ctx,
    _column,
    _headline,
    _notice,
    _number_block,
    _ok_button,
    language_bar,
)
from nummerlapp.kiosk.widgets import DownArrow, PillButton, Text

LETTERS = "".join(c for c in P.REFERENCE_ALPHABET if c.isalpha())
DIGITS = "".join(c for c in P.REFERENCE_ALPHABET if c.isdigit())
COLS = 8


def _reference_line(c: Ctx) -> Text:
    """The typed reference in two groups of four, with a dot for each character still to come."""
    chars = [*c.flow.reference, *("·" * (P.REFERENCE_LEN - len(c.flow.reference)))]
    half = P.REFERENCE_LEN // 2
    text = " ".join(chars[:half]) + "   " + " ".join(chars[half:])
    size = 9 if c.m.portrait else 6
    return Text(text, c.m.px(size), theme.YELLOW, bold=True, halign="center", name="reference")


def _keypad(c: Ctx) -> GridLayout:
    m, flow = c.m, c.flow
    gap = m.px(1.4)
    key_h = m.target(13.5 if m.portrait else 9)
    rows = -(-len(LETTERS) // COLS) + 1
    pad = GridLayout(cols=COLS, spacing=gap, size_hint_y=None, height=rows * key_h + (rows - 1) * gap)
    for char in LETTERS:
        pad.add_widget(
            PillButton(
                char,
                m.px(6.2 if m.portrait else 5.5),
                functools.partial(flow.type_key, char),
                name=f"ref:{char}",
            )
        )
    for _ in range(-len(LETTERS) % COLS):
        pad.add_widget(Widget())
    for char in DIGITS:
        pad.add_widget(
            PillButton(
                char, m.px(5.5), functools.partial(flow.type_key, char), fill=theme.NAVY, name=f"ref:{char}"
            )
        )
    return pad


def _check_in_button(c: Ctx) -> PillButton:
    m, flow = c.m, c.flow
    whole = len(flow.reference) == P.REFERENCE_LEN  # lit only when the reference is whole
    return PillButton(
        c._("Check in"),
        m.font(4.6),
        flow.submit_reference,
        fill=theme.YELLOW if whole else theme.NAVY_LIGHT,
        ink=theme.INK if whole else theme.MIST,
        border=None if whole else theme.MIST,
        name="check-in",
        size_hint_x=1.4,
    )


def _actions(c: Ctx, with_check_in: bool = True) -> BoxLayout:
    m, flow = c.m, c.flow
    row = BoxLayout(size_hint_y=None, height=m.target(11), spacing=m.px(2.2))
    row.add_widget(PillButton(c._("Back"), m.font(4), flow.ordinary_ticket, name="back", size_hint_x=0.8))
    row.add_widget(PillButton(c._("Erase"), m.font(4), flow.erase, name="erase", size_hint_x=1.0))
    if with_check_in:
        row.add_widget(_check_in_button(c))
    return row


def appointment(c: Ctx) -> Widget:
    m = c.m
    col = _column(m)
    sub = c._("Type the code from your booking, or hold its QR code in front of the scanner")
    for w in _headline(c, c._("Check in for your appointment"), sub, size=6.5):
        col.add_widget(w)
    if m.portrait:
        col.add_widget(Widget())
        col.add_widget(_reference_line(c))
        col.add_widget(Widget(size_hint_y=0.4))
        col.add_widget(_keypad(c))
        col.add_widget(_actions(c))
    else:  # the line and the buttons on the left, the keys on the right
        body = BoxLayout(spacing=m.px(4))
        left = BoxLayout(orientation="vertical", spacing=m.px(2.2), size_hint_x=0.5)
        left.add_widget(Widget())
        left.add_widget(_reference_line(c))
        left.add_widget(Widget())
        check_in = BoxLayout(size_hint_y=None, height=m.target(11))
        check_in.add_widget(_check_in_button(c))
        left.add_widget(check_in)
        left.add_widget(_actions(c, with_check_in=False))
        body.add_widget(left)
        right = BoxLayout(orientation="vertical")
        right.add_widget(Widget())
        right.add_widget(_keypad(c))
        body.add_widget(right)
        col.add_widget(body)
    col.add_widget(language_bar(c))
    return col


def _call_time(c: Ctx) -> tuple[str, str]:
    """("Booked visit at 10:40", "We will call your number at 10:40" or "… soon")."""
    ticket = c.flow.ticket
    assert ticket is not None and ticket.appointment is not None
    start = dt.datetime.fromisoformat(ticket.appointment.start).astimezone(c.flow.settings.site.tz)
    time = words.time_of_day(c._, start, c.lang)
    booked = c._("Booked visit at {time}").format(time=time)
    if start > c.now + dt.timedelta(minutes=1):
        return booked, c._("We will call your number at {time}").format(time=time)
    return booked, c._("We will call your number soon")


def booked(c: Ctx) -> Widget:
    m, flow = c.m, c.flow
    col = _column(m)
    if m.portrait:
        col.add_widget(Widget(size_hint_y=0.3))
    _number_block(c, col, c._("You are checked in"))
    when, call = _call_time(c)
    col.add_widget(
        Text(when + "\n" + call, m.font(4.8), theme.WHITE, bold=True, halign="center", name="call-time")
    )
    take = Text(c._("Take your ticket from the printer below"), m.font(4.4), theme.MIST, halign="center")
    if m.portrait:
        col.add_widget(Widget(size_hint_y=0.3))
        col.add_widget(take)
        col.add_widget(DownArrow(size_hint_y=None, height=m.px(12)))
    else:  # a wall tablet has less height: the words without the arrow
        col.add_widget(take)
    col.add_widget(_ok_button(c, flow.dismiss))
    return col


def _two_buttons(
    c: Ctx, left: tuple[str, Callable[[], object], str], right: tuple[str, Callable[[], object], str]
) -> BoxLayout:
    m = c.m
    row = BoxLayout(size_hint_y=None, height=m.target(12), spacing=m.px(3), padding=(m.px(2), 0))
    row.add_widget(PillButton(left[0], m.font(4.2), left[1], name=left[2]))
    row.add_widget(
        PillButton(
            right[0], m.font(4.2), right[1], fill=theme.YELLOW, ink=theme.INK, border=None, name=right[2]
        )
    )
    return row


def appt_late(c: Ctx) -> Widget:
    flow = c.flow
    grace = flow.settings.appointments.grace_min
    why = c._(
        "Your booked time was more than {minutes} minutes ago. Please take an ordinary ticket: "
        "we will help you as soon as we can."
    ).format(minutes=grace)
    buttons = _two_buttons(
        c,
        (c._("Back"), flow.dismiss, "back"),
        (c._("Take an ordinary ticket"), flow.ordinary_ticket, "ordinary"),
    )
    return _notice(c, c._("Too late to check in"), why, buttons=[buttons])


def appt_problem(c: Ctx) -> Widget:
    flow = c.flow
    why = {
        CheckInProblem.CANCELLED: c._("This booking has been cancelled."),
        CheckInProblem.NOT_TODAY: c._("This booking is for another day."),
        CheckInProblem.ALREADY: c._("This booking is already checked in."),
    }.get(flow.check_in_problem or CheckInProblem.UNKNOWN, c._("We could not find a booking with this code."))
    buttons = _two_buttons(
        c, (c._("Try again"), flow.open_appointment, "again"), (c._("OK"), flow.dismiss, "ok")
    )
    return _notice(c, c._("Please ask at the reception"), why, buttons=[buttons])


BUILDERS: dict[Screen, Callable[[Ctx], Widget]] = {
    Screen.APPOINTMENT: appointment,
    Screen.BOOKED: booked,
    Screen.APPT_LATE: appt_late,
    Screen.APPT_PROBLEM: appt_problem,
}
