"""The PROTOCOL.md endpoint table against a real server process, with a real HTTP client."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from nummerlapp.tests.server.serverproc import ServerProcess, run_cli

pytestmark = pytest.mark.timeout(120)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def drain(http: httpx.Client, admin: dict[str, str], counter: str) -> None:
    """Call until the counter's departments are empty, then close its ticket."""
    while http.post(f"/counters/{counter}/next", headers=admin).json()["ticket"] is not None:
        pass


def test_health_and_state_are_public(http: httpx.Client) -> None:
    r = http.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["site"] == "testsite" and r.json()["version"]
    snap = http.get("/state").json()
    assert isinstance(snap["seq"], int)
    assert snap["site"]["id"] == "testsite" and snap["site"]["open"] is True
    assert [d["id"] for d in snap["departments"]] == ["nav", "bygg", "tiny"]
    assert [c["id"] for c in snap["counters"]] == ["1", "2", "3", "4"]
    assert isinstance(snap["calls"], list)


def test_issue_get_next_cycle(http: httpx.Client, admin: dict[str, str], server: ServerProcess) -> None:
    staff1 = bearer(server.token("staff", "1"))
    drain(http, admin, "1")
    r = http.post("/tickets", json={"department": "nav", "lang": "en"}, headers=admin)
    assert r.status_code == 201, r.text
    t = r.json()
    assert re.fullmatch(r"A\d{3}", t["number"]) and t["status"] == "waiting" and t["department"] == "nav"
    assert len(t["id"]) >= 18 and t["counter"] is None and t["called_at"] is None
    assert t["ahead"] == 0
    t2 = http.post("/tickets", json={"department": "nav"}, headers=admin).json()
    assert http.get(f"/tickets/{t2['id']}", headers=admin).json()["ahead"] == 1  # fresh ahead
    called = http.post("/counters/1/next", headers=staff1).json()["ticket"]
    assert (
        called["id"] == t["id"]
        and called["status"] == "called"
        and called["counter"] == {"id": "1", "name": "Skranke 1"}
    )
    assert http.get(f"/tickets/{t2['id']}", headers=admin).json()["ahead"] == 0
    # next closes the current one as done and calls the following one
    called2 = http.post("/counters/1/next", headers=staff1).json()["ticket"]
    assert called2["id"] == t2["id"]
    assert http.get(f"/tickets/{t['id']}", headers=admin).json()["status"] == "done"
    recalled = http.post("/counters/1/recall", headers=staff1).json()["ticket"]
    assert recalled["id"] == t2["id"]
    snap = http.get("/state").json()
    assert snap["calls"][0]["number"] == t2["number"] and snap["calls"][0].get("recall") is True
    assert http.post("/counters/1/no-show", headers=staff1).json()["ticket"]["status"] == "no_show"
    assert_error(http.post("/counters/1/done", headers=staff1), 409, "no_current_ticket")
    assert_error(http.post("/counters/1/recall", headers=staff1), 409, "no_current_ticket")
    assert http.post("/counters/1/next", headers=staff1).json() == {"ticket": None}


def test_done_transfer_keeps_place(http: httpx.Client, admin: dict[str, str]) -> None:
    drain(http, admin, "2")
    drain(http, admin, "3")
    first = http.post("/tickets", json={"department": "nav"}, headers=admin).json()
    bygg_later = http.post("/tickets", json={"department": "bygg"}, headers=admin).json()
    assert http.post("/counters/1/next", headers=admin).json()["ticket"]["id"] == first["id"]
    r = http.post("/counters/1/transfer", json={"department": "bygg"}, headers=admin)
    moved = r.json()["ticket"]
    assert r.status_code == 200 and moved["id"] == first["id"] and moved["number"] == first["number"]
    assert moved["status"] == "waiting" and moved["department"] == "bygg"
    # its original issue time puts it ahead of the later bygg ticket
    assert http.post("/counters/3/next", headers=admin).json()["ticket"]["id"] == first["id"]
    assert http.post("/counters/3/done", headers=admin).json()["ticket"]["status"] == "done"
    assert http.post("/counters/3/next", headers=admin).json()["ticket"]["id"] == bygg_later["id"]
    assert_error(
        http.post("/counters/3/transfer", json={"department": "nope"}, headers=admin),
        404,
        "unknown_department",
    )
    assert_error(
        http.post("/counters/1/transfer", json={"department": "bygg"}, headers=admin),
        409,
        "no_current_ticket",
    )
    http.post("/counters/3/done", headers=admin)


def test_serve(http: httpx.Client, server: ServerProcess, admin: dict[str, str]) -> None:
    """Extension: `serve` marks the called visitor as arrived; idempotent; 409 with no current ticket."""
    staff2 = bearer(server.token("staff", "2"))
    drain(http, admin, "2")
    before = http.get("/state").json()["seq"]
    assert_error(http.post("/counters/2/serve", headers=staff2), 409, "no_current_ticket")
    assert http.get("/state").json()["seq"] == before
    # roles: kiosk and display may not; staff of another counter may not (before the 409/404)
    for who in (bearer(server.token("kiosk", name="kiosk-serve")), bearer(server.token("display"))):
        assert_error(http.post("/counters/2/serve", headers=who), 403, "forbidden")
    assert_error(http.post("/counters/3/serve", headers=staff2), 403, "wrong_counter")
    assert_error(http.post("/counters/99/serve", headers=staff2), 403, "wrong_counter")
    assert_error(http.post("/counters/99/serve", headers=admin), 404, "unknown_counter")
    issued = http.post("/tickets", json={"department": "bygg"}, headers=admin).json()
    called = http.post("/counters/2/next", headers=staff2).json()["ticket"]
    assert called["id"] == issued["id"] and called["status"] == "called"
    seq = http.get("/state").json()["seq"]
    r = http.post("/counters/2/serve", headers=staff2)
    assert r.status_code == 200, r.text
    serving = r.json()["ticket"]
    assert serving["id"] == issued["id"] and serving["number"] == issued["number"]
    assert serving["status"] == "serving" and serving["counter"] == {"id": "2", "name": "Skranke 2"}
    assert serving["called_at"] == called["called_at"] and serving["ahead"] == 0
    assert http.get("/state").json()["seq"] == seq + 1  # one ticket.serving event
    snap = http.get("/state").json()
    counter2 = next(c for c in snap["counters"] if c["id"] == "2")
    assert counter2["ticket"]["id"] == issued["id"] and counter2["ticket"]["status"] == "serving"
    assert http.get(f"/tickets/{issued['id']}", headers=admin).json()["status"] == "serving"
    # already serving: the same answer, nothing changes, no event
    again = http.post("/counters/2/serve", headers=admin)
    assert again.status_code == 200 and again.json()["ticket"] == serving
    assert http.get("/state").json()["seq"] == seq + 1
    # a serving ticket is recalled, finished and called past like a called one
    assert http.post("/counters/2/recall", headers=staff2).json()["ticket"]["status"] == "serving"
    assert http.post("/counters/2/done", headers=staff2).json()["ticket"]["status"] == "done"
    assert_error(http.post("/counters/2/serve", headers=staff2), 409, "no_current_ticket")


def test_pause_and_open(http: httpx.Client, admin: dict[str, str]) -> None:
    r = http.post("/counters/3/pause", headers=admin)
    assert (
        r.status_code == 200 and r.json()["counter"]["state"] == "paused" and r.json()["counter"]["id"] == "3"
    )
    assert_error(http.post("/counters/3/next", headers=admin), 409, "counter_paused")
    assert http.post("/counters/3/open", headers=admin).json()["counter"]["state"] == "open"


def test_site_close_and_open(http: httpx.Client, admin: dict[str, str]) -> None:
    r = http.post("/site/close", headers=admin)
    assert r.status_code == 200 and r.json()["site"]["open"] is False
    assert_error(http.post("/tickets", json={"department": "nav"}, headers=admin), 409, "site_closed")
    assert http.post("/site/open", headers=admin).json()["site"]["open"] is True
    assert http.post("/tickets", json={"department": "nav"}, headers=admin).status_code == 201
    assert http.post("/site/hours", headers=admin).json()["site"]["open"] is True


def test_queue_full(http: httpx.Client, admin: dict[str, str]) -> None:
    drain(http, admin, "4")
    numbers = [
        http.post("/tickets", json={"department": "tiny"}, headers=admin).json()["number"] for _ in range(3)
    ]
    assert sorted(numbers) == ["T1", "T2", "T3"] or len(set(numbers)) == 3
    before = http.get("/state").json()["seq"]
    assert_error(http.post("/tickets", json={"department": "tiny"}, headers=admin), 409, "queue_full")
    assert http.get("/state").json()["seq"] == before
    drain(http, admin, "4")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tickets", {"department": "nav"}),
        ("POST", "/counters/1/next", None),
        ("POST", "/counters/1/recall", None),
        ("POST", "/counters/1/serve", None),
        ("POST", "/counters/1/no-show", None),
        ("POST", "/counters/1/done", None),
        ("POST", "/counters/1/transfer", {"department": "bygg"}),
        ("POST", "/counters/1/pause", None),
        ("POST", "/counters/1/open", None),
        ("POST", "/site/open", None),
        ("POST", "/site/close", None),
        ("GET", "/devices", None),
        ("POST", "/devices/k1/identify", None),
        ("POST", "/devices/k1/status", {"role": "kiosk"}),
    ],
)
def test_every_state_change_needs_a_token(http: httpx.Client, method: str, path: str, body: object) -> None:
    before = http.get("/state").json()["seq"]
    r = http.request(method, path, json=body)
    assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_error(
        http.request(method, path, json=body, headers=bearer("nl_" + "x" * 43)), 401, "invalid_token"
    )
    assert_error(
        http.request(method, path, json=body, headers={"Authorization": "Basic abc"}), 401, "invalid_token"
    )
    assert http.get("/state").json()["seq"] == before


def test_roles(http: httpx.Client, server: ServerProcess, admin: dict[str, str]) -> None:
    kiosk = bearer(server.token("kiosk", name="kiosk-roles"))
    display = bearer(server.token("display"))
    staff2 = bearer(server.token("staff", "2"))
    before = http.get("/state").json()["seq"]
    for who in (kiosk, display):
        assert_error(http.post("/counters/2/next", headers=who), 403, "forbidden")
        assert_error(http.post("/site/open", headers=who), 403, "forbidden")
    assert_error(http.post("/tickets", json={"department": "nav"}, headers=display), 403, "forbidden")
    assert_error(http.post("/site/close", headers=staff2), 403, "forbidden")
    assert_error(http.get("/devices", headers=staff2), 403, "forbidden")
    # staff bound to counter 2 acting on counter 3: 403 before anything else
    for action in ("next", "recall", "serve", "no-show", "done", "pause", "open"):
        assert_error(http.post(f"/counters/3/{action}", headers=staff2), 403, "wrong_counter")
    assert_error(
        http.post("/counters/3/transfer", json={"department": "nav"}, headers=staff2), 403, "wrong_counter"
    )
    # auth before validation and before 404: a bad body or unknown counter still answers 401/403
    assert_error(http.post("/counters/99/next", headers=staff2), 403, "wrong_counter")
    assert_error(
        http.post("/counters/3/transfer", content=b"{not json", headers=staff2), 403, "wrong_counter"
    )
    assert_error(http.post("/tickets", content=b"{not json"), 401, "unauthorized")
    assert_error(http.post("/tickets", json={"x": 1}, headers=display), 403, "forbidden")
    assert http.get("/state").json()["seq"] == before
    # the right ones pass
    assert http.post("/counters/2/pause", headers=staff2).status_code == 200
    assert http.post("/counters/2/open", headers=staff2).status_code == 200
    unbound = bearer(server.token("staff"))
    assert http.post("/counters/3/pause", headers=unbound).status_code == 200
    assert http.post("/counters/3/open", headers=unbound).status_code == 200


def test_bad_input_is_4xx_and_changes_nothing(http: httpx.Client, admin: dict[str, str]) -> None:
    before = http.get("/state").json()["seq"]
    assert_error(http.post("/tickets", json={"department": "nope"}, headers=admin), 404, "unknown_department")
    bodies: tuple[object, ...] = (
        {},
        {"department": ""},
        {"department": 5},
        {"department": "nav", "extra": 1},
        [],
        "nav",
    )
    for body in bodies:
        assert_error(http.post("/tickets", json=body, headers=admin), 422, "invalid_request")
    assert_error(http.post("/tickets", content=b"\xff\xfe", headers=admin), 422, "invalid_request")
    assert_error(http.post("/tickets", headers=admin), 422, "invalid_request")
    assert_error(http.post("/counters/99/next", headers=admin), 404, "unknown_counter")
    assert_error(http.post("/counters/1/transfer", json={}, headers=admin), 422, "invalid_request")
    assert_error(http.get("/tickets/t_doesnotexist", headers=admin), 404, "unknown_ticket")
    assert_error(http.get("/tickets/t_doesnotexist"), 401, "unauthorized")  # v1.1: needs a token
    assert_error(http.get("/tickets/whatever", headers=admin), 404, "unknown_ticket")
    assert_error(http.get("/nope"), 404, "not_found")
    assert_error(http.get("/counters/1/next"), 405, "method_not_allowed")
    assert_error(http.delete("/tickets"), 405, "method_not_allowed")
    assert_error(http.get("/events"), 426, "upgrade_required")
    assert http.get("/state").json()["seq"] == before


def test_kiosk_rate_limit(http: httpx.Client, server: ServerProcess, admin: dict[str, str]) -> None:
    kiosk = bearer(server.token("kiosk", name="kiosk-rate"))
    other = bearer(server.token("kiosk", name="kiosk-other"))
    assert http.post("/tickets", json={"department": "nav"}, headers=kiosk).status_code == 201
    seq = http.get("/state").json()["seq"]
    for _ in range(5):
        r = http.post("/tickets", json={"department": "nav"}, headers=kiosk)
        assert_error(r, 429, "too_many_requests")
        assert 1 <= int(r.headers["retry-after"]) <= 2
    assert http.get("/state").json()["seq"] == seq
    # another kiosk, and staff/admin, are not limited by it
    assert http.post("/tickets", json={"department": "nav"}, headers=other).status_code == 201
    assert http.post("/tickets", json={"department": "nav"}, headers=admin).status_code == 201
    assert http.post("/tickets", json={"department": "nav"}, headers=admin).status_code == 201


def test_token_cli_while_running_and_revoke(http: httpx.Client, server: ServerProcess) -> None:
    made = run_cli(
        "token",
        "--config",
        str(server.config),
        "--db",
        str(server.db),
        "--role",
        "staff",
        "--counter",
        "3",
        "--name",
        "desk3",
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and re.fullmatch(r"nl_[A-Za-z0-9_-]{43}", token)
    assert http.post("/counters/3/pause", headers=bearer(token)).status_code == 200
    listed = run_cli("token", "list", "--json", "--config", str(server.config), "--db", str(server.db))
    assert listed.returncode == 0 and token not in listed.stdout

    mine = [t for t in json.loads(listed.stdout) if t["name"] == "desk3"]
    assert len(mine) == 1 and mine[0]["counter"] == "3" and mine[0]["revoked_at"] is None
    assert "secret" not in json.dumps(mine[0]) and "hash" not in json.dumps(mine[0])
    revoked = run_cli(
        "token", "revoke", str(mine[0]["id"]), "--config", str(server.config), "--db", str(server.db)
    )
    assert revoked.returncode == 0, revoked.stderr
    assert_error(http.post("/counters/3/open", headers=bearer(token)), 401, "invalid_token")
    assert http.post("/counters/3/open", headers=bearer(server.token("admin"))).status_code == 200
    bad = run_cli("token", "revoke", "999999", "--config", str(server.config), "--db", str(server.db))
    assert bad.returncode == 1 and "999999" in bad.stderr


def test_devices_extension(http: httpx.Client, server: ServerProcess, admin: dict[str, str]) -> None:
    kiosk = bearer(server.token("kiosk", name="kiosk-dev"))
    body = {
        "role": "kiosk",
        "name": "Entrance",
        "version": "0.1.0",
        "printer": {"state": "paper_near_end", "detail": "low"},
    }
    r = http.post("/devices/kiosk-e1/status", json=body, headers=kiosk)
    assert r.status_code == 200, r.text
    assert r.json()["device"]["id"] == "kiosk-e1"
    assert_error(
        http.post("/devices/kiosk-e1/status", json={**body, "printer": {"state": "on_fire"}}, headers=kiosk),
        422,
        "invalid_request",
    )
    listed = http.get("/devices", headers=admin).json()["devices"]
    mine = [d for d in listed if d["id"] == "kiosk-e1"]
    assert len(mine) == 1 and "report" in mine[0]["sources"] and mine[0]["role"] == "kiosk"
    assert http.post("/devices/kiosk-e1/identify", headers=admin).status_code == 202
    assert_error(http.post("/devices/ghost/identify", headers=admin), 404, "unknown_device")
