"""The fold keeps the five-minute promise: booked visits' figures before the fold, after it, and
after the rows are deleted are the same report, a year later too.

Real ledgers driven through :class:`server.ledger.Ledger` with a clock the test moves: visits
checked in early, on time and late, no-shows (never came, came too late, checked in and never
called), cancellations and walk-ins; then ``stats fold`` with rows kept, again (nothing changes),
and with rows deleted. Every report shape (hour/day/week/month × department/counter/site, and
filtered) is compared whole, the visits' columns included, and the reports page's figures too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

from nummerlapp.common.errors import Conflict
from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import Ledger, schema
from nummerlapp.server.stats import report
from nummerlapp.server.stats.appointments import FIGURES
from nummerlapp.server.stats.cli import to_csv
from nummerlapp.server.stats.figures import collect, collect_visits, combine, merge_visits
from nummerlapp.server.stats.retention import fold
from nummerlapp.server.stats.web import figures as page_figures
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, OSLO, Clock, example, with_site_hours

SETTINGS = with_site_hours(example(), dt.time(8, 0), dt.time(16, 0))
TUESDAY = MONDAY + dt.timedelta(days=1)
SHAPES = [(by, s) for by in ("hour", "day", "week", "month") for s in ("department", "counter", "site")]
FILTERS: list[dict[str, Any]] = [{"department": "nav"}, {"department": "byggesak"}, {"counter": "3"}]
KEYS = ("period", "start", "department", "counter")


def local(day: dt.date, hh: int, mm: int = 0, fold: int = 0) -> dt.datetime:
    """Oslo wall time as a UTC instant (``fold=1``: the second 02:xx of the fall-back night)."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=OSLO, fold=fold).astimezone(dt.UTC)


def all_reports(path: Path, settings: Settings, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Every report shape over start..end, filtered ones and the CSV, on a read-only connection."""
    conn = schema.connect_reader(path)
    try:
        out: dict[str, Any] = {f"{by}/{s}": report(conn, settings, start, end, by, s) for by, s in SHAPES}
        for f in FILTERS:
            for by, s in (("day", "department"), ("hour", "counter"), ("week", "site")):
                out[f"{by}/{s}/{f}"] = report(conn, settings, start, end, by, s, **f)
    finally:
        conn.close()
    out["csv"] = to_csv(out["day/department"], settings.site.languages)
    args = {"start": start, "end": end, "by": "day", "split": "counter", "department": None, "counter": None}
    out["page"] = page_figures(path, settings, args)
    return out


def visits_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The appointment section of report rows: each row's key and its visits' figures."""
    return [{k: r[k] for k in (*KEYS, *FIGURES) if k in r} for r in rows]


def stored(path: Path) -> dict[str, Any]:
    """Everything the fold writes or deletes, to tell that a second run changed nothing."""
    conn = sqlite3.connect(path)
    try:
        tables = ("hourly_stats", "hourly_visits", "stats_days", "stats_visit_days")
        out: dict[str, Any] = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
        for t in ("tickets", "appointments", "events"):
            out[t] = conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        return out
    finally:
        conn.close()


def run_fold(path: Path, days: int, now: dt.datetime, settings: Settings = SETTINGS) -> dict[str, Any]:
    conn = schema.connect(path)
    try:
        return fold(conn, settings, days=days, now=now).to_json()
    finally:
        conn.close()


# --- a day with known answers ---------------------------------------------------------------------


def known_day(path: Path) -> None:
    """Monday, counters 1 (NAV) and 3 (building permits); V5 is cancelled.

    V1 byggesak 09:00, in at 08:45 (early), called 09:02 by 3: 120 s from its start — kept.
    V2 byggesak 09:20, in at 09:20 (on time), called 09:31 by 3: 660 s — missed.
    V3 nav 10:00, in at 10:07 (late, within grace), called 10:09 by 1: 120 s from check-in — kept.
    V4 nav 10:40 never comes: a no-show (the tick writes it). V6 nav 11:20, in at 11:15, never
    called: its ticket is voided at the day's end, a no-show. V7 byggesak 12:00 comes at 12:14:
    too late, a no-show. Walk-ins: W1 nav 08:30 (called 08:40), W2 byggesak 08:50 (called 08:55),
    W3 nav 09:10 (called 10:15, after the due visit V3).
    """
    clock = Clock(local(MONDAY, 8, 0))
    ledger = Ledger(path, SETTINGS, clock=clock)
    refs = {
        name: ledger.book(dep, local(MONDAY, hh, mm), source="test").reference
        for name, dep, hh, mm in (
            ("V1", "byggesak", 9, 0),
            ("V2", "byggesak", 9, 20),
            ("V3", "nav", 10, 0),
            ("V4", "nav", 10, 40),
            ("V5", "byggesak", 11, 0),
            ("V6", "nav", 11, 20),
            ("V7", "byggesak", 12, 0),
        )
    }
    ledger.cancel_appointment(refs["V5"])
    steps: list[tuple[int, int, Any]] = [
        (8, 30, lambda: ledger.issue("nav")),
        (8, 40, lambda: ledger.next("1")),
        (8, 45, lambda: ledger.check_in(refs["V1"])),
        (8, 50, lambda: ledger.issue("byggesak")),
        (8, 55, lambda: ledger.next("3")),
        (9, 2, lambda: ledger.next("3")),
        (9, 10, lambda: ledger.issue("nav")),
        (9, 20, lambda: ledger.check_in(refs["V2"])),
        (9, 31, lambda: ledger.next("3")),
        (9, 40, lambda: ledger.done("3")),
        (10, 7, lambda: ledger.check_in(refs["V3"])),
        (10, 9, lambda: ledger.next("1")),
        (10, 15, lambda: ledger.next("1")),
        (10, 20, lambda: ledger.done("1")),
        (10, 51, ledger.tick),
        (11, 15, lambda: ledger.check_in(refs["V6"])),
    ]
    for hh, mm, step in steps:
        clock.set(local(MONDAY, hh, mm))
        step()
    clock.set(local(MONDAY, 12, 14))
    try:
        ledger.check_in(refs["V7"])
    except Conflict as exc:
        assert exc.code == "too_late"
    else:  # pragma: no cover
        raise AssertionError("a check-in 14 minutes late was accepted")
    clock.set(local(MONDAY, 13, 0))
    ledger.tick()
    clock.set(local(TUESDAY, 0, 5))
    ledger.tick()  # the day change voids V6's ticket
    ledger.close()


def test_known_day_before_and_after_the_fold(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    known_day(path)
    before = all_reports(path, SETTINGS, MONDAY, MONDAY)
    (site,) = before["day/site"]
    assert {k: site[k] for k in FIGURES} == {
        "appointments": 6,  # V5 cancelled: not a visit
        "appointments_checked_in": 4,
        "appointments_called": 3,
        "appointments_no_show": 3,  # V4 never came, V6 never called, V7 too late
        "appointments_within_target": 0.6667,
        "appointments_wait_max_s": 660,
    }
    assert (site["called"], site["wait_max_s"]) == (3, 65 * 60)  # walk-ins only
    deps = {r["department"]: r for r in before["day/department"]}
    assert [deps["byggesak"][k] for k in FIGURES] == [3, 2, 2, 1, 0.5, 660]
    assert [deps["nav"][k] for k in FIGURES] == [3, 2, 1, 2, 1.0, 120]
    desks = {r["counter"]: r for r in before["day/counter"]}
    assert [desks["3"][k] for k in FIGURES] == [2, 2, 2, 0, 0.5, 660]
    assert [desks["1"][k] for k in FIGURES] == [1, 1, 1, 0, 1.0, 120]
    assert "appointments_within_target" in before["csv"].splitlines()[0]

    # The day after: folded, rows kept (90 days).
    tuesday_noon = local(TUESDAY, 12, 0)
    first = run_fold(path, 90, tuesday_noon)
    assert (first["folded"], first["deleted_days"], first["deleted_visits"]) == ([MONDAY.isoformat()], [], 0)
    after_fold = stored(path)
    assert after_fold["appointments"] == 7 and after_fold["tickets"] == 7  # W1-W3, V1-V3, V6
    assert sum(row[5] for row in after_fold["hourly_visits"]) == 6  # booked, per hour and key
    assert all_reports(path, SETTINGS, MONDAY, MONDAY) == before

    # Again: nothing to do, nothing changes.
    again = run_fold(path, 90, tuesday_noon)
    assert (again["folded"], again["deleted_days"], again["deleted_rows"], again["deleted_visits"]) == (
        [],
        [],
        0,
        0,
    )
    assert stored(path) == after_fold

    # Past the retention period: tickets and visits go, the figures stay.
    later = local(MONDAY + dt.timedelta(days=100), 12, 0)
    gone = run_fold(path, 90, later)
    assert (gone["folded"], gone["deleted_days"]) == ([], [MONDAY.isoformat()])
    assert (gone["deleted_rows"], gone["deleted_visits"]) == (7, 7)  # the cancelled visit too
    deleted = stored(path)
    assert (deleted["tickets"], deleted["appointments"]) == (0, 0)
    assert deleted["hourly_visits"] == after_fold["hourly_visits"]
    after_delete = all_reports(path, SETTINGS, MONDAY, MONDAY)
    assert after_delete == before
    for shape in ("hour/department", "day/counter", "week/site", "month/department"):
        assert visits_of(after_delete[shape]) == visits_of(before[shape]) != []

    # A year later the manager still shows the promise, and a nightly run changes nothing.
    year = local(MONDAY + dt.timedelta(days=365), 3, 0)
    assert run_fold(path, 90, year)["folded"] == []
    assert stored(path) == deleted
    assert all_reports(path, SETTINGS, MONDAY, MONDAY) == before
    # The aggregate names no visit: no reference, ticket, source or single time.
    with sqlite3.connect(path) as conn:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(hourly_visits)")}
    assert not {"id", "reference", "ticket", "source", "start", "checked_in_at", "uid_hash"} & cols


# --- two random days ------------------------------------------------------------------------------


def random_day(ledger: Ledger, clock: Clock, day: dt.date, rnd: random.Random) -> None:
    """Walk-ins at random; visits every 20 minutes in two departments, some cancelled, the others'
    visitors early, on time, late, too late or never; four counters calling all day."""
    clock.set(local(day, 7, 30))
    arrivals: dict[dt.datetime, list[str]] = {}
    for dep, step in (("byggesak", 20), ("nav", 40)):
        start = local(day, 8, 40)
        while start < local(day, 15, 0):
            ref = ledger.book(dep, start, source="test").reference
            fate = rnd.random()
            if fate < 0.1:
                ledger.cancel_appointment(ref)
            elif fate < 0.2:
                pass  # never comes
            else:
                offset = rnd.choice([-20, -12, -5, -1, 0, 2, 6, 9]) if fate < 0.9 else 14
                arrivals.setdefault(start + dt.timedelta(minutes=offset), []).append(ref)
            start += dt.timedelta(minutes=step)
    busy = {c.id: clock.now for c in SETTINGS.counters}
    clock.set(local(day, 8, 0))
    while clock.now < local(day, 16, 30):
        now = clock.now
        if now < local(day, 15, 30) and rnd.random() < 0.35:
            ledger.issue(rnd.choice(["nav", "bolig", "byggesak", "tolk"]))
        for ref in arrivals.pop(now, []):
            try:
                ledger.check_in(ref)
            except Conflict as exc:
                assert exc.code == "too_late"
        for counter, free in busy.items():
            if now >= free and ledger.next(counter) is not None:
                busy[counter] = now + dt.timedelta(minutes=rnd.randint(4, 16))
        clock.advance(minutes=1)
        if now.minute == 0:
            ledger.tick()


def test_two_random_days_fold_then_go(tmp_path: Path) -> None:
    """Monday folded while Tuesday is today (a mixed report), then both folded and deleted."""
    path = tmp_path / "ledger.db"
    clock = Clock(local(MONDAY, 7, 30))
    ledger = Ledger(path, SETTINGS, clock=clock)
    rnd = random.Random(17)
    random_day(ledger, clock, MONDAY, rnd)
    random_day(ledger, clock, TUESDAY, rnd)  # the first operation of Tuesday closes Monday
    ledger.tick()
    ledger.close()
    before = all_reports(path, SETTINGS, MONDAY, TUESDAY)
    site = before["day/site"]
    assert [r["period"] for r in site] == [MONDAY.isoformat(), TUESDAY.isoformat()]
    for row in site:
        assert row["appointments_called"] > 10 and row["appointments_no_show"] > 0
        assert 0 < row["appointments_within_target"] < 1

    evening = local(TUESDAY, 17, 0)  # Tuesday is not over: only Monday folds
    assert run_fold(path, 90, evening)["folded"] == [MONDAY.isoformat()]
    assert all_reports(path, SETTINGS, MONDAY, TUESDAY) == before
    later = local(TUESDAY + dt.timedelta(days=1), 2, 0)
    result = run_fold(path, 0, later)
    assert (result["folded"], result["deleted_days"]) == (
        [TUESDAY.isoformat()],
        [TUESDAY.isoformat(), MONDAY.isoformat()],  # folded and deleted at once; then Monday's rows
    )
    assert result["deleted_visits"] > 40
    kept = stored(path)
    assert (kept["tickets"], kept["appointments"]) == (0, 0)
    assert all_reports(path, SETTINGS, MONDAY, TUESDAY) == before
    assert run_fold(path, 0, later)["folded"] == []
    assert stored(path) == kept


# --- the fall-back night and a visit near midnight ------------------------------------------------


def test_fall_back_night_and_a_visit_at_midnight(tmp_path: Path) -> None:
    """Sunday 25 October 2026 has two 02:00 hours. B (02:30, first) is called after 60 s, C
    (02:30, second) after 15 minutes: each in its own hour row. E (23:55) never comes and the
    fold runs at 00:02, before its grace is over: the day is over, so E is a no-show before and
    after the fold, as a report made at that minute says too."""
    sunday = dt.date(2026, 10, 25)
    path = tmp_path / "ledger.db"
    clock = Clock(local(sunday, 0, 30))
    ledger = Ledger(path, example(), clock=clock)
    ledger.set_site_open(True)
    refs = {
        name: ledger.book(dep, start, source="test").reference
        for name, dep, start in (
            ("A", "nav", local(sunday, 1, 30)),
            ("B", "nav", local(sunday, 2, 30)),
            ("C", "nav", local(sunday, 2, 30, fold=1)),
            ("D", "byggesak", local(sunday, 3, 30)),
            ("E", "bolig", local(sunday, 23, 55)),
        )
    }
    steps: list[tuple[dt.datetime, Any]] = [
        (local(sunday, 1, 25), lambda: ledger.check_in(refs["A"])),
        (local(sunday, 1, 33), lambda: ledger.next("1")),
        (local(sunday, 2, 20), lambda: ledger.check_in(refs["B"])),
        (local(sunday, 2, 31), lambda: ledger.next("1")),
        (local(sunday, 2, 10, fold=1), lambda: ledger.issue("nav")),
        (local(sunday, 2, 29, fold=1), lambda: ledger.check_in(refs["C"])),
        (local(sunday, 2, 45, fold=1), lambda: ledger.next("1")),
        (local(sunday, 3, 0), lambda: ledger.next("1")),
        (local(sunday, 3, 20), lambda: ledger.check_in(refs["D"])),
        (local(sunday, 3, 34), lambda: ledger.next("3")),
        (local(sunday, 3, 50), lambda: ledger.done("3")),
        (local(sunday, 4, 0), lambda: ledger.done("1")),
        (local(sunday + dt.timedelta(days=1), 0, 1), ledger.tick),
    ]
    for when, step in steps:
        clock.set(when)
        step()
    ledger.close()
    settings = example()
    before = all_reports(path, settings, sunday, sunday)
    hours = {r["period"]: r for r in before["hour/department"] if r["department"] == "nav"}
    assert [
        hours[h]["appointments_wait_max_s"] for h in ("2026-10-25T01:00+02:00", "2026-10-25T02:00+02:00")
    ] == [
        180,
        60,
    ]
    second = hours["2026-10-25T02:00+01:00"]
    assert (second["appointments"], second["appointments_within_target"], second["issued"]) == (
        1,
        0.0,
        2,
    )  # W, C
    (day,) = before["day/site"]
    assert [day[k] for k in FIGURES] == [5, 4, 4, 1, 0.75, 900]  # E is the no-show; C missed

    just_after = local(sunday + dt.timedelta(days=1), 0, 2)  # E's start + grace is 00:05
    conn = schema.connect_reader(path)
    try:  # a report at that minute, over the rows
        aggs = collect(conn, settings.site.tz, sunday, sunday)
        visits = collect_visits(conn, settings, sunday, sunday, now=just_after)
    finally:
        conn.close()
    rows = combine(aggs, settings.site.tz, "day", "site", wait_target_s=settings.site.wait_target_min * 60)
    assert merge_visits(rows, visits, settings, "day", "site") == before["day/site"]
    result = run_fold(path, 0, just_after, settings)
    assert (result["folded"], result["deleted_visits"]) == ([sunday.isoformat()], 5)
    assert all_reports(path, settings, sunday, sunday) == before
    # A changed target applies to folded days too: the waits are kept, not the share.
    stricter = dataclasses.replace(
        settings, appointments=dataclasses.replace(settings.appointments, target_min=1)
    )
    conn = schema.connect_reader(path)
    try:
        (strict,) = report(conn, stricter, sunday, sunday, "day", "site")
    finally:
        conn.close()
    assert strict["appointments_within_target"] == 0.25  # only B (60 s) within 1 minute


def test_a_day_folded_before_the_visits_were_takes_them_at_the_next_fold(tmp_path: Path) -> None:
    """A file whose fold ran before migration 9: the day's walk-ins are in ``hourly_stats`` and
    its visits only in their rows. Reports read them from the rows; the next fold aggregates them
    (without folding the walk-ins twice) and may then delete the rows."""
    path = tmp_path / "ledger.db"
    known_day(path)
    before = all_reports(path, SETTINGS, MONDAY, MONDAY)
    run_fold(path, 90, local(TUESDAY, 12, 0))
    walk_ins = stored(path)["hourly_stats"]
    with sqlite3.connect(path) as conn:  # as the older fold left it
        conn.execute("DELETE FROM hourly_visits")
        conn.execute("DELETE FROM stats_visit_days")
    assert all_reports(path, SETTINGS, MONDAY, MONDAY) == before
    result = run_fold(path, 0, local(TUESDAY, 12, 0))
    assert (result["folded"], result["deleted_days"], result["deleted_visits"]) == (
        [MONDAY.isoformat()],
        [MONDAY.isoformat()],
        7,
    )
    after = stored(path)
    assert after["hourly_stats"] == walk_ins and after["hourly_visits"] != []
    assert (after["tickets"], after["appointments"]) == (0, 0)
    assert all_reports(path, SETTINGS, MONDAY, MONDAY) == before
