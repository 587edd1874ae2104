"""Random interleavings of every ledger operation against a small model of the rules.

The model knows statuses, numbers, queue order and counters; after every step the test reads the
SQLite file through its own connection and checks the invariants: no two live tickets share a
number, every ticket is in exactly the state the model expects, ``seq`` rises by one with no gap
(in the file and as listeners saw it), a transfer keeps ``order_at``. Time moves in random steps
across closing hours and service days; two departments have max_number 9 so numbers wrap and the
queue fills up. The ledger is also closed and reopened at random (a restart).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from nummerlapp.common.errors import Conflict
from nummerlapp.config.hours import SiteHours
from nummerlapp.server.ledger import Ledger, LedgerReader
from nummerlapp.server.ledger.models import LIVE, STATUSES, Event
from nummerlapp.tests.ledger.ledgerfixtures import (
    MONDAY,
    Clock,
    at,
    example,
    machine_dir,
    with_max,
    with_site_hours,
)

SETTINGS = with_max(with_site_hours(example(), dt.time(7, 0), dt.time(21, 0)), nav=9, bolig=9)
DEPS = ("nav", "bolig", "byggesak", "tolk")
COUNTERS = tuple(c.id for c in SETTINGS.counters)
HOURS = SiteHours(SETTINGS)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = machine_dir("ledger-sm-")
        self.path = self.dir / "ledger.db"
        self.clock = Clock(at(MONDAY, 7, 30))
        self.seen: list[int] = []
        self.last_event: Event | None = None
        self.ledger = self._open()
        self.check = sqlite3.connect(str(self.path), isolation_level=None)
        # the model
        self.tickets: dict[str, dict[str, Any]] = {}  # id -> status, dept, number, order_at, order
        self.current: dict[str, str | None] = dict.fromkeys(COUNTERS)
        self.paused: set[str] = set()
        self.last_num: dict[str, int] = {}
        self.day = self._today()
        self.override: tuple[dt.date, bool] | None = None
        self.issued = 0

    def _open(self) -> Ledger:
        ledger = Ledger(self.path, SETTINGS, clock=self.clock)
        # events made while opening (a day change) are caught up the way clients do it
        self.seen.extend(e.seq for e in ledger.events_after(self.seen[-1] if self.seen else 0))
        ledger.add_listener(self._heard)
        return ledger

    def _heard(self, events: list[Event]) -> None:
        self.seen.extend(e.seq for e in events)
        self.last_event = events[-1]

    def _today(self) -> dt.date:
        return self.clock.now.astimezone(SETTINGS.site.tz).date()

    def _roll(self) -> None:
        """The ledger's lazy day change, as the model sees it."""
        if self._today() != self.day:
            event("service day changed")
            self.day = self._today()
            self._void_all()
            self.last_num = {}

    def _void_all(self) -> None:
        for t in self.tickets.values():
            if t["status"] in LIVE:
                t["status"] = "void"
        self.current = dict.fromkeys(COUNTERS)

    def _override_now(self) -> bool | None:
        if self.override is not None and self.override[0] == self._today():
            return self.override[1]
        return None

    # ------------------------------------------------------------------ rules

    @rule(dep=st.sampled_from(DEPS))
    def issue(self, dep: str) -> None:
        self._roll()
        refusal = HOURS.refusal(dep, self.clock.now, self._override_now())
        d = SETTINGS.department(dep)
        assert d is not None
        live = {t["number"] for t in self.tickets.values() if t["status"] in LIVE}
        expected = None
        n = self.last_num.get(dep, 0)
        for _ in range(d.max_number):
            n = n % d.max_number + 1
            if d.format_number(n) not in live:
                expected = n
                break
        try:
            ticket = self.ledger.issue(dep)
        except Conflict as exc:
            if refusal is not None:
                assert exc.code == refusal.code
            else:
                assert exc.code == "queue_full" and expected is None
                event("queue_full")
            event(f"issue refused: {exc.code}")
            return
        assert refusal is None and expected is not None
        assert ticket.number == d.format_number(expected)
        if expected <= self.last_num.get(dep, 0):
            event("number wrapped")
        self.last_num[dep] = expected
        self.issued += 1
        self.tickets[ticket.id] = {
            "status": "waiting",
            "dept": dep,
            "number": ticket.number,
            "order_at": self.clock.now,
            "order": self.issued,
        }

    @rule(dep=st.sampled_from(("nav", "bolig")), n=st.integers(min_value=2, max_value=12))
    def burst(self, dep: str, n: int) -> None:
        """A queue forms: several tickets in a row in a small department (reaches the wrap)."""
        for _ in range(n):
            self.issue(dep)

    def _expect_next(self, counter_id: str) -> str | None:
        counter = SETTINGS.counter(counter_id)
        assert counter is not None
        best = None
        for dep in counter.departments:
            waiting = [
                (t["order_at"], t["order"], tid)
                for tid, t in self.tickets.items()
                if t["status"] == "waiting" and t["dept"] == dep
            ]
            if not waiting:
                continue
            order_at, order, tid = min(waiting)
            priority = SETTINGS.department(dep).priority  # type: ignore[union-attr]
            age = max((self.clock.now - order_at).total_seconds(), 0.0)
            key = (-age * priority, order_at, order, tid)
            if best is None or key < best:
                best = key
        return None if best is None else best[3]

    @rule(counter=st.sampled_from(COUNTERS))
    def next(self, counter: str) -> None:
        self._roll()
        if counter in self.paused:
            try:
                self.ledger.next(counter)
            except Conflict as exc:
                assert exc.code == "counter_paused"
                return
            raise AssertionError("next on a paused counter must be refused")
        current = self.current[counter]
        if current is not None:
            self.tickets[current]["status"] = "done"
            self.current[counter] = None
        expected = self._expect_next(counter)
        ticket = self.ledger.next(counter)
        assert (ticket.id if ticket else None) == expected
        if ticket is not None:
            self.tickets[ticket.id]["status"] = "called"
            self.current[counter] = ticket.id

    def _with_current(self, counter: str, action: Any, *args: Any) -> Any:
        self._roll()
        if self.current[counter] is None:
            try:
                action(counter, *args)
            except Conflict as exc:
                assert exc.code == "no_current_ticket"
                return None
            raise AssertionError("an action without a current ticket must be refused")
        return action(counter, *args)

    @rule(counter=st.sampled_from(COUNTERS), status=st.sampled_from(["done", "no_show"]))
    def finish(self, counter: str, status: str) -> None:
        action = self.ledger.done if status == "done" else self.ledger.no_show
        ticket = self._with_current(counter, action)
        if ticket is not None:
            assert ticket.id == self.current[counter] and ticket.status == status
            self.tickets[ticket.id]["status"] = status
            self.current[counter] = None

    @rule(counter=st.sampled_from(COUNTERS))
    def recall(self, counter: str) -> None:
        ticket = self._with_current(counter, self.ledger.recall)
        if ticket is not None:
            assert ticket.id == self.current[counter]

    @rule(counter=st.sampled_from(COUNTERS))
    def serve(self, counter: str) -> None:
        ticket = self._with_current(counter, self.ledger.start_serving)
        if ticket is not None:
            self.tickets[ticket.id]["status"] = "serving"

    @rule(counter=st.sampled_from(COUNTERS), dep=st.sampled_from(DEPS))
    def transfer(self, counter: str, dep: str) -> None:
        ticket = self._with_current(counter, self.ledger.transfer, dep)
        if ticket is not None:
            model = self.tickets[ticket.id]
            assert ticket.number == model["number"] and ticket.department == dep
            model.update(status="waiting", dept=dep)
            event("transferred")
            self.current[counter] = None

    @rule(counter=st.sampled_from(COUNTERS), dep=st.sampled_from(DEPS))
    def call_and_transfer(self, counter: str, dep: str) -> None:
        """The desk's hand-on ("formidling"): call someone, send them on to another department."""
        self.next(counter)
        self.transfer(counter, dep)

    @rule(counter=st.sampled_from(COUNTERS), pause=st.booleans())
    def pause_or_open(self, counter: str, pause: bool) -> None:
        self._roll()
        state = self.ledger.pause(counter) if pause else self.ledger.open_counter(counter)
        (self.paused.add if pause else self.paused.discard)(counter)
        assert state.state == ("paused" if pause else "open")

    @rule(value=st.sampled_from([True, False, None]))
    def site_override(self, value: bool | None) -> None:
        self._roll()
        self.ledger.set_site_open(value)
        self.override = None if value is None else (self._today(), value)

    @rule(minutes=st.one_of(st.integers(min_value=1, max_value=10), st.integers(min_value=11, max_value=600)))
    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @precondition(lambda self: self.issued > 0)
    @rule()
    def reset_day(self) -> None:
        self._roll()
        live = sum(1 for t in self.tickets.values() if t["status"] in LIVE)
        assert self.ledger.reset_day() == live
        self._void_all()
        self.last_num = {}

    @rule()
    def restart(self) -> None:
        self._roll()
        self.ledger.close()
        self.ledger = self._open()

    @rule()
    def snapshot(self) -> None:
        self._roll()
        snap = self.ledger.snapshot()
        waiting = {d["id"]: d["waiting"] for d in snap["departments"]}
        for dep in DEPS:
            assert waiting[dep] == sum(
                1 for t in self.tickets.values() if t["status"] == "waiting" and t["dept"] == dep
            )
        assert snap["seq"] == (self.seen[-1] if self.seen else 0)

    @invariant()
    def cache_agrees_with_a_fresh_connection(self) -> None:
        """The writer keeps estimate inputs cached; a new connection (no cache) must see the same."""
        if self._today() != self.day:
            return  # the writer's snapshot would roll the day over, which the model has not seen yet
        snap = self.ledger.snapshot()
        reader = LedgerReader(self.path, SETTINGS, clock=self.clock)
        try:
            fresh = reader.snapshot()
        finally:
            reader.close()
        assert fresh["departments"] == snap["departments"]
        assert fresh["counters"] == snap["counters"] and fresh["site"] == snap["site"]

    # ------------------------------------------------------------------ invariants

    @invariant()
    def file_matches_model(self) -> None:
        rows = self.check.execute("SELECT id, status, department, number, order_at FROM tickets").fetchall()
        assert len(rows) == len(self.tickets)
        for tid, status, dep, number, order_at in rows:
            model = self.tickets[tid]
            assert status in STATUSES and status == model["status"], (tid, status, model)
            assert number == model["number"]
            assert dt.datetime.fromisoformat(order_at) == model["order_at"]  # kept across transfers
            if status == "waiting":
                assert dep == model["dept"]
        live = [r[3] for r in rows if r[1] in LIVE]
        assert len(live) == len(set(live)), "two live tickets share a number"
        counters = dict(self.check.execute("SELECT id, ticket FROM counters").fetchall())
        for cid in COUNTERS:
            current = self.current[cid]
            if current is not None:
                assert counters[cid] == current

    @invariant()
    def latest_event_summaries_are_current(self) -> None:
        """Departments riding on the newest event describe the queue as it is now."""
        if self.last_event is None or self.last_event.seq != (self.seen[-1] if self.seen else 0):
            return
        data = self.last_event.encode()
        for dep in data.get("departments", []) + ([data["department"]] if "department" in data else []):
            waiting = [
                t for t in self.tickets.values() if t["status"] == "waiting" and t["dept"] == dep["id"]
            ]
            assert dep["waiting"] == len(waiting), (self.last_event.type, dep)

    @invariant()
    def seq_has_no_gaps(self) -> None:
        seqs = [r[0] for r in self.check.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))
        assert self.seen == seqs

    def teardown(self) -> None:
        self.ledger.close()
        self.check.close()
        shutil.rmtree(self.dir, ignore_errors=True)


LedgerMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerStateful = LedgerMachine.TestCase
