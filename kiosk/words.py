"""Visitor-facing words for the flow's facts: the one place errors become sentences.

The flow says *what* happened (``AskReason.QUEUE_FULL``, a printer state ``paper_end``, a
``Closure``); this module says it to a visitor in the site's languages (gettext catalogues under
common/locale/<lang>/kiosk.po, English message ids). Dates and times go through Babel so a
Swede reads "måndag 30 november", a Finn "klo 9.00" and an English reader "Monday 30 November";
the clock pattern itself is in the catalogue ("HH:mm", Finnish "H.mm"). No Kivy here.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_skeleton, format_time

from nummerlapp.common.i18n import Translate, locale_for
from nummerlapp.common.protocol import PrinterReport
from nummerlapp.kiosk.flow import AskReason
from nummerlapp.kiosk.hours import ClosedReason, Closure


def clock(now: dt.datetime) -> str:
    return f"{now:%H:%M}"


def _time(_: Translate, when: dt.datetime, lang: str) -> str:
    return format_time(when, _("HH:mm"), locale=locale_for(lang))


def time_of_day(_: Translate, when: dt.datetime, lang: str) -> str:
    """A clock time in the visitor's language ("10:40", Finnish "10.40")."""
    return _time(_, when, lang)


def opening(_: Translate, when: dt.datetime, now: dt.datetime, lang: str) -> str:
    """ "Opens today at 09:00" / "Opens tomorrow at 08:00" / "Opens Monday 30 November at 08:00"."""
    days = (when.date() - now.date()).days
    time = _time(_, when, lang)
    if days == 0:
        return _("Opens today at {time}").format(time=time)
    if days == 1:
        return _("Opens tomorrow at {time}").format(time=time)
    day = format_skeleton(
        "MMMMEEEEd", when, locale=locale_for(lang)
    )  # "mandag 30. november", "Monday, 30 November"
    return _("Opens {day} at {time}").format(day=day, time=time)


def closure(_: Translate, closed: Closure | None, now: dt.datetime, lang: str) -> str:
    """Why a department is closed, in one line."""
    if closed is None or closed.reason == ClosedReason.CLOSED_NOW:
        return _("Closed right now")
    nxt = "" if closed.next_open is None else " · " + opening(_, closed.next_open, now, lang)
    if closed.reason == ClosedReason.LAST_TICKET:
        return _("No more numbers today") + nxt
    if closed.reason == ClosedReason.NO_HOURS:
        return _("Closed")
    return _("Closed") + nxt


def wait(_: Translate, seconds: int | None) -> str:
    """A rounded wait: visitors plan with "about 10 minutes", not "9 min 40 s"."""
    if seconds is None:
        return ""
    if seconds < 120:
        return _("Estimated wait: a few minutes")
    minutes = round(seconds / 60)
    if minutes > 15:
        minutes = 5 * round(minutes / 5)
    return _("Estimated wait: about {minutes} min").format(minutes=minutes)


def queue(_: Translate, waiting: int | None, seconds: int | None) -> str:
    """The line under an open department's name."""
    if waiting is None:
        return ""
    if waiting == 0:
        return _("No one waiting")
    parts = [_("Waiting: {count}").format(count=waiting)]
    if seconds is not None and seconds >= 120:
        parts.append(_("about {minutes} min").format(minutes=round(seconds / 60)))
    return " · ".join(parts)


def ahead(_: Translate, count: int) -> str:
    if count == 0:
        return _("You are next in line")
    return _("People ahead of you: {count}").format(count=count)


def printer_problem(_: Translate, state: PrinterReport | None) -> str:
    """What is wrong with the printer, in a visitor's words."""
    name = state.state if state is not None else "offline"
    if name == "paper_end":
        return _("The ticket printer is out of paper.")
    if name == "cover_open":
        return _("The ticket printer's cover is open.")
    return _("The ticket printer is not working right now.")


def ask_reception(_: Translate, reason: AskReason | None) -> str:
    if reason == AskReason.QUEUE_FULL:
        return _("There are no more numbers for this service right now.")
    if reason == AskReason.UNREACHABLE:
        return _("The queue system cannot be reached right now.")
    if reason == AskReason.UNCERTAIN:
        return _("We could not confirm your number.")
    return _("The kiosk could not give you a number.")
