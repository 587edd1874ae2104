"""Opening hours: is the site (or a department) open now, may it still issue, when does it open next.

Pure rules over the site file's settings, so the service (which decides) and the kiosk (which
explains the decision to a visitor) read the same rules without the kiosk needing the server.

Hours in the site file are wall-clock times in the site's time zone. Here every interval becomes
a pair of UTC datetimes before any comparison: Python compares two aware datetimes that share one
tzinfo object by wall time, which is wrong on DST change days, so UTC is the only safe common
ground. A wall time that does not exist (02:30 on the spring-forward night) maps to the instant
an hour later, as PEP 495 prescribes for ``fold=0``.

Rules (docs/LEDGER.md has them in prose):
- The site is open inside one of its intervals for the day (a dated exception replaces the
  weekday's list; an empty list means closed all day). An interval whose end is not after its
  start runs past midnight.
- A department with its own hours is open when both it and the site are open; without its own
  hours it follows the site.
- Issuing stops ``last_ticket_min`` minutes before the end of the interval (site's or
  department's, whichever ends first), so the last visitor can still be served.
- The override (``True``/``False`` for the rest of the service day) beats all of that: open
  means every department takes tickets until midnight, closed means none does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nummerlapp.config.model import OpeningHours, Settings

UTC = dt.UTC
SEARCH_DAYS = 400  # how far ahead to look for a next opening (a long summer closure fits)

Span = tuple[dt.datetime, dt.datetime]  # UTC start (inclusive), UTC end (exclusive)


def service_day(now: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The service day is the date on the wall clock of the site."""
    return now.astimezone(tz).date()


def day_start(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Local midnight starting ``day``, as UTC."""
    return _utc(dt.datetime.combine(day, dt.time(0), tzinfo=tz))


def _utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(UTC)


def spans_on(hours: OpeningHours, day: dt.date, tz: ZoneInfo) -> list[Span]:
    """The day's opening intervals as UTC spans."""
    out: list[Span] = []
    for iv in hours.intervals_on(day):
        start = _utc(dt.datetime.combine(day, iv.start, tzinfo=tz))
        end_day = day if iv.end > iv.start else day + dt.timedelta(days=1)
        end = _utc(dt.datetime.combine(end_day, iv.end, tzinfo=tz))
        out.append((start, end))
    return out


def span_at(hours: OpeningHours, when: dt.datetime, tz: ZoneInfo) -> Span | None:
    """The interval containing ``when``, if any (yesterday's may run past midnight)."""
    when = when.astimezone(UTC)
    day = service_day(when, tz)
    for d in (day - dt.timedelta(days=1), day):
        for start, end in spans_on(hours, d, tz):
            if start <= when < end:
                return start, end
    return None


@dataclass(frozen=True)
class Refusal:
    """Why issuing is refused now, and when it will be possible again (None: not within a year)."""

    code: str  # site_closed | department_closed
    next_open: dt.datetime | None


class SiteHours:
    """Opening rules of one site's settings; pure, so tests can ask about any instant."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = settings.site.tz
        self.cutoff = dt.timedelta(minutes=settings.site.last_ticket_min)
        # Every boundary (interval ends, cut-off) falls on a whole minute when all interval times
        # do, so the answer for one department is the same for a whole UTC minute: the issue
        # path asks once per minute, not once per ticket.
        every = [settings.site.hours, *(d.hours for d in settings.departments if d.hours is not None)]
        self._whole_minutes = all(
            t.second == 0 and t.microsecond == 0
            for h in every
            for ivs in (*h.weekly.values(), *h.exceptions.values())
            for iv in ivs
            for t in (iv.start, iv.end)
        )
        self._memo_minute: dt.datetime | None = None
        self._memo: dict[tuple[str, str], Refusal | bool | None] = {}

    def _dep_hours(self, department_id: str) -> OpeningHours | None:
        dep = self.settings.department(department_id)
        return dep.hours if dep is not None else None

    def site_open(self, now: dt.datetime, override: bool | None = None) -> bool:
        """Open by the hours, unless overridden for today."""
        if override is not None:
            return override
        return span_at(self.settings.site.hours, now, self.tz) is not None

    def department_open(
        self,
        department_id: str,
        now: dt.datetime,
        override: bool | None = None,
        department_override: bool | None = None,
    ) -> bool:
        """``department_override`` (a manager's open/close of this one department for the rest
        of the day): False closes it; True opens it whenever the site is open, whatever its own
        hours say. The site's override and the site's hours still rule over it."""
        if department_override is False:
            return False
        if department_override is True:
            return self.site_open(now, override)
        if override is not None:
            return override
        memo = self._memo_for(now)
        if memo is not None and ("open", department_id) in memo:
            return bool(memo[("open", department_id)])
        own = self._dep_hours(department_id)
        result = self.site_open(now) and (own is None or span_at(own, now, self.tz) is not None)
        if memo is not None:
            memo[("open", department_id)] = result
        return result

    def _memo_for(self, now: dt.datetime) -> dict[tuple[str, str], Refusal | bool | None] | None:
        """This UTC minute's memo, or None when answers may change within a minute."""
        if not self._whole_minutes:
            return None
        offset = now.astimezone(self.tz).utcoffset() or dt.timedelta()
        if offset.seconds % 60:
            return None
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        if minute != self._memo_minute:
            self._memo_minute, self._memo = minute, {}
        return self._memo

    def _issuable_by_hours(self, department_id: str, when: dt.datetime) -> str | None:
        """None when a ticket may be issued at ``when`` by the hours alone, else the refusal code."""
        site_span = span_at(self.settings.site.hours, when, self.tz)
        if site_span is None or when >= site_span[1] - self.cutoff:
            return "site_closed"
        own = self._dep_hours(department_id)
        if own is not None:
            dep_span = span_at(own, when, self.tz)
            if dep_span is None or when >= dep_span[1] - self.cutoff:
                return "department_closed"
        return None

    def refusal(
        self,
        department_id: str,
        now: dt.datetime,
        override: bool | None = None,
        department_override: bool | None = None,
    ) -> Refusal | None:
        """None when ``department_id`` may issue at ``now``; else the code and the next opening.

        ``department_override`` as in :meth:`department_open`: False refuses until tomorrow's
        opening; True lifts the department's own hours (the site's still apply)."""
        now = now.astimezone(UTC)
        if department_override is False and override is not False:
            tomorrow = service_day(now, self.tz) + dt.timedelta(days=1)
            return Refusal(
                "department_closed", self.next_issuing(department_id, day_start(tomorrow, self.tz))
            )
        if department_override is True and override is None:
            span = span_at(self.settings.site.hours, now, self.tz)
            if span is not None and now < span[1] - self.cutoff:
                return None
            minute = now.replace(second=0, microsecond=0)
            return Refusal("site_closed", self.next_issuing(department_id, minute))
        if override is True:
            return None
        if override is False:
            tomorrow = service_day(now, self.tz) + dt.timedelta(days=1)
            return Refusal("site_closed", self.next_issuing(department_id, day_start(tomorrow, self.tz)))
        memo = self._memo_for(now)
        if memo is not None and ("refusal", department_id) in memo:
            return memo[("refusal", department_id)]  # type: ignore[return-value]
        code = self._issuable_by_hours(department_id, now)
        minute = now.replace(second=0, microsecond=0)
        result = None if code is None else Refusal(code, self.next_issuing(department_id, minute))
        if memo is not None:
            memo[("refusal", department_id)] = result
        return result

    def _starts(self, department_id: str, after: dt.datetime) -> Iterator[dt.datetime]:
        """Every interval start (site's and department's) at or after ``after``, in time order."""
        own = self._dep_hours(department_id)
        first = service_day(after, self.tz)
        for i in range(SEARCH_DAYS):
            day = first + dt.timedelta(days=i)
            starts = [s for s, _ in spans_on(self.settings.site.hours, day, self.tz)]
            if own is not None:
                starts += [s for s, _ in spans_on(own, day, self.tz)]
            yield from sorted(s for s in starts if s >= after)

    def next_issuing(self, department_id: str, after: dt.datetime) -> dt.datetime | None:
        """The first instant at or after ``after`` at which the department may issue by its hours.

        Issuing can only start at some interval's start, so checking those candidates suffices.
        """
        after = after.astimezone(UTC)
        for start in self._starts(department_id, after):
            if self._issuable_by_hours(department_id, start) is None:
                return start
        return None

    def next_site_opening(self, after: dt.datetime) -> dt.datetime | None:
        """The next start of a site interval at or after ``after`` (for 'closed, opens at ...')."""
        after = after.astimezone(UTC)
        first = service_day(after, self.tz)
        for i in range(SEARCH_DAYS):
            for start, _ in spans_on(self.settings.site.hours, first + dt.timedelta(days=i), self.tz):
                if start >= after:
                    return start
        return None
