"""Each figure on hand-made ledgers whose answers are worked out by hand in the comments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from nummerlapp.config.model import Settings
from nummerlapp.server.stats import StatsError, report
from nummerlapp.tests.stats.statsfixtures import add, at

D = dt.date.fromisoformat


def one_day(db: sqlite3.Connection) -> None:
    """Monday 2026-03-02, NAV: waits 60, 120, 300, 1200 s; one ticket never called (voided)."""
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:01"), at("2026-03-02 09:11"), counter="1")
    add(
        db,
        "nav",
        at("2026-03-02 09:10"),
        at("2026-03-02 09:12"),
        at("2026-03-02 09:17"),
        counter="1",
        lang="en",
    )
    add(
        db,
        "nav",
        at("2026-03-02 09:20"),
        at("2026-03-02 09:25"),
        at("2026-03-02 09:45"),
        counter="2",
        lang="sv",
    )
    add(
        db,
        "nav",
        at("2026-03-02 10:00"),
        at("2026-03-02 10:20"),
        at("2026-03-02 10:21"),
        counter="2",
        status="no_show",
    )
    add(db, "nav", at("2026-03-02 10:30"), status="void", done=at("2026-03-02 23:59"))
    # Another department the same day, to show it is kept apart.
    add(db, "byggesak", at("2026-03-02 09:00"), at("2026-03-02 09:30"), at("2026-03-02 09:40"), counter="3")


def test_day_figures_per_department(db: sqlite3.Connection, example_settings: Settings) -> None:
    one_day(db)
    rows = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), "day")
    nav = next(r for r in rows if r["department"] == "nav")
    assert (nav["issued"], nav["called"], nav["served"], nav["no_show"], nav["void"]) == (5, 4, 3, 1, 1)
    # waits 60, 120, 300, 1200: mean 420, median (120+300)/2, p90 = ceil(3.6) = 4th = 1200
    assert (nav["wait_mean_s"], nav["wait_median_s"], nav["wait_p90_s"], nav["wait_max_s"]) == (
        420,
        210,
        1200,
        1200,
    )
    # within 15 min = 900 s: 3 of the 4 called
    assert nav["within_target"] == 0.75
    # services of the done tickets: 600, 300, 1200 s (the no-show's minute is not service)
    assert (nav["service_mean_s"], nav["service_median_s"], nav["service_p90_s"], nav["service_max_s"]) == (
        700,
        600,
        1200,
        1200,
    )
    assert nav["langs"] == {"en": 1, "nb": 3, "sv": 1}
    bygg = next(r for r in rows if r["department"] == "byggesak")
    assert (bygg["issued"], bygg["wait_max_s"], bygg["within_target"]) == (1, 1800, 0.0)
    assert [r["period"] for r in rows] == ["2026-03-02", "2026-03-02"]


def test_hours_department_filter_and_site(db: sqlite3.Connection, example_settings: Settings) -> None:
    one_day(db)
    rows = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), "hour", department="nav")
    assert [(r["period"], r["issued"], r["wait_max_s"]) for r in rows] == [
        ("2026-03-02T09:00+01:00", 3, 300),
        ("2026-03-02T10:00+01:00", 2, 1200),
    ]
    site = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), "day", split="site")
    assert len(site) == 1 and "department" not in site[0]
    # waits 60, 120, 300, 1200, 1800: median 300, p90 = ceil(4.5) = 5th = 1800
    assert (site[0]["issued"], site[0]["wait_median_s"], site[0]["wait_p90_s"]) == (6, 300, 1800)


def test_per_counter(db: sqlite3.Connection, example_settings: Settings) -> None:
    one_day(db)
    rows = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), "day", split="counter")
    by = {r["counter"]: r for r in rows}
    assert sorted(by) == ["1", "2", "3"]  # the never-called ticket belongs to no counter
    assert (by["1"]["served"], by["1"]["service_mean_s"], by["1"]["wait_mean_s"]) == (2, 450, 90)
    assert (by["2"]["served"], by["2"]["no_show"], by["2"]["wait_max_s"]) == (1, 1, 1200)
    only = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), "day", split="counter", counter="3")
    assert [r["counter"] for r in only] == ["3"]


def test_across_midnight(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Issued 23:50 on Thursday (an extended evening), called 00:10 Friday: a 20-minute wait of
    Thursday's 23:00 hour; served until 00:25 (900 s)."""
    add(db, "nav", at("2026-03-05 23:50"), at("2026-03-06 00:10"), at("2026-03-06 00:25"), counter="1")
    rows = report(db, example_settings, D("2026-03-05"), D("2026-03-06"), "hour")
    assert [(r["period"], r["wait_max_s"], r["service_max_s"]) for r in rows] == [
        ("2026-03-05T23:00+01:00", 1200, 900)
    ]
    assert report(db, example_settings, D("2026-03-06"), D("2026-03-06"), "day") == []


def test_spring_forward_day_has_23_hours(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Sunday 2026-03-29: 02:00 becomes 03:00. One ticket per real hour → 23 hourly rows.
    Issued 01:30 (+01:00), called 03:10 (+02:00): 40 real minutes, not 100."""
    start = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)  # 00:00 Oslo
    for h in range(23):
        issued = (start + dt.timedelta(hours=h, minutes=15)).isoformat(timespec="microseconds")
        add(db, "nav", issued, day="2026-03-29")
    add(db, "bolig", at("2026-03-29 01:30"), at("2026-03-29 03:10"), at("2026-03-29 03:20"), counter="4")
    rows = report(db, example_settings, D("2026-03-29"), D("2026-03-29"), "hour", split="site")
    assert len(rows) == 23
    assert rows[1]["period"] == "2026-03-29T01:00+01:00" and rows[2]["period"] == "2026-03-29T03:00+02:00"
    assert rows[1]["wait_max_s"] == 2400
    day = report(db, example_settings, D("2026-03-29"), D("2026-03-29"), "day", department="bolig")
    assert day[0]["wait_mean_s"] == 2400 and day[0]["service_mean_s"] == 600


def test_fall_back_day_has_25_hours(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Sunday 2026-10-25: 03:00 becomes 02:00 again. One ticket per real hour → 25 rows, the two
    02:00 hours apart and in time order; a wait from the first 02:40 to the second 02:10 is 30 min."""
    start = dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC)  # 00:00 Oslo (+02:00)
    for h in range(25):
        issued = (start + dt.timedelta(hours=h, minutes=5)).isoformat(timespec="microseconds")
        add(db, "nav", issued, day="2026-10-25")
    add(db, "tolk", at("2026-10-25 02:40"), at("2026-10-25 02:10", fold=1), counter="4")
    rows = report(db, example_settings, D("2026-10-25"), D("2026-10-25"), "hour", split="site")
    assert len(rows) == 25
    assert [r["period"] for r in rows[2:4]] == ["2026-10-25T02:00+02:00", "2026-10-25T02:00+01:00"]
    assert rows[2]["issued"] == 2 and rows[2]["wait_max_s"] == 1800
    assert rows[3]["issued"] == 1 and rows[-1]["period"] == "2026-10-25T23:00+01:00"


def test_transfer_attribution(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Issued to NAV 09:00, first called 09:05 at desk 1, handed on to housing, called again 09:20
    at desk 4 and served until 09:30. NAV: issued, waited 300 s, transferred once. Housing: served
    600 s. Desk 4 (last to handle it): the whole ticket."""
    add(
        db,
        "bolig",
        at("2026-03-02 09:00"),
        at("2026-03-02 09:20"),
        at("2026-03-02 09:30"),
        counter="4",
        origin="nav",
        first_called=at("2026-03-02 09:05"),
        transfers=1,
    )
    rows = {r["department"]: r for r in report(db, example_settings, D("2026-03-02"), D("2026-03-02"))}
    assert (rows["nav"]["issued"], rows["nav"]["transfers"], rows["nav"]["wait_mean_s"]) == (1, 1, 300)
    assert (rows["nav"]["served"], rows["nav"]["service_mean_s"]) == (0, None)
    assert (rows["bolig"]["issued"], rows["bolig"]["served"], rows["bolig"]["service_mean_s"]) == (0, 1, 600)
    desk = report(db, example_settings, D("2026-03-02"), D("2026-03-02"), split="counter")
    assert [(r["counter"], r["issued"], r["served"], r["wait_mean_s"]) for r in desk] == [("4", 1, 1, 300)]


def test_weeks_and_months(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Sat 28 Feb, Sun 1 Mar and Mon 2 Mar 2026: weeks 9, 9, 10; months February, March, March."""
    for day in ("2026-02-28", "2026-03-01", "2026-03-02"):
        add(db, "nav", at(f"{day} 12:00"), at(f"{day} 12:10"), at(f"{day} 12:20"), counter="1")
    weeks = report(db, example_settings, D("2026-02-01"), D("2026-03-31"), "week")
    assert [(r["period"], r["start"], r["issued"]) for r in weeks] == [
        ("2026-W09", "2026-02-23", 2),
        ("2026-W10", "2026-03-02", 1),
    ]
    months = report(db, example_settings, D("2026-02-01"), D("2026-03-31"), "month")
    assert [(r["period"], r["issued"], r["wait_mean_s"]) for r in months] == [
        ("2026-02", 1, 600),
        ("2026-03", 2, 600),
    ]
    assert report(db, example_settings, D("2026-03-01"), D("2026-03-01"), "month")[0]["issued"] == 1


def test_wait_target_comes_from_the_site(db: sqlite3.Connection, example_settings: Settings) -> None:
    """Exactly at the target counts as within it; the target is read from the settings."""
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:15"), counter="1")
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:15:01"), counter="1")
    rows = report(db, example_settings, D("2026-03-02"), D("2026-03-02"))
    assert rows[0]["within_target"] == 0.5

    strict = dataclasses.replace(
        example_settings, site=dataclasses.replace(example_settings.site, wait_target_min=10)
    )
    assert report(db, strict, D("2026-03-02"), D("2026-03-02"))[0]["within_target"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"department": "nope"}, "unknown department 'nope'"),
        ({"counter": "99"}, "unknown counter '99'"),
        ({"by": "year"}, "bad period 'year'"),
    ],
)
def test_bad_requests(
    db: sqlite3.Connection, example_settings: Settings, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(StatsError, match=message):
        report(db, example_settings, D("2026-03-02"), D("2026-03-02"), **kwargs)
    with pytest.raises(StatsError, match="ends"):
        report(db, example_settings, D("2026-03-02"), D("2026-03-01"))
