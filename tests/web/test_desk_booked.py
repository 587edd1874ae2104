"""A booked visit is marked on the desk (issue 15): the current ticket's line and the parked list say
"booked visit at 10:40", in the desk's language, so the caseworker knows who they called."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from nummerlapp.tests.web.conftest import Server, drain_counter, open_desk


def test_the_desk_marks_a_booked_visit_called_and_parked(new_context: Any, server: Server) -> None:
    drain_counter(server, "1")  # counter 1 serves nav only
    start = dt.datetime.now(ZoneInfo("Europe/Oslo")).replace(second=0, microsecond=0)
    with server.api() as api:
        made = api.post("/api/v1/appointments", json={"department": "nav", "start": start.isoformat()})
        assert made.status_code == 201, made.text
        reference = made.json()["appointment"]["reference"]
        checked = api.post(f"/api/v1/appointments/{reference}/check-in")
        assert checked.status_code == 201, checked.text
        walk_in = server.issue("nav")
    page = open_desk(new_context, server, "desk1")  # the browser asks for English
    page.click("#btn-next")
    expect(page.locator("#now-number")).to_have_text(checked.json()["ticket"]["number"])
    expect(page.locator("#now-detail")).to_contain_text(f"booked visit at {start:%H:%M}")
    with server.api() as api:
        assert api.post("/api/v1/counters/1/park").status_code == 200
        assert api.post("/api/v1/counters/1/next").json()["ticket"]["id"] == walk_in["id"]
    # the walk-in now at the desk is not marked; the parked visit is
    expect(page.locator("#now-number")).to_have_text(walk_in["number"])
    expect(page.locator("#now-detail")).not_to_contain_text("booked visit")
    expect(page.locator("#parked")).to_contain_text(f"booked visit at {start:%H:%M}")
