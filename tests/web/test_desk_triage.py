"""Reception triage on the desk page (issue 15), in a real browser: a walk-in becomes a timed
return with its code shown as a QR code; the day's list warns when a due visit waits; ``next``
at the counter calls that visit before the walk-ins who came earlier."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from nummerlapp.common import protocol as P
from nummerlapp.tests.web.conftest import IMG, Server, sign_in  # IMG: scratch unless NUMMERLAPP_SCREENSHOTS


def test_triage_books_shows_a_qr_code_and_warns_when_due(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, server.base, "desk1")
    page.goto(server.base + "/desk")
    page.wait_for_selector("#triage-form")
    tz = ZoneInfo("Europe/Oslo")
    now = dt.datetime.now(tz)
    at = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    walk_in = server.issue("nav")  # a walk-in who came first
    page.select_option("#triage-form select[name=department]", "nav")
    page.fill("#triage-form input[name=time]", f"{at:%H:%M}")
    page.click("#triage-form button[type=submit]")
    page.wait_for_selector("#triage-result:not([hidden]) svg")
    page.wait_for_selector("#triage-list li")
    page.screenshot(path=str(IMG / "desk-triage.png"), full_page=True)
    shown = page.inner_text("#triage-reference").replace(" ", "")
    assert P.normalize_reference(shown) == shown
    assert page.inner_text("#triage-label").endswith(f"{at:%H:%M}")
    with server.api() as api:
        listed = api.get("/api/v1/appointments").json()["appointments"]
        visit = next(a for a in listed if a["reference"] == shown)
        assert visit["source"] == "desk:desk1" and visit["department"] == "nav"
        checked = api.post(f"/api/v1/appointments/{shown}/check-in")
        assert checked.status_code == 201, checked.text
        ticket = checked.json()["ticket"]
    page.reload()
    page.wait_for_selector("#triage-list li.due")
    assert shown in page.inner_text("#triage-list li.due")
    page.locator("#triage-list").scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / "desk-triage-due.png"), full_page=True)
    with httpx.Client(base_url=server.base, headers=server.bearer, timeout=10) as api:
        while True:  # counter 1 (nav) clears what it had; the due visit comes before the walk-in
            called = api.post("/api/v1/counters/1/next").json()["ticket"]
            assert called is not None
            if called["id"] in (ticket["id"], walk_in["id"]):
                break
    assert called["id"] == ticket["id"] and called["appointment"]["reference"] == shown
