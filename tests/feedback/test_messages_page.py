"""The managers' "you said, we did" page: sign in, write lines per language, the boards get them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nummerlapp.config import load_settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.app import create_app
from nummerlapp.server.ledger import schema

PASSWORD = "a long enough password"


TOKENS: dict[str, str] = {}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "ledger.db"
    conn = schema.connect(path)
    auth.create_user(conn, "leder", PASSWORD, role="manager")
    auth.create_user(conn, "clerk", PASSWORD, role="staff")
    TOKENS["feedback"] = auth.create_token(conn, "feedback")[0]
    conn.close()
    with TestClient(create_app(load_settings(None), path)) as c:
        yield c


def sign_in(client: TestClient, username: str) -> None:
    page = client.get("/desk/signin?lang=en").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    r = client.post(
        "/desk/signin",
        data={"username": username, "password": PASSWORD, "csrf": csrf.group(1), "next": "/messages"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_manager_writes_the_lines(client: TestClient) -> None:
    assert client.get("/messages", follow_redirects=False).headers["location"].startswith("/desk/signin")
    sign_in(client, "leder")
    page = client.get("/messages?lang=nb")
    assert page.status_code == 200 and "Dere sa, vi gjorde" in page.text
    form = {
        "csrf": csrf_of(page.text),
        "m0-nb": "Dere ba om flere stoler – nå har vi 12 nye",
        "m0-sv": "Ni bad om fler stolar – nu har vi 12 nya",
        "m0-en": "You asked for more chairs – we have 12 new ones",
        "m1-nb": "Kaffe i venterommet hele desember",
        "m1-en": "Coffee in the waiting room all December",
        "m1-until": "2026-12-31",
        "m2-nb": "",
    }
    r = client.post("/messages", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/messages?saved=1"
    site = client.get("/api/v1/state").json()["site"]
    assert site["messages"][0]["sv"] == "Ni bad om fler stolar – nu har vi 12 nya"
    assert "until" not in site["messages"][1]
    page = client.get("/messages?saved=1")
    assert 'id="saved"' in page.text and 'value="2026-12-31"' in page.text


def test_bad_date_and_stale_form_change_nothing(client: TestClient) -> None:
    sign_in(client, "leder")
    page = client.get("/messages?lang=en").text
    r = client.post("/messages", data={"csrf": csrf_of(page), "m0-nb": "Hei", "m0-until": "31.12.2026"})
    assert r.status_code == 200 and 'id="problem"' in r.text
    r = client.post("/messages", data={"csrf": "stale", "m0-nb": "Hei"})
    assert 'id="problem"' in r.text
    assert "messages" not in client.get("/api/v1/state").json()["site"]


def test_the_reports_page_shows_what_visitors_said(client: TestClient) -> None:
    terminal = {"Authorization": f"Bearer {TOKENS['feedback']}"}
    for answers in ({"overall": 5, "solved": 1}, {"overall": 3}):
        assert client.post("/api/v1/feedback", json={"answers": answers}, headers=terminal).status_code == 201
    sign_in(client, "leder")  # a manager reads the reports
    page = client.get("/reports?lang=en")
    assert page.status_code == 200
    section = page.text[page.text.index('<section aria-labelledby="fb-h"') :]
    assert "What visitors said" in section and "<svg" in section and "format=csv" in section
    assert "How satisfied are you with your visit today?" in section and "4.00" in section  # (5 + 3) / 2
    assert "50%" not in section and "100%" in section  # the yes/no question: the share of yes


def test_staff_may_not(client: TestClient) -> None:
    sign_in(client, "clerk")
    assert client.get("/messages").status_code == 403
