"""Every enrolment endpoint and its errors, configuration from the service and its reload, on the
real site-service app (in process, with a clock the test moves; PROTOCOL.md v1.1)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nummerlapp.common import protocol as P
from nummerlapp.config import load_settings
from nummerlapp.config.loader import EMBEDDED, settings_from_data
from nummerlapp.server.api import auth, enrolment
from nummerlapp.server.api.app import create_app
from nummerlapp.server.ledger import schema

OSLO = dt.timezone(dt.timedelta(hours=1))
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=OSLO)  # the example site is open
API = "/api/v1"


class Site:
    def __init__(
        self, client: TestClient, clock: list[dt.datetime], path: Path, site_file: Path, admin: str
    ) -> None:
        self.client, self.clock, self.path, self.site_file = client, clock, path, site_file
        self.admin = {"Authorization": f"Bearer {admin}"}

    def ask(self, device: str = "kiosk-1", role: str = "kiosk", name: str = "Inngang") -> dict[str, Any]:
        r = self.client.post(f"{API}/enrolments", json={"device": device, "role": role, "name": name})
        assert r.status_code == 201, r.text
        found: dict[str, Any] = r.json()["enrolment"]
        return found

    def look(self, enrolment_id: str) -> dict[str, Any]:
        r = self.client.get(f"{API}/enrolments/{enrolment_id}")
        assert r.status_code == 200, r.text
        found: dict[str, Any] = r.json()["enrolment"]
        return found

    def approve(self, code: str, **body: Any) -> Any:
        return self.client.post(f"{API}/enrolments/{code}/approve", json=body or None, headers=self.admin)

    def enrol(self, device: str, role: str, **approval: Any) -> str:
        asked = self.ask(device, role)
        assert self.approve(asked["code"], **approval).status_code == 200
        token = self.look(asked["id"])["token"]
        assert isinstance(token, str)
        return token

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site_file = tmp_path / "site.toml"
    shutil.copyfile(EMBEDDED, site_file)
    settings = load_settings(site_file)
    path = tmp_path / "ledger.db"
    conn = schema.connect(path)
    admin = auth.create_token(conn, "admin")[0]
    conn.close()
    clock = [MONDAY_10]
    app = create_app(settings, path, clock=lambda: clock[0])
    with TestClient(app) as client:
        yield Site(client, clock, path, site_file, admin)


def test_a_device_asks_is_approved_and_fetches_its_token_once(site: Site) -> None:
    asked = site.ask("kiosk-1", "kiosk", "Inngang")
    assert asked["status"] == "pending" and re.fullmatch(r"\d{6}", asked["code"])
    assert len(asked["id"]) >= 16 and asked["site"] == "Servicetorget i Askim"
    assert asked["expires_at"] == "2026-11-23T10:10:00+01:00"
    assert site.look(asked["id"]) == {"status": "pending"}
    pending = site.client.get(f"{API}/enrolments", headers=site.admin).json()["enrolments"]
    assert pending == [
        {"code": asked["code"], "device": "kiosk-1", "role": "kiosk", "name": "Inngang",
         "address": "testclient", "expires_at": asked["expires_at"]}
    ]  # fmt: skip
    r = site.approve(asked["code"], name="Kiosk ved inngangen", printer="kiosk-1")
    assert r.status_code == 200 and r.json() == {"enrolment": {"status": "approved"}}
    first = site.look(asked["id"])
    assert first["status"] == "approved" and first["token"].startswith("nl_")
    assert site.look(asked["id"]) == {"status": "approved"}  # the token is given once
    assert site.client.get(f"{API}/enrolments", headers=site.admin).json() == {"enrolments": []}
    # the token works for its role, and the device is listed as enrolled
    token = {"Authorization": f"Bearer {first['token']}"}
    assert site.client.post(f"{API}/tickets", json={"department": "nav"}, headers=token).status_code == 201
    devices = site.client.get(f"{API}/devices", headers=site.admin).json()["devices"]
    kiosk = next(d for d in devices if d["id"] == "kiosk-1")
    assert kiosk["role"] == "kiosk" and kiosk["name"] == "Kiosk ved inngangen" and kiosk["enrolled"] is True
    assert (
        kiosk["printer_id"] == "kiosk-1" and kiosk["connected"] is False and "enrolment" in kiosk["sources"]
    )


def test_the_enrolment_id_is_long_and_the_codes_differ(site: Site) -> None:
    seen = [site.ask(f"board-{i}", "display") for i in range(4)]
    assert len({s["code"] for s in seen}) == 4
    for s in seen:
        assert len(s["id"].removeprefix("en_")) >= 22  # 128 bits, url-safe base64
    r = site.client.get(f"{API}/enrolments/en_{'A' * 22}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_enrolment"


def test_a_code_expires_after_ten_minutes(site: Site) -> None:
    asked = site.ask()
    site.clock[0] = MONDAY_10 + dt.timedelta(minutes=9, seconds=59)
    assert site.look(asked["id"])["status"] == "pending"
    site.clock[0] = MONDAY_10 + dt.timedelta(minutes=10, seconds=1)
    assert site.look(asked["id"]) == {"status": "expired"}
    r = site.approve(asked["code"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_enrolment"
    assert site.client.get(f"{API}/enrolments", headers=site.admin).json() == {"enrolments": []}


def test_a_refused_request_says_so_and_the_device_may_ask_again(site: Site) -> None:
    asked = site.ask()
    r = site.client.post(f"{API}/enrolments/{asked['code']}/refuse", headers=site.admin)
    assert r.status_code == 200 and r.json() == {"enrolment": {"status": "refused"}}
    assert site.look(asked["id"]) == {"status": "refused"}
    assert site.approve(asked["code"]).status_code == 404  # refused is final
    again = site.ask()
    assert again["id"] != asked["id"] and site.look(again["id"])["status"] == "pending"


def test_errors_unknown_codes_bad_bodies_and_who_may(site: Site) -> None:
    c = site.client
    for path in ("/enrolments/000000/approve", "/enrolments/000000/refuse"):
        r = c.post(API + path, headers=site.admin)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_enrolment"
        assert c.post(API + path).status_code == 401
    assert c.get(f"{API}/enrolments").status_code == 401
    kiosk = {"Authorization": f"Bearer {site.enrol('kiosk-9', 'kiosk')}"}
    r = c.get(f"{API}/enrolments", headers=kiosk)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert c.post(f"{API}/enrolments/123456/approve", headers=kiosk).status_code == 403
    assert c.delete(f"{API}/devices/kiosk-9", headers=kiosk).status_code == 403
    for body in ({}, {"device": "x", "role": "admin", "name": "n"}, {"device": "x", "role": "kiosk", "name": ""},
                 {"device": "x", "role": "kiosk", "name": "n", "token": "nl_x"}, {"device": "x" * 65, "role": "kiosk", "name": "n"}):  # fmt: skip
        r = c.post(f"{API}/enrolments", json=body)
        assert r.status_code == 422, body
    asked = site.ask("board-1", "display")
    r = site.approve(asked["code"], printer="kiosk-1")
    assert r.status_code == 422 and "only a kiosk has a printer" in r.json()["error"]["message"]
    r = site.approve(asked["code"], zone="nowhere")
    assert r.status_code == 422 and "no zone 'nowhere'" in r.json()["error"]["message"]
    assert site.look(asked["id"])["status"] == "pending"  # nothing changed
    assert site.approve(asked["code"], zone="venterom", name="Tavla").status_code == 200
    r = c.delete(f"{API}/devices/nope", headers=site.admin)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_device"


def test_a_thousand_requests_from_one_address_are_capped_and_the_service_is_unharmed(site: Site) -> None:
    c = site.client
    codes = [c.post(f"{API}/enrolments", json={"device": f"d{i}", "role": "kiosk", "name": "x"}).status_code
             for i in range(1000)]  # fmt: skip
    assert codes.count(201) == enrolment.MAX_PENDING_PER_ADDRESS and codes.count(429) == 1000 - codes.count(
        201
    )
    r = c.post(f"{API}/enrolments", json={"device": "late", "role": "kiosk", "name": "x"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_enrolments"
    with site.db() as conn:
        assert (
            conn.execute("SELECT COUNT(*) FROM enrolments").fetchone()[0] == enrolment.MAX_PENDING_PER_ADDRESS
        )
    assert c.get(f"{API}/health").status_code == 200
    kiosk = {"Authorization": f"Bearer {_token(site, 'kiosk')}"}
    assert c.post(f"{API}/tickets", json={"department": "nav"}, headers=kiosk).status_code == 201


def test_the_total_cap(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrolment, "MAX_PENDING", 3)
    monkeypatch.setattr(enrolment, "MAX_PENDING_PER_ADDRESS", 10)
    for i in range(3):
        site.ask(f"d{i}")
    r = site.client.post(f"{API}/enrolments", json={"device": "d9", "role": "kiosk", "name": "x"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_enrolments"
    site.ask("d0")  # a device asking again replaces its own request: not one more


def _token(site: Site, role: str) -> str:
    conn = schema.connect(site.path)
    try:
        return auth.create_token(conn, role)[0]
    finally:
        conn.close()


def test_revoking_a_device_makes_its_token_worthless(site: Site) -> None:
    token = {"Authorization": f"Bearer {site.enrol('kiosk-1', 'kiosk')}"}
    assert site.client.get(f"{API}/config", headers=token).status_code == 200
    r = site.client.delete(f"{API}/devices/kiosk-1", headers=site.admin)
    assert r.status_code == 200 and r.json() == {"ok": True}
    r = site.client.get(f"{API}/config", headers=token)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    devices = site.client.get(f"{API}/devices", headers=site.admin).json()["devices"]
    assert all(d["id"] != "kiosk-1" for d in devices)


def test_config_gives_each_device_what_it_needs(site: Site) -> None:
    c = site.client
    kiosk = {"Authorization": f"Bearer {site.enrol('kiosk-1', 'kiosk', printer='kiosk-1')}"}
    board = {"Authorization": f"Bearer {site.enrol('board-1', 'display', zone='venterom', name='Tavla')}"}
    k = P.ConfigAnswer.model_validate(c.get(f"{API}/config", headers=kiosk).json())
    b = P.ConfigAnswer.model_validate(c.get(f"{API}/config", headers=board).json())
    assert k.version == b.version and len(k.version) == 16
    ks, bs = k.config["site_file"], b.config["site_file"]
    assert isinstance(ks, dict) and isinstance(bs, dict)
    kiosk_settings = settings_from_data(ks, "<service>")
    board_settings = settings_from_data(bs, "<service>")
    assert kiosk_settings.kiosk.technician_pin_hash.startswith("$argon2")
    assert [p.id for p in kiosk_settings.printers] == ["kiosk-1"]
    assert board_settings.kiosk.technician_pin_hash == "" and board_settings.printers == ()
    assert board_settings.board.zone == "venterom"
    assert b.config["device"] == {"id": "board-1", "name": "Tavla", "role": "board", "zone": "venterom"}
    assert c.get(f"{API}/config").status_code == 401
    assert c.get(f"{API}/config", headers=site.admin).status_code == 403


def test_a_reload_applies_a_good_file_and_refuses_a_bad_one(site: Site) -> None:
    c = site.client
    board = {"Authorization": f"Bearer {site.enrol('board-1', 'display')}"}
    before = c.get(f"{API}/config", headers=board).json()["version"]
    text = site.site_file.read_text(encoding="utf-8")
    site.site_file.write_text(text.replace("Husk å ta med legitimasjon.", "Ny melding."), encoding="utf-8")
    r = c.post(f"{API}/config/reload", headers=site.admin)
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["restart"] == []
    after = c.get(f"{API}/config", headers=board).json()
    assert after["version"] == r.json()["version"] != before
    assert after["config"]["site_file"]["site"]["message"]["nb"] == "Velkommen! Ny melding."
    with c.websocket_connect(f"{API}/events", headers=board) as ws:
        ws.receive_json()  # the snapshot
        site.site_file.write_text(text.replace('prefix = "A"', 'prefix = "AA"'), encoding="utf-8")
        c.post(f"{API}/config/reload", headers=site.admin)
        kinds = [ws.receive_json()["type"] for _ in range(2)]
        assert kinds == ["site.changed", "config.changed"]
    bad = text.replace('timezone = "Europe/Oslo"', 'timezone = "Europe/Osloo"')
    site.site_file.write_text(bad, encoding="utf-8")
    r = c.post(f"{API}/config/reload", headers=site.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_site_file"
    assert (
        str(site.site_file) in r.json()["error"]["message"]
        and "site.timezone" in r.json()["error"]["message"]
    )
    assert c.get(f"{API}/config", headers=board).json()["version"] != before  # the last good one stays
    site.site_file.write_text(text.replace('id = "askim"', 'id = "askim2"'), encoding="utf-8")
    r = c.post(f"{API}/config/reload", headers=site.admin)
    assert r.json()["restart"] == ["site.id"]
    assert c.get(f"{API}/health").json()["site"] == "askim"  # until a restart


def test_a_socket_without_a_device_token_is_not_a_device(site: Site) -> None:
    c = site.client
    with c.websocket_connect(f"{API}/events?device=impostor&role=kiosk") as ws:
        ws.receive_json()
        devices = c.get(f"{API}/devices", headers=site.admin).json()["devices"]
        assert all(d["id"] != "impostor" for d in devices)
    board = {"Authorization": f"Bearer {site.enrol('board-1', 'display')}"}
    with c.websocket_connect(f"{API}/events?device=other-name", headers=board) as ws:
        ws.receive_json()
        devices = c.get(f"{API}/devices", headers=site.admin).json()["devices"]
        listed = {d["id"]: d for d in devices}
        assert "other-name" not in listed and listed["board-1"]["connected"] is True
        # identify works for a board that never posted a status
        assert c.post(f"{API}/devices/board-1/identify", headers=site.admin).status_code == 202
        message = ws.receive_json()
        assert message["type"] == "device.identify" and message["device"] == {"id": "board-1"}
        # renaming sends config.changed
        r = c.patch(
            f"{API}/devices/board-1", json={"name": "Tavle 2", "zone": "venterom"}, headers=site.admin
        )
        assert r.status_code == 200 and r.json()["device"]["name"] == "Tavle 2"
        assert ws.receive_json()["type"] == "config.changed"


def test_the_ledger_file_holds_no_enrolment_secret(site: Site) -> None:
    asked = site.ask()
    site.approve(asked["code"])
    token = site.look(asked["id"])["token"]
    raw = site.path.read_bytes() + (site.path.with_name(site.path.name + "-wal").read_bytes()
                                    if os.path.exists(str(site.path) + "-wal") else b"")  # fmt: skip
    assert asked["id"].encode() not in raw and token.encode() not in raw


def test_only_an_enrolled_device_has_settings_to_change(site: Site) -> None:
    """A device that only reported its status (an admin token's heartbeat) was never approved: it has
    no zone or printer here, so PATCH says 404 and leaves its row alone."""
    c = site.client
    r = c.post(
        f"{API}/devices/board-9/status", json={"role": "display", "version": "1.1"}, headers=site.admin
    )
    assert r.status_code == 200, r.text
    for body in ({"zone": "nowhere"}, {"name": "Tavle 9"}):
        r = c.patch(f"{API}/devices/board-9", json=body, headers=site.admin)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_device", r.text
    with site.db() as conn:
        assert conn.execute("SELECT name, zone FROM devices WHERE id = 'board-9'").fetchone() == (None, None)
    # once approved it has: an unknown zone is a clear 422 naming the site file's zones
    token = site.enrol("board-9", "display")
    assert token
    r = c.patch(f"{API}/devices/board-9", json={"zone": "nowhere"}, headers=site.admin)
    assert r.status_code == 422 and "venterom" in r.json()["error"]["message"], r.text
