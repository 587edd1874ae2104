"""Reception triage on the desk page (issue 15), in a real browser: a walk-in becomes a timed
return with its code shown as a QR code and printed as a slip at the entrance kiosk (an enrolled
kiosk's real event socket gets ``appointment.slip``); the day's list warns when a due visit
waits; ``next`` at the counter calls that visit before the walk-ins who came earlier."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from websockets.sync.client import connect

from nummerlapp.common import protocol as P
from nummerlapp.tests.web.conftest import IMG, Server, sign_in  # IMG: scratch unless NUMMERLAPP_SCREENSHOTS


@contextlib.contextmanager
def entrance_kiosk(server: Server, device: str = "kiosk-entrance") -> Iterator[list[dict[str, Any]]]:
    """An enrolled kiosk's event socket, open (its messages collected) while the block runs."""
    with server.api() as api:
        asked = api.post(
            "/api/v1/enrolments", json={"device": device, "role": "kiosk", "name": "Kiosk ved inngangen"}
        )
        found = asked.json()["enrolment"]
        assert api.post(f"/api/v1/enrolments/{found['code']}/approve").status_code == 200
        token = api.get(f"/api/v1/enrolments/{found['id']}").json()["enrolment"]["token"]
    url = server.base.replace("http://", "ws://") + "/api/v1/events"
    messages: list[dict[str, Any]] = []
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None) as ws:

        def read() -> None:
            with contextlib.suppress(Exception):
                for raw in ws:
                    messages.append(json.loads(raw))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        yield messages
    reader.join(5)


def test_without_a_connected_kiosk_the_print_button_is_hidden(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, server.base, "desk2")
    page.goto(server.base + "/desk")
    page.wait_for_selector("#triage-form")
    page.select_option("#triage-form select[name=department]", "byggesak")
    now = dt.datetime.now(ZoneInfo("Europe/Oslo"))
    later = min(now + dt.timedelta(minutes=30), now.replace(hour=23, minute=59))
    page.fill("#triage-form input[name=time]", f"{later:%H:%M}")
    page.click("#triage-form button[type=submit]")
    page.wait_for_selector("#triage-no-kiosk:not([hidden])")
    assert page.locator("#triage-slip").is_hidden()


def test_triage_books_shows_a_qr_code_and_warns_when_due(new_context: Any, server: Server) -> None:
    with entrance_kiosk(server) as kiosk:
        _book_print_and_warn(new_context, server, kiosk)


def _book_print_and_warn(new_context: Any, server: Server, kiosk: list[dict[str, Any]]) -> None:
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
    shown = page.inner_text("#triage-reference").replace(" ", "")
    assert P.normalize_reference(shown) == shown
    # "Print at kiosk": the entrance kiosk's socket gets the slip, in the language chosen
    page.wait_for_selector("#triage-slip:not([hidden])")
    assert page.locator("#triage-no-kiosk").is_hidden()
    assert page.input_value("#triage-lang") == "nb"  # the site's first language
    page.select_option("#triage-kiosk", "kiosk-entrance")
    page.select_option("#triage-lang", "en")
    page.focus("#triage-print")
    page.keyboard.press("Enter")  # keyboard reachable
    page.wait_for_selector("#triage-message[data-kind=ok]:not([hidden])")
    assert "Kiosk ved inngangen" in page.inner_text("#triage-message")
    for _ in range(100):
        slips = [m for m in kiosk if m["type"] == "appointment.slip"]
        if slips:
            break
        page.wait_for_timeout(50)
    assert [(m["appointment"]["reference"], m["lang"]) for m in slips] == [(shown, "en")]
    page.screenshot(path=str(IMG / "desk-triage.png"), full_page=True)
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
