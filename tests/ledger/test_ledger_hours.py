"""Opening hours: closed outside them, next opening, cut-off, exceptions, department hours,
the manual override across a restart, and the DST change days in Europe/Oslo."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from nummerlapp.common.errors import Conflict
from nummerlapp.config.hours import SiteHours
from nummerlapp.config.model import Interval, OpeningHours
from nummerlapp.server.ledger import Ledger
from nummerlapp.tests.ledger.ledgerfixtures import OSLO, Clock, at, example, with_site_hours

UTC = dt.UTC
MON, THU, FRI, SAT = (
    dt.date(2026, 11, 23),
    dt.date(2026, 11, 26),
    dt.date(2026, 11, 27),
    dt.date(2026, 11, 28),
)


def refused(ledger: Ledger, dep: str = "nav") -> tuple[str, str | None]:
    with pytest.raises(Conflict) as e:
        ledger.issue(dep)
    return e.value.code, e.value.details["next_open"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("when", "dep", "code", "next_open"),
    [
        (at(MON, 7, 59), "nav", "site_closed", "2026-11-23T08:00:00+01:00"),
        (at(SAT, 12, 0), "nav", "site_closed", "2026-11-30T08:00:00+01:00"),  # weekend
        (at(MON, 15, 20), "nav", "site_closed", "2026-11-24T08:00:00+01:00"),  # cut-off: 10 min
        (at(THU, 17, 50), "bolig", "site_closed", "2026-11-27T08:00:00+01:00"),  # late Thursday
        (at(MON, 8, 30), "tolk", "department_closed", "2026-11-23T09:00:00+01:00"),
        (at(FRI, 11, 50), "tolk", "department_closed", "2026-11-30T09:00:00+01:00"),  # tolk's Friday ends 12
        (at(dt.date(2026, 12, 24), 10, 0), "nav", "site_closed", "2026-12-25T08:00:00+01:00"),  # exception
        (at(dt.date(2026, 12, 31), 11, 50), "nav", "site_closed", "2027-01-01T08:00:00+01:00"),  # short day
    ],
)
def test_refused_with_next_opening(
    make_ledger: Callable[..., Ledger], clock: Clock, when: dt.datetime, dep: str, code: str, next_open: str
) -> None:
    clock.set(when)
    assert refused(make_ledger(), dep) == (code, next_open)


@pytest.mark.parametrize(
    ("when", "dep"),
    [
        (at(MON, 8, 0), "nav"),
        (at(MON, 15, 19), "nav"),
        (at(THU, 17, 49), "byggesak"),
        (at(MON, 9, 0), "tolk"),
        (at(FRI, 11, 49), "tolk"),
        (at(dt.date(2026, 12, 31), 11, 49), "bolig"),
    ],
)
def test_open(make_ledger: Callable[..., Ledger], clock: Clock, when: dt.datetime, dep: str) -> None:
    clock.set(when)
    assert make_ledger().issue(dep).status == "waiting"


def test_snapshot_open_flags(make_ledger: Callable[..., Ledger], clock: Clock) -> None:
    clock.set(at(MON, 8, 30))
    snap = make_ledger().snapshot()
    flags = {d["id"]: d["open"] for d in snap["departments"]}
    assert snap["site"]["open"] is True and flags == {
        "nav": True,
        "byggesak": True,
        "bolig": True,
        "tolk": False,
    }


def test_tick_reports_hours_changes(make_ledger: Callable[..., Ledger], clock: Clock) -> None:
    clock.set(at(MON, 8, 59))
    ledger = make_ledger()
    assert ledger.tick() == []
    clock.set(at(MON, 9, 0))
    (event,) = ledger.tick()
    assert event.type == "department.changed" and event.encode()["department"]["id"] == "tolk"
    assert event.encode()["department"]["open"] is True
    clock.set(at(MON, 15, 30))
    types = [e.type for e in ledger.tick()]
    assert types == ["site.changed"] + ["department.changed"] * 4  # tolk closed at 14:00 too


def test_override_across_restart(make_ledger: Callable[..., Ledger], clock: Clock) -> None:
    clock.set(at(SAT, 10, 0))
    ledger = make_ledger()
    assert refused(ledger)[0] == "site_closed"
    ledger.set_site_open(True)  # opened on a Saturday by hand
    ledger.close()
    ledger = make_ledger()  # the server restarts: still open
    assert ledger.snapshot()["site"]["open"] is True
    assert ledger.issue("tolk").number == "D001"  # the override opens every department
    ledger.set_site_open(None)  # back to the hours
    assert refused(ledger) == ("site_closed", "2026-11-30T08:00:00+01:00")


def test_service_day_is_the_site_date(make_ledger: Callable[..., Ledger], clock: Clock) -> None:
    clock.set(at(MON, 23, 50))
    ledger = make_ledger()
    ledger.set_site_open(True)
    assert ledger.issue("nav").number == "A001"
    clock.set(dt.datetime(2026, 11, 23, 23, 10, tzinfo=UTC))  # 00:10 Tuesday in Oslo, still Monday in UTC
    assert refused(ledger)[0] == "site_closed"  # Monday's override is over
    ledger.set_site_open(True)
    assert ledger.issue("nav").number == "A001"  # a new service day numbers from 1


def test_dst_change_days_in_oslo() -> None:
    hours = SiteHours(with_site_hours(example(), dt.time(8, 0), dt.time(15, 30)))
    spring_sat = dt.datetime(2026, 3, 28, 16, 0, tzinfo=OSLO)
    nxt = hours.next_issuing("nav", spring_sat)
    assert nxt is not None and nxt.astimezone(OSLO).isoformat() == "2026-03-29T08:00:00+02:00"
    assert nxt == dt.datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    autumn_sat = dt.datetime(2026, 10, 24, 16, 0, tzinfo=OSLO)
    nxt = hours.next_issuing("nav", autumn_sat)
    assert nxt == dt.datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    # the 10-minute cut-off is wall-clock minutes on both days
    assert hours.refusal("nav", dt.datetime(2026, 3, 29, 13, 19, tzinfo=UTC)) is None  # 15:19 CEST
    assert hours.refusal("nav", dt.datetime(2026, 3, 29, 13, 20, tzinfo=UTC)) is not None
    assert hours.refusal("nav", dt.datetime(2026, 10, 25, 14, 19, tzinfo=UTC)) is None  # 15:19 CET
    assert hours.refusal("nav", dt.datetime(2026, 10, 25, 14, 20, tzinfo=UTC)) is not None


def test_night_hours_across_the_dst_hour() -> None:
    base = example()
    night = OpeningHours({d: (Interval(dt.time(2, 30), dt.time(4, 0)),) for d in ("sat", "sun")})
    settings = dataclasses.replace(
        base,
        site=dataclasses.replace(base.site, hours=night, last_ticket_min=0),
        departments=tuple(dataclasses.replace(d, hours=None) for d in base.departments),
    )
    hours = SiteHours(settings)
    # spring: 02:30 does not exist; the interval starts at the instant an hour later (03:30 CEST)
    start = hours.next_issuing("nav", dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert start is not None and start.astimezone(OSLO).isoformat() == "2026-03-29T03:30:00+02:00"
    assert not hours.site_open(dt.datetime(2026, 3, 29, 1, 29, tzinfo=UTC))
    assert hours.site_open(dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    # autumn: 02:30 happens twice; the interval runs from the first 02:30 (CEST) to 04:00 CET
    assert hours.site_open(dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST
    assert hours.site_open(dt.datetime(2026, 10, 25, 1, 45, tzinfo=UTC))  # 02:45 CET
    assert not hours.site_open(dt.datetime(2026, 10, 25, 3, 0, tzinfo=UTC))  # 04:00 CET


def test_never_opening_site(make_ledger: Callable[..., Ledger], clock: Clock) -> None:
    base = example()
    closed = OpeningHours(dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ()))
    settings = dataclasses.replace(base, site=dataclasses.replace(base.site, hours=closed))
    ledger = make_ledger(settings)
    assert refused(ledger) == ("site_closed", None)
    assert ledger.snapshot()["site"]["next_open"] is None


def test_interval_past_midnight_belongs_to_its_start_day() -> None:
    base = example()
    late = OpeningHours({"fri": (Interval(dt.time(22, 0), dt.time(2, 0)),)})
    settings = dataclasses.replace(
        base,
        site=dataclasses.replace(base.site, hours=late, last_ticket_min=0),
        departments=tuple(dataclasses.replace(d, hours=None) for d in base.departments),
    )
    hours = SiteHours(settings)
    assert hours.site_open(at(SAT, 1, 59))  # Friday's night interval, now on Saturday's date
    assert not hours.site_open(at(SAT, 2, 0))
    assert not hours.site_open(at(FRI, 21, 59))
    nxt = hours.next_issuing("nav", at(SAT, 2, 0))
    assert nxt is not None and nxt.astimezone(OSLO) == at(dt.date(2026, 12, 4), 22, 0)
