"""Reports read the ledger read-only: a real server and the real CLI answer while another writer
holds a long transaction on the file (a report that took the write lock, or migrated, would wait
out the 10 s busy timeout and fail), and the statistics API is authorised by the one rule table
(manager and admin read; other roles are refused before any figure is computed)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nummerlapp.server.ledger import schema
from nummerlapp.tests.server.serverproc import ServerProcess, run_cli, running_server

Q = {"from": "2026-03-01", "to": "2026-03-31", "by": "day"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("stats-ro"))


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer (a fold, the token command) in the middle of a long transaction."""
    conn = schema.connect(path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR REPLACE INTO site_state (key, value) VALUES ('test-lock', 'held')")
    return conn


def test_report_answers_while_another_writer_holds_the_lock(server: ServerProcess) -> None:
    manager = _bearer(server.token("manager", name="the-manager"))
    url = f"{server.url}/stats"
    assert httpx.get(url, params=Q, headers=manager, timeout=15).status_code == 200  # token seen once
    held = _hold_write_lock(server.db)
    try:
        start = time.monotonic()
        r = httpx.get(url, params=Q, headers=manager, timeout=15)
        took = time.monotonic() - start
        assert r.status_code == 200, r.text
        assert r.json()["from"] == "2026-03-01"
        assert took < 3.0, f"the report waited {took:.1f} s for the write lock"
        start = time.monotonic()
        cli = run_cli(
            "stats", "--from", "2026-03-01", "--to", "2026-03-02", "--format", "json",
            "--config", str(server.config), "--db", str(server.db),
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        assert time.monotonic() - start < 8.0  # start-up of a Python process, not the busy timeout
    finally:
        held.execute("ROLLBACK")
        held.close()


def test_statistics_follow_the_rule_table(server: ServerProcess) -> None:
    url = f"{server.url}/stats"
    assert httpx.get(url, params=Q, timeout=15).status_code == 401
    for role in ("kiosk", "display", "feedback", "staff", "booking"):
        r = httpx.get(url, params=Q, headers=_bearer(server.token(role)), timeout=15)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (role, r.text)
    for role in ("manager", "admin"):
        assert httpx.get(url, params=Q, headers=_bearer(server.token(role)), timeout=15).status_code == 200
    # authorisation comes before the query is even looked at
    bad = {"from": "not a date"}
    assert httpx.get(url, params=bad, headers=_bearer(server.token("staff")), timeout=15).status_code == 403
    assert httpx.get(url, params=bad, headers=_bearer(server.token("manager")), timeout=15).status_code == 422


def test_a_manager_opens_and_closes_the_site_but_makes_nothing_else(server: ServerProcess) -> None:
    manager = _bearer(server.token("manager", name="floor-manager"))
    with httpx.Client(base_url=server.url, timeout=15) as http:
        closed = http.post("/site/close", headers=manager)
        assert closed.status_code == 200 and closed.json()["site"]["open"] is False
        assert http.post("/site/hours", headers=manager).status_code == 200
        for method, path, body in (
            ("GET", "/devices", None),
            ("POST", "/devices/k1/identify", None),
            ("POST", "/counters/1/next", None),
            ("POST", "/counters/1/pause", None),
            ("POST", "/tickets", {"department": "nav"}),
        ):
            r = http.request(method, path, json=body, headers=manager)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (path, r.text)
