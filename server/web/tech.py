"""The technician page (admin users): devices, staff accounts, tokens, the site file, reset.

Devices (issue 13): the codes waiting for approval (approve with a name, a board's zone or a
kiosk's printer; refuse), the true device list (``GET /api/v1/devices``'s entries: role, name,
zone, version, address, last seen, printer state, connected) with Rename and Remove, and a
"Reload site file" button (``POST /config/reload``'s check and outcome, with the keys that need a
restart). The page polls ``/tech/api/devices`` every two seconds; the same store functions as the
API's (server/api/enrolment.py, server/api/config_api.py) do the work.

Everything here changes who may do what, so every change is a POST with the session's CSRF
token from a signed-in admin, answers in the JSON error shape when refused, and is logged with
the admin's user name. A token's secret is shown once, in the answer that made it; the page
can never show it again (only its hash is stored).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import ConfigError, LedgerError
from nummerlapp.config import load_settings
from nummerlapp.config.loader import EMBEDDED, EMBEDDED_LABEL
from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth, config_api, enrolment
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import Services, services
from nummerlapp.server.web.context import (
    Ctx,
    backend,
    context,
    error,
    page_user,
    read_json,
    require_user_json,
    user_page,
)
from nummerlapp.server.web.strings import alarm_strings, ledger_message

log = logging.getLogger(__name__)


def site_file_report(settings: Settings) -> dict[str, Any]:
    """The site file in force, and whether the file on disk *now* still validates (a
    technician may have edited it since the start; the service reads it only at start)."""
    source = settings.source
    path = EMBEDDED if source == EMBEDDED_LABEL else Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {"source": source, "ok": False, "problem": str(exc), "text": ""}
    try:
        load_settings(None if source == EMBEDDED_LABEL else path)
    except ConfigError as exc:
        return {"source": source, "ok": False, "problem": str(exc), "text": text}
    return {"source": source, "ok": True, "problem": "", "text": text}


async def device_rows(svc: Services) -> list[dict[str, Any]]:
    """The device list as the page shows it: ``GET /devices``'s entries, the printer as a word."""
    rows = []
    for entry in await enrolment.device_list(svc):
        row = entry.encode()
        row["printer_state"] = entry.printer.state if entry.printer is not None else ""
        row["enrolled"] = "enrolment" in entry.sources
        row["connected"] = bool(entry.connected)
        rows.append(row)
    return rows


async def pending_rows(svc: Services) -> list[dict[str, Any]]:
    return [p.encode() for p in await enrolment.pending_now(svc)]


async def tech_page(request: Request) -> Response:
    ctx, refused = await page_user(
        request,
        "/tech",
        Permission.MANAGE_ACCOUNTS,
        lambda _: _("Only a technician (admin) may open this page."),
    )
    if refused is not None:
        return refused
    assert ctx.user is not None
    be = backend(request)
    svc = services(request)
    settings = svc.settings
    devices = await device_rows(svc)
    pending = await pending_rows(svc)
    users = await be.accounts(auth.list_users)
    tokens = await be.accounts(auth.list_tokens)
    return user_page(
        ctx,
        "tech.html",
        show_desk_link=True,
        on_tech=True,
        devices=devices,
        pending=pending,
        users=users,
        tokens=tokens,
        counters=settings.counters,
        site_file=site_file_report(settings),
        printer_words=printer_words(ctx),
        alarm_log=await svc.runner.run(lambda ledger: ledger.alarm_log()),
        counter_names={c.id: c.label(ctx.lang) for c in settings.counters},
        boot={
            "strings": {**tech_strings(ctx), **alarm_strings(ctx._)},
            "lang": ctx.lang,
            "timezone": settings.site.timezone,
            "counter_names": {c.id: c.label(ctx.lang) for c in settings.counters},
            "alarms": [a.encode() for a in await svc.runner.run(lambda ledger: ledger.open_alarms())],
            "can_clear_alarms": ctx.user.may(Permission.CLEAR_ALARM),
            "devices": devices,
            "pending": pending,
            "zones": [{"id": z.id, "name": z.name} for z in settings.zones],
            "printers": [p.id for p in settings.printers],
            "kiosk_printer": settings.kiosk.printer,
        },
    )


def printer_words(ctx: Ctx) -> dict[str, str]:
    """A printer state (``paper_end``, …) in the technician's words."""
    _ = ctx._
    return {
        "ok": _("paper OK"),
        "paper_near_end": _("printer paper is running out"),
        "paper_end": _("printer is out of paper"),
        "offline": _("printer is offline"),
        "cover_open": _("printer cover is open"),
        "error": _("printer error"),
        "unknown": _("printer state unknown"),
    }


def tech_strings(ctx: Ctx) -> dict[str, str]:
    """What the page's script says: the devices card (enrolment, the device list, the site file's
    reload), tokens, accounts, the reset, and the printer states."""
    _ = ctx._
    return {
        "role_kiosk": _("Kiosk"),
        "role_display": _("Board"),
        "role_board": _("Board"),
        "role_feedback": _("Feedback terminal"),
        "approve": _("Approve"),
        "refuse": _("Refuse"),
        "rename": _("Rename"),
        "remove": _("Remove"),
        "identify": _("Identify"),
        "all_zones": _("all departments"),
        "no_printer": _("no printer"),
        "connected": _("connected"),
        "not_connected": _("not connected"),
        "device_name": _("Name"),
        "zone": _("Zone"),
        "printer": _("Printer"),
        "approved": _("Approved %(device)s: it starts within a few seconds."),
        "refused": _("Refused the code %(code)s: the device asks again."),
        "renamed": _("Renamed to %(name)s."),
        "removed": _("Removed %(device)s: it shows its code again."),
        "ask_name": _("New name for %(device)s:"),
        "confirm_remove": _(
            "Remove this device? Its token stops working and it shows its enrolment code again."
        ),
        "until": _("until %(time)s"),
        "no_pending": _("No device is waiting for approval."),
        "no_devices": _("No device yet. Start a kiosk, board or feedback terminal: its code appears here."),
        "reloaded": _("The site file was applied (version %(version)s)."),
        "unchanged": _("The site file has not changed."),
        "restart": _("These changes take effect only after a restart of the service: %(keys)s"),
        "not_reloaded": _("The site file was not applied; nothing changed:"),
        "failed": _("That did not work. Try again."),
        "token_made": _("New token – copy it now, it is shown only once:"),
        "identify_sent": _("Asked %(device)s to identify itself."),
        "revoked": _("revoked"),
        "revoke": _("Revoke"),
        "disabled": _("disabled"),
        "confirm_revoke": _("Revoke this token? Devices using it stop working."),
        "confirm_disable": _("Disable this account?"),
        "reset_done": _("Today's queue was reset: %(n)s tickets cancelled."),
        **{"printer_" + k: v for k, v in printer_words(ctx).items()},
        "active": _("active"),
        "live": _("Live"),
        "reconnecting": _("Connection lost – reconnecting…"),
    }


def _refusal(ctx: Ctx, exc: LedgerError) -> JSONResponse:
    status = exc.status if 400 <= exc.status < 500 else 409
    return error(status, exc.code, ledger_message(ctx._, exc.code, exc.message))


Action = Callable[[Request, Ctx, dict[str, Any]], Awaitable[Response]]


def admin_action(permission: Permission) -> Callable[[Action], Callable[[Request], Awaitable[Response]]]:
    """A POST of the page: a signed-in admin with the CSRF header who may ``permission`` and a
    JSON object body, else the refusal; a ledger refusal of the action answers in the JSON error
    shape, its sentence in the admin's language."""

    def wrap(action: Action) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(action)
        async def endpoint(request: Request) -> Response:
            ctx = await context(request)
            refused = require_user_json(ctx, permission)
            if refused is not None:
                return refused
            body = await read_json(request, ctx)
            if isinstance(body, JSONResponse):
                return body
            try:
                return await action(request, ctx, body)
            except LedgerError as exc:
                return _refusal(ctx, exc)

        return endpoint

    return wrap


def _admin(ctx: Ctx) -> str:
    """Who acted, for the log."""
    return ctx.user.username if ctx.user else "?"


def _opt_str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _counter(ctx: Ctx, body: dict[str, Any]) -> str | JSONResponse | None:
    """The ``counter`` a token or user is bound to: absent, null or "" for none, else a counter
    id as a string. Any other JSON type (``5``, ``true``, ``[]``) is refused, never read as
    "no counter" — which would make a staff token valid at every counter."""
    value = body.get("counter")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return error(422, "invalid_counter", ctx._("Unknown counter."))
    return value.strip()


@admin_action(Permission.MANAGE_ACCOUNTS)
async def create_token(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    role, counter, name = body.get("role"), _counter(ctx, body), _opt_str(body.get("name"))
    if isinstance(counter, JSONResponse):
        return counter
    if not isinstance(role, str):
        return error(422, "invalid_role", ctx._("Choose a role."))
    if body.get("name") is not None and not isinstance(body.get("name"), str):
        return error(422, "invalid_name", ctx._("That did not work. Try again."))
    settings = services(request).settings
    secret, info = await backend(request).write_accounts(
        lambda conn: auth.create_token(conn, role, counter, name, settings)
    )
    log.info("tech: %s made token %d (%s)", _admin(ctx), info.id, info.role)
    return JSONResponse({"token": secret, "info": info.to_json()}, status_code=201)


@admin_action(Permission.MANAGE_ACCOUNTS)
async def revoke_token(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    raw = request.path_params["token_id"]
    if not raw.isdigit() or len(raw) > 12:
        return error(404, "unknown_token", ctx._("No such token."))
    info = await backend(request).write_accounts(lambda conn: auth.revoke_token(conn, int(raw)))
    log.info("tech: %s revoked token %d", _admin(ctx), info.id)
    return JSONResponse({"info": info.to_json()})


@admin_action(Permission.MANAGE_ACCOUNTS)
async def create_user(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    username, password = body.get("username"), body.get("password")
    role, counter = body.get("role", "staff"), _counter(ctx, body)
    if isinstance(counter, JSONResponse):
        return counter
    if not isinstance(username, str) or not isinstance(password, str) or not isinstance(role, str):
        return error(422, "invalid_request", ctx._("User name, password and role are needed."))
    settings = services(request).settings
    info = await backend(request).write_accounts(
        lambda conn: auth.create_user(conn, username.strip(), password, role, counter, settings)
    )
    log.info("tech: %s made user %s (%s)", _admin(ctx), info.username, info.role)
    return JSONResponse({"info": info.to_json()}, status_code=201)


@admin_action(Permission.MANAGE_ACCOUNTS)
async def disable_user(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    username = request.path_params["username"]
    if ctx.user is not None and username == ctx.user.username:
        return error(409, "own_account", ctx._("You cannot disable your own account."))
    info = await backend(request).write_accounts(lambda conn: auth.disable_user(conn, username))
    log.info("tech: %s disabled user %s", _admin(ctx), info.username)
    return JSONResponse({"info": info.to_json()})


@admin_action(Permission.MANAGE_DEVICES)
async def identify(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    device_id = request.path_params["device_id"]
    await backend(request).run(lambda ledger: ledger.identify(device_id))
    return JSONResponse({"device": {"id": device_id}})


@admin_action(Permission.RESET_DAY)
async def reset_day(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    """Void every live ticket of today and restart numbering — only with the site id typed in."""
    site_id = services(request).settings.site.id
    if body.get("confirm") != site_id:
        return error(422, "not_confirmed", ctx._("Type the site id exactly to confirm the reset."))
    count = await backend(request).run(lambda ledger: ledger.reset_day())
    log.warning("tech: %s reset today's queue (%s tickets voided)", _admin(ctx), count)
    return JSONResponse({"voided": count})


async def device_list(request: Request) -> Response:
    """``GET /tech/api/devices``: the codes waiting and the device list (the page polls it)."""
    ctx = await context(request)
    refused = require_user_json(ctx, Permission.MANAGE_DEVICES)
    if refused is not None:
        return refused
    svc = services(request)
    return JSONResponse({"pending": await pending_rows(svc), "devices": await device_rows(svc)})


def _approval(ctx: Ctx, body: dict[str, Any]) -> P.EnrolmentApproval | JSONResponse:
    values = {k: _opt_str(body.get(k)) for k in ("name", "zone", "printer")}
    try:
        return P.EnrolmentApproval.model_validate({k: v for k, v in values.items() if v is not None})
    except ValueError:
        return error(422, "invalid_request", ctx._("That did not work. Try again."))


@admin_action(Permission.MANAGE_DEVICES)
async def approve(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    """Approve a code (optional name, a board's zone, a kiosk's printer)."""
    approval = _approval(ctx, body)
    if isinstance(approval, JSONResponse):
        return approval
    code = request.path_params["code"]
    device_id = await enrolment.approve_now(services(request), code, approval)
    log.info("tech: %s approved code %s (%s)", _admin(ctx), code, device_id)
    return JSONResponse({"device": {"id": device_id, "name": approval.name or device_id}})


@admin_action(Permission.MANAGE_DEVICES)
async def refuse(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    code = request.path_params["code"]
    await enrolment.refuse_now(services(request), code)
    log.info("tech: %s refused code %s", _admin(ctx), code)
    return JSONResponse({"code": code})


@admin_action(Permission.MANAGE_DEVICES)
async def rename(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    """Rename an enrolled device (as ``PATCH /devices/{id}``: the device gets ``config.changed``)."""
    name = _opt_str(body.get("name"))
    if name is None or len(name) > 100:
        return error(422, "invalid_name", ctx._("Give a name of at most 100 characters."))
    device_id = request.path_params["device_id"]
    await enrolment.change_settings(services(request), device_id, P.DeviceSettingsBody(name=name))
    log.info("tech: %s renamed device %s", _admin(ctx), device_id)
    return JSONResponse({"device": {"id": device_id, "name": name}})


@admin_action(Permission.MANAGE_DEVICES)
async def remove(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    """Forget a device and revoke its token (as ``DELETE /devices/{id}``)."""
    device_id = request.path_params["device_id"]
    await enrolment.forget_device(services(request), device_id)
    log.info("tech: %s removed device %s", _admin(ctx), device_id)
    return JSONResponse({"device": {"id": device_id}})


@admin_action(Permission.MANAGE_DEVICES)
async def reload_site_file(request: Request, ctx: Ctx, body: dict[str, Any]) -> Response:
    """Apply the changed site file now (as ``POST /config/reload``); a bad one changes nothing."""
    try:
        outcome = await config_api.reload(services(request))
    except ConfigError as exc:
        return error(422, "invalid_site_file", str(exc), file=exc.file, key=exc.key, problem=exc.problem)
    log.info("tech: %s reloaded the site file (version %s)", _admin(ctx), outcome.version)
    return JSONResponse(outcome.encode())
