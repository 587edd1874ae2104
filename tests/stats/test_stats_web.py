"""The report page and GET /api/v1/stats on the real site-service app."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.app import create_app
from nummerlapp.server.ledger import schema
from nummerlapp.server.stats import report
from nummerlapp.server.stats.web import install
from nummerlapp.tests.stats.statsfixtures import add, at


@pytest.fixture
def site(tmp_path: Path, example_settings: Settings) -> Iterator[dict[str, Any]]:
    path = tmp_path / "ledger.db"
    conn = schema.connect(path)
    # Monday 2 March: NAV waits 60 s and 1200 s (09:00 hour); Tuesday: housing 240 s (10:00 hour).
    add(conn, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:01"), at("2026-03-02 09:11"), counter="1")
    add(conn, "nav", at("2026-03-02 09:10"), at("2026-03-02 09:30"), at("2026-03-02 09:35"), counter="2")
    add(conn, "bolig", at("2026-03-03 10:00"), at("2026-03-03 10:04"), at("2026-03-03 10:15"), counter="4")
    admin, _ = auth.create_token(conn, "admin", name="manager")
    staff, _ = auth.create_token(conn, "staff", name="desk")
    auth.create_user(conn, "boss", "a long enough password", role="admin")
    auth.create_user(conn, "clerk", "a long enough password", role="staff")
    conn.close()

    app = create_app(example_settings, path)
    if not any(getattr(r, "path", "") == "/reports" for r in app.routes):
        install(app)  # until server/api/app.py mounts it (requested in /tmp/requests/server.md)
    with TestClient(app) as client:
        yield {"client": client, "admin": admin, "staff": staff, "path": path, "settings": example_settings}


Q = {"from": "2026-03-01", "to": "2026-03-31", "by": "day"}


def test_api_needs_an_admin(site: dict[str, Any]) -> None:
    c = site["client"]
    r = c.get("/api/v1/stats", params=Q)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = c.get("/api/v1/stats", params=Q, headers={"Authorization": f"Bearer {site['staff']}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_api_figures_match_the_report(site: dict[str, Any]) -> None:
    c = site["client"]
    r = c.get("/api/v1/stats", params=Q, headers={"Authorization": f"Bearer {site['admin']}"})
    assert r.status_code == 200, r.text
    body = r.json()
    conn = schema.connect(site["path"])
    expected = report(conn, site["settings"], dt.date(2026, 3, 1), dt.date(2026, 3, 31), "day")
    conn.close()
    assert body["rows"] == expected
    nav = body["rows"][0]
    assert (nav["department"], nav["issued"], nav["wait_mean_s"], nav["within_target"]) == (
        "nav",
        2,
        630,
        0.5,
    )
    assert [t["issued"] for t in body["totals"]] == [2, 1]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": "2026-13-01"}, 422, "invalid_request"),
        ({"to": "2026-02-01", "from": "2026-03-01"}, 422, "invalid_request"),
        ({"by": "year"}, 422, "invalid_request"),
        ({"department": "nope"}, 404, "unknown_department"),
        ({"counter": "99"}, 404, "unknown_counter"),
    ],
)
def test_api_bad_input(site: dict[str, Any], params: dict[str, str], status: int, code: str) -> None:
    before = site["path"].read_bytes()
    r = site["client"].get(
        "/api/v1/stats", params=params, headers={"Authorization": f"Bearer {site['admin']}"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert site["path"].read_bytes() == before


def test_api_is_described_in_openapi(site: dict[str, Any]) -> None:
    """The schema is fuzzed against the behaviour, so the statistics endpoint must be in it."""
    op = site["client"].get("/openapi.json").json()["paths"]["/api/v1/stats"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"from", "to", "department", "counter", "by", "per"}
    assert {"401", "403", "404", "422"} <= set(op["responses"])


def sign_in(client: TestClient, username: str) -> None:
    page = client.get("/desk/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page[:500]
    r = client.post(
        "/desk/signin",
        data={
            "username": username,
            "password": "a long enough password",
            "csrf": csrf.group(1),
            "next": "/desk",
        },
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text[:300]


def test_page_admin_only(site: dict[str, Any]) -> None:
    c = site["client"]
    r = c.get("/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/signin")
    sign_in(c, "clerk")
    assert c.get("/reports").status_code == 403


def test_page_shows_the_figures(site: dict[str, Any]) -> None:
    c = site["client"]
    sign_in(c, "boss")
    r = c.get("/reports", params={**Q, "lang": "en"})
    assert r.status_code == 200
    html = r.text
    assert html.count("<svg") == 3  # heat map, waits against the target, trends
    # Heat map cells: Monday 09:00 has 2 visits, Tuesday 10:00 has 1.
    assert "<title>Mon 09:00 – 2</title>" in html and "<title>Tue 10:00 – 1</title>" in html
    assert "median 10.5 min, p90 20.0 min, within target 50%" in html  # Monday: waits 1 and 20 min
    assert "script-src 'self'" in r.headers["content-security-policy"]
    nb = c.get("/reports", params={**Q, "lang": "nb"}).text
    assert "Rapporter" in nb and "Når kommer folk?" in nb
    # The page's own poll uses the session, not a token.
    assert c.get("/api/v1/stats", params={**Q, "per": "site"}).status_code == 200
