"""The board's reducer: every event type, duplicates, gaps, reconnects and ordering, without a window.

Every message is built with the protocol module (tests/protocol/samples.py), as the event stream
hands them on after decoding.
"""

from __future__ import annotations

from nummerlapp.client.events import StreamDown
from nummerlapp.common import protocol as P
from nummerlapp.display.state import BoardState, new_calls, reduce, reduce_all
from nummerlapp.tests.protocol.samples import (
    AT,
    call,
    called,
    counter,
    counter_ref,
    site,
    snapshot,
    state,
    ticket,
)


def start() -> BoardState:
    return reduce(BoardState(board_id="board-1"), snapshot(seq=10))


def ended(
    seq: int, number: str, counter_id: str, nav_waiting: int, *, no_show: bool = False
) -> P.TicketDone | P.TicketNoShow:
    """A ticket of NAV served to its end (``ticket.done``) or not come (``ticket.no_show``) at a counter."""
    kind = P.TicketNoShow if no_show else P.TicketDone
    return kind(
        seq=seq,
        at=AT,
        ticket=ticket(number, "no_show" if no_show else "done", counter_id),
        counter=counter_ref(counter_id),
        departments=[state("nav", nav_waiting)],
    )


def waiting(board: BoardState, dep: str) -> int:
    return next(d.waiting for d in board.departments if d.id == dep)


def test_snapshot_replaces_everything_and_marks_connected() -> None:
    board = start()
    assert board.connected and board.in_sync and board.seq == 10
    assert board.site_name == "Servicetorget i Askim"
    assert board.latest is not None and board.latest.number == "A011"
    assert board.latest.counter_name == "Skranke 1"  # the call names its counter
    assert [c.number for c in board.previous(5)] == ["B004", "A010"]
    assert waiting(board, "nav") == 5
    assert board.counter("1") is not None and board.counter("1").ticket_number == "A011"  # type: ignore[union-attr]
    assert board.call_serial == 0  # a snapshot is not a live call: nothing to announce


def test_events_before_the_first_snapshot_are_ignored() -> None:
    board = reduce(BoardState(), called(5, "A012", "1"))
    assert board.calls == () and board.seq is None


def test_call_goes_on_top_takes_the_carried_counts_and_is_announced() -> None:
    old = start()
    new = reduce(old, called(11, "A012", "2", departments=[state("nav", 4, 480)]))
    assert new.latest is not None and (new.latest.number, new.latest.counter_name) == ("A012", "Skranke 2")
    assert [c.number for c in new.previous(5)] == ["A011", "B004", "A010"]
    nav = next(d for d in new.departments if d.id == "nav")
    assert (nav.waiting, nav.estimated_wait_s, nav.label("en")) == (4, 480, "NAV – welfare")  # names kept
    assert new.counter("2") is not None and new.counter("2").ticket_number == "A012"  # type: ignore[union-attr]
    assert [c.number for c in new_calls(old, new)] == ["A012"]
    assert new.seq == 11 and new.in_sync


def test_recall_is_announced_again_and_changes_no_count() -> None:
    board = reduce(start(), called(11, "A012", "2"))
    again = reduce(board, called(12, "A012", "2", recall=True))
    assert again.latest is not None and again.latest.recall
    assert again.departments == board.departments
    assert [(c.number, c.recall) for c in new_calls(board, again)] == [("A012", True)]
    assert [c.number for c in again.previous(5)] == ["A011", "B004", "A010"]  # no duplicate A012


def test_issued_done_no_show_transferred() -> None:
    board = start()
    board = reduce(
        board, P.TicketIssued(seq=11, at=AT, ticket=ticket("B005"), departments=[state("byggesak", 3, 450)])
    )
    assert waiting(board, "byggesak") == 3
    board = reduce(board, ended(12, "A011", "1", 5))
    assert board.counter("1").ticket_number is None  # type: ignore[union-attr]
    board = reduce(board, called(13, "A012", "1"))
    board = reduce(board, ended(14, "A012", "1", 4, no_show=True))
    assert board.counter("1").ticket_number is None  # type: ignore[union-attr]
    board = reduce(board, called(15, "A013", "2"))
    moved = P.TicketTransferred(
        seq=16,
        at=AT,
        ticket=ticket("A013", department="bolig"),
        from_=P.DepartmentRef(id="nav", name={"nb": "NAV"}),
        counter=counter_ref("2"),
        departments=[state("nav", 3), state("bolig", 1)],
    )
    board = reduce(board, moved)
    assert board.counter("2").ticket_number is None  # type: ignore[union-attr]
    assert (waiting(board, "nav"), waiting(board, "bolig")) == (3, 1)
    # history stays: the wall keeps showing who was called
    assert [c.number for c in board.calls[:3]] == ["A013", "A012", "A011"]


def test_done_of_another_ticket_leaves_the_counter_alone() -> None:
    board = reduce(start(), called(11, "A012", "1"))
    late = ended(12, "A011", "1", 4)
    assert reduce(board, late).counter("1").ticket_number == "A012"  # type: ignore[union-attr]


def test_department_changed_replaces_the_department() -> None:
    board = start()
    closed = next(d for d in board.departments if d.id == "nav").model_copy(
        update={"open": False, "waiting": 8}
    )
    board = reduce(board, P.DepartmentChanged(seq=11, at=AT, department=closed))
    nav = next(d for d in board.departments if d.id == "nav")
    assert (nav.open, nav.waiting, nav.estimated_wait_s) == (False, 8, 600)


def test_counter_site_and_device_events() -> None:
    board = reduce(start(), P.CounterChanged(seq=11, at=AT, counter=counter("3", ["byggesak"], "open")))
    assert board.counter("3").state == "open"  # type: ignore[union-attr]
    closed = site(open=False, messages=[{"nb": "Stengt", "en": "Closed"}])
    board = reduce(board, P.SiteChanged(seq=12, at=AT, site=closed))
    assert not board.site_open and board.messages[0]["nb"] == "Stengt"
    assert board.site_name == "Servicetorget i Askim"
    before = board
    device = P.Device(
        id="kiosk-1", role="kiosk", name=None, status=P.DeviceReport(), version="", printer=None, last_seen=AT
    )
    board = reduce(board, P.DeviceStatus(seq=13, at=AT, device=device))
    assert board.seq == 13 and board.calls == before.calls
    board = reduce(board, P.DeviceIdentify(seq=14, at=AT, device=P.DeviceRef(id="someone-else")))
    assert board.identify_serial == 0
    board = reduce(board, P.DeviceIdentify(seq=15, at=AT, device=P.DeviceRef(id="board-1")))
    assert board.identify_serial == 1
    board = reduce(board, P.ConfigChanged(seq=16, at=AT, version="abc"))  # a type the board does not use
    assert board.seq == 16 and board.in_sync


def test_duplicates_and_old_events_change_nothing() -> None:
    board = reduce(start(), called(11, "A012", "2"))
    assert reduce(board, called(11, "A012", "2")) == board
    assert reduce(board, called(7, "A099", "1")) == board


def test_gap_applies_the_call_but_marks_out_of_sync_until_a_snapshot() -> None:
    board = reduce(start(), called(14, "A012", "2"))  # 11..13 lost
    assert not board.in_sync and board.latest.number == "A012"  # type: ignore[union-attr]
    board = reduce(board, called(15, "A013", "1"))
    assert not board.in_sync  # still: only a snapshot heals
    board = reduce(board, snapshot(seq=20))
    assert board.in_sync and board.seq == 20


def test_stream_down_then_reconnect_snapshot() -> None:
    board = reduce(start(), called(11, "A012", "2"))
    down = reduce(board, StreamDown("connection closed"))
    assert not down.connected and down.calls == board.calls  # keep showing, marked
    assert reduce(down, StreamDown("again")) == down
    # the calls made while we were away arrive in the fresh snapshot, not as announcements
    fresh = snapshot(seq=30, calls=[call("A014", "2"), call("A013", "1"), call("A012", "2")])
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
    board = start()
    assert [d.id for d in board.zone_departments(["tolk", "nav", "unknown"])] == ["tolk", "nav"]
    assert len(board.zone_departments(None)) == 4


def test_snapshot_call_with_recall_flag_and_its_counter_name() -> None:
    board = reduce(BoardState(), snapshot(seq=3, calls=[call("C002", "9", recall=True)]))
    assert board.latest is not None and board.latest.recall and board.latest.counter_name == "9"


def test_day_reset_needs_a_snapshot() -> None:
    reset = P.SiteChanged(seq=11, at=AT, site=site(), reset=True, departments=[state("nav", 0)])
    board = reduce(start(), reset)
    assert not board.in_sync and waiting(board, "nav") == 0


def test_departments_list_on_events_is_merged_exactly() -> None:
    """docs/LEDGER.md: queue-changing events carry the touched departments' fresh fields."""
    board = reduce(start(), called(11, "A012", "2", departments=[state("nav", 7, 840)]))
    nav = next(d for d in board.departments if d.id == "nav")
    assert (nav.waiting, nav.estimated_wait_s, nav.label("nb")) == (7, 840, "NAV")  # name kept
    moved = P.TicketTransferred(
        seq=12,
        at=AT,
        ticket=ticket("A012", department="bolig"),
        from_=P.DepartmentRef(id="nav", name={"nb": "NAV"}),
        counter=counter_ref("2"),
        departments=[state("nav", 7), state("bolig", 3), state("elsewhere", 1)],
    )
    board = reduce(board, moved)
    assert [(d.id, d.waiting) for d in board.departments[:3]] == [("nav", 7), ("byggesak", 2), ("bolig", 3)]
    assert len(board.departments) == 4  # figures of a department without names wait for a snapshot
    assert board.counter("2").ticket_number is None  # type: ignore[union-attr]
