"""Issue 17 at the desk, in Chromium against the real server: "Called" until the visitor arrives,
then "Serving"; the visitor's language beside the number; calling a number out of turn; parking
and calling back; the silent alarm heard by the other desks and the technician (never by the
public stream); and the manager's live view with its levers."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import connect

from nummerlapp.tests.web.conftest import Server, clear_counter, drain_counter, open_desk, sign_in, wait_live

pytestmark = pytest.mark.browser

MANAGER, MANAGER_PASSWORD = "leder", "leder-passord-2026"


def status_of(server: Server, ticket: dict[str, Any]) -> str:
    with server.api() as api:
        return str(api.get(f"/api/v1/tickets/{ticket['id']}").json()["status"])


def test_called_then_arrived_language_call_out_of_turn_park_and_call_back(
    new_context: Any, server: Server
) -> None:
    drain_counter(server, "2")  # counter 2 serves nav and bolig
    first = server.issue("nav", lang="en")
    second = server.issue("bolig", lang="sv")
    page = open_desk(new_context, server, "desk2")
    expect(page.locator("#now-title")).to_have_text("Current ticket")
    expect(page.locator("#btn-serve")).to_be_disabled()

    page.keyboard.press("n")
    expect(page.locator("#now-number")).to_have_text(first["number"])
    expect(page.locator("#now-title")).to_have_text("Called")
    expect(page.locator("#now-status")).to_have_text("Called – waiting for the visitor to arrive")
    expect(page.locator("#now-lang")).to_have_text("Visitor's language: English")

    page.keyboard.press("a")  # the visitor has arrived: serve
    expect(page.locator("#now-title")).to_have_text("Serving")
    expect(page.locator("#message")).to_have_text(f"{first['number']} has arrived: serving.")
    assert status_of(server, first) == "serving"
    expect(page.locator("#btn-serve")).to_be_disabled()

    page.keyboard.press("l")  # the visitor fetches a paper: park
    expect(page.locator("#now-number")).to_have_text("–")
    parked = page.locator(f'#parked li[data-ticket="{first["id"]}"]')
    expect(parked).to_contain_text(first["number"])
    assert status_of(server, first) == "parked"

    # Call the housing ticket out of turn by typing its number (lower case, without zeros).
    page.keyboard.press("c")
    expect(page.locator("#call-number")).to_be_focused()
    typed = second["number"][0].lower() + str(int(second["number"][1:]))
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    expect(page.locator("#now-number")).to_have_text(second["number"])
    expect(page.locator("#now-lang")).to_have_text("Visitor's language: Svenska")
    expect(page.locator("#message")).to_have_text(f"Called {second['number']} out of turn.")

    # Back comes the parked visitor: one click on "Call back" (a double click acts once).
    page.locator(f'[data-call-ticket="{first["id"]}"]').dblclick()
    expect(page.locator("#now-number")).to_have_text(first["number"])
    expect(page.locator("#parked li.empty")).to_have_text("No parked tickets.")
    assert status_of(server, second) == "done" and status_of(server, first) == "called"

    page.keyboard.press("c")
    page.keyboard.type("A999")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("No such ticket waits for this counter today.")
    clear_counter(server, "2")


def _listen_public(base: str, into: list[dict[str, Any]], stop: threading.Event) -> threading.Thread:
    """A public (anonymous) socket in a thread, recording every message."""
    url = base.replace("http://", "ws://") + "/api/v1/events"

    async def run() -> None:
        async with connect(url) as ws:
            while not stop.is_set():
                try:
                    into.append(json.loads(await asyncio.wait_for(ws.recv(), 0.2)))
                except TimeoutError:
                    continue

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    return thread


def test_silent_alarm_reaches_other_desks_and_the_technician_only(new_context: Any, server: Server) -> None:
    public: list[dict[str, Any]] = []
    stop = threading.Event()
    listener = _listen_public(server.base, public, stop)
    raiser = open_desk(new_context, server, "desk2")
    colleague = open_desk(new_context, server, "desk1")
    tech = new_context().new_page()
    sign_in(tech, server.base, "boss")
    tech.goto(server.base + "/tech")
    wait_live(tech)
    server.issue("nav")  # some ordinary traffic around the alarm

    raiser.keyboard.press("Control+Alt+A")
    expect(raiser.locator("#message")).to_have_text("Alarm sent. Colleagues are alerted.")
    expect(raiser.locator(".alarm.own")).to_contain_text("Your alarm is sent")
    banner = colleague.locator(".alarm:not(.own)")
    expect(banner).to_contain_text("ALARM at Counter 2")
    expect(colleague.locator("#alarms")).to_have_attribute("data-tones", "1")
    expect(tech.locator(".alarm")).to_contain_text("ALARM at Counter 2")
    expect(tech.locator("#alarms")).to_have_attribute("data-tones", "1")
    assert raiser.locator("#alarms").get_attribute("data-tones") is None  # no sound at the desk in trouble

    server.issue("nav")
    colleague.locator("[data-clear-alarm]").click()
    expect(banner).to_have_count(0)
    expect(tech.locator(".alarm")).to_have_count(0)
    expect(raiser.locator(".alarm")).to_have_count(0)
    tech.reload()
    expect(tech.locator("#alarm-log tbody tr")).to_have_count(1)
    expect(tech.locator("#alarm-log tbody tr")).to_contain_text("Counter 2")
    server.issue("nav")
    stop.set()
    listener.join(5)
    kinds = [m["type"] for m in public]
    assert kinds[0] == "snapshot" and kinds.count("ticket.issued") == 3
    assert not [k for k in kinds if k.startswith("alarm.")]
    seqs = [m["seq"] for m in public]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_manager_live_view_and_levers(new_context: Any, server: Server) -> None:
    server.cli("user", "add", MANAGER, "--role", "manager", "--password-stdin", stdin=MANAGER_PASSWORD + "\n")
    drain_counter(server, "2")  # counter 2 serves nav and bolig
    server.issue("bolig")
    page = new_context().new_page()
    sign_in(page, server.base, MANAGER, MANAGER_PASSWORD)
    page.goto(server.base + "/manager")
    wait_live(page)
    row = page.locator('#departments tr[data-department="bolig"]')
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(page.locator('#counters tr[data-counter="2"]')).to_be_visible()
    # A manager has no technician page and no desk to work at.
    assert "Technician" not in page.locator("header").inner_text()
    assert page.request.get(server.base + "/tech").status == 403

    page.once("dialog", lambda d: d.accept())
    row.locator('[data-how="close"]').click()
    expect(row.locator("td.state")).to_contain_text("Closed")
    with server.api() as api:
        refused = api.post("/api/v1/tickets", json={"department": "bolig"})
        assert refused.json()["error"]["code"] == "department_closed"
    row.locator('[data-how="hours"]').click()
    expect(row.locator("td.state")).to_have_text("Open")

    with server.api() as api:  # the lines are written on /messages (issue 16); shown here
        api.put(
            "/api/v1/site/messages", json={"messages": [{"en": "You asked for more chairs: they are here."}]}
        )
    expect(page.locator("#lines li")).to_contain_text("more chairs")
    expect(page.locator("#edit-lines")).to_have_attribute("href", "/messages")
    with server.api() as api:
        api.put("/api/v1/site/messages", json={"messages": []})
    expect(page.locator("#lines li")).to_have_text("No message on the boards.")
    page.goto(server.base + "/desk")  # a manager has no desk: the live view is theirs
    expect(page).to_have_url(server.base + "/manager")
