"""Devices join by enrolment (PROTOCOL.md v1.1, "Enrolling devices"; docs/API.md "Enrolment").

A kiosk, board or feedback terminal without a token ``POST /enrolments`` and shows the 6-digit
code it got; a technician approves that code (technician page, ``main.py device approve``, or
``POST /enrolments/{code}/approve``); the device, polling ``GET /enrolments/{id}``, gets its token
in the first answer after the approval and never again.

- The enrolment id is the secret that fetches the token: 128 random bits, stored only as its
  SHA-256 (a copy of the ledger file fetches nothing). The code is what people read aloud; it
  alone fetches nothing.
- The token is made when it is fetched, in the same transaction that marks the request
  ``collected``: it is never stored in clear, and a second fetch finds nothing to give.
- A pending request expires after :data:`TTL` (10 minutes). Pending requests are capped per
  address (:data:`MAX_PENDING_PER_ADDRESS`) and in total (:data:`MAX_PENDING`): 429. A device
  asking again replaces its own pending request. Before the ledger is touched, an address that
  asks more than :data:`~server.api.askgate.ASKS_PER_MINUTE` times a minute is refused from memory (429), so a
  flood costs the writer nothing.
- Every enrolled device is a row of ``devices`` with its ``token_id``; revoking deletes the row
  and revokes the token, and the service drops the device's event socket at once
  (:func:`watch_revoked` also notices a revoke made by the command line).

The store functions take a ``sqlite3.Connection`` opened with ``schema.connect`` (the server's
second writer connection through ``runner.run_conn``, or the ``device`` command's own) and make
their own ``BEGIN IMMEDIATE``, like server/api/auth.py's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import LedgerError, NotFound
from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.errors import documented as _errors
from nummerlapp.server.api.errors import error_response
from nummerlapp.server.api.services import Services, services

log = logging.getLogger(__name__)

TTL = dt.timedelta(minutes=10)
MAX_PENDING_PER_ADDRESS = 5
MAX_PENDING = 100
KEEP_FINISHED = dt.timedelta(days=1)  # refused, expired and collected requests are forgotten after
DEVICE_ROLE = {"kiosk": "kiosk", "display": "board", "feedback": "feedback"}  # devices.role
TOKEN_ROLE = {"kiosk": "kiosk", "board": "display", "display": "display", "feedback": "feedback"}


class TooMany(LedgerError):
    status = 429
    code = "too_many_enrolments"


class InvalidSetting(LedgerError):
    status = 422
    code = "invalid_setting"


def _db(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


_write = auth.write_transaction


@dataclass(frozen=True)
class Started:
    id: str
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Looked:
    status: P.EnrolmentStatus
    token: str | None = None


@dataclass(frozen=True)
class DeviceRow:
    """An enrolled device as ``devices`` holds it."""

    id: str
    role: str  # kiosk | board | feedback
    name: str
    zone: str | None
    printer: str | None
    address: str | None
    token_id: int | None


# -- the store ----------------------------------------------------------------------------------------


def request(
    conn: sqlite3.Connection,
    body: P.EnrolmentRequest,
    address: str,
    now: dt.datetime,
    ttl: dt.timedelta = TTL,
) -> Started:
    """A new pending request; :class:`TooMany` over the caps. A device's older pending one goes."""
    live = _db(now)
    with _write(conn):
        conn.execute(
            "DELETE FROM enrolments WHERE (status != 'pending' OR expires_at < ?) AND created_at < ?",
            (live, _db(now - KEEP_FINISHED)),
        )
        conn.execute(
            "DELETE FROM enrolments WHERE status = 'pending' AND device = ? AND address = ?",
            (body.device, address),
        )
        mine, total = conn.execute(
            "SELECT SUM(address = ?), COUNT(*) FROM enrolments WHERE status = 'pending' AND expires_at >= ?",
            (address, live),
        ).fetchone()
        if (mine or 0) >= MAX_PENDING_PER_ADDRESS:
            raise TooMany(f"{MAX_PENDING_PER_ADDRESS} requests from {address} wait already")
        if (total or 0) >= MAX_PENDING:
            raise TooMany(f"{MAX_PENDING} requests wait already: approve or refuse some first")
        taken = {r[0] for r in conn.execute("SELECT code FROM enrolments WHERE status = 'pending'")}
        code = f"{secrets.randbelow(1_000_000):06d}"
        while code in taken:
            code = f"{secrets.randbelow(1_000_000):06d}"
        secret = "en_" + secrets.token_urlsafe(16)  # 128 random bits
        expires = now + ttl
        conn.execute(
            """INSERT INTO enrolments (id_hash, code, device, role, name, address, status, created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
            (_hash(secret), code, body.device, body.role, body.name, address[:64], live, _db(expires)),
        )
    return Started(secret, code, expires)


def look(conn: sqlite3.Connection, secret: str, now: dt.datetime) -> Looked:
    """The request's status; the token once, in the first look after the approval."""
    with _write(conn):
        row = conn.execute(
            "SELECT status, expires_at, device, role, name FROM enrolments WHERE id_hash = ?",
            (_hash(secret),),
        ).fetchone()
        if row is None:
            raise NotFound("no such enrolment (expired long ago, or never made)", code="unknown_enrolment")
        status, expires, device, role, name = row
        if status == "pending":
            return Looked("expired" if expires < _db(now) else "pending")
        if status == "refused":
            return Looked("refused")
        if status == "collected":
            return Looked("approved")
        token = auth.TOKEN_PREFIX + secrets.token_urlsafe(32)
        cur = conn.execute(
            "INSERT INTO tokens (role, name, secret_hash, created_at) VALUES (?, ?, ?, ?)",
            (role, name[:80], auth.hash_token(token), _db(now)),
        )
        conn.execute("UPDATE devices SET token_id = ? WHERE id = ?", (cur.lastrowid, device))
        conn.execute("UPDATE enrolments SET status = 'collected' WHERE id_hash = ?", (_hash(secret),))
    return Looked("approved", token)


def pending(conn: sqlite3.Connection, now: dt.datetime, tz: dt.tzinfo) -> list[P.PendingEnrolment]:
    rows = conn.execute(
        """SELECT code, device, role, name, address, expires_at FROM enrolments
           WHERE status = 'pending' AND expires_at >= ? ORDER BY created_at""",
        (_db(now),),
    ).fetchall()
    return [
        P.PendingEnrolment(
            code=r[0],
            device=r[1],
            role=r[2],
            name=r[3],
            address=r[4],
            expires_at=P.iso(dt.datetime.fromisoformat(r[5]).astimezone(tz)) or "",
        )
        for r in rows
    ]


def _pending_by_code(conn: sqlite3.Connection, code: str, now: dt.datetime) -> tuple[Any, ...]:
    row = conn.execute(
        """SELECT id_hash, device, role, name, address FROM enrolments
           WHERE code = ? AND status = 'pending' AND expires_at >= ?""",
        (code, _db(now)),
    ).fetchone()
    if row is None:
        raise NotFound(f"no pending enrolment with code {code!r}", code="unknown_enrolment")
    return tuple(row)


def check_settings(settings: Settings | None, role: str, zone: str | None, printer: str | None) -> None:
    """A board's zone and a kiosk's printer must be the site file's (and only for that role)."""
    if zone and role not in ("display", "board"):
        raise InvalidSetting("only a board has a zone", code="invalid_zone")
    if printer and role != "kiosk":
        raise InvalidSetting("only a kiosk has a printer", code="invalid_printer")
    if settings is None:
        return
    if zone and settings.zone(zone) is None:
        known = ", ".join(z.id for z in settings.zones) or "none"
        raise InvalidSetting(f"no zone {zone!r} in the site file (known: {known})", code="unknown_zone")
    if printer and settings.printer(printer) is None:
        known = ", ".join(p.id for p in settings.printers) or "none"
        raise InvalidSetting(
            f"no printer {printer!r} in the site file (known: {known})", code="unknown_printer"
        )


def approve(
    conn: sqlite3.Connection,
    code: str,
    approval: P.EnrolmentApproval,
    now: dt.datetime,
    settings: Settings | None = None,
) -> str:
    """Approve a pending code: the device's row is made (its token when it is fetched). → device id."""
    with _write(conn):
        id_hash, device, role, name, address = _pending_by_code(conn, code, now)
        check_settings(settings, role, approval.zone, approval.printer)
        old = conn.execute("SELECT token_id FROM devices WHERE id = ?", (device,)).fetchone()
        if old is not None and old[0] is not None:  # the same device joining again: its old token goes
            conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_db(now), old[0])
            )
        conn.execute(
            """INSERT INTO devices (id, role, name, zone, printer, address, enrolled_at, token_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
               ON CONFLICT (id) DO UPDATE SET role = excluded.role, name = excluded.name,
                   zone = excluded.zone, printer = excluded.printer, address = excluded.address,
                   enrolled_at = excluded.enrolled_at, token_id = NULL""",
            (
                device,
                DEVICE_ROLE[role],
                approval.name or name,
                approval.zone,
                approval.printer,
                address,
                _db(now),
            ),
        )
        conn.execute(
            "UPDATE enrolments SET status = 'approved', settings = ? WHERE id_hash = ?",
            (approval.model_dump_json(exclude_unset=True), id_hash),
        )
    return str(device)


def refuse(conn: sqlite3.Connection, code: str, now: dt.datetime) -> None:
    with _write(conn):
        id_hash = _pending_by_code(conn, code, now)[0]
        conn.execute("UPDATE enrolments SET status = 'refused' WHERE id_hash = ?", (id_hash,))


_DEVICE_COLS = "id, role, name, zone, printer, address, token_id"


def _device(row: tuple[Any, ...]) -> DeviceRow:
    return DeviceRow(row[0], row[1], row[2] or row[0], row[3], row[4], row[5], row[6])


def enrolled(conn: sqlite3.Connection) -> list[DeviceRow]:
    """Every enrolled device (approved; its token maybe not fetched yet)."""
    rows = conn.execute(
        f"SELECT {_DEVICE_COLS} FROM devices WHERE enrolled_at IS NOT NULL ORDER BY role, id"
    ).fetchall()
    return [_device(r) for r in rows]


def device(conn: sqlite3.Connection, device_id: str) -> DeviceRow | None:
    """An enrolled device (approved): a device that only reported its status has no settings here."""
    row = conn.execute(
        f"SELECT {_DEVICE_COLS} FROM devices WHERE id = ? AND enrolled_at IS NOT NULL", (device_id,)
    ).fetchone()
    return None if row is None else _device(row)


def device_of(conn: sqlite3.Connection, token_id: int) -> DeviceRow | None:
    """The enrolled device a live token belongs to."""
    row = conn.execute(
        f"SELECT {_DEVICE_COLS} FROM devices WHERE token_id = ? AND enrolled_at IS NOT NULL", (token_id,)
    ).fetchone()
    return None if row is None else _device(row)


def revoke(conn: sqlite3.Connection, device_id: str, now: dt.datetime) -> int | None:
    """Forget a device and revoke its token; NotFound for an unknown device. → the token id."""
    with _write(conn):
        row = conn.execute("SELECT token_id FROM devices WHERE id = ?", (device_id,)).fetchone()
        if row is None:
            raise NotFound(f"unknown device {device_id!r}", code="unknown_device")
        if row[0] is not None:
            conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_db(now), row[0])
            )
        conn.execute("DELETE FROM devices WHERE id = ?", (device_id,))
    return None if row[0] is None else int(row[0])


def update(
    conn: sqlite3.Connection, device_id: str, body: P.DeviceSettingsBody, settings: Settings | None
) -> DeviceRow:
    """Rename an enrolled device, change a board's zone or a kiosk's printer (``""`` clears)."""
    with _write(conn):
        found = device(conn, device_id)
        if found is None:
            raise NotFound(f"no enrolled device {device_id!r}", code="unknown_device")
        check_settings(settings, found.role, body.zone or None, body.printer or None)
        name = body.name if body.name is not None else found.name
        zone = (body.zone or None) if body.zone is not None else found.zone
        printer = (body.printer or None) if body.printer is not None else found.printer
        conn.execute(
            "UPDATE devices SET name = ?, zone = ?, printer = ? WHERE id = ?",
            (name, zone, printer, device_id),
        )
        # the token's label follows the name (``token list`` shows it)
        if found.token_id is not None:
            conn.execute("UPDATE tokens SET name = ? WHERE id = ?", (name[:80], found.token_id))
        updated = device(conn, device_id)
    assert updated is not None
    return updated


def live_tokens(conn: sqlite3.Connection, token_ids: list[int]) -> set[int]:
    """Which of these token ids are still live (not revoked)."""
    if not token_ids:
        return set()
    marks = ",".join("?" * len(token_ids))
    rows = conn.execute(f"SELECT id FROM tokens WHERE id IN ({marks}) AND revoked_at IS NULL", token_ids)
    return {int(r[0]) for r in rows}


# -- the HTTP side ---------------------------------------------------------------------------------------


router = APIRouter(tags=["enrolment"])
Route = TypeVar("Route", bound=Callable[..., Any])
SECURED: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
EnrolmentId = Path(min_length=1, max_length=64, description="the enrolment's id (its secret)")
Code = Path(min_length=1, max_length=16, description="the 6-digit code the device shows")
DeviceId = Path(min_length=1, max_length=64, description="the device's own id")


def _answer(shape: P.Wire, status_code: int = 200) -> JSONResponse:
    return JSONResponse(shape.encode(), status_code=status_code)


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _admin_route(method: str, path: str, model: Any, *statuses: int) -> Callable[[Route], Route]:
    """An admin's route (bearer token): ``method`` on ``path`` answering ``model``, or one of
    the error ``statuses``."""
    return router.api_route(
        path, methods=[method], response_model=model, responses=_errors(*statuses), openapi_extra=SECURED
    )


@router.post("/enrolments", response_model=P.EnrolmentAnswer, status_code=201, responses=_errors(422, 429))
async def ask_to_join(request: Request, body: P.EnrolmentRequest) -> JSONResponse:
    """A device without a token asks to join → its code, to show; 429 when too many wait (public)."""
    svc = services(request)
    address = _address(request)
    if not svc.enrolment_asks.allow(address):
        return error_response(429, "too_many_enrolments", "too many requests to join from this address")
    now = svc.clock()
    started = await svc.runner.run_conn(lambda conn: request_(conn, body, address, now))
    enrolment = P.Enrolment(
        status="pending",
        id=started.id,
        code=started.code,
        expires_at=P.iso(started.expires_at.astimezone(svc.settings.site.tz)),
        site=svc.settings.site.name,
        **({"tls_sha256": svc.tls_sha256} if svc.tls_sha256 else {}),
    )
    return _answer(P.EnrolmentAnswer(enrolment=enrolment), 201)


request_ = request  # the route above shadows the name ``request``


@router.get("/enrolments/{enrolment_id}", response_model=P.EnrolmentAnswer, responses=_errors(404))
async def look_up(request: Request, enrolment_id: str = EnrolmentId) -> JSONResponse:
    """The request's status; the token in the first answer after approval, never again (public:
    the id is the secret)."""
    svc = services(request)
    now = svc.clock()
    found = await svc.runner.run_conn(lambda conn: look(conn, enrolment_id, now))
    if found.token is None:
        return _answer(P.EnrolmentAnswer(enrolment=P.Enrolment(status=found.status)))
    return _answer(P.EnrolmentAnswer(enrolment=P.Enrolment(status=found.status, token=found.token)))


# What the API's routes below and the technician page (server/web/tech.py) both do.


async def pending_now(svc: Services) -> list[P.PendingEnrolment]:
    """The requests waiting for approval now, their times in the site's zone."""
    now, tz = svc.clock(), svc.settings.site.tz
    return await svc.runner.run_conn(lambda conn: pending(conn, now, tz))


async def approve_now(svc: Services, code: str, approval: P.EnrolmentApproval) -> str:
    """Approve the code now (:func:`approve`): the new device's id."""
    now, settings = svc.clock(), svc.settings
    return await svc.runner.run_conn(lambda conn: approve(conn, code, approval, now, settings))


async def refuse_now(svc: Services, code: str) -> None:
    """Refuse the code now (:func:`refuse`)."""
    now = svc.clock()
    await svc.runner.run_conn(lambda conn: refuse(conn, code, now))


async def change_settings(svc: Services, device_id: str, body: P.DeviceSettingsBody) -> DeviceRow:
    """Change an enrolled device's settings (:func:`update`) and tell the devices
    (``config.changed``): the changed row."""
    settings = svc.settings
    row = await svc.runner.run_conn(lambda conn: update(conn, device_id, body, settings))
    version = svc.site.version
    await svc.runner.run(lambda ledger: ledger.announce_config(version))
    return row


@_admin_route("GET", "/enrolments", P.PendingEnrolments, 401, 403)
async def list_pending(request: Request) -> JSONResponse:
    """Pending requests: code, device, role, name, address, expires_at (admin)."""
    return _answer(P.PendingEnrolments(enrolments=await pending_now(services(request))))


@_admin_route("POST", "/enrolments/{code}/approve", P.EnrolmentAnswer, 401, 403, 404, 422)
async def approve_code(
    request: Request, body: P.EnrolmentApproval | None = None, code: str = Code
) -> JSONResponse:
    """Approve the code a device shows (optional name, a board's zone, a kiosk's printer) (admin)."""
    await approve_now(services(request), code, body or P.EnrolmentApproval())
    return _answer(P.EnrolmentAnswer(enrolment=P.Enrolment(status="approved")))


@_admin_route("POST", "/enrolments/{code}/refuse", P.EnrolmentAnswer, 401, 403, 404)
async def refuse_code(request: Request, code: str = Code) -> JSONResponse:
    """Refuse the code: the device says so and asks again (admin)."""
    await refuse_now(services(request), code)
    return _answer(P.EnrolmentAnswer(enrolment=P.Enrolment(status="refused")))


async def forget_device(svc: Services, device_id: str) -> None:
    """Revoke and forget a device; its event socket is closed now (it shows its code screen)."""
    now = svc.clock()
    token_id = await svc.runner.run_conn(lambda conn: revoke(conn, device_id, now))
    kick(svc, lambda _device, client: client.token_id == token_id or _device == device_id)


def kick(svc: Services, which: Any) -> None:
    for device_id, client in list(svc.sockets.items()):
        if which(device_id, client):
            client.kick.set()


@_admin_route("DELETE", "/devices/{device_id}", P.Accepted, 401, 403, 404)
async def delete_device(request: Request, device_id: str = DeviceId) -> JSONResponse:
    """Forget the device and revoke its token: its next request gets 401 (admin)."""
    await forget_device(services(request), device_id)
    return _answer(P.Accepted(ok=True))


@_admin_route("PATCH", "/devices/{device_id}", P.DeviceSettingsAnswer, 401, 403, 404, 422)
async def change_device(
    request: Request, body: P.DeviceSettingsBody, device_id: str = DeviceId
) -> JSONResponse:
    """Rename a device, change a board's zone or a kiosk's printer → ``config.changed`` (admin)."""
    svc = services(request)
    row = await change_settings(svc, device_id, body)
    return _answer(P.DeviceSettingsAnswer(device=entry_of(row, connected=device_id in svc.sockets)))


def entry_of(row: DeviceRow, *, connected: bool) -> P.DeviceEntry:
    values: dict[str, Any] = {
        "id": row.id,
        "role": row.role,
        "sources": ["enrolment"],
        "name": row.name,
        "enrolled": True,
        "connected": connected,
    }
    if row.zone:
        values["zone"] = row.zone
    if row.printer:
        values["printer_id"] = row.printer
    if row.address:
        values["address"] = row.address
    return P.DeviceEntry(**values)


async def device_list(svc: Services) -> list[P.DeviceEntry]:
    """Every enrolled device, every device that reported or is heard over mDNS, and whether its
    event socket (opened with its token) is connected now."""
    found: dict[str, dict[str, Any]] = {}
    for row in await svc.runner.run_conn(enrolled):
        found[row.id] = entry_of(row, connected=False).encode()
    for reported in await svc.runner.run(lambda ledger: ledger.devices()):
        e = found.setdefault(reported.id, {"id": reported.id, "role": reported.role, "sources": []})
        e.update((k, v) for k, v in reported.encode().items() if k not in ("id", "name") or v)
        e["sources"].append("report")
    for device_id, info in list(svc.sockets.items()):
        e = found.setdefault(device_id, {"id": device_id, "role": info.role, "sources": []})
        e["connected"] = True
        e.setdefault("address", info.address)
        e["sources"].append("socket")
    if svc.mdns is not None:
        for heard in svc.mdns.devices():
            e = found.setdefault(heard.device_id, {"id": heard.device_id, "role": heard.role, "sources": []})
            e.setdefault("address", f"{heard.host}:{heard.port}")
            e["sources"].append("mdns")
    return [P.DeviceEntry(**e) for e in sorted(found.values(), key=lambda d: (d["role"], d["id"]))]


async def watch_revoked(svc: Services, period_s: float = 1.0) -> None:
    """Close the sockets of devices whose token was revoked elsewhere (``main.py device revoke``,
    ``token revoke``): the device learns it at once instead of at its next request."""
    while True:
        await asyncio.sleep(period_s)
        ids = [c.token_id for c in list(svc.sockets.values()) if c.token_id is not None]
        if not ids:
            continue
        try:
            await _kick_revoked(svc, ids)
        except Exception:  # the next round tries again
            log.exception("checking device tokens failed")


async def _kick_revoked(svc: Services, ids: list[int]) -> None:
    live = await svc.runner.run_conn(lambda conn: live_tokens(conn, ids))
    kick(svc, lambda _device, client: client.token_id is not None and client.token_id not in live)
