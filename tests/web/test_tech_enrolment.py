"""The technician page's devices card (issue 13), in Chromium against a real server.

A board asks to join (``POST /api/v1/enrolments``, as client/enrol.py does): its code shows up
on the page with role, name, address and expiry; the technician approves it there with a name
and a zone; the device list updates (the board fetches its token, opens its event socket and is
listed as connected); it is renamed, a waiting kiosk is refused, the board removed (its token is
refused). "Reload site file" says the file is unchanged, then shows the file, key and problem of a
broken one and changes nothing. The picture docs/img/tech-enrolment.png is the devices card.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from nummerlapp.tests.web.conftest import IMG, Server, sign_in, wait_live

pytestmark = pytest.mark.browser


def ask_to_join(server: Server, device: str, role: str, name: str) -> dict[str, Any]:
    res = httpx.post(f"{server.base}/api/v1/enrolments", json={"device": device, "role": role, "name": name})
    assert res.status_code == 201, res.text
    enrolment: dict[str, Any] = res.json()["enrolment"]
    return enrolment


def collect(server: Server, enrolment_id: str) -> dict[str, Any]:
    res = httpx.get(f"{server.base}/api/v1/enrolments/{enrolment_id}")
    assert res.status_code == 200, res.text
    answer: dict[str, Any] = res.json()["enrolment"]
    return answer


@pytest.fixture
def sockets() -> Iterator[ExitStack]:
    """Event sockets opened with a device's token (the device list shows them as connected)."""
    with ExitStack() as stack:
        yield stack


def test_a_board_is_approved_on_the_technician_page(
    new_context: Any, server: Server, sockets: ExitStack
) -> None:
    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, server.base, "boss")
    page.goto(server.base + "/tech")
    wait_live(page)
    expect(page.locator("#no-pending")).to_have_text("No device is waiting for approval.")

    # 1. a board asks to join: its code appears within the poll
    board = ask_to_join(server, "board-waiting-room", "display", "board-waiting-room")
    row = page.locator(f'#pending tr[data-code="{board["code"]}"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_contain_text(f"{board['code'][:3]} {board['code'][3:]}")
    expect(row).to_contain_text("Board")
    expect(row).to_contain_text("127.0.0.1")
    expect(row.locator('[data-cell="expires"]')).to_contain_text("until ")

    # 2. approved here with a name and a zone: the device list has it at once
    row.locator('input[name="name"]').fill("Tavle i venterommet")
    row.locator('select[name="zone"]').select_option("venterom")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#msg-dev")).to_have_text(
        "Approved Tavle i venterommet: it starts within a few seconds."
    )
    expect(row).to_have_count(0)
    listed = page.locator('#devices tr[data-device="board-waiting-room"]')
    expect(listed).to_contain_text("Tavle i venterommet")
    expect(listed.locator('[data-cell="role"]')).to_have_text("Board")
    expect(listed.locator('[data-cell="zone"]')).to_have_text("Venterommet")
    expect(listed.locator('[data-cell="connected"]')).to_have_text("not connected")
    answer = collect(server, board["id"])
    assert answer["status"] == "approved" and answer["token"].startswith("nl_")
    board_token = answer["token"]
    ws_url = server.base.replace("http://", "ws://") + "/api/v1/events"
    sockets.enter_context(connect(ws_url, additional_headers={"Authorization": f"Bearer {board_token}"}))
    expect(listed.locator('[data-cell="connected"]')).to_have_text("connected", timeout=5_000)

    # a kiosk enrolled and at work (approved by the API), and one waiting for its code
    kiosk = ask_to_join(server, "kiosk-entrance", "kiosk", "kiosk-entrance")
    approve = httpx.post(
        f"{server.base}/api/v1/enrolments/{kiosk['code']}/approve",
        json={"name": "Kiosk ved inngangen", "printer": "kiosk-1"},
        headers=server.bearer,
    )
    assert approve.status_code == 200, approve.text
    kiosk_token = collect(server, kiosk["id"])["token"]
    status = {"role": "kiosk", "name": "Kiosk ved inngangen", "version": "0.1.0", "printer": {"state": "ok"}}
    reported = httpx.post(
        f"{server.base}/api/v1/devices/kiosk-entrance/status",
        json=status,
        headers={"Authorization": f"Bearer {kiosk_token}"},
    )
    assert reported.status_code == 200, reported.text
    sockets.enter_context(connect(ws_url, additional_headers={"Authorization": f"Bearer {kiosk_token}"}))
    waiting = ask_to_join(server, "kiosk-lift", "kiosk", "kiosk-lift")
    kiosk_row = page.locator('#devices tr[data-device="kiosk-entrance"]')
    expect(kiosk_row.locator('[data-cell="printer"]')).to_have_text("paper OK")
    expect(kiosk_row.locator('[data-cell="connected"]')).to_have_text("connected", timeout=5_000)
    waiting_row = page.locator(f'#pending tr[data-code="{waiting["code"]}"]')
    expect(waiting_row.locator('select[name="printer"]')).to_have_value("kiosk-1")

    # 3. renamed on the page
    page.once("dialog", lambda d: d.accept("Tavle ved skrankene"))
    listed.get_by_role("button", name="Rename").click()
    expect(page.locator("#msg-dev")).to_have_text("Renamed to Tavle ved skrankene.")
    expect(listed.locator('[data-cell="name"]')).to_have_text("Tavle ved skrankene")

    card = page.locator('section[aria-labelledby="dev-title"]')
    waiting_row.locator('input[name="name"]').fill("Kiosk ved heisen")
    page.evaluate("document.activeElement.blur()")
    page.locator("#msg-dev").evaluate("el => { el.textContent = ''; }")
    text = card.inner_text()
    assert "nl_" not in text and "/tmp" not in text and "test" not in text.lower()
    IMG.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(IMG / "tech-enrolment.png"))

    # 4. the waiting kiosk refused: it is told so
    waiting_row.get_by_role("button", name="Refuse").click()
    expect(page.locator("#msg-dev")).to_contain_text("Refused the code")
    expect(waiting_row).to_have_count(0)
    assert collect(server, waiting["id"])["status"] == "refused"

    # 5. the board removed: gone from the list, its token refused
    page.once("dialog", lambda d: d.accept())
    listed.get_by_role("button", name="Remove").click()
    expect(page.locator("#msg-dev")).to_have_text("Removed Tavle ved skrankene: it shows its code again.")
    expect(listed).to_have_count(0)
    refused = httpx.get(f"{server.base}/api/v1/config", headers={"Authorization": f"Bearer {board_token}"})
    assert refused.status_code == 401

    # 6. the site file: unchanged, then broken (nothing changes, the file, key and problem shown)
    page.get_by_role("button", name="Reload site file").click()
    expect(page.locator("#msg-site")).to_have_text("The site file has not changed.")
    good = server.site.read_text(encoding="utf-8")
    try:
        server.site.write_text(
            good.replace('timezone = "Europe/Oslo"', 'timezone = "Mars/Base"'), encoding="utf-8"
        )
        page.get_by_role("button", name="Reload site file").click()
        message = page.locator("#msg-site")
        expect(message).to_contain_text("The site file was not applied; nothing changed:")
        expect(message).to_contain_text(str(server.site))
        expect(message).to_contain_text("site.timezone")
        assert server.state()["site"]["id"] == "askim"
    finally:
        server.site.write_text(good, encoding="utf-8")
        time.sleep(0.05)


def test_the_devices_api_of_the_page_is_for_admins_only(new_context: Any, server: Server) -> None:
    staff = new_context().new_page()
    sign_in(staff, server.base, "desk1")
    assert staff.request.get(server.base + "/tech/api/devices").status == 403
    admin = new_context().new_page()
    sign_in(admin, server.base, "boss")
    admin.goto(server.base + "/tech")
    assert admin.request.get(server.base + "/tech/api/devices").status == 403  # no CSRF header
