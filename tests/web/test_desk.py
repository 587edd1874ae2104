"""The desk page end to end: real server process, real Chromium, real clicks and keys."""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import expect

from nummerlapp.tests.web.conftest import (
    IMG,
    Server,
    clear_counter,
    csrf_of,
    drain_counter,
    open_desk,
    sign_in,
    wait_live,
)

SCRATCH = Path(tempfile.gettempdir()) / "nummerlapp-screenshots"

pytestmark = pytest.mark.browser


def test_wrong_password_is_refused_and_says_so(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, server.base, "desk2", "not-the-password")
    expect(page.locator("#signin-error")).to_have_text("Wrong user name or password.")
    expect(page.locator("#username")).to_have_value("desk2")
    # Still signed out: the desk sends the browser back to the sign-in form.
    page.goto(server.base + "/desk")
    expect(page).to_have_url(server.base + "/desk/signin")
    IMG.mkdir(parents=True, exist_ok=True)
    page.goto(server.base + "/desk/signin?lang=nb")
    expect(page.locator("h1")).to_have_text("Logg inn på skranken")
    page.screenshot(path=str(IMG / "desk-signin.png"))


def test_next_recall_no_show_done_transfer_pause(new_context: Any, server: Server) -> None:
    drain_counter(server, "1")  # counter 1 serves NAV only
    clear_counter(server, "2")
    first = server.issue("nav")
    second = server.issue("bolig")
    page = open_desk(new_context, server, "desk2")
    expect(page.locator("h1#now-title")).to_be_visible()

    page.click("#btn-next")  # calls the oldest of nav and bolig: the nav ticket
    expect(page.locator("#now-number")).to_have_text(first["number"])
    expect(page.locator("#message")).to_have_text(f"Called {first['number']}.")
    assert server.counter("2")["ticket"]["id"] == first["id"]

    page.keyboard.press("r")
    expect(page.locator("#message")).to_have_text(f"Called {first['number']} again.")
    latest = server.state()["calls"][0]
    assert (latest["number"], latest.get("recall")) == (first["number"], True)

    page.keyboard.press("t")  # transfer: pick the building-permit department in the dialog
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-transfer="nav"]')).to_be_hidden()  # not to its own department
    dialog.locator('[data-transfer="byggesak"]').click()
    expect(page.locator("#message")).to_have_text(f"{first['number']} now waits for Building permits.")
    moved = httpx.get(f"{server.base}/api/v1/tickets/{first['id']}", headers=server.bearer).json()
    assert (moved["status"], moved["department"], moved["number"]) == ("waiting", "byggesak", first["number"])
    expect(page.locator("#now-number")).to_have_text("–")

    page.keyboard.press("n")  # the bolig ticket
    expect(page.locator("#now-number")).to_have_text(second["number"])
    page.click("#btn-no-show")
    expect(page.locator("#message")).to_have_text(f"{second['number']} did not come.")
    assert (
        httpx.get(f"{server.base}/api/v1/tickets/{second['id']}", headers=server.bearer).json()["status"]
        == "no_show"
    )

    third = server.issue("nav")
    page.keyboard.press("n")
    expect(page.locator("#now-number")).to_have_text(third["number"])
    page.keyboard.press("d")
    expect(page.locator("#message")).to_have_text(f"{third['number']} is done.")
    assert (
        httpx.get(f"{server.base}/api/v1/tickets/{third['id']}", headers=server.bearer).json()["status"]
        == "done"
    )

    page.keyboard.press("p")
    expect(page.locator("#counter-state")).to_have_text("Counter paused – no calls")
    expect(page.locator("#pause-label")).to_have_text("Open")
    assert server.counter("2")["state"] == "paused"
    server.issue("nav")
    page.keyboard.press("n")  # a paused counter calls nobody, and says why
    expect(page.locator("#message")).to_have_text("The counter is paused. Open it first.")
    page.click("#btn-pause")
    expect(page.locator("#counter-state")).to_have_text("Counter open")
    assert server.counter("2")["state"] == "open"

    # Nothing current: recall is refused with words, not a stack trace.
    page.keyboard.press("n")
    expect(page.locator("#message")).to_contain_text("Called ")
    page.keyboard.press("d")  # (a key pressed while a request is in flight is dropped, by design)
    expect(page.locator("#message")).to_contain_text("is done.")
    page.keyboard.press("r")
    expect(page.locator("#message")).to_have_text("There is no current ticket at this counter.")


def test_a_call_from_another_browser_appears_without_reload(new_context: Any, server: Server) -> None:
    drain_counter(server, "1")  # counter 1 serves NAV only
    clear_counter(server, "2")
    ticket = server.issue("nav")
    watcher = open_desk(new_context, server, "desk2")
    expect(watcher.locator("#now-number")).to_have_text("–")
    # An admin at the same counter, in another browser, presses Next.
    other = new_context().new_page()
    sign_in(other, server.base, "boss")
    expect(other).to_have_url(server.base + "/desk/counter")
    other.click('button[name=counter][value="2"]')
    wait_live(other)
    waiting_before = watcher.locator('.queue[data-department="nav"] .qcount').inner_text()
    other.keyboard.press("n")
    expect(other.locator("#now-number")).to_have_text(ticket["number"])
    expect(watcher.locator("#now-number")).to_have_text(ticket["number"])  # pushed over the socket
    expect(watcher.locator('.queue[data-department="nav"] .qcount')).not_to_have_text(waiting_before)
    # docs/img/desk-counter.png comes from a believable day (test_day_screenshots.py); this one is a check
    watcher.screenshot(path=str(SCRATCH / "desk-counter-live.png"))


def test_double_click_calls_one_ticket(new_context: Any, server: Server) -> None:
    drain_counter(server, "1")  # counter 1 serves NAV only
    a, b = server.issue("nav"), server.issue("nav")
    waiting = server.waiting("nav")
    page = open_desk(new_context, server, "desk1")
    page.dblclick("#btn-next")
    expect(page.locator("#now-number")).to_have_text(a["number"])
    page.wait_for_timeout(300)  # give a (wrong) second call the time to happen
    assert server.waiting("nav") == waiting - 1
    assert (
        httpx.get(f"{server.base}/api/v1/tickets/{b['id']}", headers=server.bearer).json()["status"]
        == "waiting"
    )

    # The server guard on its own: two requests for one intent (as if the page had not disabled
    # its buttons) — same expectation, different keys — advance the queue once.
    csrf = csrf_of(page)
    results = page.evaluate(
        """async ([csrf, expect]) => {
            const send = (key) => fetch('/desk/api/counters/1/next', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                body: JSON.stringify({key, expect})}).then(r => r.status);
            return Promise.all([send('key-one-aaaa'), send('key-two-bbbb')]);
        }""",
        [csrf, a["id"]],
    )
    assert sorted(results) == [200, 409]
    assert server.counter("1")["ticket"]["id"] == b["id"]
    # The same key again is answered from memory, not acted on again.
    again = page.evaluate(
        """async ([csrf, expect]) => {
            const r = await fetch('/desk/api/counters/1/next', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                body: JSON.stringify({key: 'key-one-aaaa', expect})});
            return [r.status, (await r.json()).ticket];
        }""",
        [csrf, a["id"]],
    )
    assert again[0] in (200, 409)
    assert server.counter("1")["ticket"]["id"] == b["id"]


def test_staff_of_counter_2_cannot_act_on_3(new_context: Any, server: Server) -> None:
    clear_counter(server, "3")
    server.issue("byggesak")
    page = open_desk(new_context, server, "desk2")
    # Bound to counter 2: the choice page offers nothing else.
    page.goto(server.base + "/desk/counter")
    expect(page).to_have_url(server.base + "/desk")
    before = server.counter("3")
    res = page.request.post(
        server.base + "/desk/api/counters/3/next",
        data=json.dumps({"key": "forbidden-key-1", "expect": None}),
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)},
    )
    assert res.status == 403
    assert res.json()["error"]["code"] == "forbidden_counter"
    assert server.counter("3") == before
    # Choosing counter 3 by a forged form is refused too.
    res = page.request.post(
        server.base + "/desk/counter", form={"csrf": csrf_of(page), "counter": "3"}, max_redirects=0
    )
    assert res.status == 403


def test_state_change_without_csrf_token_is_refused(new_context: Any, server: Server) -> None:
    clear_counter(server, "1")
    server.issue("nav")
    page = open_desk(new_context, server, "desk1")
    before = server.counter("1")
    for headers in ({}, {"X-CSRF-Token": "forged-token-forged-token"}):
        res = page.request.post(
            server.base + "/desk/api/counters/1/next",
            data=json.dumps({"key": "csrf-test-key-1", "expect": None}),
            headers={"Content-Type": "application/json", **headers},
        )
        assert res.status == 403
        assert res.json()["error"]["code"] == "csrf"
    assert server.counter("1") == before
    # No state change by GET either.
    assert page.request.get(server.base + "/desk/api/counters/1/next").status == 405
    assert server.counter("1") == before
    # The cookie cannot be read by scripts and stays on this site.
    cookie = next(c for c in page.context.cookies() if c["name"] == "nl_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_expired_session_is_sent_to_sign_in(new_context: Any, server: Server) -> None:
    context = new_context()
    page = context.new_page()
    sign_in(page, server.base, "desk1")
    wait_live(page)
    cookie = next(c for c in context.cookies() if c["name"] == "nl_session")
    # The same session, signed eleven hours ago (the lifetime is ten): made with the site's own
    # secret, which lives beside the ledger.
    secret = (server.db.parent / (server.db.name + ".web-secret")).read_text().strip()
    serializer = URLSafeTimedSerializer(secret, salt="nummerlapp.web.session")
    payload = serializer.loads(cookie["value"])

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 11 * 3600

    class Old(URLSafeTimedSerializer):
        default_signer = OldSigner

    context.add_cookies([{**cookie, "value": Old(secret, salt="nummerlapp.web.session").dumps(payload)}])
    csrf = payload["c"]
    res = page.request.post(
        server.base + "/desk/api/counters/1/next",
        data=json.dumps({"key": "expired-key-1", "expect": None}),
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    assert res.status == 401
    assert res.json()["error"]["code"] == "session_expired"
    page.goto(server.base + "/desk")
    expect(page).to_have_url(server.base + "/desk/signin?expired=1")
    expect(page.locator(".notice")).to_have_text("Your session has expired. Please sign in again.")


def test_reception_takes_a_ticket_for_a_visitor(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    sign_in(page, server.base, "boss")
    page.click('button[name=counter][value="reception"]')
    wait_live(page)
    before = server.waiting("tolk")
    page.click('[data-issue="tolk"]')
    expect(page.locator(".issued-number")).to_have_text(re.compile(r"^D\d{3}$"))
    number = page.locator(".issued-number").inner_text()
    assert server.waiting("tolk") == before + 1
    expect(page.locator("#issued")).to_contain_text(f"Ticket {number} for Interpreting.")


def test_keyboard_only_and_tablet(new_context: Any, server: Server) -> None:
    drain_counter(server, "1")  # counter 1 serves NAV only
    ticket = server.issue("nav")
    page = new_context(viewport={"width": 768, "height": 1024}, has_touch=True).new_page()
    page.goto(server.base + "/desk/signin?lang=en")
    expect(page.locator("#username")).to_be_focused()  # autofocus: no mouse needed
    page.keyboard.type("desk1")
    page.keyboard.press("Tab")
    page.keyboard.type("desk-one-password")
    page.keyboard.press("Enter")
    expect(page).to_have_url(server.base + "/desk")
    wait_live(page)
    for _ in range(40):  # Tab through the page until Next has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "btn-next":
            break
    else:
        pytest.fail("Next cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    expect(page.locator("#now-number")).to_have_text(ticket["number"])
    # Portrait tablet: one column, nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(IMG / "desk-tablet.png"))
