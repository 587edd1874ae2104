"""The phone page asks the visit's questions once the followed ticket is done (Chromium, real server).

The server is a real ``main.py server`` process with its visitors' port; the page is opened on
that port by the ticket's follow secret, exactly as the QR code does. Refusals come back with the
protocol's codes, and the stored rows are read from the ledger file itself.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from nummerlapp.server.ledger.reads import follow_hash
from nummerlapp.tests.web.conftest import IMG, Server, browser, new_context, server  # noqa: F401  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

POST_JS = """async ([follow, answers]) => {
  const r = await fetch(`/api/v1/follow/${follow}/feedback`, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({answers})});
  return [r.status, await r.json()];
}"""


def _rows(server: Server) -> list[tuple[Any, ...]]:  # noqa: F811
    conn = sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM feedback WHERE source = 'phone'").fetchall()
    finally:
        conn.close()


def test_a_done_ticket_answers_once(server: Server, new_context: Any) -> None:  # noqa: F811
    ticket = server.issue("bolig", lang="nb")
    follow = ticket["follow"]
    page = new_context(viewport={"width": 390, "height": 844}, locale="nb-NO").new_page()
    page.goto(f"{server.public}/t/{follow}")
    page.wait_for_selector("#live[data-state=live]")
    assert page.is_hidden("#fb")
    # before the visit is done the service refuses, with the protocol's code
    status, body = page.evaluate(POST_JS, [follow, {"overall": 5}])
    assert (status, body["error"]["code"]) == (409, "not_done")

    with server.api() as api:
        assert api.post("/api/v1/counters/2/next").json()["ticket"]["number"] == ticket["number"]
        assert api.post("/api/v1/counters/2/done").status_code == 200
    page.wait_for_selector("#fb-form")  # the stream said done: the questions appear
    assert page.inner_text("#fb-title") == "Hvordan var besøket?"
    assert page.is_disabled("#fb-send")
    overall = '.fb-q[data-q="overall"]'
    for _ in range(5):  # a finger tapping "very good" again and again: one answer
        page.click(f'{overall} .fb-choice[data-v="5"]')
    page.click(f'{overall} .fb-choice[data-v="4"]')  # then changing its mind: the last tap wins
    page.click('.fb-q[data-q="solved"] .fb-choice[data-v="1"]')
    assert page.get_attribute(f'{overall} .fb-choice[data-v="4"]', "aria-pressed") == "true"
    page.screenshot(path=str(IMG / "phone-feedback-nb.png"), full_page=True)
    page.click("#fb-send")
    page.wait_for_selector("#fb-thanks")
    assert page.inner_text("#fb-thanks") == "Takk for svarene!"
    page.screenshot(path=str(IMG / "phone-feedback-thanks-nb.png"))

    # a second answer for the same ticket is refused; a reload does not ask again
    status, body = page.evaluate(POST_JS, [follow, {"overall": 1}])
    assert (status, body["error"]["code"]) == (409, "already_answered")
    page.reload()
    page.wait_for_selector("#live[data-state=live]")
    assert page.is_hidden("#fb")

    rows = _rows(server)
    assert sorted((r[3], r[6], r[7]) for r in rows) == [("bolig", "overall", 4), ("bolig", "solved", 1)]
    assert {r[4] for r in rows} == {"under_5"} and {r[5] for r in rows} == {"nb"}
    secrets = {ticket["id"], ticket["number"], follow, follow_hash(follow)}
    assert not {str(v) for row in rows for v in row} & secrets  # no id, number or secret in a row
    columns = [c[1] for c in sqlite3.connect(server.db).execute("PRAGMA table_info(feedback)")]
    assert not {"ticket", "ticket_id", "number", "follow", "follow_hash"} & set(columns)


def test_the_lan_api_refuses_the_same_way(server: Server) -> None:  # noqa: F811
    """The follow feedback route is the same on both ports: an unknown secret is 404."""
    r = httpx.post(
        f"{server.public}/api/v1/follow/AAAAAAAAAAAAAAAAAAAAAA/feedback", json={"answers": {"overall": 3}}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_ticket"
    r = httpx.post(f"{server.public}/api/v1/feedback", json={"answers": {"overall": 3}})
    assert r.status_code == 404  # the terminal's route is not on the visitors' port
