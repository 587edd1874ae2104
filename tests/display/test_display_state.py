"""The board's reducer: every event type, duplicates, gaps, reconnects and ordering, without a window."""

from __future__ import annotations

from boardfixtures import called, event, snapshot

from nummerlapp.display.state import BoardState, new_calls, reduce, reduce_all


def start() -> BoardState:
    return reduce(BoardState(board_id="board-1"), snapshot(seq=10))


def waiting(state: BoardState, dep: str) -> int:
    return next(d.waiting for d in state.departments if d.id == dep)


def test_snapshot_replaces_everything_and_marks_connected() -> None:
    state = start()
    assert state.connected and state.in_sync and state.seq == 10
    assert state.site_name == "Servicetorget i Askim"
    assert state.latest is not None and state.latest.number == "A011"
    assert state.latest.counter_name == "Skranke 1"  # filled in from the counters
    assert [c.number for c in state.previous(5)] == ["B004", "A010"]
    assert waiting(state, "nav") == 5
    assert state.call_serial == 0  # a snapshot is not a live call: nothing to announce


def test_events_before_the_first_snapshot_are_ignored() -> None:
    state = reduce(BoardState(), called(5, "A012", "1"))
    assert state.calls == () and state.seq is None


def test_call_goes_on_top_counts_down_and_is_announced() -> None:
    old = start()
    new = reduce(old, called(11, "A012", "2"))
    assert new.latest is not None and (new.latest.number, new.latest.counter_name) == ("A012", "Skranke 2")
    assert [c.number for c in new.previous(5)] == ["A011", "B004", "A010"]
    assert waiting(new, "nav") == 4
    assert new.counter("2") is not None and new.counter("2").ticket_number == "A012"  # type: ignore[union-attr]
    assert [c.number for c in new_calls(old, new)] == ["A012"]
    assert new.seq == 11 and new.in_sync


def test_recall_is_announced_again_but_not_counted_down() -> None:
    state = reduce(start(), called(11, "A012", "2"))
    again = reduce(state, called(12, "A012", "2", recall=True))
    assert again.latest is not None and again.latest.recall
    assert waiting(again, "nav") == waiting(state, "nav")
    assert [(c.number, c.recall) for c in new_calls(state, again)] == [("A012", True)]
    assert [c.number for c in again.previous(5)] == ["A011", "B004", "A010"]  # no duplicate A012


def test_issued_done_no_show_transferred() -> None:
    state = start()
    state = reduce(
        state, event(11, "ticket.issued", ticket={"id": "t1", "number": "B005", "department": "byggesak"})
    )
    assert waiting(state, "byggesak") == 3
    state = reduce(
        state, event(12, "ticket.done", ticket={"number": "A011", "department": "nav"}, counter={"id": "1"})
    )
    assert state.counter("1").ticket_number is None  # type: ignore[union-attr]
    state = reduce(state, called(13, "A012", "1"))
    state = reduce(
        state, event(14, "ticket.no_show", ticket={"number": "A012", "department": "nav"}, counter="1")
    )
    assert state.counter("1").ticket_number is None  # type: ignore[union-attr]
    state = reduce(state, called(15, "A013", "2"))
    state = reduce(
        state,
        event(
            16,
            "ticket.transferred",
            ticket={"number": "A013", "department": "bolig", "counter": None},
            counter={"id": "2"},
        ),
    )
    assert state.counter("2").ticket_number is None  # type: ignore[union-attr]
    assert waiting(state, "bolig") == 1
    # history stays: the wall keeps showing who was called
    assert [c.number for c in state.calls[:3]] == ["A013", "A012", "A011"]


def test_explicit_department_counts_win_over_arithmetic() -> None:
    state = reduce(
        start(),
        event(
            11,
            "ticket.issued",
            ticket={"number": "A012", "department": "nav"},
            department={"id": "nav", "waiting": 9, "estimated_wait_s": 1200},
        ),
    )
    nav = next(d for d in state.departments if d.id == "nav")
    assert (nav.waiting, nav.estimated_wait_s) == (9, 1200)
    state = reduce(
        state, event(12, "department.changed", department={"id": "nav", "open": False, "waiting": 8})
    )
    nav = next(d for d in state.departments if d.id == "nav")
    assert (nav.open, nav.waiting, nav.estimated_wait_s) == (False, 8, 1200)


def test_counter_site_and_device_events() -> None:
    state = reduce(start(), event(11, "counter.changed", counter={"id": "3", "state": "open"}))
    assert state.counter("3").state == "open"  # type: ignore[union-attr]
    state = reduce(
        state, event(12, "site.changed", site={"open": False, "message": {"nb": "Stengt", "en": "Closed"}})
    )
    assert not state.site_open and state.message["nb"] == "Stengt"
    assert state.site_name == "Servicetorget i Askim"
    before = state
    state = reduce(
        state, event(13, "device.status", device={"id": "kiosk-1", "role": "kiosk"}, status={"paper": "low"})
    )
    assert state.seq == 13 and state.calls == before.calls
    state = reduce(state, event(14, "device.identify", device={"id": "someone-else"}))
    assert state.identify_serial == 0
    state = reduce(state, event(15, "device.identify", device={"id": "board-1"}))
    state = reduce(state, event(16, "device.identify", device_id="board-1"))
    assert state.identify_serial == 2
    state = reduce(state, event(17, "something.new", anything=1))  # forward compatible
    assert state.seq == 17 and state.in_sync


def test_duplicates_and_old_events_change_nothing() -> None:
    state = reduce(start(), called(11, "A012", "2"))
    assert reduce(state, called(11, "A012", "2")) == state
    assert reduce(state, called(7, "A099", "1")) == state


def test_gap_applies_the_call_but_marks_out_of_sync_until_a_snapshot() -> None:
    state = reduce(start(), called(14, "A012", "2"))  # 11..13 lost
    assert not state.in_sync and state.latest.number == "A012"  # type: ignore[union-attr]
    state = reduce(state, called(15, "A013", "1"))
    assert not state.in_sync  # still: only a snapshot heals
    state = reduce(state, snapshot(seq=20))
    assert state.in_sync and state.seq == 20


def test_stream_down_then_reconnect_snapshot() -> None:
    state = reduce(start(), called(11, "A012", "2"))
    down = reduce(state, {"type": "stream.down", "reason": "connection closed"})
    assert not down.connected and down.calls == state.calls  # keep showing, marked
    assert reduce(down, {"type": "stream.down", "reason": "again"}) == down
    # the calls made while we were away arrive in the fresh snapshot, not as announcements
    fresh = snapshot(
        seq=30,
        calls=[
            {"number": "A014", "department": "nav", "counter": "2", "at": "x"},
            {"number": "A013", "department": "nav", "counter": "1", "at": "x"},
            {"number": "A012", "department": "nav", "counter": "2", "at": "x"},
        ],
    )
    back = reduce(down, fresh)
    assert back.connected and back.latest.number == "A014"  # type: ignore[union-attr]
    assert back.call_serial == down.call_serial and new_calls(down, back) == ()
    assert back.board_id == "board-1"


def test_order_of_several_calls_and_announcement_order() -> None:
    old = start()
    new = reduce_all(old, [called(11, "A012", "1"), called(12, "B005", "3"), called(13, "A013", "2")])
    assert [c.number for c in new.calls[:3]] == ["A013", "B005", "A012"]
    assert [c.number for c in new_calls(old, new)] == ["A012", "B005", "A013"]


def test_zone_filter_keeps_zone_order() -> None:
    state = start()
    assert [d.id for d in state.zone_departments(["tolk", "nav", "unknown"])] == ["tolk", "nav"]
    assert len(state.zone_departments(None)) == 4


def test_snapshot_call_with_recall_flag_and_unknown_counter() -> None:
    state = reduce(
        BoardState(),
        snapshot(
            seq=3,
            calls=[
                {"number": "C002", "department": "bolig", "counter": "9", "at": "x", "recall": True},
            ],
        ),
    )
    assert state.latest is not None and state.latest.recall and state.latest.counter_name == "9"


def test_refresh_updates_figures_only_when_not_older() -> None:
    state = reduce(start(), called(11, "A012", "2"))
    fresh = snapshot(seq=11)["state"]
    fresh["departments"][0] = {**fresh["departments"][0], "waiting": 3, "estimated_wait_s": 420}
    fresh["calls"] = []  # a refresh never touches calls
    refreshed = reduce(state, {"type": "refresh", "seq": 11, "state": fresh})
    nav = next(d for d in refreshed.departments if d.id == "nav")
    assert (nav.waiting, nav.estimated_wait_s) == (3, 420)
    assert refreshed.calls == state.calls and refreshed.seq == 11
    assert reduce(state, {"type": "refresh", "seq": 9, "state": fresh}) == state  # older: ignored


def test_day_reset_needs_a_snapshot() -> None:
    state = reduce(start(), event(11, "site.changed", site={"id": "askim", "open": True}, reset=True))
    assert not state.in_sync


def test_departments_list_on_events_is_merged_exactly() -> None:
    """docs/LEDGER.md: queue-changing events carry the touched departments' fresh fields."""
    state = reduce(
        start(),
        {
            **called(11, "A012", "2"),
            "departments": [{"id": "nav", "open": True, "waiting": 7, "estimated_wait_s": 840}],
        },
    )
    nav = next(d for d in state.departments if d.id == "nav")
    assert (nav.waiting, nav.estimated_wait_s, nav.label("nb")) == (7, 840, "NAV")  # no extra -1, name kept
    moved = event(12, "ticket.transferred", ticket={"number": "A012", "department": "bolig"}, counter="2",
                  departments=[{"id": "nav", "waiting": 7}, {"id": "bolig", "waiting": 3}])  # fmt: skip
    state = reduce(state, moved)
    assert [(d.id, d.waiting) for d in state.departments[:3]] == [("nav", 7), ("byggesak", 2), ("bolig", 3)]
    assert state.counter("2").ticket_number is None  # type: ignore[union-attr]
