"""The report page in Debian's Chromium (Playwright): renders, obeys its CSP, updates itself.

Screenshots go to docs/img/reports-*.png (they are looked at, and committed with the docs).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import sync_playwright

from nummerlapp.server.api import auth
from nummerlapp.server.ledger import schema
from nummerlapp.tests.server.serverproc import ServerProcess
from nummerlapp.tests.stats.statsfixtures import add
from nummerlapp.tests.web.conftest import (  # IMG: a scratch folder unless NUMMERLAPP_SCREENSHOTS is set
    CHROMIUM,
    CHROMIUM_ARGS,
    IMG,
)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
OSLO = ZoneInfo("Europe/Oslo")
# Relative arrivals per local hour (08-15) and weekday (Mon-Fri): a Monday-morning peak.
HOURLY = [5, 9, 8, 6, 7, 6, 4, 2]
DAILY = [1.4, 1.0, 0.9, 1.2, 0.7]
ROUTES = (("nav", ("1", "2")), ("bolig", ("2", "4")), ("byggesak", ("3", "4")), ("tolk", ("4",)))


def utc(local: dt.datetime) -> str:
    return local.astimezone(dt.UTC).isoformat(timespec="microseconds")


def four_weeks(conn: Any, end: dt.date) -> None:
    rng = random.Random(7)
    for k in range(28):
        day = end - dt.timedelta(days=27 - k)
        if day.weekday() >= 5:
            continue
        for h, weight in enumerate(HOURLY):
            for _ in range(int(weight * DAILY[day.weekday()] * 2)):
                dep, counters = ROUTES[rng.randrange(4)]
                issued = dt.datetime.combine(day, dt.time(8 + h, rng.randrange(60)), tzinfo=OSLO)
                wait = rng.expovariate(1 / (300 + 60 * weight * DAILY[day.weekday()]))
                called = issued + dt.timedelta(seconds=wait)
                done = called + dt.timedelta(seconds=120 + rng.expovariate(1 / 360))
                add(
                    conn,
                    dep,
                    utc(issued),
                    utc(called),
                    utc(done),
                    counter=rng.choice(counters),
                    lang=rng.choice(("nb", "nb", "nb", "sv", "en")),
                )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("reports")
    db = tmp / "ledger.db"
    conn = schema.connect(db)
    today = dt.datetime.now(OSLO).date()
    four_weeks(conn, today - dt.timedelta(days=1))
    auth.create_user(conn, "boss", "technician-password", role="admin")
    conn.close()
    proc = ServerProcess(ROOT / "config" / "example_site.toml", db)  # the embedded example site
    proc.start()
    try:
        yield {"base": f"http://127.0.0.1:{proc.port}", "db": db, "today": today}
    finally:
        proc.stop()


def test_report_page_in_chromium(server: dict[str, Any]) -> None:
    base, today = server["base"], server["today"]
    start = today - dt.timedelta(days=28)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="en-GB")  # a desktop
            problems: list[str] = []
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" and "404" not in m.text else None,
            )
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(f"{base}/reports")
            page.fill("input[name=username]", "boss")
            page.fill("input[name=password]", "technician-password")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{base}/reports?lang=en&from={start}&to={today}&by=day")
            assert page.locator("svg.chart").count() == 3
            assert page.locator("svg.heat rect").count() >= 7 * 8
            assert page.locator("table tbody tr").count() > 20
            IMG.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(IMG / "reports-en.png"), full_page=True)
            # Live: a ticket issued now shows up in "today" without reloading the page.
            assert page.locator("[data-k=issued]").inner_text() == "0"
            conn = schema.connect(server["db"])
            now = dt.datetime.now(dt.UTC)
            add(conn, "nav", now.isoformat(timespec="microseconds"), day=today.isoformat())
            conn.close()
            deadline = time.monotonic() + 15  # the page polls every 10 s
            while page.locator("[data-k=issued]").inner_text() != "1" and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            assert page.locator("[data-k=issued]").inner_text() == "1"
            assert page.locator("[data-k=waiting]").inner_text() == "1"
            page.goto(f"{base}/reports?lang=nb&from={start}&to={today}&by=week&department=nav")
            assert "Når kommer folk?" in page.content()
            page.screenshot(path=str(IMG / "reports-nb-week.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()
