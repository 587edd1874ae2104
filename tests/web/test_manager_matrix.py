"""The manager role's allow/deny matrix, for EVERY endpoint and page of the app.

The routes are read from the app itself (``create_app``: every API route, page, socket and static
mount), and each must have a line in :data:`EXPECTED`: a new endpoint without one fails this test,
so none escapes the question "may a manager do this?". Then each is asked as a manager would
(a ``manager`` token for ``/api/v1``, the signed-in manager's session and CSRF token for pages)
against the real server, and the answer must be a refusal (403) for ``deny`` and anything but
401/403 for ``allow``. ``public`` lines need no credentials (they are the boards', the phones' and
the sign-in form's) and are not asked here.

PROTOCOL.md v1.1: a manager reads statistics and the live operations view, opens and closes the
site or a department, edits board messages; it cannot make tokens, users or devices, nor work at
a counter, issue tickets or reset the day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nummerlapp.config import load_settings
from nummerlapp.server.api.app import create_app
from nummerlapp.tests.web.conftest import Server

pytestmark = pytest.mark.browser

USER, PASSWORD = "driftsleder", "driftsleder-passord"

EXPECTED: dict[str, str] = {
    # the contract's public surface, docs and static files
    "GET /openapi.json": "public",
    "GET /docs": "public",
    "GET /redoc": "public",
    "MOUNT /static/docs": "public",
    "MOUNT /static/web": "public",
    "MOUNT /static/reports": "public",
    "GET /api/v1/health": "public",
    "GET /api/v1/state": "public",
    "GET /api/v1/events": "public",
    "WS /api/v1/events": "public",
    "GET /api/v1/follow/{follow}": "public",
    "WS /api/v1/follow/{follow}/events": "public",
    "POST /api/v1/follow/{follow}/feedback": "public",
    "GET /": "public",
    "GET /desk/signin": "public",
    "POST /desk/signin": "public",
    "GET /t/{follow}": "public",
    # what a manager may
    "GET /api/v1/tickets/{ticket_id}": "allow",
    "POST /api/v1/site/open": "allow",
    "POST /api/v1/site/close": "allow",
    "POST /api/v1/site/hours": "allow",
    "POST /api/v1/departments/{department_id}/open": "allow",
    "POST /api/v1/departments/{department_id}/close": "allow",
    "POST /api/v1/departments/{department_id}/hours": "allow",
    "POST /api/v1/alarms/{alarm_id}/clear": "allow",
    "GET /api/v1/site/messages": "allow",
    "PUT /api/v1/site/messages": "allow",
    "GET /api/v1/stats": "allow",
    "GET /api/v1/stats/feedback": "allow",
    "POST /api/v1/appointments": "allow",
    "GET /api/v1/appointments": "allow",
    "DELETE /api/v1/appointments/{reference}": "allow",
    "POST /desk/api/appointments": "allow",  # reception triage: booking is a manager's right too
    "POST /api/v1/appointments/{reference}/slip": "allow",  # the slip at a kiosk (extension)
    "POST /desk/api/appointments/{reference}/slip": "allow",
    "GET /desk/api/kiosks": "allow",
    "GET /manager": "allow",
    "GET /manager/api/live": "allow",
    "POST /manager/api/site/{how}": "allow",
    "POST /manager/api/departments/{department}/{how}": "allow",
    "GET /messages": "allow",
    "POST /messages": "allow",
    "GET /reports": "allow",
    "GET /desk": "allow",  # sends a manager on to the live view
    "GET /desk/counter": "allow",  # the same
    "POST /desk/api/alarms/{alarm}/clear": "allow",
    "POST /desk/signout": "allow",
    # what a manager may not
    "POST /api/v1/tickets": "deny",
    "POST /api/v1/counters/{counter_id}/next": "deny",
    "POST /api/v1/counters/{counter_id}/recall": "deny",
    "POST /api/v1/counters/{counter_id}/serve": "deny",
    "POST /api/v1/counters/{counter_id}/no-show": "deny",
    "POST /api/v1/counters/{counter_id}/done": "deny",
    "POST /api/v1/counters/{counter_id}/transfer": "deny",
    "POST /api/v1/counters/{counter_id}/call": "deny",
    "POST /api/v1/counters/{counter_id}/park": "deny",
    "POST /api/v1/counters/{counter_id}/pause": "deny",
    "POST /api/v1/counters/{counter_id}/open": "deny",
    "POST /api/v1/counters/{counter_id}/alarm": "deny",
    "POST /api/v1/devices/{device_id}/status": "deny",
    "GET /api/v1/devices": "deny",
    "POST /api/v1/devices/{device_id}/identify": "deny",
    "POST /api/v1/feedback": "deny",
    "POST /api/v1/appointments/{reference}/check-in": "deny",
    "POST /desk/counter": "deny",
    "POST /desk/api/counters/{counter}/alarm": "deny",
    "GET /desk/api/counters/{counter}/parked": "deny",
    "POST /desk/api/counters/{counter}/{action}": "deny",
    "POST /desk/api/tickets": "deny",
    "GET /tech": "deny",
    "POST /tech/api/tokens": "deny",
    "POST /tech/api/tokens/{token_id}/revoke": "deny",
    "POST /tech/api/users": "deny",
    "POST /tech/api/users/{username}/disable": "deny",
    "POST /tech/api/devices/{device_id}/identify": "deny",
    "POST /tech/api/reset": "deny",
    "GET /tech/api/devices": "deny",  # issue 13: enrolment and the device list on the technician page
    "POST /tech/api/devices/{device_id}/rename": "deny",
    "POST /tech/api/devices/{device_id}/remove": "deny",
    "POST /tech/api/enrolments/{code}/approve": "deny",
    "POST /tech/api/enrolments/{code}/refuse": "deny",
    "POST /tech/api/config/reload": "deny",
}

# Optional lines: endpoints other work may add (enrolment, configuration); when the app has them,
# these say what a manager may.
OPTIONAL: dict[str, str] = {
    "POST /api/v1/enrolments": "public",
    "GET /api/v1/enrolments/{enrolment_id}": "public",
    "GET /api/v1/enrolments": "deny",
    "POST /api/v1/enrolments/{code}/approve": "deny",
    "POST /api/v1/enrolments/{code}/refuse": "deny",
    "DELETE /api/v1/devices/{device_id}": "deny",
    "PATCH /api/v1/devices/{device_id}": "deny",
    "POST /api/v1/config/reload": "deny",
    "GET /api/v1/config": "deny",
}

SAMPLES = {
    "counter_id": "2",
    "counter": "2",
    "ticket_id": "t_AAAAAAAAAAAAAAAAAAAAAA",
    "follow": "F" * 22,
    "reference": "K7QX2M4P",
    "alarm_id": "al_none",
    "alarm": "al_none",
    "department_id": "bolig",
    "department": "bolig",
    "how": "hours",
    "action": "next",
    "token_id": "1",
    "username": "desk1",
    "device_id": "kiosk-1",
    "enrolment_id": "en_none",
    "code": "123456",
}


def _flat(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers (FastAPI may nest them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes, prefix + route.include_context.prefix)
            continue
        path = prefix + route.path
        kind = type(route).__name__
        if kind == "Mount":
            yield "MOUNT", path
        elif "WebSocket" in kind:
            yield "WS", path
        else:
            for method in sorted(set(route.methods) - {"HEAD"}):
                yield method, path


def app_routes(tmp: Path) -> list[str]:
    app = create_app(load_settings(None), tmp / "never-opened.db")  # making the app opens nothing
    return sorted({f"{m} {p}" for m, p in _flat(app.routes)})


def test_every_route_has_a_line(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    missing = [r for r in routes if r not in EXPECTED and r not in OPTIONAL]
    assert missing == [], f"say whether a manager may: {missing}"
    stale = [r for r in EXPECTED if r not in routes]
    assert stale == [], f"routes no longer in the app: {stale}"


def _signed_in(server: Server) -> tuple[httpx.Client, str]:
    """A browser-like client signed in as the manager, and the CSRF token of its session."""
    client = httpx.Client(base_url=server.base, timeout=10, follow_redirects=False)
    form = client.get("/desk/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    done = client.post(
        "/desk/signin",
        data={"csrf": csrf.group(1), "username": USER, "password": PASSWORD, "next": "/manager"},
    )
    assert done.status_code == 303, done.text
    page = client.get("/manager")
    assert page.status_code == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    return client, token.group(1)


def test_the_manager_matrix(server: Server, tmp_path: Path) -> None:
    server.cli("user", "add", USER, "--role", "manager", "--password-stdin", stdin=PASSWORD + "\n")
    token = server.cli("token", "--role", "manager", "--name", "live-view")
    api = httpx.Client(base_url=server.base, timeout=10, headers={"Authorization": f"Bearer {token}"})
    pages, csrf = _signed_in(server)
    table = {**OPTIONAL, **EXPECTED}
    asked = 0
    wrong: list[str] = []
    # signing out ends the session the other page lines use: it goes last
    for line in sorted(app_routes(tmp_path), key=lambda r: r == "POST /desk/signout"):
        expected = table[line]
        if expected == "public":
            continue
        method, template = line.split(" ", 1)
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)
        if path.startswith("/api/v1/"):
            body: dict[str, Any] = {"messages": []} if line == "PUT /api/v1/site/messages" else {}
            answer = api.request(method, path, json=body if method in ("POST", "PUT") else None)
        elif method == "GET":
            answer = pages.get(path, headers={"X-CSRF-Token": csrf})
        elif "/api/" in path:
            answer = pages.post(
                path, json={"key": "matrix-key-" + str(asked)}, headers={"X-CSRF-Token": csrf}
            )
        else:
            answer = pages.post(path, data={"csrf": csrf})
        asked += 1
        refused = answer.status_code in (401, 403)
        if (expected == "deny") != (answer.status_code == 403) or (expected == "allow" and refused):
            wrong.append(f"{line} → {answer.status_code} (expected {expected}) {answer.text[:120]}")
    api.post("/api/v1/site/hours")  # the manager's switches are set back to the hours
    api.post("/api/v1/departments/bolig/hours")
    assert wrong == []
    assert asked > 50
