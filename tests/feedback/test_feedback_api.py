"""Feedback, board messages and the feedback report on the real site-service app (in process).

The app runs with a clock the test moves; tokens are made in the ledger file like the ``token``
command does. The stored rows are read back from the database file itself.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from nummerlapp.config import load_settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.app import create_app
from nummerlapp.server.ledger import schema
from nummerlapp.server.ledger.feedback import KEY_DAYS
from nummerlapp.server.ledger.reads import follow_hash

OSLO = dt.timezone(dt.timedelta(hours=1))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=OSLO)  # the example site is open


class Site:
    def __init__(
        self, client: TestClient, clock: list[dt.datetime], path: Path, tokens: dict[str, str]
    ) -> None:
        self.client, self.clock, self.path, self.tokens = client, clock, path, tokens

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def rows(self, table: str = "feedback") -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(f"SELECT * FROM {table}").fetchall()
        finally:
            conn.close()

    def new_token(self, role: str) -> dict[str, str]:
        """Another token, made in the ledger file like the ``token`` command does."""
        conn = schema.connect(self.path)
        try:
            secret = auth.create_token(conn, role)[0]
        finally:
            conn.close()
        return {"Authorization": f"Bearer {secret}"}

    def give(self, answers: dict[str, Any], who: dict[str, str], key: str | None = None) -> Any:
        headers = who if key is None else {**who, "Idempotency-Key": key}
        return self.client.post("/api/v1/feedback", json={"answers": answers}, headers=headers)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = load_settings(None)
    path = tmp_path / "ledger.db"
    conn = schema.connect(path)
    tokens = {
        role: auth.create_token(conn, role)[0]
        for role in ("feedback", "kiosk", "manager", "admin", "display")
    }
    conn.close()
    clock = [MONDAY_10]
    app = create_app(settings, path, clock=lambda: clock[0])
    with TestClient(app) as client:
        yield Site(client, clock, path, tokens)


def test_terminal_answers_need_a_feedback_token(site: Site) -> None:
    c = site.client
    body = {"answers": {"overall": 5, "solved": 1}, "lang": "sv"}
    assert c.post("/api/v1/feedback", json=body).status_code == 401
    r = c.post("/api/v1/feedback", json=body, headers=site.h("kiosk"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = c.post("/api/v1/feedback", json=body, headers=site.h("feedback"))
    assert r.status_code == 201 and r.json() == {"stored": 2}
    rows = site.rows()
    assert sorted((r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows) == [
        ("terminal", None, None, "sv", "overall", 5),
        ("terminal", None, None, "sv", "solved", 1),
    ]
    # the hour, not the minute: 10:00 local is 09:00 UTC
    assert {r[0] for r in rows} == {"2026-11-23T09:00:00.000000+00:00"}


@pytest.mark.parametrize(
    "answers",
    [{"nope": 3}, {"overall": 6}, {"overall": 0}, {"solved": 2}, {}, {"overall": True}, {"overall": "5"}],
    ids=["unknown question", "face 6", "face 0", "yes/no 2", "none", "a boolean", "a string"],
)
def test_bad_answers_are_422_and_store_nothing(site: Site, answers: dict[str, Any]) -> None:
    r = site.client.post("/api/v1/feedback", json={"answers": answers}, headers=site.h("feedback"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request"
    assert site.rows() == []


def _done_ticket(site: Site, wait_min: float) -> dict[str, Any]:
    c = site.client
    ticket = c.post(
        "/api/v1/tickets", json={"department": "nav"}, headers=site.h("admin")
    ).json()  # no kiosk interval
    site.clock[0] += dt.timedelta(minutes=wait_min)
    assert c.post("/api/v1/counters/1/next", headers=site.h("admin")).status_code == 200
    return dict(ticket)


def test_phone_answers_once_after_done(site: Site) -> None:
    c = site.client
    ticket = _done_ticket(site, 7)
    url = f"/api/v1/follow/{ticket['follow']}/feedback"
    r = c.post(url, json={"answers": {"overall": 2}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_done"
    assert c.post("/api/v1/counters/1/done", headers=site.h("admin")).status_code == 200
    r = c.post(url, json={"answers": {"overall": 2, "wait": 1}})
    assert r.status_code == 201 and r.json() == {"stored": 2}
    r = c.post(url, json={"answers": {"overall": 5}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_answered"
    assert (
        c.post("/api/v1/follow/AAAAAAAAAAAAAAAAAAAAAA/feedback", json={"answers": {"overall": 1}}).status_code
        == 404
    )
    rows = site.rows()
    assert sorted((r[2], r[3], r[4], r[6], r[7]) for r in rows) == [
        ("phone", "nav", "5_15", "overall", 2),
        ("phone", "nav", "5_15", "wait", 1),
    ]
    secrets = {ticket["id"], ticket["number"], ticket["follow"], follow_hash(ticket["follow"])}
    assert not {str(v) for row in rows for v in row} & secrets
    raw = site.path.read_bytes()
    assert ticket["follow"].encode() not in raw  # the secret itself is nowhere in the file


def test_board_messages_reach_the_snapshot_and_expire(site: Site) -> None:
    c = site.client
    line = {"nb": "Dere ba om flere stoler – nå har vi det", "sv": "Ni bad om fler stolar – nu finns de",
            "en": "You asked for more chairs – now we have them", "until": "2026-11-23"}  # fmt: skip
    forever = {
        "nb": "Nå åpent torsdag til 18",
        "sv": "Nu öppet torsdag till 18",
        "en": "Now open Thursdays until 6 pm",
    }
    body = {"messages": [line, forever]}
    assert c.put("/api/v1/site/messages", json=body).status_code == 401
    assert c.put("/api/v1/site/messages", json=body, headers=site.h("kiosk")).status_code == 403
    bad = {"messages": [{"de": "Hallo"}]}
    assert c.put("/api/v1/site/messages", json=bad, headers=site.h("manager")).status_code == 422
    r = c.put("/api/v1/site/messages", json=body, headers=site.h("manager"))
    assert r.status_code == 200 and r.json() == body
    assert c.get("/api/v1/site/messages", headers=site.h("manager")).json() == body
    state = c.get("/api/v1/state").json()
    assert state["site"]["messages"] == [{k: v for k, v in line.items() if k != "until"}, forever]
    site.clock[0] += dt.timedelta(days=1)  # Tuesday: the first line's last day has passed
    assert c.get("/api/v1/state").json()["site"]["messages"] == [forever]
    assert c.put("/api/v1/site/messages", json={"messages": []}, headers=site.h("admin")).status_code == 200
    assert "messages" not in c.get("/api/v1/state").json()["site"]


def test_feedback_report_with_known_answers(site: Site) -> None:
    """Phones after known waits and the terminal; the expected figures are computed here."""
    c = site.client
    given: list[tuple[float, dict[str, int]]] = [
        (2, {"overall": 5, "wait": 5}),
        (3, {"overall": 4}),
        (9, {"overall": 3, "wait": 3}),
        (20, {"overall": 1, "wait": 1, "solved": 0}),
        (30, {"overall": 2, "solved": 1}),
    ]
    bands: dict[tuple[str, str], list[int]] = {}
    for wait_min, answers in given:
        ticket = _done_ticket(site, wait_min)
        assert c.post("/api/v1/counters/1/done", headers=site.h("admin")).status_code == 200
        r = c.post(f"/api/v1/follow/{ticket['follow']}/feedback", json={"answers": answers})
        assert r.status_code == 201, r.text
        band = "under_5" if wait_min < 5 else "5_15" if wait_min <= 15 else "over_15"
        for qid, v in answers.items():
            bands.setdefault((qid, band), []).append(v)
    terminal = [{"overall": 4, "solved": 1}, {"overall": 5}]
    for answers in terminal:
        assert (
            c.post("/api/v1/feedback", json={"answers": answers}, headers=site.h("feedback")).status_code
            == 201
        )

    q = {"from": "2026-11-23", "to": "2026-11-23", "by": "day"}
    assert c.get("/api/v1/stats/feedback", params=q, headers=site.h("kiosk")).status_code == 403
    r = c.get("/api/v1/stats/feedback", params=q, headers=site.h("manager"))
    assert r.status_code == 200, r.text
    report = r.json()
    expected_wait = [
        {"question": qid, "band": band, "answers": len(vs), "mean": round(sum(vs) / len(vs), 3)}
        for qid in ("overall", "wait", "staff", "solved")
        for band in ("under_5", "5_15", "over_15")
        if (vs := bands.get((qid, band)))
    ]
    assert report["by_wait"] == expected_wait
    overall_phone = [a["overall"] for _, a in given]
    overall_terminal = [a["overall"] for a in terminal]
    rows = {(r["department"], r["question"]): r for r in report["rows"]}
    assert rows[("nav", "overall")]["answers"] == len(overall_phone)
    assert rows[("nav", "overall")]["mean"] == round(sum(overall_phone) / len(overall_phone), 3)
    assert rows[(None, "overall")]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert rows[("nav", "solved")]["counts"] == {"0": 1, "1": 1}
    totals = {t["question"]: t for t in report["totals"]}
    everyone = overall_phone + overall_terminal
    assert totals["overall"]["answers"] == len(everyone)
    assert totals["overall"]["mean"] == round(sum(everyone) / len(everyone), 3)
    # long waits gave worse answers in this data, and the report says so
    means = {b["band"]: b["mean"] for b in report["by_wait"] if b["question"] == "overall"}
    assert means["under_5"] > means["5_15"] > means["over_15"]

    csv = c.get("/api/v1/stats/feedback", params={**q, "format": "csv"}, headers=site.h("manager"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("period,start,department,question,answers,mean")
    assert "overall,over_15,2,1.5" in lines
    site_wide = c.get("/api/v1/stats/feedback", params={**q, "per": "site"}, headers=site.h("admin")).json()
    assert all("department" not in r for r in site_wide["rows"])
    bad = c.get("/api/v1/stats/feedback", params={**q, "by": "fortnight"}, headers=site.h("admin"))
    assert bad.status_code == 422


def test_openapi_documents_the_routes(site: Site) -> None:
    paths = site.client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/feedback", "/api/v1/follow/{follow}/feedback", "/api/v1/site/messages",
            "/api/v1/stats/feedback"} <= set(paths)  # fmt: skip


# ---------------------------------------------------------------- Idempotency-Key


def test_a_repeated_key_is_stored_once_and_answered_201_again(site: Site) -> None:
    """The exit terminal's outbox sends a visit again when the 201 was lost: counted once."""
    key = secrets.token_urlsafe(24)
    first = site.give({"overall": 4, "solved": 1}, site.h("feedback"), key)
    assert first.status_code == 201 and first.json() == {"stored": 2}
    again = site.give({"overall": 4, "solved": 1}, site.h("feedback"), key)
    assert again.status_code == 201 and again.json() == {"stored": 2}  # the first one's answer
    assert sorted((r[6], r[7]) for r in site.rows()) == [("overall", 4), ("solved", 1)]
    (kept,) = site.rows("feedback_keys")
    assert kept[1:] == ("2026-11-23", 2)
    assert key.encode() not in site.path.read_bytes()  # only its hash is kept
    # the key names the visit: a repeat is answered as the first was, whatever it carries
    other = site.give({"nope": 3}, site.h("feedback"), key)  # (a shape still has to be a body)
    assert other.status_code == 201 and other.json() == {"stored": 2}
    assert len(site.rows()) == 2 and len(site.rows("feedback_keys")) == 1


def test_different_keys_are_different_visits(site: Site) -> None:
    for key in ("visit-1", "visit-2", "Visit-1"):  # keys are compared exactly
        assert site.give({"overall": 5}, site.h("feedback"), key).status_code == 201
    assert site.give({"overall": 5}, site.h("feedback")).status_code == 201  # no key: as before
    assert site.give({"overall": 5}, site.h("feedback")).status_code == 201
    assert [r[7] for r in site.rows()] == [5] * 5
    assert len(site.rows("feedback_keys")) == 3


def test_the_same_key_from_another_terminal_is_another_visit(site: Site) -> None:
    """Keys belong to their sender: a key only ever matches the same terminal's earlier POST, so
    one terminal can neither suppress another's answers nor learn which keys another used (a
    refusal would tell it). Random keys of honest terminals never meet anyway."""
    other = site.new_token("feedback")
    assert site.give({"overall": 2}, site.h("feedback"), "k").status_code == 201
    assert site.give({"overall": 3}, other, "k").status_code == 201
    assert site.give({"overall": 3}, other, "k").status_code == 201  # its own repeat
    assert sorted(r[7] for r in site.rows()) == [2, 3]
    assert len(site.rows("feedback_keys")) == 2


def test_a_terminal_that_joined_again_keeps_its_keys(site: Site) -> None:
    """Enrolled terminals are known by their device id: a terminal removed and approved again
    (a new token) resends its outbox with the same keys, and they are still recognised."""

    def enrol() -> dict[str, str]:
        c = site.client
        body = {"device": "exit-1", "role": "feedback", "name": "Utgang"}
        asked = c.post("/api/v1/enrolments", json=body).json()["enrolment"]
        approved = c.post(f"/api/v1/enrolments/{asked['code']}/approve", headers=site.h("admin"))
        assert approved.status_code == 200, approved.text
        token = c.get(f"/api/v1/enrolments/{asked['id']}").json()["enrolment"]["token"]
        return {"Authorization": f"Bearer {token}"}

    first = enrol()
    assert site.give({"overall": 1}, first, "lost-answer").status_code == 201
    second = enrol()  # the same device again: its old token is revoked
    assert site.give({"overall": 1}, first, "lost-answer").status_code == 401
    assert site.give({"overall": 1}, second, "lost-answer").status_code == 201
    assert [r[7] for r in site.rows()] == [1]


@pytest.mark.parametrize(
    "key",
    ["", " ", " lead", "trail ", "a" * 101, "tab\tin", "n\u00e6r", "\x7f", ["one", "two"]],
    ids=[
        "empty",
        "a space",
        "leading space",
        "trailing space",
        "101 chars",
        "a tab",
        "not ASCII",
        "DEL",
        "two headers",
    ],
)
def test_a_bad_key_is_422_and_stores_nothing(site: Site, key: str | list[str]) -> None:
    keys = key if isinstance(key, list) else [key]
    headers = [(b"authorization", site.h("feedback")["Authorization"].encode())]
    headers.append((b"content-type", b"application/json"))
    headers += [(b"idempotency-key", k.encode("latin-1")) for k in keys]
    r = site.client.post(
        "/api/v1/feedback", content=b'{"answers": {"overall": 5}}', headers=httpx.Headers(headers)
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_idempotency_key"
    assert set(r.json()) == {"error"} and r.json()["error"]["message"]
    assert site.rows() == [] and site.rows("feedback_keys") == []


@pytest.mark.parametrize("key", ["x", "a" * 100, "with inner spaces", '"quoted"', "~!#$%&'*+-.^_`|"])
def test_a_good_key_is_any_printable_ascii_up_to_100(site: Site, key: str) -> None:
    assert site.give({"overall": 3}, site.h("feedback"), key).status_code == 201
    assert site.give({"overall": 3}, site.h("feedback"), key).status_code == 201
    assert len(site.rows()) == 1


def test_a_refused_body_keeps_its_key_unused(site: Site) -> None:
    """A 422 for the answers stores neither them nor the key: the corrected visit counts."""
    assert site.give({"overall": 9}, site.h("feedback"), "k").status_code == 422
    assert site.rows() == [] and site.rows("feedback_keys") == []
    assert site.give({"overall": 5}, site.h("feedback"), "k").json() == {"stored": 1}
    assert [r[7] for r in site.rows()] == [5]


def test_keys_are_forgotten_after_key_days(site: Site) -> None:
    assert site.give({"overall": 1}, site.h("feedback"), "old").status_code == 201
    site.clock[0] += dt.timedelta(days=KEY_DAYS)
    assert site.give({"overall": 2}, site.h("feedback"), "new").status_code == 201
    assert len(site.rows("feedback_keys")) == 2  # KEY_DAYS old: still kept
    assert site.give({"overall": 1}, site.h("feedback"), "old").status_code == 201  # a repeat
    site.clock[0] += dt.timedelta(days=1)
    assert site.give({"overall": 3}, site.h("feedback"), "newer").status_code == 201
    assert sorted(r[1] for r in site.rows("feedback_keys")) == ["2026-12-23", "2026-12-24"]
    assert sorted(r[7] for r in site.rows()) == [1, 2, 3]


def test_openapi_documents_the_idempotency_key(site: Site) -> None:
    operation = site.client.get("/openapi.json").json()["paths"]["/api/v1/feedback"]["post"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert parameter["in"] == "header" and parameter["required"] is False
    assert parameter["schema"]["maxLength"] == 100 and parameter["schema"]["minLength"] == 1
    pattern = re.compile(parameter["schema"]["pattern"])
    assert pattern.search("a b") and not pattern.search(" a") and not pattern.search("æ")
    assert "security" in operation  # still the feedback token's
