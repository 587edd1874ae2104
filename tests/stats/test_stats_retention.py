"""Retention folding: reports before and after agree; rows go, live ones stay; runs are idempotent."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import schema
from nummerlapp.server.stats import report
from nummerlapp.server.stats.retention import fold
from nummerlapp.tests.stats.statsfixtures import add, at

D = dt.date.fromisoformat
SHAPES = [
    (by, split) for by in ("hour", "day", "week", "month") for split in ("department", "counter", "site")
]


def busy_ledger(db: sqlite3.Connection) -> None:
    """Several days: ordinary, across midnight, both DST Sundays, a transfer, every status."""
    days = ["2026-03-02", "2026-03-03", "2026-03-29", "2026-10-25", "2026-10-26"]
    for i, day in enumerate(days):
        for k in range(12):
            hh = 8 + k % 7
            issued = at(f"{day} {hh:02d}:{(7 * k) % 60:02d}")
            called = at(f"{day} {hh:02d}:{(7 * k) % 60:02d}") if k % 5 == 4 else None
            if called is None:
                base = dt.datetime.fromisoformat(issued) + dt.timedelta(seconds=37 * k + 11 * i + 30)
                called = base.isoformat(timespec="microseconds")
            done = (dt.datetime.fromisoformat(called) + dt.timedelta(seconds=90 + 13 * k)).isoformat(
                timespec="microseconds"
            )
            dep = ("nav", "bolig", "byggesak", "tolk")[k % 4]
            counter = {"nav": "1", "bolig": "2", "byggesak": "3", "tolk": "4"}[dep]
            status = "no_show" if k % 6 == 5 else "done"
            add(db, dep, issued, called, done, status=status, counter=counter, lang=("nb", "sv", "en")[k % 3])
        add(db, "nav", at(f"{day} 15:00"), status="void", done=at(f"{day} 23:59"))
    add(db, "nav", at("2026-03-02 23:50"), at("2026-03-03 00:10"), at("2026-03-03 00:25"), counter="1")
    add(
        db,
        "tolk",
        at("2026-10-25 02:40"),
        at("2026-10-25 02:10", fold=1),
        at("2026-10-25 02:30", fold=1),
        counter="4",
    )
    add(
        db,
        "bolig",
        at("2026-03-03 09:00"),
        at("2026-03-03 09:20"),
        at("2026-03-03 09:30"),
        counter="4",
        origin="nav",
        first_called=at("2026-03-03 09:05"),
        transfers=1,
    )


def all_reports(db: sqlite3.Connection, settings: Settings) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {(by, s): report(db, settings, D("2026-01-01"), D("2026-12-31"), by, s) for by, s in SHAPES}


def test_reports_agree_before_and_after_folding(db: sqlite3.Connection, example_settings: Settings) -> None:
    busy_ledger(db)
    before = all_reports(db, example_settings)
    nav_before = report(db, example_settings, D("2026-03-01"), D("2026-03-31"), "day", department="nav")
    assert sum(r["issued"] for r in before[("day", "site")]) == 5 * 13 + 3
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    result = fold(db, example_settings, days=0, now=now)
    assert result.folded == ["2026-03-02", "2026-03-03", "2026-03-29", "2026-10-25", "2026-10-26"]
    assert result.deleted_rows == 5 * 13 + 3
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM hourly_stats").fetchone()[0] > 0
    after = all_reports(db, example_settings)
    assert after == before
    assert (
        report(db, example_settings, D("2026-03-01"), D("2026-03-31"), "day", department="nav") == nav_before
    )
    # The aggregates hold nothing that names a ticket.
    cols = [r[1] for r in db.execute("PRAGMA table_info(hourly_stats)")]
    assert not {"id", "number", "source", "ticket"} & set(cols)
    # A second run does nothing.
    again = fold(db, example_settings, days=0, now=now)
    assert (again.folded, again.deleted_days, again.deleted_rows) == ([], [], 0)
    assert all_reports(db, example_settings) == before


def test_recent_days_fold_but_keep_rows_then_go(db: sqlite3.Connection, example_settings: Settings) -> None:
    busy_ledger(db)
    before = all_reports(db, example_settings)
    # "Today" is 2026-10-26 in Oslo: that day is not over and is not folded.
    now = dt.datetime(2026, 10, 26, 14, 0, tzinfo=dt.UTC)
    r1 = fold(db, example_settings, days=90, now=now)
    assert r1.folded == ["2026-03-02", "2026-03-03", "2026-03-29", "2026-10-25"]
    assert r1.deleted_days == ["2026-03-02", "2026-03-03", "2026-03-29"]  # before 2026-07-28
    kept = {r[0] for r in db.execute("SELECT DISTINCT service_day FROM tickets")}
    assert kept == {"2026-10-25", "2026-10-26"}
    assert all_reports(db, example_settings) == before  # mixed: folded + folded-with-rows + raw
    # Ninety days later the October Sunday's rows go, in a delete-only pass.
    later = dt.datetime(2027, 1, 24, 12, 0, tzinfo=dt.UTC)  # cutoff 2026-10-26
    r2 = fold(db, example_settings, days=90, now=later)
    assert r2.folded == ["2026-10-26"] and r2.deleted_days == ["2026-10-25"]
    assert all_reports(db, example_settings) == before


def test_live_tickets_of_an_old_day_are_not_deleted(
    db: sqlite3.Connection, example_settings: Settings
) -> None:
    add(db, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:05"), at("2026-03-02 09:10"), counter="1")
    add(db, "nav", at("2026-03-02 09:00"))  # still waiting: the ledger has not closed the day
    before = report(db, example_settings, D("2026-03-02"), D("2026-03-02"))
    fold(db, example_settings, days=0, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert db.execute("SELECT status FROM tickets").fetchall() == [("waiting",)]
    assert report(db, example_settings, D("2026-03-02"), D("2026-03-02")) == before  # not counted twice


def test_fold_is_one_transaction_per_day(tmp_path: Path, example_settings: Settings) -> None:
    """A day that fails to fold leaves no aggregates and no deleted rows for that day."""

    conn = schema.connect(tmp_path / "l.db")
    add(conn, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:05"), at("2026-03-02 09:10"), counter="1")
    add(conn, "nav", at("2026-03-03 09:00"), at("2026-03-03 09:05"), at("2026-03-03 09:10"), counter="1")
    # Sabotage the second day: its stats_days row already exists with no aggregates, so fold
    # treats it as done; then remove it and make the aggregate insert collide instead.
    conn.execute(
        "INSERT INTO hourly_stats VALUES ('2026-03-03T08:00:00+00:00', '', '2026-03-03', 'nav', 'nav', '1',"
        " 0, 0, 0, 0, 0, 0, x'', x'', '{}')"
    )
    try:
        fold(conn, example_settings, days=0, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    except sqlite3.IntegrityError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the colliding insert should have failed")
    days = {r[0] for r in conn.execute("SELECT service_day FROM stats_days")}
    left = {r[0] for r in conn.execute("SELECT service_day FROM tickets")}
    assert days == {"2026-03-02"} and left == {"2026-03-03"}
    assert not conn.in_transaction
    conn.close()
