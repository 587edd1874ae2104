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
    housing at 09:20; desk 4 calls B at 09:30 and closes it at 09:40 (service 600 s)."""
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
    desks = {r["counter"]: r for r in report(conn, example_settings, day, day, split="counter")}
    assert (desks["1"]["served"], desks["4"]["served"], desks["4"]["wait_mean_s"]) == (1, 1, 780)
    hours = report(conn, example_settings, day, day, "hour", split="site")
    assert [h["period"] for h in hours] == ["2026-03-02T09:00+01:00"]

    before = report(conn, example_settings, day, day, "hour")
    fold(conn, example_settings, days=0, now=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    assert report(conn, example_settings, day, day, "hour") == before
    conn.close()
