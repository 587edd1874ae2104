"""One site file, on the server (PROTOCOL.md v1.1, "Configuration comes from the service").

- :class:`SiteFile`: the site file in force: its settings, its tables as data and a version (the
  first 16 hex digits of the SHA-256 of its bytes). ``Services.site`` holds one
  :class:`SiteHolder`; ``Services.settings`` is its current settings, so every route reads the
  settings in force without knowing they can change.
- ``GET /config`` (device token) → ``{"version", "config"}``: the site file's tables that device
  needs (:func:`for_device`): ``site``, ``departments``, ``counters``, ``zones``, ``board``,
  ``kiosk`` and ``feedback``; a kiosk gets its own printer only and the technician PIN hash, a
  board or a feedback terminal gets no printer and no PIN hash; the device's own settings from its
  enrolment (name, a board's zone, a kiosk's printer) are written into those tables and repeated
  under ``device``. The device checks it with the same loader the server used.
- :func:`reload`: read the file again, check it in full (the same checks as at start); a bad file
  changes nothing and the answer names file, key and problem. A good one is swapped in: first the
  holder (so a device fetching at once gets the new one), then the ledger's settings on the
  writer thread (``Ledger.use_settings``, which emits ``site.changed`` and ``config.changed``),
  the followers' reader, the kiosk interval. ``main.py config reload`` (server/device_cli.py),
  SIGHUP and the technician page's button all end here.
- What truly needs a restart (:data:`RESTART_KEYS`: the site's id names the ledger's site and
  its mDNS record; its time zone decides service days) keeps its old value until then, and the
  answer lists it; the technician page shows that list.

The outcome of the latest reload, and the server's process id, are kept in the ledger's
``site_state`` (keys ``server`` and ``config``), where ``main.py config reload`` reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import signal
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import ConfigError
from nummerlapp.config.loader import EMBEDDED_LABEL
from nummerlapp.config.model import Settings
from nummerlapp.server.api import enrolment
from nummerlapp.server.api.access import principal
from nummerlapp.server.api.enrolment import DeviceRow
from nummerlapp.server.api.errors import documented as _errors
from nummerlapp.server.api.errors import error_response
from nummerlapp.server.api.services import Services, services
from nummerlapp.server.api.sitefile import SiteFile

log = logging.getLogger(__name__)

RESTART_KEYS = ("site.id", "site.timezone")
DEVICE_TABLES = ("site", "departments", "counters", "zones", "board", "kiosk", "feedback", "printers")


def restart_needed(old: Settings, new: Settings) -> list[str]:
    changed = []
    if old.site.id != new.site.id:
        changed.append("site.id")
    if old.site.timezone != new.site.timezone:
        changed.append("site.timezone")
    return changed


def _keep_old(old: Settings, new: Settings) -> Settings:
    site = dataclasses.replace(new.site, id=old.site.id, timezone=old.site.timezone)
    return dataclasses.replace(new, site=site)


async def reload(svc: Services) -> P.ConfigReloaded:
    """Apply the site file again; :class:`ConfigError` and nothing changed when it is bad."""
    holder = svc.site
    async with holder.lock:
        old = holder.current
        try:
            fresh = await asyncio.to_thread(SiteFile.read, old.path)
        except ConfigError as exc:
            holder.problem = str(exc)
            await _record(svc, {"ok": False, "problem": str(exc)})
            log.warning("site file not reloaded: %s", exc)
            raise
        restart = restart_needed(old.settings, fresh.settings)
        settings = _keep_old(old.settings, fresh.settings) if restart else fresh.settings
        changed = fresh.version != old.version
        holder.current = dataclasses.replace(fresh, settings=settings)
        holder.restart, holder.problem = restart, None
        svc.runner.settings = settings
        svc.limiter.interval = settings.site.kiosk_interval_s
        await svc.follow.use_settings(settings)
        version = fresh.version
        await svc.runner.run(lambda ledger: ledger.use_settings(settings, version))
        await _record(svc, {"ok": True, "version": version, "changed": changed, "restart": restart})
        log.info("site file %s applied: version %s%s", fresh.path or EMBEDDED_LABEL, version,
                 f" (after a restart: {', '.join(restart)})" if restart else "")  # fmt: skip
        return P.ConfigReloaded(version=version, changed=changed, restart=restart)


async def _record(svc: Services, outcome: dict[str, Any]) -> None:
    outcome = {**outcome, "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")}
    await svc.runner.run_conn(lambda conn: put_state(conn, "config", outcome))


def put_state(conn: sqlite3.Connection, key: str, value: dict[str, Any]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT OR REPLACE INTO site_state (key, value) VALUES (?, ?)", (key, json.dumps(value)))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def get_state(conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM site_state WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    value = json.loads(row[0])
    return value if isinstance(value, dict) else None


async def started(svc: Services) -> None:
    """At start: note this process (``config reload`` signals it) and take SIGHUP as a reload."""
    path = svc.site.current.path
    note = {"pid": os.getpid(), "config": str(path) if path else None}
    await svc.runner.run_conn(lambda conn: put_state(conn, "server", note))
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = loop.create_task(_reload_quietly(svc))
        running.add(task)
        task.add_done_callback(running.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
        loop.add_signal_handler(signal.SIGHUP, hangup)


async def _reload_quietly(svc: Services) -> None:
    with contextlib.suppress(ConfigError):
        await reload(svc)


# -- what a device gets ---------------------------------------------------------------------------


def for_device(site: SiteFile, role: str, row: DeviceRow | None) -> dict[str, Any]:
    """The site file's tables this device needs, with its own settings written in."""
    data = {k: v for k, v in site.data.items() if k in DEVICE_TABLES}
    kiosk = dict(data.get("kiosk", {}))
    board = dict(data.get("board", {}))
    printers = list(data.get("printers", []))
    if role == "kiosk":
        wanted = (row.printer if row is not None else None) or kiosk.get("printer")
        if wanted is None and printers:
            wanted = printers[0].get("id")
        printers = [p for p in printers if p.get("id") == wanted]
        if wanted is not None and printers:
            kiosk["printer"] = wanted
        else:
            kiosk.pop("printer", None)
    else:
        printers = []
        kiosk.pop("printer", None)
        kiosk.pop("technician_pin_hash", None)
    if role in ("display", "board") and row is not None and row.zone:
        board["zone"] = row.zone
    data.update(kiosk=kiosk, board=board, printers=printers)
    data = {k: v for k, v in data.items() if v not in ({}, [])}
    data["site"] = {k: v for k, v in data["site"].items() if k != "server_url"}
    device = {"id": row.id, "name": row.name, "role": row.role} if row is not None else {}
    if row is not None and row.zone:
        device["zone"] = row.zone
    if row is not None and row.printer:
        device["printer"] = row.printer
    return {"site_file": _jsonable(data), "device": device}


def _jsonable(value: Any) -> Any:
    """TOML's dates and times as the text the file would hold."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    return value


router = APIRouter(tags=["configuration"])
SECURED: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


@router.get("/config", response_model=P.ConfigAnswer, responses=_errors(401, 403), openapi_extra=SECURED)
async def get_config(request: Request) -> JSONResponse:
    """What this device needs of the site file, and its version (device token)."""
    svc = services(request)
    who = principal(request)
    row = await svc.runner.run_conn(lambda conn: enrolment.device_of(conn, who.id))
    site = svc.site.current
    answer = P.ConfigAnswer(version=site.version, config=for_device(site, who.role, row))
    return JSONResponse(answer.encode())


@router.post(
    "/config/reload", response_model=P.ConfigReloaded, responses=_errors(401, 403, 422), openapi_extra=SECURED
)
async def reload_config(request: Request) -> JSONResponse:
    """Apply the changed site file now, after the full check; a bad file changes nothing (admin)."""
    try:
        answer = await reload(services(request))
    except ConfigError as exc:
        return error_response(422, "invalid_site_file", str(exc))
    return JSONResponse(answer.encode())
