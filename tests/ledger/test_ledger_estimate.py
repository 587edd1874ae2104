"""The estimate formula on its own, and the rolling window of service times on a real file."""

from __future__ import annotations

from nummerlapp.server.ledger import Ledger
from nummerlapp.server.ledger.estimate import DEFAULT_SERVICE_S, WINDOW, estimate_wait_s
from nummerlapp.tests.ledger.ledgerfixtures import Clock


def test_formula() -> None:
    assert estimate_wait_s(0, 300, 1) == 300
    assert estimate_wait_s(4, 120, 2) == 300  # (4 + 1) x 120 / 2
    assert estimate_wait_s(4, 120, 0) == 600  # no counter open: as if one were
    assert estimate_wait_s(-3, 100, 1) == 100


def _served(ledger: Ledger, clock: Clock, seconds: int) -> None:
    ledger.issue("byggesak")
    ledger.next("3")
    clock.advance(seconds=seconds)
    ledger.done("3")


def _estimate_now(ledger: Ledger) -> int:
    """The snapshot's estimate for someone taking a ticket now (nobody waits: ahead = 0)."""
    return int(next(d["estimated_wait_s"] for d in ledger.snapshot()["departments"] if d["id"] == "byggesak"))


def test_rolling_window_of_recent_services(ledger: Ledger, clock: Clock) -> None:
    ledger.pause("4")  # byggesak is served by counters 3 and 4: one open
    assert _estimate_now(ledger) == DEFAULT_SERVICE_S
    for _ in range(WINDOW):
        _served(ledger, clock, 60)
    assert _estimate_now(ledger) == 60
    for _ in range(WINDOW // 2):  # the window slides: half of it is now 180 s services
        _served(ledger, clock, 180)
    assert _estimate_now(ledger) == round((WINDOW // 2 * 60 + WINDOW // 2 * 180) / WINDOW)
    ledger.issue("byggesak")
    ledger.next("3")
    clock.advance(seconds=5)
    ledger.no_show("3")  # a no-show is not a service
    assert _estimate_now(ledger) == 120
    t = ledger.issue("byggesak")
    ledger.issue("byggesak")
    assert ledger.ticket(t.id).estimated_wait_s == 120
    ledger.open_counter("4")
    assert _estimate_now(ledger) == round(3 * 120 / 2)
