"""The estimated wait shown on tickets, boards and the phone page.

    estimated_wait_s = round((ahead + 1) × mean_service_s / max(1, open_counters))

- ``ahead``: tickets of the department that will be called before this one.
- ``mean_service_s``: mean called→done time of the last ``WINDOW`` tickets finished as ``done``
  in the department on this service day; ``DEFAULT_SERVICE_S`` (5 minutes) before there are any.
  No-shows are left out: they take a few seconds and would make every estimate too hopeful.
- ``open_counters``: counters in state ``open`` that serve the department. When none is open the
  estimate assumes one will be (a paused desk usually reopens), rather than showing "infinite".

It is deliberately simple: visitors read it as "about 10 minutes", and a simple rule is one a
manager can check by hand against the statistics.
"""

from __future__ import annotations

import sqlite3

WINDOW = 20
DEFAULT_SERVICE_S = 300.0


def estimate_wait_s(ahead: int, mean_service_s: float, open_counters: int) -> int:
    """The formula above; ``ahead`` < 0 is treated as 0."""
    return round((max(ahead, 0) + 1) * mean_service_s / max(1, open_counters))


def mean_service_s(conn: sqlite3.Connection, department: str, service_day: str) -> float:
    """Rolling mean service time (called→done, seconds) of the department's recent services today."""
    row = conn.execute(
        """SELECT AVG((julianday(done_at) - julianday(called_at)) * 86400.0), COUNT(*) FROM (
               SELECT called_at, done_at FROM tickets
               WHERE department = ? AND service_day = ? AND status = 'done' AND called_at IS NOT NULL
               ORDER BY done_at DESC LIMIT ?)""",
        (department, service_day, WINDOW),
    ).fetchone()
    if not row or not row[1]:
        return DEFAULT_SERVICE_S
    return max(float(row[0]), 0.0)
