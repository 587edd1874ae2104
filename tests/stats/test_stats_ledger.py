"""The figures from tickets moved by the real Ledger, with an injected clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import Ledger, schema
from nummerlapp.server.stats import report
from nummerlapp.server.stats.retention import fold
from nummerlapp.tests.stats.statsfixtures import OSLO, Clock


def test_real_ledger_day(tmp_path: Path, example_settings: Settings) -> None:
    """Monday 2 March 2026. NAV issues A at 09:00 (nb) and B at 09:02 (en). Desk 1 calls A 09:05
    (wait 300 s), then at 09:15 closes A (service 600 s) and calls B (wait 780 s), hands B on to
    housing at 09:20; desk 4 calls B at 09:30 (a second wait of 600 s, housing's) and closes it at
    09:40 (service 600 s)."""
    clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=OSLO))
    ledger = Ledger(tmp_path / "l.db", example_settings, clock=clock)
    ledger.issue("nav", lang="nb")
    clock.set("09:02")
    ledger.issue("nav", lang="en")
    clock.set("09:05")
    ledger.next("1")
    clock.set("09:15")
    ledger.next("1")
    clock.set("09:20")
    ledger.transfer("1", "bolig")
    clock.set("09:30")
    assert ledger.next("4") is not None
    clock.set("09:40")
    ledger.done("4")
    ledger.close()

    conn = schema.connect(tmp_path / "l.db")
    day = dt.date(2026, 3, 2)
    rows = {r["department"]: r for r in report(conn, example_settings, day, day)}
    nav, bolig = rows["nav"], rows["bolig"]
    assert (nav["issued"], nav["called"], nav["served"], nav["transfers"]) == (2, 2, 1, 1)
    assert (nav["wait_mean_s"], nav["wait_median_s"], nav["wait_max_s"], nav["within_target"]) == (
        540,
        540,
        780,
        1.0,
    )
    assert (nav["service_mean_s"], nav["langs"]) == (600, {"en": 1, "nb": 1})
    assert (bolig["issued"], bolig["served"], bolig["service_mean_s"]) == (0, 1, 600)
    assert (bolig["called"], bolig["wait_mean_s"], bolig["wait_max_s"], bolig["within_target"]) == (
        0,
        600,
        600,
        1.0,
    )
    desks = {r["counter"]: r for r in report(conn, example_settings, day, day, split="counter")}
    assert (desks["1"]["served"], desks["4"]["served"]) == (1, 1)
    assert (desks["4"]["wait_max_s"], desks["4"]["wait_mean_s"]) == (780, 690)  # B's two waits
    hours = report(conn, example_settings, day, day, "hour", split="site")
    assert [h["period"] for h in hours] == ["2026-03-02T09:00+01:00"]

    before = report(conn, example_settings, day, day, "hour")
    fold(conn, example_settings, days=0, now=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert report(conn, example_settings, day, day, "hour") == before
    conn.close()


def test_the_wait_after_a_transfer_is_counted(tmp_path: Path, example_settings: Settings) -> None:
    """Monday 2 March 2026, known times. A (NAV) taken 10:00, called by desk 1 at 10:04 (wait
    240 s), handed on to housing at 10:10, called by desk 4 at 10:27 (a second wait of 1,020 s:
    past the 15-minute target), handed on again to interpreting at 10:30, called by desk 4 at
    10:32 (120 s more: 1,140 s after transfers), done 10:40. C (housing) taken 10:05, called by
    desk 4 at 10:08 (180 s). NAV's waits: A's 240 s; housing's: C's 180 s; A's waits after its
    transfers count once, summed, in the department where it was last called: interpreting."""
    clock = Clock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO))
    ledger = Ledger(tmp_path / "l.db", example_settings, clock=clock)
    ledger.issue("nav")
    clock.set("10:04")
    ledger.next("1")
    clock.set("10:05")
    ledger.issue("bolig")
    clock.set("10:08")
    ledger.next("4")
    clock.set("10:10")
    ledger.transfer("1", "bolig")
    clock.set("10:20")
    ledger.done("4")
    clock.set("10:27")
    assert ledger.next("4").department == "bolig"  # type: ignore[union-attr]
    clock.set("10:30")
    ledger.transfer("4", "tolk")
    clock.set("10:32")
    ledger.next("4")
    clock.set("10:40")
    ledger.done("4")
    ledger.close()

    conn = schema.connect(tmp_path / "l.db")
    day = dt.date(2026, 3, 2)
    rows = {r["department"]: r for r in report(conn, example_settings, day, day)}
    assert (rows["nav"]["wait_mean_s"], rows["nav"]["within_target"]) == (240, 1.0)
    # The sum of A's waits after its transfers counts where it ended (interpreting), once.
    assert (rows["bolig"]["wait_max_s"], rows["bolig"]["wait_mean_s"]) == (180, 180)
    assert (rows["tolk"]["wait_max_s"], rows["tolk"]["within_target"]) == (1140, 0.0)
    site = report(conn, example_settings, day, day, split="site")[0]
    assert (site["issued"], site["called"], site["wait_max_s"], site["wait_median_s"]) == (2, 2, 1140, 240)
    before = report(conn, example_settings, day, day, "hour")
    fold(conn, example_settings, days=0, now=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    assert report(conn, example_settings, day, day, "hour") == before
    conn.close()
