"""The server's seams: one rule table, the counter actions spelled once, no app ↔ routes cycle."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nummerlapp.config import load_settings
from nummerlapp.server.api.access import RULES
from nummerlapp.server.api.actions import ACTIONS, CounterAction
from nummerlapp.server.api.app import create_app
from nummerlapp.server.api.auth import GRANTS, ROLES, USER_ROLES, Permission, Role, refusal
from nummerlapp.server.api.services import Services


def test_every_permission_has_a_row_and_every_role_is_known() -> None:
    assert set(GRANTS) == set(Permission)
    assert {str(r) for r in ROLES} == {"kiosk", "display", "feedback", "staff", "manager", "admin", "booking"}
    assert set(USER_ROLES) == {Role.STAFF, Role.MANAGER, Role.ADMIN}
    for roles in GRANTS.values():
        assert roles <= set(ROLES)


def test_the_manager_of_protocol_1_1() -> None:
    """Reads statistics, opens/closes the site, edits board messages; makes no tokens, users, devices."""
    held = {p for p, roles in GRANTS.items() if Role.MANAGER in roles}
    assert {Permission.READ_STATS, Permission.OPEN_CLOSE_SITE, Permission.EDIT_BOARD_MESSAGES} <= held
    assert not held & {Permission.MANAGE_ACCOUNTS, Permission.MANAGE_DEVICES, Permission.RESET_DAY}
    assert not held & {Permission.COUNTER_WORK, Permission.ISSUE_TICKET}


@pytest.mark.parametrize(
    ("role", "bound", "permission", "counter", "why"),
    [
        ("staff", "2", Permission.COUNTER_WORK, "2", None),
        ("staff", "2", Permission.COUNTER_WORK, "3", "wrong_counter"),
        ("staff", None, Permission.COUNTER_WORK, "3", None),
        ("admin", None, Permission.COUNTER_WORK, "3", None),
        ("staff", "2", Permission.RAISE_ALARM, "3", "wrong_counter"),
        ("admin", None, Permission.RAISE_ALARM, "3", "forbidden"),  # the alarm is the desk's own
        ("staff", "2", Permission.ISSUE_TICKET, None, None),  # binding limits counter work only
        ("kiosk", None, Permission.COUNTER_WORK, "1", "forbidden"),
        ("manager", None, Permission.OPEN_CLOSE_SITE, None, None),
        ("staff", None, Permission.OPEN_CLOSE_SITE, None, "forbidden"),
        ("no-such-role", None, Permission.ISSUE_TICKET, None, "forbidden"),
    ],
)
def test_refusal(
    role: str, bound: str | None, permission: Permission, counter: str | None, why: str | None
) -> None:
    assert refusal(role, bound, permission, counter) == why


def test_counter_routes_and_rules_come_from_the_one_table(tmp_path: Path) -> None:
    app = create_app(load_settings(None), tmp_path / "ledger.db")
    assert isinstance(app.state.services, Services)
    paths = app.openapi()["paths"]
    routed = {m.group(1) for p in paths if (m := re.fullmatch(r"/api/v1/counters/\{counter_id\}/([^/]+)", p))}
    # the silent alarm is a counter's action too, but not a ticket action (server/api/floor.py)
    assert routed == {a.value for a in ACTIONS} | {CounterAction.ALARM.value}
    ruled = {
        m.group(1)
        for r in RULES
        if (m := re.search(r"/counters/\(\?P<counter>\[\^/\]\+\)/(.+)/\?\$$", r.path.pattern))
    }
    assert ruled == {re.escape(a.value) for a in ACTIONS} | {CounterAction.ALARM.value}
    assert {a.value for a in ACTIONS} | {"call", "park", "alarm"} == {a.value for a in CounterAction}
    assert not (tmp_path / "ledger.db").exists()  # making the app opens nothing


def test_routes_import_without_the_app() -> None:
    code = (
        "import sys, nummerlapp.server.api.routes as r; "
        "assert 'nummerlapp.server.api.app' not in sys.modules, 'routes imports the app'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
