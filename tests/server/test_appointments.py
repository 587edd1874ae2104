"""Booked visits end to end: the HTTP endpoints on a real server process, and the iCalendar
import through ``main.py appointments import`` with a real calendar file (tests/server/data/).

The calendar has events in three time zones and floating time, one on the spring-forward
Sunday and one the day after the fall-back night, a cancelled one, an all-day one, one with no
department here, and names, phone numbers and e-mail addresses in SUMMARY, DESCRIPTION,
ORGANIZER and ATTENDEE: none of those may reach the ledger file, which is checked byte by byte.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from nummerlapp.common import protocol as P
from nummerlapp.tests.server.serverproc import SITE_TOML, ServerProcess, run_cli

DATA = Path(__file__).with_name("data")
OSLO = ZoneInfo("Europe/Oslo")
APPOINTMENTS_TOML = """
[appointments]
grace_min = 10
target_min = 5
ics_match = "categories"

[appointments.ics_departments]
Byggesak = "bygg"
NAV = "nav"
"""


def site(path: Path) -> Path:
    path.write_text(SITE_TOML.format(kiosk_interval=0.0) + APPOINTMENTS_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("appointments")
    proc = ServerProcess(site(tmp / "site.toml"), tmp / "ledger.db")
    proc.start()
    yield proc
    proc.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def book(http: httpx.Client, token: str, department: str, start: dt.datetime, **kw: str) -> httpx.Response:
    body = P.AppointmentCreate(department=department, start=start, **kw).encode()
    return http.post("/appointments", json=body, headers=bearer(token))


def test_book_list_cancel_and_check_in(srv: ServerProcess) -> None:
    booking, kiosk, staff = (
        srv.token("booking", name="booking system"),
        srv.token("kiosk"),
        srv.token("staff"),
    )
    now = dt.datetime.now(OSLO).replace(microsecond=0)
    with httpx.Client(base_url=srv.url, timeout=10) as http:
        made = book(http, booking, "bygg", now + dt.timedelta(minutes=20))
        assert made.status_code == 201, made.text
        visit = P.AppointmentAnswer.model_validate(made.json()).appointment
        assert re.fullmatch(r"[A-HJKMNP-Z2-9]{8}", visit.reference)
        assert visit.status == "booked" and visit.ticket is None and visit.source == "booking system"
        assert set(made.json()["appointment"]) == {
            "id",
            "reference",
            "department",
            "start",
            "status",
            "ticket",
            "source",
        }

        # who may: a kiosk books nothing; nobody without a token
        assert book(http, kiosk, "bygg", now).status_code == 403
        assert (
            http.post("/appointments", json={"department": "bygg", "start": now.isoformat()}).status_code
            == 401
        )
        # refusals
        assert book(http, staff, "nope", now).json()["error"]["code"] == "unknown_department"
        dup = book(http, staff, "nav", now, reference=visit.reference)
        assert dup.status_code == 409 and dup.json()["error"]["code"] == "duplicate_reference"
        look_alike = {"department": "nav", "start": now.isoformat(), "reference": "K7QX2M4O"}  # an O
        assert http.post("/appointments", json=look_alike, headers=bearer(staff)).status_code == 422
        naive = http.post(
            "/appointments", json={"department": "nav", "start": "2026-12-03T10:40:00"}, headers=bearer(staff)
        )
        assert naive.status_code == 422

        listed = http.get("/appointments", params={"date": now.date().isoformat()}, headers=bearer(booking))
        assert visit.reference in [a["reference"] for a in listed.json()["appointments"]]
        assert (
            http.get("/appointments", params={"date": "03.12.2026"}, headers=bearer(booking)).status_code
            == 422
        )

        # check-in at the kiosk: the visit's ticket, marked, with its follow secret
        checked = http.post(
            f"/appointments/{visit.reference.lower()}/check-in", json={"lang": "en"}, headers=bearer(kiosk)
        )
        assert checked.status_code == 201, checked.text
        ticket = P.CheckInAnswer.model_validate(checked.json()).ticket
        assert ticket.appointment is not None and ticket.appointment.reference == visit.reference
        assert ticket.appointment.start == visit.start and ticket.department == "bygg"
        assert ticket.number.startswith("B") and ticket.follow and ticket.lang == "en"
        assert 0 < (ticket.estimated_wait_s or 0) <= 20 * 60  # it waits for its time
        again = http.post(f"/appointments/{visit.reference}/check-in", headers=bearer(kiosk))
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_checked_in"
        refused = http.delete(f"/appointments/{visit.reference}", headers=bearer(booking))
        assert refused.json()["error"]["code"] == "already_checked_in"
        status = {
            a["reference"]: a for a in http.get("/appointments", headers=bearer(staff)).json()["appointments"]
        }
        assert (
            status[visit.reference]["status"] == "checked_in"
            and status[visit.reference]["ticket"] == ticket.id
        )

        # the other answers of a check-in
        unknown = http.post("/appointments/ABCDEFGH/check-in", headers=bearer(kiosk))
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_appointment"
        assert http.post("/appointments/not-a-ref/check-in", headers=bearer(kiosk)).status_code == 404
        gone = P.AppointmentAnswer.model_validate(book(http, booking, "nav", now).json()).appointment
        cancelled = http.delete(f"/appointments/{gone.reference}", headers=bearer(booking))
        assert cancelled.status_code == 200 and cancelled.json()["appointment"]["status"] == "cancelled"
        assert http.delete(f"/appointments/{gone.reference}", headers=bearer(booking)).status_code == 200
        answer = http.post(f"/appointments/{gone.reference}/check-in", headers=bearer(kiosk))
        assert answer.json()["error"]["code"] == "cancelled"
        tomorrow = P.AppointmentAnswer.model_validate(
            book(http, booking, "nav", now + dt.timedelta(days=1)).json()
        ).appointment
        answer = http.post(f"/appointments/{tomorrow.reference}/check-in", headers=bearer(kiosk))
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "not_today"
        if now.hour >= 1:  # 11 minutes ago is still today
            late = P.AppointmentAnswer.model_validate(
                book(http, booking, "nav", now - dt.timedelta(minutes=11)).json()
            ).appointment
            answer = http.post(f"/appointments/{late.reference}/check-in", headers=bearer(kiosk))
            assert answer.status_code == 409 and answer.json()["error"]["code"] == "too_late"
        # a display may not check anyone in; a booking system may not either
        display = srv.token("display")
        assert (
            http.post(f"/appointments/{tomorrow.reference}/check-in", headers=bearer(display)).status_code
            == 403
        )
        assert (
            http.post(f"/appointments/{tomorrow.reference}/check-in", headers=bearer(booking)).status_code
            == 403
        )
    # the schema documents the endpoints
    schema = httpx.get(srv.url.removesuffix("/api/v1") + "/openapi.json", timeout=10).json()["paths"]
    assert {
        "/api/v1/appointments",
        "/api/v1/appointments/{reference}",
        "/api/v1/appointments/{reference}/check-in",
    } <= set(schema)


# -- iCalendar import ------------------------------------------------------------------------

PERSONAL = (
    "Kari", "Nordmann", "41234567", "01019912345", "example.no", "example.com", "Ahmed", "Hansen",
    "garasje", "Fødselsnummer", "timebestilling", "askim.kommune", "tolk: arabisk", "avlyst", "Skranke 3",
)  # fmt: skip


def ledger_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def rows(db: Path) -> dict[str, tuple[str, str, str, str]]:
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT reference, department, start, service_day, status FROM appointments")
        return {r[2]: (r[0], r[1], r[3], r[4]) for r in found}


def test_ics_import_time_zones_privacy_and_changes(tmp_path: Path) -> None:
    config, db = site(tmp_path / "site.toml"), tmp_path / "ledger.db"
    calendar = tmp_path / "visits.ics"
    calendar.write_bytes((DATA / "visits.ics").read_bytes())
    done = run_cli("appointments", "import", str(calendar), "--config", str(config), "--db", str(db))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["created"]) == 6 and len(result["cancelled"]) == 1
    assert "K7QX2M4P" in result["created"]  # the booking system's own reference (X-NUMMERLAPP-REFERENCE)
    assert result["skipped"] == {
        "no start time (all-day or missing DTSTART)": 1,
        "no department for its categories": 1,
    }
    stored = rows(db)
    # instants, in UTC: Oslo in winter +01:00, Helsinki +02:00, Z as is, floating = the site's clock
    assert stored["2026-12-03T09:40:00.000000+00:00"][:2] == ("K7QX2M4P", "bygg")
    assert stored["2026-12-03T08:15:00.000000+00:00"][1] == "nav"  # CATEGORIES:NAV,Tolk
    assert stored["2026-12-03T12:00:00.000000+00:00"][1] == "nav"  # Europe/Helsinki, "nav" in lower case
    assert stored["2026-12-03T11:30:00.000000+00:00"][1] == "bygg"  # floating 12:30 in Oslo
    assert stored["2026-03-29T01:00:00.000000+00:00"][1:3] == ("bygg", "2026-03-29")  # 03:00 CEST
    assert stored["2026-10-26T07:30:00.000000+00:00"][1:3] == ("nav", "2026-10-26")  # 08:30 CET
    assert stored["2026-12-03T08:30:00.000000+00:00"][3] == "cancelled"
    text = ledger_bytes(db)
    for word in PERSONAL:
        assert word.encode("utf-8") not in text, f"{word!r} reached the ledger file"
        assert word.lower().encode("utf-8") not in text.lower()

    # the same file again: nothing changes
    again = json.loads(
        run_cli("appointments", "import", str(calendar), "--config", str(config), "--db", str(db)).stdout
    )
    assert again["unchanged"] == 7 and not again["created"] and not again["moved"] and not again["cancelled"]
    assert rows(db) == stored

    # the booking system's next export: one visit moved, one cancelled, an old copy of a third
    source = (DATA / "visits.ics").read_bytes().decode("utf-8")
    moved = source.replace(
        "SEQUENCE:0\r\nDTSTART;TZID=Europe/Oslo:20261203T104000",
        "SEQUENCE:1\r\nDTSTART;TZID=Europe/Oslo:20261203T112000",
    )
    moved = moved.replace("CATEGORIES:NAV,Tolk\r\n", "CATEGORIES:NAV,Tolk\r\nSTATUS:CANCELLED\r\n")
    moved = moved.replace(
        "SEQUENCE:1\r\nDTSTART;TZID=Europe/Oslo:20261203T093000",
        "SEQUENCE:0\r\nDTSTART;TZID=Europe/Oslo:20261203T093000",
    )
    moved = moved.replace(
        "STATUS:CANCELLED\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:20261203-allday",
        "STATUS:CONFIRMED\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:20261203-allday",
    )
    calendar.write_text(moved, encoding="utf-8", newline="")
    changed = json.loads(
        run_cli("appointments", "import", str(calendar), "--config", str(config), "--db", str(db)).stdout
    )
    assert changed["moved"] == ["K7QX2M4P"] and len(changed["cancelled"]) == 1 and changed["stale"] == 1
    after = rows(db)
    assert after["2026-12-03T10:20:00.000000+00:00"][0] == "K7QX2M4P"  # 11:20 Oslo, same reference
    assert "2026-12-03T09:40:00.000000+00:00" not in after
    assert after["2026-12-03T08:15:00.000000+00:00"][3] == "cancelled"
    assert after["2026-12-03T08:30:00.000000+00:00"][3] == "cancelled"  # the old copy did not bring it back

    listed = run_cli("appointments", "list", "--date", "2026-12-03", "--config", str(config), "--db", str(db))
    visits = [P.Appointment.model_validate_json(line) for line in listed.stdout.splitlines()]
    assert [v.start for v in visits] == sorted(v.start for v in visits) and len(visits) == 5
