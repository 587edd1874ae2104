"""Booked visits mixed at random with walk-ins, early, on-time and late check-ins, cancellations,
transfers, calls and day changes, against a small model (hypothesis' state machine).

After every step: no two live tickets share a number, nothing is called twice (``next`` only
ever takes a ticket that was waiting), and a due, checked-in visit is never passed over by a
walk-in: when ``next`` calls a walk-in, no held visit ticket of the counter's departments had
reached its start; when some had, ``next`` called the one with the oldest start.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.config.hours import service_day
from nummerlapp.server.ledger import Ledger
from nummerlapp.server.ledger.appointments import HELD_SQL
from nummerlapp.server.ledger.models import LIVE
from nummerlapp.tests.ledger.ledgerfixtures import (
    MONDAY,
    Clock,
    at,
    example,
    machine_dir,
    with_max,
    with_site_hours,
)

SETTINGS = with_max(with_site_hours(example(), dt.time(7, 0), dt.time(21, 0)), byggesak=20, bolig=20)
DEPS = ("nav", "byggesak", "bolig")
COUNTERS = tuple(c.id for c in SETTINGS.counters)
GRACE = dt.timedelta(minutes=SETTINGS.appointments.grace_min)
TZ = SETTINGS.site.tz


def db(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


class AppointmentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = machine_dir("appt-sm-")
        self.path = self.dir / "ledger.db"
        self.clock = Clock(at(MONDAY, 9, 0))
        self.ledger = Ledger(self.path, SETTINGS, clock=self.clock)
        self.check = sqlite3.connect(str(self.path), isolation_level=None)
        self.visits: dict[str, dict[str, Any]] = {}  # reference -> start, dept, state
        self.called: set[str] = set()  # tickets called at least once (by next)

    def _today(self) -> dt.date:
        return service_day(self.clock.now, TZ)

    def _roll(self) -> None:
        """A new service day voids yesterday's live tickets; the model forgets their calls."""
        if any(v["day"] != self._today() for v in self.visits.values() if v["state"] == "checked_in"):
            for v in self.visits.values():
                if v["state"] == "checked_in" and v["day"] != self._today():
                    v["state"] = "over"

    # -- rules ------------------------------------------------------------------------------

    @rule(dep=st.sampled_from(DEPS))
    def walk_in(self, dep: str) -> None:
        try:
            self.ledger.issue(dep)
        except Conflict as exc:
            event(f"issue refused: {exc.code}")

    @rule(dep=st.sampled_from(DEPS), minutes=st.integers(min_value=-40, max_value=180))
    def book(self, dep: str, minutes: int) -> None:
        start = (self.clock.now + dt.timedelta(minutes=minutes)).replace(second=0, microsecond=0)
        visit = self.ledger.book(dep, start)
        self.visits[visit.reference] = {
            "start": start,
            "dept": dep,
            "state": "booked",
            "seq": len(self.visits),
            "day": service_day(start, TZ),
        }

    @rule(dep=st.sampled_from(DEPS), minutes=st.integers(min_value=-14, max_value=30))
    def book_and_arrive(self, dep: str, minutes: int) -> None:
        """The usual visit: booked for about now, the visitor arrives early, on time or late."""
        self.book(dep, minutes)
        self._check_in(max(self.visits, key=lambda r: self.visits[r]["seq"]))

    @precondition(lambda self: bool(self.visits))
    @rule(data=st.data())
    def check_in(self, data: st.DataObject) -> None:
        self._check_in(data.draw(st.sampled_from(sorted(self.visits))))

    def _check_in(self, ref: str) -> None:
        v = self.visits[ref]
        now = self.clock.now
        if v["state"] == "cancelled":
            expected = "cancelled"
        elif v["state"] != "booked":
            expected = "already_checked_in"
        elif v["day"] != self._today():
            expected = "not_today"
        elif now > v["start"] + GRACE:
            expected = "too_late"
        else:
            expected = None
        try:
            ticket = self.ledger.check_in(ref.lower())
        except Conflict as exc:
            assert exc.code == expected, (exc.code, expected, v, now)
            event(f"check-in refused: {exc.code}")
            return
        assert expected is None, (expected, v, now)
        assert ticket.appointment is not None and ticket.appointment.reference == ref
        event("checked in early" if now < v["start"] else "checked in on time")
        v["state"] = "checked_in"

    @precondition(lambda self: bool(self.visits))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(sorted(self.visits)))
        v = self.visits[ref]
        try:
            self.ledger.cancel_appointment(ref)
        except Conflict as exc:
            assert exc.code == "already_checked_in" and v["state"] in ("checked_in", "over")
            return
        assert v["state"] in ("booked", "cancelled")
        v["state"] = "cancelled"

    def _due(self, counter: str) -> list[tuple[str, str, int]]:
        c = SETTINGS.counter(counter)
        assert c is not None
        marks = ",".join("?" * len(c.departments))
        return self.check.execute(
            f"""SELECT id, appt_start, order_seq FROM tickets WHERE department IN ({marks})
                AND status = 'waiting' AND {HELD_SQL} AND appt_start <= ? ORDER BY appt_start, order_seq""",
            (*c.departments, db(self.clock.now)),
        ).fetchall()

    @rule(counter=st.sampled_from(COUNTERS))
    def next(self, counter: str) -> None:
        self.ledger.tick()  # rolls the day over first, as the server's minute tick does
        due = self._due(counter)
        waiting = {r[0] for r in self.check.execute("SELECT id FROM tickets WHERE status = 'waiting'")}
        ticket = self.ledger.next(counter)
        if ticket is None:
            assert not due
            return
        assert ticket.id in waiting, "called a ticket that was not waiting"
        if due:
            assert ticket.id == due[0][0], "a due booked visit was passed over"
            event("due visit called first")
        else:
            held = ticket.appointment is not None and ticket.id not in self.called
            assert not held, "a visit was called before its time"
        self.called.add(ticket.id)

    @rule(counter=st.sampled_from(COUNTERS), dep=st.sampled_from(DEPS))
    def call_and_transfer(self, counter: str, dep: str) -> None:
        self.next(counter)
        try:
            self.ledger.transfer(counter, dep)
            event("transferred")
        except Conflict as exc:
            assert exc.code == "no_current_ticket"

    @rule(counter=st.sampled_from(COUNTERS))
    def done(self, counter: str) -> None:
        try:
            self.ledger.done(counter)
        except Conflict as exc:
            assert exc.code == "no_current_ticket"

    @rule(
        minutes=st.one_of(st.integers(min_value=1, max_value=15), st.integers(min_value=60, max_value=1440))
    )
    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.ledger.tick()
        self._roll()

    @rule()
    def unknown_reference(self) -> None:
        try:
            self.ledger.check_in("ABCDEFGH" if "ABCDEFGH" not in self.visits else "HGFEDCBA")
        except NotFound as exc:
            assert exc.code == "unknown_appointment"

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def live_numbers_unique(self) -> None:
        marks = ",".join("?" * len(LIVE))
        numbers = [
            r[0] for r in self.check.execute(f"SELECT number FROM tickets WHERE status IN ({marks})", LIVE)
        ]
        assert len(numbers) == len(set(numbers))

    @invariant()
    def one_ticket_per_visit(self) -> None:
        rows = self.check.execute(
            "SELECT a.reference, t.appointment FROM appointments a JOIN tickets t ON t.id = a.ticket"
        ).fetchall()
        assert all(ref == on_ticket for ref, on_ticket in rows)
        tickets = [
            r[0] for r in self.check.execute("SELECT ticket FROM appointments WHERE ticket IS NOT NULL")
        ]
        assert len(tickets) == len(set(tickets))

    @invariant()
    def no_show_after_grace(self) -> None:
        listed = {a.reference: a for a in self.ledger.appointments_on(self._today())}
        for ref, v in self.visits.items():
            if ref in listed and v["state"] == "booked" and self.clock.now > v["start"] + GRACE:
                assert listed[ref].status == "no_show"

    def teardown(self) -> None:
        self.ledger.close()
        self.check.close()
        shutil.rmtree(self.dir, ignore_errors=True)


AppointmentMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestAppointmentsStateful = AppointmentMachine.TestCase
