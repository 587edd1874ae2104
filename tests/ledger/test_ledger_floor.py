"""Issue 17 in the ledger: call out of turn, park and call back, the silent alarms' log, a
department closed by hand, the manager's live view, and the migration that made room for them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.server.ledger import Ledger, schema
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, raw, seqs

MakeLedger = Callable[..., Ledger]


def test_call_out_of_turn_by_number_closes_the_current_one(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    first, second, third = (ledger.issue("nav") for _ in range(3))
    assert ledger.next("1").id == first.id  # type: ignore[union-attr]
    events: list[str] = []
    ledger.add_listener(lambda batch: events.extend(e.type for e in batch))
    called = ledger.call("1", "a3")  # "a3" reads as A003
    assert (called.id, called.status, called.counter.id) == (third.id, "called", "1")  # type: ignore[union-attr]
    assert ledger.ticket(first.id).status == "done"
    assert events == ["ticket.done", "ticket.called"]
    assert ledger.state().departments[0].waiting == 1  # only the second waits now
    assert ledger.next("1").id == second.id  # type: ignore[union-attr]


def test_call_refusals(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    nav = ledger.issue("nav")
    bygg = ledger.issue("byggesak")
    ledger.next("1")
    with pytest.raises(NotFound) as missing:
        ledger.call("1", "A999")
    assert missing.value.code == "unknown_ticket"
    with pytest.raises(NotFound):  # a ticket of a department counter 1 does not serve
        ledger.call("1", bygg.number)
    with pytest.raises(Conflict) as busy:  # being called (by counter 1 itself)
        ledger.call("1", nav.number)
    assert busy.value.code == "not_waiting"
    ledger.done("1")
    with pytest.raises(Conflict) as done:
        ledger.call("1", nav.id)
    assert done.value.code == "not_waiting"
    ledger.pause("1")
    with pytest.raises(Conflict) as paused:
        ledger.call("1", "A001")
    assert paused.value.code == "counter_paused"


def test_park_skips_the_ticket_keeps_its_number_and_call_brings_it_back(
    make_ledger: MakeLedger, clock: Clock
) -> None:
    ledger = make_ledger()
    first, second = ledger.issue("nav"), ledger.issue("nav")
    ledger.next("1")
    events: list[str] = []
    ledger.add_listener(lambda batch: events.extend(e.type for e in batch))
    parked = ledger.park("1")
    assert (parked.id, parked.status) == (first.id, "parked")
    assert events == ["ticket.parked", "counter.changed"]
    assert ledger.counter("1").ticket is None
    assert [t.number for t in ledger.parked("1")] == [first.number]
    assert [t.number for t in ledger.parked("2")] == [first.number]  # counter 2 serves NAV too
    assert ledger.next("1").id == second.id  # type: ignore[union-attr]  # next skips the parked one
    # the number stays live: the unique index covers parked tickets
    with raw(ledger.path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, service_day,"
            " issued_at, order_at, order_seq) VALUES ('t_x', ?, 1, 9, 'nav', 'nav', 'waiting', 'nb',"
            " '2026-11-23', 'x', 'x', 0)",
            (first.number,),
        )
    clock.advance(minutes=4)
    back = ledger.call("1", first.number)
    assert (back.id, back.status) == (first.id, "called")
    assert ledger.ticket(second.id).status == "done"
    assert ledger.parked("1") == []
    with pytest.raises(Conflict):
        ledger.park("2")  # counter 2 has no current ticket


def test_parked_tickets_are_voided_at_the_new_day(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    ticket = ledger.issue("nav")
    ledger.next("1")
    ledger.park("1")
    clock.set(at(MONDAY, 9) + dt.timedelta(days=1))
    assert ledger.ticket(ticket.id).status == "void"


def test_alarms_take_no_seq_and_are_logged_without_names(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    ledger.issue("nav")
    before = seqs(ledger.path)
    alarm = ledger.raise_alarm("2")
    again = ledger.raise_alarm("2")  # a standing alarm is not doubled
    assert again.id == alarm.id and alarm.counter.name == "Skranke 2"
    assert [a.id for a in ledger.open_alarms()] == [alarm.id]
    clock.advance(minutes=2)
    cleared = ledger.clear_alarm(alarm.id)
    assert cleared.id == alarm.id and ledger.open_alarms() == []
    assert seqs(ledger.path) == before  # no event of the site-wide sequence
    log = ledger.alarm_log()
    assert [(e["counter"]["id"], e["at"], e["cleared_at"]) for e in log] == [
        ("2", "2026-11-23T09:00:00+01:00", "2026-11-23T09:02:00+01:00")
    ]
    with raw(ledger.path) as conn:
        assert [r[1] for r in conn.execute("PRAGMA table_info(alarms)")] == [
            "id",
            "counter",
            "service_day",
            "raised_at",
            "cleared_at",
        ]
    with pytest.raises(NotFound):
        ledger.clear_alarm("al_nope")
    with pytest.raises(NotFound):
        ledger.raise_alarm("99")


def test_a_department_closed_for_the_rest_of_the_day(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    events: list[str] = []
    ledger.add_listener(lambda batch: events.extend(e.type for e in batch))
    closed = ledger.set_department_open("bolig", False)
    assert closed.open is False and events == ["department.changed"]
    with pytest.raises(Conflict) as refused:
        ledger.issue("bolig")
    assert refused.value.code == "department_closed"
    ledger.issue("nav")  # the others go on
    assert ledger.tick() == []  # the hours do not undo it
    clock.set(at(MONDAY, 9) + dt.timedelta(days=1))
    ledger.issue("bolig")  # the next service day follows the hours again
    clock.set(at(MONDAY, 7))  # before opening (a new ledger day)
    other = make_ledger()
    other.set_department_open("tolk", True)  # its own hours start at 09:00; the site's still rule
    with pytest.raises(Conflict):
        other.issue("tolk")


def test_live_view_names_who_will_pass_the_target_and_when(make_ledger: MakeLedger, clock: Clock) -> None:
    ledger = make_ledger()
    clock.set(at(MONDAY, 9, 0))
    early = ledger.issue("nav")
    clock.set(at(MONDAY, 9, 10))
    late = ledger.issue("nav")
    ledger.issue("bolig")
    clock.set(at(MONDAY, 9, 14))
    ledger.next("2")  # counter 2 takes the oldest: A001
    assert ledger.counter("2").ticket.id == early.id  # type: ignore[union-attr]
    clock.set(at(MONDAY, 9, 20))
    view = ledger.live_view().to_json()
    nav = next(d for d in view["departments"] if d["id"] == "nav")
    assert nav["waiting"] == 1 and nav["longest_wait_s"] == 600
    # 5 min per service (no service finished yet), two open counters serve NAV: expected at
    # 09:20 + 2.5 min, before 09:25 when A002 passes the 15-minute target -> not at risk.
    assert nav["at_risk"] == []
    clock.set(at(MONDAY, 9, 24))
    nav = next(d for d in ledger.live_view().to_json()["departments"] if d["id"] == "nav")
    assert nav["at_risk"] == [
        {
            "number": late.number,
            "waiting_since": "2026-11-23T09:10:00+01:00",
            "waited_s": 840,
            "passes_at": "2026-11-23T09:25:00+01:00",
            "expected_call_at": "2026-11-23T09:26:30+01:00",
            "over": False,
        }
    ]
    counters = {c["id"]: c for c in ledger.live_view().to_json()["counters"]}
    assert counters["2"]["ticket"]["number"] == early.number and counters["2"]["idle_s"] is None
    assert counters["1"]["ticket"] is None and counters["1"]["idle_s"] is None  # not used today
    ledger.done("2")
    clock.advance(minutes=3)
    counters = {c["id"]: c for c in ledger.live_view().to_json()["counters"]}
    assert counters["2"]["idle_s"] == 180


def test_migration_4_keeps_rows_and_widens_the_status(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.configure(conn)
    db = sqlite_utils.Database(conn)
    db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
    for number, name, step in schema.MIGRATIONS[:3]:
        step(db)
        conn.execute("INSERT INTO migrations VALUES (?, ?, 't')", (number, name))
    conn.execute(
        "INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, service_day,"
        " issued_at, order_at, order_seq, follow_hash) VALUES ('t_old', 'A001', 1, 1, 'nav', 'nav',"
        " 'waiting', 'nb', '2026-11-23', 'x', 'x', 1, 'h')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE tickets SET status = 'parked'")
    conn.close()
    conn = schema.connect(path)
    assert conn.execute("SELECT id, follow_hash, rewait_s FROM tickets").fetchall() == [("t_old", "h", None)]
    conn.execute("UPDATE tickets SET status = 'parked'")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'tickets'")}
    assert {"tickets_live_number", "tickets_queue", "tickets_done", "tickets_follow"} <= names
    index_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tickets_live_number'").fetchone()[0]
    assert "'parked'" in index_sql
    conn.close()
