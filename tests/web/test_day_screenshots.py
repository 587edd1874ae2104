"""A believable Monday morning at Servicetorget i Askim, and the pictures of it in docs/img.

The embedded example site (its real opening hours), the ledger driven by a clock that says
Monday 30 November 2026 from 08:00: visitors take tickets through the morning, desks call and
serve them, one is handed on to housing, one is parked, one desk raised a silent alarm at 09:52
that a colleague cleared. At 10:24 the real app (in this process, on the same clock) serves the
pages to Debian's Chromium:

- ``desk-counter.png``: Skranke 2 has just called a visitor who chose English ("Called", not yet
  "Serving"), one ticket is parked, the queues;
- ``tech-page.png``: the technician's page (devices, accounts, tokens by name only, today's alarm
  log);
- ``manager-live.png``: the manager's live view;
- ``desk-alarm.png``: Skranke 1 when Skranke 3 raises the silent alarm.

Accounts are named after desks and roles, never people. The pictures go where the other web tests
put theirs (``NUMMERLAPP_SCREENSHOTS=docs/img`` to refresh the docs; look at each one).
"""

from __future__ import annotations

import datetime as dt
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from playwright.sync_api import expect

from nummerlapp.common import protocol as P
from nummerlapp.config import load_settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.app import create_app
from nummerlapp.server.ledger import Ledger, schema
from nummerlapp.tests.web.conftest import IMG, sign_in, wait_live

pytestmark = pytest.mark.browser

OSLO = ZoneInfo("Europe/Oslo")
DAY = dt.date(2026, 11, 30)  # a Monday
USERS = {  # name: (role, counter, password)
    "skranke1": ("staff", "1", "skranke-en-passord"),
    "skranke2": ("staff", "2", "skranke-to-passord"),
    "skranke3": ("staff", "3", "skranke-tre-passord"),
    "skranke4": ("staff", "4", "skranke-fire-passord"),
    "resepsjon": ("staff", None, "resepsjon-passord"),
    "leder": ("manager", None, "leder-passord-askim"),
    "drift": ("admin", None, "drift-passord-askim"),
}


def at(hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hh, mm, ss, tzinfo=OSLO)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


EVERY = {"nav": 4.2, "bolig": 9.0, "byggesak": 12.0, "tolk": 18.0}  # minutes between arrivals
PAUSED = {"4": (at(9, 30), at(9, 55))}  # Skranke 4's break


def _arrivals(ledger: Ledger, rng: random.Random, nxt: dict[str, dt.datetime], now: dt.datetime) -> None:
    langs = ["nb"] * 14 + ["en", "en", "sv", "en"]
    for dep, when in list(nxt.items()):
        if when <= now:
            if dep != "tolk" or now >= at(9, 0):  # interpreting opens at 09:00
                ledger.issue(dep, rng.choice(langs), source="kiosk-inngang")
            # from 09:55 NAV gets busier than its desks: a queue builds towards the target
            busy = 0.75 if dep == "nav" and now >= at(9, 55) else 1.0
            nxt[dep] = when + dt.timedelta(minutes=rng.expovariate(1 / (EVERY[dep] * busy)))


def _desk(
    ledger: Ledger, clock: Clock, rng: random.Random, counter: str, free_at: dt.datetime
) -> dt.datetime:
    """One desk's minute: its break, or the next visitor when the last one is done."""
    now = clock.now
    window = PAUSED.get(counter)
    if window and window[0] <= now < window[1]:
        if ledger.counter(counter).state == "open":
            if ledger.counter(counter).ticket is not None:
                ledger.done(counter)
            ledger.pause(counter)
        return free_at
    if window and now >= window[1] and ledger.counter(counter).state == "paused":
        ledger.open_counter(counter)
    if free_at > now or (counter == "2" and now >= at(10, 12)):  # Skranke 2's last calls: below
        return free_at
    if ledger.next(counter) is not None:
        clock.now = now + dt.timedelta(seconds=rng.randint(40, 110))  # the walk to the desk
        ledger.start_serving(counter)
        clock.now = now
    return now + dt.timedelta(minutes=rng.uniform(3.5, 7.0))


def morning(ledger: Ledger, clock: Clock) -> dict[str, Any]:
    """08:00-10:24: arrivals, calls, services; returns what the pictures should show."""
    rng = random.Random(30)
    nxt = {d: at(8, 0) + dt.timedelta(minutes=rng.uniform(0, EVERY[d])) for d in EVERY}
    busy_until = {c: at(8, 2) for c in ("1", "2", "3", "4")}
    out: dict[str, Any] = {}
    now = at(8, 0)
    while now < at(10, 24):
        clock.now = now
        _arrivals(ledger, rng, nxt, now)
        for counter, free_at in busy_until.items():
            busy_until[counter] = _desk(ledger, clock, rng, counter, free_at)
        if now == at(9, 38) and ledger.counter("1").ticket is not None:
            ledger.transfer("1", "bolig")  # NAV hands one visitor on to housing
        if now == at(9, 52):
            out["alarm"] = ledger.raise_alarm("3")
        if now == at(9, 54):
            ledger.clear_alarm(out["alarm"].id)
        now += dt.timedelta(minutes=1)
    # Skranke 2: at 10:15 a visitor goes to fetch a paper (parked); at 10:23 it calls the next one.
    clock.now = at(10, 15)
    if ledger.counter("2").ticket is None:
        ledger.next("2")
    ledger.start_serving("2")
    out["parked"] = ledger.park("2")
    clock.now = at(10, 16, 30)
    ledger.next("2")
    clock.now = at(10, 17, 5)
    english = ledger.issue("bolig", "en", source="kiosk-inngang")  # a visitor who reads English
    clock.now = at(10, 19, 20)
    if ledger.counter("3").ticket is not None:
        ledger.done("3")  # Skranke 3 waits for the next building-permit visitor
    clock.now = at(10, 23, 10)
    ledger.done("2")
    out["called"] = ledger.next("2")
    if out["called"] is None or out["called"].lang != "en":
        out["called"] = ledger.call("2", english.number)
    for device, role, name in (
        ("kiosk-inngang", "kiosk", "Kiosk ved inngangen"),
        ("tavle-venterom", "board", "Tavle i venterommet"),
    ):
        clock.now = at(10, 23, 40)
        printer = {"printer": {"state": "ok", "detail": ""}} if role == "kiosk" else {}
        ledger.report_device(device, role, {"version": "1.4.0", **printer}, name)
    clock.now = at(10, 23, 50)
    ledger.set_board_messages(
        [
            P.BoardMessage(
                {
                    "nb": "Dere ba om flere stoler ved vinduet – nå står de der.",
                    "sv": "Ni bad om fler stolar vid fönstret – nu står de där.",
                    "en": "You asked for more chairs by the window – they are there now.",
                }
            )
        ]
    )
    clock.now = at(10, 24)
    return out


@dataclass
class Day:
    base: str
    clock: Clock
    staff3: str  # a token bound to Skranke 3 (its alarm button's API twin)
    facts: dict[str, Any]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp("day")
    db = tmp / "ledger.sqlite"
    settings = load_settings(None)
    clock = Clock(at(7, 50))
    conn = schema.connect(db)
    for name, (role, counter, password) in USERS.items():
        auth.create_user(conn, name, password, role, counter, settings)
    for role, name in (("kiosk", "Kiosk ved inngangen"), ("display", "Tavle i venterommet")):
        auth.create_token(conn, role, None, name, settings)
    staff3, _ = auth.create_token(conn, "staff", "3", "Alarmknapp skranke 3", settings)
    conn.close()
    ledger = Ledger(db, settings, clock=clock)
    try:
        facts = morning(ledger, clock)
    finally:
        ledger.close()
    app = create_app(settings, db, clock=clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield Day(base, clock, staff3, facts)
    finally:
        server.should_exit = True
        thread.join(15)


def signed_in(new_context: Any, day: Day, user: str, path: str, height: int = 768) -> Any:
    page = new_context(viewport={"width": 1366, "height": height}).new_page()
    sign_in(page, day.base, user, USERS[user][2])
    page.goto(day.base + path + ("&" if "?" in path else "?") + "lang=en")
    wait_live(page)
    return page


def test_the_morning_is_believable(day: Day) -> None:
    state = httpx.get(day.base + "/api/v1/state", timeout=10).json()
    assert state["site"]["open"] is True
    waiting = {d["id"]: d["waiting"] for d in state["departments"]}
    assert sum(waiting.values()) >= 4, waiting
    assert day.facts["called"] is not None and day.facts["called"].status == "called"


def test_desk_counter_picture(new_context: Any, day: Day) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    page = signed_in(new_context, day, "skranke2", "/desk")
    called = day.facts["called"]
    expect(page.locator("#now-number")).to_have_text(called.number)
    expect(page.locator("#now-title")).to_have_text("Called")
    expect(page.locator("#parked li[data-ticket]")).to_have_count(1)
    text = page.locator("main").inner_text()
    for hour in range(16, 24):  # no clock after closing time anywhere on the page
        assert f"{hour}:" not in text
    page.screenshot(path=str(IMG / "desk-counter.png"))


def test_tech_page_picture(new_context: Any, day: Day) -> None:
    page = signed_in(new_context, day, "drift", "/tech")
    expect(page.locator("#alarm-log tbody tr")).to_have_count(1)
    body = page.locator("main").inner_text()
    assert "nl_" not in body and "/tmp" not in body and "pytest" not in body.lower()
    assert "test" not in body.lower() and "boss" not in body
    page.screenshot(path=str(IMG / "tech-page.png"), full_page=True)


def test_manager_live_picture(new_context: Any, day: Day) -> None:
    page = signed_in(new_context, day, "leder", "/manager", height=900)
    expect(page.locator("#departments tbody tr")).to_have_count(4)
    expect(page.locator("#counters tbody tr")).to_have_count(4)
    wide = page.evaluate(
        "() => [...document.querySelectorAll('table')].every(t => t.scrollWidth <= t.parentElement.clientWidth + 1)"
    )
    assert wide, "a table is cut on the right"
    page.screenshot(path=str(IMG / "manager-live.png"), full_page=True)


def test_desk_alarm_picture(new_context: Any, day: Day) -> None:
    page = signed_in(new_context, day, "skranke1", "/desk")
    raised = httpx.post(
        day.base + "/api/v1/counters/3/alarm", headers={"Authorization": f"Bearer {day.staff3}"}, timeout=10
    )
    assert raised.status_code == 202
    expect(page.locator(".alarm")).to_contain_text("ALARM at Counter 3 since 10:24")
    page.screenshot(path=str(IMG / "desk-alarm.png"))
    cleared = httpx.post(
        day.base + f"/api/v1/alarms/{raised.json()['alarm']['id']}/clear",
        headers={"Authorization": f"Bearer {day.staff3}"},
        timeout=10,
    )
    assert cleared.status_code == 200
    expect(page.locator(".alarm")).to_have_count(0)
