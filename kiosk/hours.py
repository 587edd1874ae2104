"""Why a department is closed and when it opens, for the kiosk's words.

The service decides *whether* a department takes tickets (the snapshot's ``open`` flags, which
include an administrator's override). The kiosk only explains that decision to the visitor, from
the same opening rules the service uses (``config.hours.SiteHours``, pure rules over the site file):
"opens at 09:00", "no more numbers today", "opens Monday 08:00". When the service says closed and
the hours say open (an emergency close), the reason is just "closed now", with no guessed time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from nummerlapp.config.hours import SiteHours, span_at
from nummerlapp.config.model import Settings


class ClosedReason(StrEnum):
    LAST_TICKET = "last_ticket"  # inside opening hours, but past the last ticket time
    OPENS_LATER = "opens_later"  # closed now, opens again at ``next_open``
    CLOSED_NOW = "closed_now"  # the service says closed although the hours say open
    NO_HOURS = "no_hours"  # no opening within the search window


@dataclass(frozen=True)
class Closure:
    reason: ClosedReason
    next_open: dt.datetime | None  # in the site's time zone; None when not known


def explain_closed(settings: Settings, department_id: str | None, now: dt.datetime) -> Closure:
    """The visitor-facing reason a department (or, with ``None``, the site) is closed at ``now``."""
    rules = SiteHours(settings)
    tz = settings.site.tz
    if department_id is None:
        refused = rules.site_open(now) is False or _site_cutoff(settings, now)
        if not refused:
            return Closure(ClosedReason.CLOSED_NOW, None)
        nxt = rules.next_site_opening(now)
        in_span = span_at(settings.site.hours, now, tz) is not None
    else:
        refusal = rules.refusal(department_id, now)
        if refusal is None:
            return Closure(ClosedReason.CLOSED_NOW, None)
        nxt = refusal.next_open
        hours = settings.department_hours(department_id)
        in_span = span_at(hours, now, tz) is not None and rules.site_open(now)
    local_next = nxt.astimezone(tz) if nxt is not None else None
    if in_span:
        return Closure(ClosedReason.LAST_TICKET, local_next)
    if local_next is None:
        return Closure(ClosedReason.NO_HOURS, None)
    return Closure(ClosedReason.OPENS_LATER, local_next)


def _site_cutoff(settings: Settings, now: dt.datetime) -> bool:
    """Inside the site's hours but within ``last_ticket_min`` of closing."""
    span = span_at(settings.site.hours, now, settings.site.tz)
    if span is None:
        return False
    return now.astimezone(dt.UTC) >= span[1] - dt.timedelta(minutes=settings.site.last_ticket_min)
