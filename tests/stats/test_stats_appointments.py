"""A simulated day of walk-ins and booked visits: the report's two promises against the test's count.

Four counters work through a Monday at the seeds' targets (walk-ins should wait at most 15
minutes, booked visits be met within 5 of their time): walk-ins arrive at random, visits are
booked every 20 minutes in two departments and their visitors arrive early, on time, a little
late, or not at all. The test keeps its own tally of every first call and checks the report's
shares (per site, per department, per counter), its no-shows and its CSV against it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

from nummerlapp.common.errors import Conflict
from nummerlapp.server.ledger import Ledger, Ticket, schema
from nummerlapp.server.stats import report
from nummerlapp.server.stats.cli import to_csv
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, example, with_site_hours

SETTINGS = with_site_hours(example(), dt.time(8, 0), dt.time(16, 0))
WALK_IN_S = 15 * 60
BOOKED_S = SETTINGS.appointments.target_min * 60


class Tally:
    def __init__(self) -> None:
        self.walk: dict[str, list[int]] = defaultdict(list)  # department -> waits
        self.booked: dict[str, list[int]] = defaultdict(list)
        self.booked_by_counter: dict[str, list[int]] = defaultdict(list)
        self.visits: dict[str, int] = defaultdict(int)
        self.no_shows: dict[str, int] = defaultdict(int)


def share(waits: list[int], limit: int) -> float | None:
    return round(sum(w <= limit for w in waits) / len(waits), 4) if waits else None


def book_day(ledger: Ledger, rnd: random.Random, tally: Tally) -> dict[dt.datetime, list[str]]:
    """Visits every 20 (byggesak) or 40 (nav) minutes; when each visitor arrives, if at all."""
    arrivals: dict[dt.datetime, list[str]] = defaultdict(list)
    for dep in ("byggesak", "nav"):
        start = at(MONDAY, 8, 40)
        while start < at(MONDAY, 15, 0):
            visit = ledger.book(dep, start, source="test")
            tally.visits[dep] += 1
            fate = rnd.random()
            if fate < 0.1:  # never comes
                tally.no_shows[dep] += 1
            else:
                offset = rnd.choice([-20, -12, -5, -1, 0, 2, 6, 9]) if fate < 0.9 else 14  # 14: too late
                arrivals[start + dt.timedelta(minutes=offset)].append(visit.reference)
            start += dt.timedelta(minutes=20 if dep == "byggesak" else 40)
    return arrivals


def record(tally: Tally, counter: str, ticket: Ticket) -> None:
    """The test's own count of one first call."""
    assert ticket.called_at is not None
    if ticket.appointment is None:
        tally.walk[ticket.department].append(int((ticket.called_at - ticket.issued_at).total_seconds()))
        return
    start = dt.datetime.fromisoformat(ticket.appointment.start)
    wait = int((ticket.called_at - max(start, ticket.issued_at)).total_seconds())
    tally.booked[ticket.department].append(wait)
    tally.booked_by_counter[counter].append(wait)


def simulate(path: Path, seed: int = 15) -> Tally:
    rnd = random.Random(seed)
    clock = Clock(at(MONDAY, 8, 0))
    ledger = Ledger(path, SETTINGS, clock=clock)
    tally = Tally()
    arrivals = book_day(ledger, rnd, tally)
    busy_until = {c.id: clock.now for c in SETTINGS.counters}
    while clock.now < at(MONDAY, 16, 30):
        now = clock.now
        if now < at(MONDAY, 15, 30) and rnd.random() < 0.35:
            ledger.issue(rnd.choice(["nav", "bolig", "byggesak", "tolk"]))
        for ref in arrivals.pop(now, []):
            try:
                ledger.check_in(ref)
            except Conflict as exc:
                assert exc.code == "too_late"
                tally.no_shows[ledger.appointment(ref).department] += 1
        for counter, free in busy_until.items():
            ticket = ledger.next(counter) if now >= free else None
            if ticket is not None:
                record(tally, counter, ticket)
                busy_until[counter] = now + dt.timedelta(minutes=rnd.randint(3, 11))
        clock.advance(minutes=1)
        if now.minute == 0:
            ledger.tick()
    ledger.tick()
    ledger.close()
    return tally


def test_a_day_of_walk_ins_and_booked_visits(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    tally = simulate(path)
    all_walk = [w for ws in tally.walk.values() for w in ws]
    all_booked = [w for ws in tally.booked.values() for w in ws]
    assert len(all_booked) > 20 and len(all_walk) > 50
    assert 0 < sum(w <= BOOKED_S for w in all_booked) < len(all_booked)  # some promises missed, most kept
    conn = schema.connect_reader(path)
    try:
        site = report(conn, SETTINGS, MONDAY, MONDAY, "day", "site")
        per_dep = {r["department"]: r for r in report(conn, SETTINGS, MONDAY, MONDAY, "day", "department")}
        per_counter = {r["counter"]: r for r in report(conn, SETTINGS, MONDAY, MONDAY, "day", "counter")}
        hourly = report(conn, SETTINGS, MONDAY, MONDAY, "hour", "department")
    finally:
        conn.close()
    (day,) = site
    assert day["within_target"] == share(all_walk, WALK_IN_S)  # walk-ins: 15 minutes
    assert day["called"] == len(all_walk)  # booked visits are not in the walk-in figures
    assert day["appointments_within_target"] == share(all_booked, BOOKED_S)  # booked: 5 minutes
    assert day["appointments_called"] == len(all_booked)
    assert day["appointments"] == sum(tally.visits.values())
    assert day["appointments_no_show"] == sum(tally.no_shows.values())
    assert day["appointments_wait_max_s"] == max(all_booked)
    for dep, row in per_dep.items():
        assert row["within_target"] == share(tally.walk[dep], WALK_IN_S), dep
        assert row["appointments_within_target"] == share(tally.booked[dep], BOOKED_S), dep
        assert row["appointments_no_show"] == tally.no_shows.get(dep, 0), dep
    for counter, waits in tally.booked_by_counter.items():
        assert per_counter[counter]["appointments_within_target"] == share(waits, BOOKED_S), counter
    assert sum(r["appointments"] for r in hourly) == day["appointments"]
    assert sum(r["appointments_called"] for r in hourly) == len(all_booked)
    header = to_csv(list(per_dep.values())).splitlines()[0].split(",")
    assert {"within_target", "appointments_within_target", "appointments_no_show"} <= set(header)
