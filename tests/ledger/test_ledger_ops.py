"""The ledger's operations one by one, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, LedgerError, NotFound
from nummerlapp.server.ledger import InvalidArgument, Ledger, LedgerReader
from nummerlapp.server.ledger.models import Event
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, example, raw, seqs, with_max


def test_issue_numbers_per_department_zero_padded(ledger: Ledger) -> None:
    numbers = [ledger.issue("nav").number for _ in range(3)] + [ledger.issue("bolig").number]
    assert numbers == ["A001", "A002", "A003", "C001"]
    t = ledger.issue("nav", lang="en", source="kiosk-1")
    assert t.to_json()["lang"] == "en"
    assert re.fullmatch(r"t_[A-Za-z0-9_-]{22}", t.id)  # 16 random bytes = 128 bits
    assert t.to_json()["issued_at"] == "2026-11-23T09:00:00+01:00"
    assert t.ahead == 3 and t.status == "waiting"


def test_ticket_json_has_protocol_keys(ledger: Ledger) -> None:
    j = ledger.issue("nav").to_json()
    assert {
        "id",
        "number",
        "department",
        "status",
        "issued_at",
        "ahead",
        "estimated_wait_s",
        "counter",
        "called_at",
    } <= set(j)
    json.dumps(j)


def test_bad_input_changes_nothing(ledger: Ledger, db_path: Path) -> None:
    ledger.issue("nav")
    before = seqs(db_path)
    with pytest.raises(NotFound) as e:
        ledger.issue("nope")
    assert e.value.code == "unknown_department" and e.value.status == 404
    with pytest.raises(InvalidArgument):
        ledger.issue("nav", lang="xx")
    with pytest.raises(InvalidArgument):
        ledger.issue("nav", source="x" * 500)
    with pytest.raises(NotFound) as e:
        ledger.next("99")
    assert e.value.code == "unknown_counter"
    with pytest.raises(NotFound):
        ledger.transfer("1", "nope")
    with pytest.raises(NotFound) as e:
        ledger.ticket("t_doesnotexist")
    assert e.value.code == "unknown_ticket"
    with pytest.raises(InvalidArgument):
        ledger.set_site_open("yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        ledger.report_device("k1", "kiosk", {"x": float("nan")})
    assert seqs(db_path) == before
    with raw(db_path) as c:
        assert c.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_next_calls_oldest_and_closes_current(ledger: Ledger, clock: Clock) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    a = ledger.issue("bolig")
    clock.advance(minutes=1)
    b = ledger.issue("nav")
    clock.advance(minutes=1)
    first = ledger.next("2")  # serves nav and bolig: bolig's ticket is older
    assert (
        first is not None
        and first.id == a.id
        and first.status == "called"
        and first.counter == P.CounterRef(id="2", name="Skranke 2")
    )
    clock.advance(minutes=4)
    second = ledger.next("2")
    assert second is not None and second.id == b.id
    assert ledger.ticket(a.id).status == "done"
    assert [e.type for e in events[-3:]] == ["ticket.called", "ticket.done", "ticket.called"]
    called = events[-1].encode()
    assert called["ticket"] == ledger.ticket(b.id).to_json()  # the full ticket, as everywhere
    assert called["counter"] == called["ticket"]["counter"] == {"id": "2", "name": "Skranke 2"}
    done = events[-2].encode()
    assert done["counter"] == {"id": "2", "name": "Skranke 2"} and done["ticket"]["status"] == "done"
    assert ledger.next("2") is None  # closes b, nobody waits
    assert ledger.ticket(b.id).status == "done"
    assert ledger.counter("2").ticket is None


def test_priority_weights_age(make_ledger, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    ledger = make_ledger()  # counter 4 serves bolig (1.0), tolk (2.0), byggesak (1.0)
    clock.set(at(MONDAY, 10, 0))
    old = ledger.issue("bolig")
    clock.advance(minutes=4)
    young = ledger.issue("tolk")
    clock.advance(minutes=2)  # bolig waited 6 min (score 360), tolk 2 min x 2 (240)
    assert ledger.next("4").id == old.id
    assert ledger.next("4").id == young.id
    ledger.done("4")
    clock.set(at(MONDAY, 11, 0))
    old2 = ledger.issue("bolig")
    clock.advance(minutes=2)
    young2 = ledger.issue("tolk")
    clock.advance(minutes=3)  # bolig 5 min (300), tolk 3 min x 2 (360): tolk wins
    assert ledger.next("4").id == young2.id
    assert ledger.next("4").id == old2.id


def test_counter_actions_need_a_current_ticket(ledger: Ledger) -> None:
    for action in (ledger.recall, ledger.done, ledger.no_show):
        with pytest.raises(Conflict) as e:
            action("1")
        assert e.value.code == "no_current_ticket"
    with pytest.raises(Conflict):
        ledger.transfer("1", "bolig")


def test_recall_no_show_done(ledger: Ledger, db_path: Path) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    t = ledger.issue("nav")
    ledger.next("1")
    assert ledger.recall("1").id == t.id
    assert events[-1].type == "ticket.recalled" and events[-1].encode()["counter"]["name"] == "Skranke 1"
    snap = ledger.snapshot()
    assert snap["calls"][0] == {
        "number": "A001",
        "department": "nav",
        "counter": {"id": "1", "name": "Skranke 1"},
        "at": snap["calls"][0]["at"],
        "recall": True,
    }
    assert "recall" not in snap["calls"][1]
    assert ledger.no_show("1").status == "no_show"
    assert [e.type for e in events[-1:]] == ["ticket.no_show"]
    ledger.issue("nav")
    ledger.next("1")
    assert ledger.start_serving("1").status == "serving"
    assert ledger.done("1").status == "done"
    assert seqs(db_path) == list(range(1, len(seqs(db_path)) + 1))


def test_transfer_keeps_place_by_original_issue_time(ledger: Ledger, clock: Clock, db_path: Path) -> None:
    early = ledger.issue("nav")
    clock.advance(minutes=5)
    b1 = ledger.issue("bolig")
    clock.advance(minutes=5)
    ledger.next("1")  # calls early
    moved = ledger.transfer("1", "bolig")
    assert (moved.id, moved.number, moved.department, moved.status) == (early.id, "A001", "bolig", "waiting")
    assert moved.ahead == 0 and ledger.ticket(b1.id).ahead == 1
    assert moved.order_at == early.issued_at and moved.transfers == 1 and moved.transferred_from == "nav"
    assert ledger.counter("1").ticket is None
    clock.advance(minutes=2)
    assert ledger.next("4").id == early.id  # type: ignore[union-attr]
    with raw(db_path) as c:
        first_called, called = c.execute(
            "SELECT first_called_at, called_at FROM tickets WHERE id=?", (early.id,)
        ).fetchone()
    assert first_called < called


def test_pause_and_open(ledger: Ledger) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    ledger.issue("nav")
    state = ledger.pause("1")
    assert state.state == "paused" and events[-1].type == "counter.changed"
    assert events[-1].encode()["counter"]["state"] == "paused"
    n = len(events)
    ledger.pause("1")  # already paused: no event
    assert len(events) == n
    with pytest.raises(Conflict) as e:
        ledger.next("1")
    assert e.value.code == "counter_paused"
    assert ledger.open_counter("1").state == "open"
    assert ledger.next("1") is not None


def test_wrap_skips_live_numbers_and_queue_full(make_ledger) -> None:  # type: ignore[no-untyped-def]
    ledger = make_ledger(with_max(example(), nav=9))
    tickets = [ledger.issue("nav") for _ in range(9)]
    assert [t.number for t in tickets] == [f"A{i}" for i in range(1, 10)]
    with pytest.raises(Conflict) as e:
        ledger.issue("nav")
    assert e.value.code == "queue_full"
    ledger.next("1")  # A1 called (still live)
    ledger.next("1")  # A1 done, A2 called
    ledger.next("1")  # A2 done, A3 called
    assert ledger.issue("nav").number == "A1"
    assert ledger.issue("nav").number == "A2"
    with pytest.raises(Conflict):
        ledger.issue("nav")  # A3 is called, A4..A9 waiting
    ledger.transfer("1", "bolig")  # A3 keeps its number while waiting in bolig
    with pytest.raises(Conflict):
        ledger.issue("nav")
    ledger.next("4")  # calls A3 in bolig
    ledger.done("4")
    assert ledger.issue("nav").number == "A3"


def test_new_service_day_voids_and_restarts_numbers(ledger: Ledger, clock: Clock, db_path: Path) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    a = ledger.issue("nav")
    ledger.issue("nav")
    ledger.next("1")
    clock.set(at(MONDAY + dt.timedelta(days=1), 8, 30))
    t = ledger.issue("nav")
    assert t.number == "A001"
    assert ledger.ticket(a.id).status == "void"
    types = [e.type for e in events]
    assert types[-8:] == ["ticket.void", "ticket.void", "counter.changed"] + ["department.changed"] * 4 + [
        "ticket.issued"
    ]
    assert events[-2].encode()["department"]["waiting"] == 0  # department.changed after the void
    assert ledger.counter("1").ticket is None
    assert ledger.snapshot()["calls"] == []  # yesterday's calls are not shown
    assert seqs(db_path) == list(range(1, len(seqs(db_path)) + 1))


def test_reset_day(ledger: Ledger) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    for _ in range(3):
        ledger.issue("nav")
    ledger.next("1")
    assert ledger.reset_day() == 3
    assert events[-1].type == "site.changed" and events[-1].encode()["reset"] is True
    assert ledger.issue("nav").number == "A001"
    assert ledger.snapshot()["departments"][0]["waiting"] == 1


def test_estimate_formula(ledger: Ledger, clock: Clock) -> None:
    # nav is served by counters 1 and 2; default 300 s service time before any data.
    first = ledger.issue("nav")
    assert first.estimated_wait_s == round(1 * 300 / 2)
    for _ in range(2):
        ledger.issue("nav")
    assert ledger.ticket(first.id).estimated_wait_s == 150
    ledger.next("1")
    clock.advance(seconds=120)
    ledger.done("1")  # one service of 120 s
    t = ledger.issue("nav")  # 2 ahead
    assert t.ahead == 2 and t.estimated_wait_s == round(3 * 120 / 2)
    ledger.pause("1")
    ledger.pause("2")  # no counter open: assume one will be
    assert ledger.ticket(t.id).estimated_wait_s == 3 * 120
    nav = next(d for d in ledger.snapshot()["departments"] if d["id"] == "nav")
    assert nav["waiting"] == 3 and nav["estimated_wait_s"] == 4 * 120


def test_closed_refusals_carry_next_open(ledger: Ledger, clock: Clock, db_path: Path) -> None:
    clock.set(at(MONDAY, 7, 0))
    with pytest.raises(Conflict) as e:
        ledger.issue("nav")
    assert e.value.code == "site_closed" and e.value.details["next_open"] == "2026-11-23T08:00:00+01:00"
    clock.set(at(MONDAY, 8, 30))
    with pytest.raises(Conflict) as e:
        ledger.issue("tolk")  # own hours from 09:00
    assert e.value.code == "department_closed" and e.value.details["next_open"] == "2026-11-23T09:00:00+01:00"
    clock.set(at(MONDAY, 15, 25))  # last_ticket_min = 10: no tickets after 15:20
    with pytest.raises(Conflict) as e:
        ledger.issue("nav")
    assert e.value.code == "site_closed" and e.value.details["next_open"] == "2026-11-24T08:00:00+01:00"
    clock.set(at(MONDAY, 15, 19))
    assert ledger.issue("nav").number == "A001"
    assert ledger.next("1") is not None  # calling goes on after the cut-off
    with raw(db_path) as c:
        assert c.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_site_override_survives_restart_and_expires(make_ledger, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    ledger = make_ledger()
    events: list[Event] = []
    ledger.add_listener(events.extend)
    clock.set(at(MONDAY, 10, 0))
    ledger.set_site_open(False)
    assert events[-1].type == "site.changed" and events[-1].encode()["site"]["open"] is False
    ledger.close()
    ledger = make_ledger()
    with pytest.raises(Conflict) as e:
        ledger.issue("nav")
    assert e.value.code == "site_closed" and e.value.details["next_open"] == "2026-11-24T08:00:00+01:00"
    snap = ledger.snapshot()
    assert snap["site"]["open"] is False and snap["site"]["next_open"] == "2026-11-24T08:00:00+01:00"
    clock.set(at(MONDAY, 20, 0))
    ledger.set_site_open(True)  # open late: every department issues until midnight
    assert ledger.issue("tolk").number == "D001"
    clock.set(at(MONDAY + dt.timedelta(days=1), 6, 0))  # next day: the override is gone
    with pytest.raises(Conflict):
        ledger.issue("nav")
    assert ledger.snapshot()["site"]["override"] is None


def test_snapshot_shape(ledger: Ledger, clock: Clock) -> None:
    ledger.issue("nav")
    clock.advance(minutes=3)
    ledger.issue("nav")
    ledger.next("1")
    snap = ledger.snapshot()
    assert snap["seq"] == 3
    assert snap["site"] == {"id": "askim", "name": "Servicetorget i Askim", "open": True, "override": None}
    nav = snap["departments"][0]
    assert nav["id"] == "nav" and nav["prefix"] == "A" and nav["open"] is True and nav["waiting"] == 1
    assert nav["oldest_issued_at"] == "2026-11-23T09:03:00+01:00"
    c1 = snap["counters"][0]
    assert (
        c1["id"] == "1"
        and c1["state"] == "open"
        and c1["ticket"]["number"] == "A001"
        and "id" in c1["ticket"]
    )
    assert snap["calls"][0]["number"] == "A001" and snap["calls"][0]["at"] == "2026-11-23T09:03:00+01:00"
    json.dumps(snap)


def test_calls_newest_first_at_least_ten(ledger: Ledger) -> None:
    for _ in range(15):
        ledger.issue("byggesak")
    for _ in range(15):
        ledger.next("3")
    calls = ledger.snapshot()["calls"]
    assert len(calls) >= 10
    assert [c["number"] for c in calls[:3]] == ["B015", "B014", "B013"]


def test_listeners_run_after_commit_and_events_after(ledger: Ledger, db_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def listener(events: list[Event]) -> None:
        with raw(db_path) as c:  # another connection already sees the change: it is committed
            seen.append((events[-1].seq, c.execute("SELECT MAX(seq) FROM events").fetchone()[0]))
        raise RuntimeError("a broken listener must not break the ledger")

    ledger.add_listener(listener)
    ledger.issue("nav")
    ledger.issue("nav")
    assert seen == [(1, 1), (2, 2)]
    after = ledger.events_after(1)
    assert [e.seq for e in after] == [2] and after[0].encode()["type"] == "ticket.issued"
    assert [e.seq for e in ledger.events_after(0, limit=1)] == [1]


def test_devices_and_identify(ledger: Ledger) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    with pytest.raises(NotFound) as e:
        ledger.identify("kiosk-1")
    assert e.value.code == "unknown_device"
    ledger.report_device(
        "kiosk-1", "kiosk", {"version": "0.1.0", "printer": {"state": "paper_end"}}, name="Inngang"
    )
    assert events[-1].type == "device.status" and events[-1].encode()["device"]["printer"] == {
        "state": "paper_end",
        "detail": "",
    }
    with pytest.raises(InvalidArgument):  # not a printer-state word of the protocol
        ledger.report_device("kiosk-1", "kiosk", {"printer": {"state": "paper_out"}})
    ledger.report_device("kiosk-1", "kiosk", {"version": "0.1.1"})
    (dev,) = ledger.devices()
    assert dev.name == "Inngang" and dev.version == "0.1.1" and (dev.last_seen or "").endswith("+01:00")
    ledger.identify("kiosk-1")
    assert events[-1].encode()["device"] == {"id": "kiosk-1"}
    with pytest.raises(InvalidArgument):
        ledger.report_device("kiosk-1", "toaster", {})
    with pytest.raises(InvalidArgument):
        ledger.report_device("kiosk-1", "kiosk", {"blob": "x"})  # not a key of the device report
    with pytest.raises(InvalidArgument):
        ledger.report_device("kiosk-1", "kiosk", {"version": "x" * 5000})


def test_reader_from_another_connection(ledger: Ledger, db_path: Path, clock: Clock) -> None:
    t = ledger.issue("nav")
    reader = LedgerReader(db_path, example(), clock=clock)
    try:
        assert reader.ticket(t.id).number == "A001"
        assert reader.snapshot()["seq"] == 1
        assert [e.seq for e in reader.events_after(0)] == [1]
    finally:
        reader.close()


def test_errors_belong_to_the_tree() -> None:
    assert issubclass(InvalidArgument, LedgerError) and InvalidArgument.status == 422


def test_aware_clock_required(db_path: Path) -> None:
    with pytest.raises(ValueError):
        Ledger(db_path, example(), clock=lambda: dt.datetime(2026, 1, 1))


def test_reads_see_the_new_day(ledger: Ledger, clock: Clock) -> None:
    t = ledger.issue("nav")
    clock.set(at(MONDAY + dt.timedelta(days=1), 7, 0))  # before opening: no operation yet today
    assert ledger.ticket(t.id).status == "void"
    assert ledger.ticket(t.id).ahead is None


def test_seq_and_numbers_survive_reopen(make_ledger, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = make_ledger()
    first.issue("nav")
    first.close()
    second = make_ledger()
    assert second.issue("nav").number == "A002"
    assert seqs(db_path) == [1, 2]


def test_events_carry_department_summaries(ledger: Ledger, clock: Clock) -> None:
    events: list[Event] = []
    ledger.add_listener(events.extend)
    ledger.issue("nav")
    clock.advance(minutes=1)
    ledger.issue("nav")
    nav = events[-1].encode()["departments"][0]
    assert (nav["id"], nav["waiting"], nav["oldest_issued_at"]) == ("nav", 2, "2026-11-23T09:00:00+01:00")
    ledger.next("1")
    assert events[-1].type == "ticket.called" and events[-1].encode()["departments"][0]["waiting"] == 1
    assert events[-1].encode()["departments"][0]["oldest_issued_at"] == "2026-11-23T09:01:00+01:00"
    ledger.transfer("1", "bolig")
    moved = {d["id"]: d["waiting"] for d in events[-1].encode()["departments"]}
    assert moved == {"nav": 1, "bolig": 1}
    ledger.pause("1")
    assert events[-1].encode()["departments"][0]["estimated_wait_s"] == round(
        2 * 300 / 1
    )  # only counter 2 open
    for event in events:  # every summary equals what a fresh snapshot said at that moment
        for dep in event.encode().get("departments", []):
            assert set(dep) >= {"id", "waiting", "estimated_wait_s", "open", "oldest_issued_at"}
    snap = {d["id"]: d for d in ledger.snapshot()["departments"]}
    assert events[-1].encode()["departments"][0].items() <= snap["nav"].items()
