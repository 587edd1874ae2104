"""Technician page, phone ticket page, device-fault banners and the axe-core accessibility check."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from nummerlapp.tests.web.conftest import IMG, Server, sign_in, wait_live

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 1,
}


def axe_problems(page: Any) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
              values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def kiosk_token(server: Server) -> str:
    return server.cli("token", "--role", "kiosk", "--name", "kiosk by the door")


def report(server: Server, token: str, state: str) -> None:
    res = httpx.post(
        f"{server.base}/api/v1/devices/kiosk-door/status",
        json={"role": "kiosk", "name": "Kiosk by the door", "version": "0.1.0", "printer": {"state": state}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert res.status_code == 200, res.text


def test_phone_page_follows_its_ticket(new_context: Any, server: Server) -> None:
    """The QR code's page on the visitors' port, over the follow stream: waiting → called → done."""
    before = server.issue("nav")
    mine = server.issue("nav", lang="sv")
    page = new_context(**PHONE, locale="en-GB").new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{server.public}/t/{mine['follow']}")  # the ticket's language, not the browser's
    expect(page.locator("#t-number")).to_have_text(mine["number"])
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("#t-headline")).to_have_text("Vänta – vi ropar upp ditt nummer")
    ahead = httpx.get(f"{server.public}/api/v1/follow/{mine['follow']}").json()["ticket"]["ahead"]
    expect(page.locator("#t-ahead")).to_have_text(f"{ahead} före dig")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    assert sockets == [f"{server.public.replace('http', 'ws')}/api/v1/follow/{mine['follow']}/events"]
    page.screenshot(path=str(IMG / "phone-waiting.png"))
    assert before["number"] not in page.locator("body").inner_text()  # nothing about others
    assert mine["id"] not in page.content()  # the id (on the boards' stream) is not on the page

    with server.api() as api:
        while True:  # counter 1 serves nav only: call until this ticket's turn
            called = api.post("/api/v1/counters/1/next").json()["ticket"]
            assert called is not None
            if called["id"] == mine["id"]:
                break
            expect(page.locator("#t-ahead")).not_to_have_text(f"{ahead} före dig")  # pushed, not polled
    expect(page.locator("#t-headline")).to_have_text("Ditt nummer är uppropat")
    expect(page.locator("#t-ahead")).to_have_text("Gå till Disk 1")  # the counter's Swedish name
    expect(page.locator("#ticket")).to_have_attribute("data-status", "called")
    page.screenshot(path=str(IMG / "phone-called.png"))
    assert axe_problems_in_csp_free_copy(new_context, f"{server.public}/t/{mine['follow']}") == []

    with server.api() as api:
        api.post("/api/v1/counters/1/done")
    expect(page.locator("#t-headline")).to_have_text("Tack för ditt besök")
    expect(page.locator("#ticket")).to_have_attribute("data-status", "done")
    page.screenshot(path=str(IMG / "phone-done.png"))
    assert len(sockets) == 1  # one socket all along: no reconnects, no polling

    missing = new_context(**PHONE).new_page()
    for url in (f"{server.public}/t/{mine['id']}", f"{server.base}/t/AAAAAAAAAAAAAAAAAAAAAA"):
        res = missing.goto(url)  # an id is no way in; neither is a guessed secret
        assert res is not None and res.status == 404
        expect(missing.locator("h1")).to_have_text("This ticket was not found.")


def axe_problems_in_csp_free_copy(new_context: Any, url: str) -> list[str]:
    """axe is injected as a script: the page's CSP (script-src 'self') would block it."""
    page = new_context(**PHONE, bypass_csp=True).new_page()
    page.goto(url)
    wait_live_phone(page)
    return axe_problems(page)


def wait_live_phone(page: Any) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def test_device_fault_banner_on_every_desk(new_context: Any, server: Server) -> None:
    token = kiosk_token(server)
    first = new_context().new_page()
    sign_in(first, server.base, "desk1")
    wait_live(first)
    report(server, token, "paper_end")
    banner = first.locator("#faults .fault")
    expect(banner).to_have_text("Kiosk by the door: printer is out of paper")
    # A desk that signs in after the fault sees it at once, in its own language.
    second = new_context(locale="nb-NO").new_page()
    second.goto(server.base + "/desk/signin?lang=nb")
    second.fill("#username", "desk2")
    second.fill("#password", "desk-two-password")
    second.click("form button[type=submit]")
    expect(second.locator("#faults .fault")).to_have_text("Kiosk by the door: skriveren er tom for papir")
    report(server, token, "ok")
    expect(banner).to_have_count(0)
    expect(second.locator("#faults .fault")).to_have_count(0)


def test_technician_page(new_context: Any, server: Server) -> None:
    token = kiosk_token(server)
    report(server, token, "paper_near_end")
    staff = new_context().new_page()
    sign_in(staff, server.base, "desk1")
    res = staff.goto(server.base + "/tech")
    assert res is not None and res.status == 403

    context = new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(server.base + "/tech")
    expect(page).to_have_url(server.base + "/desk/signin?next=/tech")
    page.fill("#username", "boss")
    page.fill("#password", "technician-password")
    page.click("form button[type=submit]")
    expect(page).to_have_url(server.base + "/tech")
    wait_live(page)
    row = page.locator('tr[data-device="kiosk-door"]')
    expect(row).to_contain_text("Kiosk by the door")
    expect(row.locator('[data-cell="printer"]')).to_have_text("printer paper is running out")
    report(server, token, "paper_end")  # live: the row follows device.status events
    expect(row.locator('[data-cell="printer"]')).to_have_text("printer is out of paper")
    row.get_by_role("button", name="Identify").click()
    expect(page.locator("#msg-dev")).to_have_text("Asked Kiosk by the door to identify itself.")
    expect(page.locator("#site-check")).to_contain_text("The file on disk is valid.")
    expect(page.locator("details pre")).to_contain_text('id = "askim"')

    # A staff account: made here, able to sign in, then disabled and refused.
    page.fill("#nu-name", "desk4")
    page.fill("#nu-pass", "desk-four-password")
    page.select_option("#nu-counter", "4")
    page.click("#user-form button[type=submit]")
    expect(page.locator('tr[data-user="desk4"]')).to_contain_text("4")
    page.fill("#nu-name", "Kari Nordmann")  # a person's name is refused (no personal data)
    page.fill("#nu-pass", "long-enough-password")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#msg-users")).to_contain_text("not a person's name")
    expect(page.locator('tr[data-user="Kari Nordmann"]')).to_have_count(0)
    page.fill("#nu-name", "")
    page.fill("#nu-pass", "")
    other = new_context().new_page()
    sign_in(other, server.base, "desk4", "desk-four-password")
    expect(other).to_have_url(server.base + "/desk")
    expect(other.locator(".brand .page")).to_have_text("Counter 4")  # the page is in English
    page.locator('tr[data-user="desk4"]').get_by_role("button", name="Disable").click()
    expect(page.locator('tr[data-user="desk4"] [data-cell="status"]')).to_have_text("disabled")
    other.reload()  # a disabled account stops at once, not at session expiry
    expect(other).to_have_url(re.compile(r"/desk/signin"))

    # A device token: shown once, works, then revoked and refused.
    page.fill("#nt-name", "board by the lift")
    page.select_option("#nt-role", "display")
    page.click("#token-form button[type=submit]")
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("nl_")
    page.evaluate("window.scrollTo(0, 0)")
    # docs/img/tech-page.png comes from a believable day (test_day_screenshots.py): test accounts here
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "nummerlapp-tech-page-check.png"), full_page=True)
    status = {"role": "board", "name": "Board by the lift"}
    auth = {"Authorization": f"Bearer {secret}"}
    assert (
        httpx.post(f"{server.base}/api/v1/devices/board-lift/status", json=status, headers=auth).status_code
        == 200
    )
    page.reload()
    page.locator("tr", has_text="board by the lift").get_by_role("button", name="Revoke").click()
    expect(page.locator("tr", has_text="board by the lift").locator('[data-cell="status"]')).to_have_text(
        "revoked"
    )
    assert (
        httpx.post(f"{server.base}/api/v1/devices/board-lift/status", json=status, headers=auth).status_code
        == 401
    )

    # Reset: refused without the exact site id, done with it.
    server.issue("byggesak")
    page.fill("#reset-confirm", "ASKIM")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#msg-reset")).to_have_text("Type the site id exactly to confirm the reset.")
    assert server.waiting("byggesak") >= 1
    page.fill("#reset-confirm", "askim")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#msg-reset")).to_contain_text("Today's queue was reset:")
    assert all(d["waiting"] == 0 for d in server.state()["departments"])
    assert "reset today's queue" in server.log.read_text()
    # The admin's session may *read* admin API resources (the report page polls with it) but
    # never change state through /api/v1: that takes a bearer token.
    assert page.request.get(server.base + "/api/v1/devices").status == 200
    assert staff.request.get(server.base + "/api/v1/devices").status == 403
    assert page.request.post(server.base + "/api/v1/counters/1/next").status == 401
    # The technician API refuses a missing CSRF header like the desk's does.
    res = page.request.post(server.base + "/tech/api/reset", data=json.dumps({"confirm": "askim"}))
    assert res.status == 403


def test_accessibility_of_every_page(new_context: Any, server: Server) -> None:
    context = new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(server.base + "/desk/signin?lang=en")
    assert axe_problems(page) == [], "sign-in"
    page.fill("#username", "desk2")
    page.fill("#password", "wrong-password")
    page.click("form button[type=submit]")
    assert axe_problems(page) == [], "sign-in with an error"

    # The desk with queues near and past the wait target: the browser's clock is moved on, so
    # the real tickets' real issue times age 11 and 16 minutes (target 15: amber at 10).
    with server.api() as api:
        api.post("/api/v1/counters/2/done")
    server.issue("nav")
    server.issue("bolig")
    page.clock.install()
    sign_in(page, server.base, "boss")
    page.click('button[name=counter][value="2"]')
    wait_live(page)
    page.keyboard.press("n")
    expect(page.locator("#message")).to_contain_text("Called")
    page.clock.fast_forward("11:00")
    expect(page.locator('.queue[data-level="near"]')).to_have_count(1)
    expect(page.locator('.queue[data-level="near"] .qbadge')).to_have_text("Near target")
    assert axe_problems(page) == [], "desk"
    page.clock.fast_forward("05:30")
    expect(page.locator('.queue[data-level="over"] .qbadge')).to_have_text("Over target")
    assert axe_problems(page) == [], "desk past target"
    page.screenshot(path=str(IMG / "desk-busy.png"))
    page.keyboard.press("t")
    expect(page.locator("#transfer-dialog")).to_be_visible()
    assert axe_problems(page) == [], "transfer dialog"
    page.screenshot(path=str(IMG / "desk-transfer.png"))
    page.keyboard.press("Escape")

    page.goto(server.base + "/desk/counter")
    assert axe_problems(page) == [], "counter choice"
    page.goto(server.base + "/tech")
    wait_live(page)
    assert axe_problems(page) == [], "technician"

    # The check can fail: a low-contrast line and an unlabelled field are caught.
    page.evaluate(
        """() => { const p = document.createElement('p'); p.textContent = 'faint words';
                   p.style.color = '#c8c8c8'; p.style.background = '#ffffff';
                   const i = document.createElement('input'); document.querySelector('main').append(p, i); }"""
    )
    found = " ".join(axe_problems(page))
    assert "color-contrast" in found and "label" in found
