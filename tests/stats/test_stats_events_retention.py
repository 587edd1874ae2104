"""Retention of the ``events`` table: the fold trims events older than the retention period, per
service day, never from the cut-off on, and always keeps the latest event so ``seq`` keeps rising
(the table's rowid: SQLite gives MAX(seq) + 1, and an empty table would start again at 1)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import Event, Ledger, LedgerReader, schema
from nummerlapp.server.stats.retention import fold
from nummerlapp.tests.stats.statsfixtures import OSLO, Clock, add, at


def seqs(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]


def event_days(conn: sqlite3.Connection) -> dict[int, str]:
    return {
        seq: dt.datetime.fromisoformat(at_).astimezone(OSLO).date().isoformat()
        for seq, at_ in conn.execute("SELECT seq, at FROM events")
    }


def a_day(ledger: Ledger, clock: Clock, day: dt.date) -> None:
    """Three NAV tickets issued, called and finished on ``day``: nothing stays live."""
    clock.now = dt.datetime.combine(day, dt.time(9, 0), tzinfo=OSLO)
    for _ in range(3):
        ledger.issue("nav")
    for minute in (5, 10, 15):
        clock.now = clock.now.replace(minute=minute)
        ledger.next("1")
    ledger.done("1")
    ledger.report_device("kiosk-1", "kiosk", {"version": "1"})


def test_fold_trims_old_events_and_seq_rises_after(tmp_path: Path, example_settings: Settings) -> None:
    db = tmp_path / "l.db"
    clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=OSLO))
    ledger = Ledger(db, example_settings, clock=clock)
    for day in ("2026-03-02", "2026-03-03", "2026-06-09", "2026-06-10"):
        a_day(ledger, clock, dt.date.fromisoformat(day))
    conn = schema.connect(db)
    days = event_days(conn)
    top = max(days)
    assert seqs(conn) == list(range(1, top + 1))

    # Today 2026-06-11, 90 days: the cut-off is 2026-03-13; March goes, June stays whole.
    result = fold(conn, example_settings, days=90, now=dt.datetime(2026, 6, 11, 12, tzinfo=dt.UTC))
    assert result.deleted_days == ["2026-03-02", "2026-03-03"]
    old = [s for s, d in days.items() if d < "2026-03-13"]
    assert result.deleted_events == len(old) > 0
    assert seqs(conn) == [s for s, d in sorted(days.items()) if d >= "2026-03-13"]
    assert seqs(conn) == list(range(min(seqs(conn)), top + 1))  # what is left is contiguous
    again = fold(conn, example_settings, days=90, now=dt.datetime(2026, 6, 11, 12, tzinfo=dt.UTC))
    assert again.deleted_events == 0

    # Everything folded and deleted: only the latest event is left, so seq cannot repeat...
    result = fold(conn, example_settings, days=0, now=dt.datetime(2026, 6, 22, 12, tzinfo=dt.UTC))
    assert seqs(conn) == [top]
    assert result.deleted_events == len(days) - len(old) - 1
    assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0

    # ... neither for the ledger that kept running (the fold ran in another process) ...
    seen: list[Event] = []
    ledger.add_listener(seen.extend)
    clock.now = dt.datetime(2026, 6, 22, 10, 0, tzinfo=OSLO)
    assert ledger.last_seq() == top
    ledger.issue("nav")
    assert [e.seq for e in seen] == [top + 1] and seen[0].type == "ticket.issued"
    ledger.close()
    # ... nor after a restart.
    conn.execute("DELETE FROM events WHERE seq < ?", (top + 1,))  # as a later fold would leave it
    assert seqs(conn) == [top + 1]
    restarted = Ledger(db, example_settings, clock=clock)
    reader = LedgerReader(db, example_settings, clock=clock)
    assert restarted.last_seq() == reader.snapshot()["seq"] == top + 1
    seen.clear()
    restarted.add_listener(seen.extend)
    restarted.issue("nav")
    assert [e.seq for e in seen] == [top + 2]
    assert reader.events_after(top + 1)[0].seq == top + 2
    reader.close()
    restarted.close()
    conn.close()


def test_latest_event_stays_even_when_it_is_old(tmp_path: Path, example_settings: Settings) -> None:
    db = tmp_path / "l.db"
    clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=OSLO))
    ledger = Ledger(db, example_settings, clock=clock)
    a_day(ledger, clock, dt.date(2026, 3, 2))
    top = ledger.last_seq()
    ledger.close()
    conn = schema.connect(db)
    # a year later, with 90 days' retention: the site has been idle since
    result = fold(conn, example_settings, days=90, now=dt.datetime(2027, 3, 2, 12, tzinfo=dt.UTC))
    assert seqs(conn) == [top] and result.deleted_events == top - 1
    clock.now = dt.datetime(2027, 3, 2, 9, 0, tzinfo=OSLO)
    ledger = Ledger(db, example_settings, clock=clock)
    assert ledger.issue("nav").number == "A001"
    assert seqs(conn) == [top, top + 1]
    ledger.close()
    conn.close()


def raw_event(conn: sqlite3.Connection, seq: int, when: str, type_: str = "device.status") -> None:
    conn.execute("INSERT INTO events (seq, type, at, data) VALUES (?, ?, ?, '{}')", (seq, type_, when))


def test_never_from_the_cut_off_and_not_past_a_clock_step_back(
    db: sqlite3.Connection, example_settings: Settings
) -> None:
    """Days without tickets are trimmed too; an event after the first one of a kept day stays
    even if its time (the clock stepped back) is older; nothing from the cut-off day on goes."""
    raw_event(db, 1, at("2026-01-05 10:00"))  # no tickets that day: only device reports
    raw_event(db, 2, at("2026-01-05 11:00"))
    raw_event(db, 3, at("2026-03-02 23:59:59"))  # last instant of a deleted day
    raw_event(db, 4, at("2026-03-03 00:00"))  # the cut-off day (today 2026-03-04, 1 day): stays
    raw_event(db, 5, at("2026-03-02 23:58"))  # clock stepped back: stays, it follows seq 4
    raw_event(db, 6, at("2026-03-04 08:00"))  # today
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:05"), at("2026-03-02 09:10"), counter="1")
    now = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
    result = fold(db, example_settings, days=1, now=now)
    assert result.deleted_days == ["2026-03-02"] and result.deleted_events == 3
    assert seqs(db) == [4, 5, 6]
    # Later, when 2026-03-03 is old too, the straggler goes with it.
    later = fold(db, example_settings, days=1, now=dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC))
    assert later.deleted_events == 2 and seqs(db) == [6]


def test_days_deleted_before_events_were_trimmed_catch_up(
    db: sqlite3.Connection, example_settings: Settings
) -> None:
    """A ledger folded by an older version: ticket rows gone, events still there."""
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:05"), at("2026-03-02 09:10"), counter="1")
    for seq, hhmm in enumerate(("09:00", "09:05", "09:10"), start=1):
        raw_event(db, seq, at(f"2026-03-02 {hhmm}"), "ticket.issued")
    raw_event(db, 4, at("2026-05-02 09:00"))
    now = dt.datetime(2026, 5, 2, 12, tzinfo=dt.UTC)
    fold(db, example_settings, days=0, now=now)
    # put the events back, as if the fold had not trimmed them
    for seq, hhmm in enumerate(("09:00", "09:05", "09:10"), start=1):
        raw_event(db, seq, at(f"2026-03-02 {hhmm}"), "ticket.issued")
    assert seqs(db) == [1, 2, 3, 4]
    result = fold(db, example_settings, days=30, now=now)
    assert (result.folded, result.deleted_days, result.deleted_rows) == ([], [], 0)
    assert result.deleted_events == 3 and seqs(db) == [4]
    assert result.to_json()["deleted_events"] == 3
