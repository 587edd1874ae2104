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

import logging
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
from nummerlapp.server.web.context import Ctx, backend, context, error, read_json, redirect, require_user_json
from nummerlapp.server.web.render import render
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
    now, tz = svc.clock(), svc.settings.site.tz
    found = await svc.runner.run_conn(lambda conn: enrolment.pending(conn, now, tz))
    return [p.encode() for p in found]


async def tech_page(request: Request) -> Response:
    ctx = await context(request)
    if ctx.user is None:
        query = "?expired=1&next=/tech" if ctx.expired else "?next=/tech"
        return ctx.save(redirect("/desk/signin" + query))
    _ = ctx._
    if not ctx.user.may(Permission.MANAGE_ACCOUNTS):
        page = render(
            request,
            "forbidden.html",
            ctx.lang,
            status_code=403,
            csrf=ctx.session.csrf,
            user=ctx.user,
            show_desk_link=True,
            message=_("Only a technician (admin) may open this page."),
        )
        return ctx.save(page)
    be = backend(request)
    svc = services(request)
    settings = svc.settings
    devices = await device_rows(svc)
    pending = await pending_rows(svc)
    users = await be.accounts(auth.list_users)
    tokens = await be.accounts(auth.list_tokens)
    page = render(
        request,
        "tech.html",
        ctx.lang,
        csrf=ctx.session.csrf,
        user=ctx.user,
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
    return ctx.save(page)


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


def role_words(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
        "kiosk": _("Kiosk"),
        "display": _("Board"),
        "board": _("Board"),
        "feedback": _("Feedback terminal"),
    }


def device_strings(ctx: Ctx) -> dict[str, str]:
    """What the devices card's script says (enrolment, the device list, the site file's reload)."""
    _ = ctx._
    return {
        **{"role_" + k: v for k, v in role_words(ctx).items()},
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
    }


def tech_strings(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
        **device_strings(ctx),
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


async def _admin_body(request: Request, permission: Permission) -> tuple[Ctx, dict[str, Any]] | Response:
    ctx = await context(request)
    refused = require_user_json(ctx, permission)
    if refused is not None:
        return refused
    body = await read_json(request, ctx)
    if isinstance(body, JSONResponse):
        return body
    return ctx, body


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


async def create_token(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_ACCOUNTS)
    if isinstance(got, Response):
        return got
    ctx, body = got
    role, counter, name = body.get("role"), _counter(ctx, body), _opt_str(body.get("name"))
    if isinstance(counter, JSONResponse):
        return counter
    if not isinstance(role, str):
        return error(422, "invalid_role", ctx._("Choose a role."))
    if body.get("name") is not None and not isinstance(body.get("name"), str):
        return error(422, "invalid_name", ctx._("That did not work. Try again."))
    settings = services(request).settings
    try:
        secret, info = await backend(request).write_accounts(
            lambda conn: auth.create_token(conn, role, counter, name, settings)
        )
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s made token %d (%s)", ctx.user.username if ctx.user else "?", info.id, info.role)
    return JSONResponse({"token": secret, "info": info.to_json()}, status_code=201)


async def revoke_token(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_ACCOUNTS)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    raw = request.path_params["token_id"]
    if not raw.isdigit() or len(raw) > 12:
        return error(404, "unknown_token", ctx._("No such token."))
    try:
        info = await backend(request).write_accounts(lambda conn: auth.revoke_token(conn, int(raw)))
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s revoked token %d", ctx.user.username if ctx.user else "?", info.id)
    return JSONResponse({"info": info.to_json()})


async def create_user(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_ACCOUNTS)
    if isinstance(got, Response):
        return got
    ctx, body = got
    username, password = body.get("username"), body.get("password")
    role, counter = body.get("role", "staff"), _counter(ctx, body)
    if isinstance(counter, JSONResponse):
        return counter
    if not isinstance(username, str) or not isinstance(password, str) or not isinstance(role, str):
        return error(422, "invalid_request", ctx._("User name, password and role are needed."))
    settings = services(request).settings
    try:
        info = await backend(request).write_accounts(
            lambda conn: auth.create_user(conn, username.strip(), password, role, counter, settings)
        )
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s made user %s (%s)", ctx.user.username if ctx.user else "?", info.username, info.role)
    return JSONResponse({"info": info.to_json()}, status_code=201)


async def disable_user(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_ACCOUNTS)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    username = request.path_params["username"]
    if ctx.user is not None and username == ctx.user.username:
        return error(409, "own_account", ctx._("You cannot disable your own account."))
    try:
        info = await backend(request).write_accounts(lambda conn: auth.disable_user(conn, username))
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s disabled user %s", ctx.user.username if ctx.user else "?", info.username)
    return JSONResponse({"info": info.to_json()})


async def identify(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    device_id = request.path_params["device_id"]
    try:
        await backend(request).run(lambda ledger: ledger.identify(device_id))
    except LedgerError as exc:
        return _refusal(ctx, exc)
    return JSONResponse({"device": {"id": device_id}})


async def reset_day(request: Request) -> Response:
    """Void every live ticket of today and restart numbering — only with the site id typed in."""
    got = await _admin_body(request, Permission.RESET_DAY)
    if isinstance(got, Response):
        return got
    ctx, body = got
    site_id = services(request).settings.site.id
    if body.get("confirm") != site_id:
        return error(422, "not_confirmed", ctx._("Type the site id exactly to confirm the reset."))
    try:
        count = await backend(request).run(lambda ledger: ledger.reset_day())
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.warning(
        "tech: %s reset today's queue (%s tickets voided)", ctx.user.username if ctx.user else "?", count
    )
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


async def approve(request: Request) -> Response:
    """Approve a code (optional name, a board's zone, a kiosk's printer)."""
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, body = got
    approval = _approval(ctx, body)
    if isinstance(approval, JSONResponse):
        return approval
    svc = services(request)
    code, now, settings = request.path_params["code"], svc.clock(), svc.settings
    try:
        device_id = await svc.runner.run_conn(
            lambda conn: enrolment.approve(conn, code, approval, now, settings)
        )
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s approved code %s (%s)", ctx.user.username if ctx.user else "?", code, device_id)
    return JSONResponse({"device": {"id": device_id, "name": approval.name or device_id}})


async def refuse(request: Request) -> Response:
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    svc = services(request)
    code, now = request.path_params["code"], svc.clock()
    try:
        await svc.runner.run_conn(lambda conn: enrolment.refuse(conn, code, now))
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s refused code %s", ctx.user.username if ctx.user else "?", code)
    return JSONResponse({"code": code})


async def rename(request: Request) -> Response:
    """Rename an enrolled device (as ``PATCH /devices/{id}``: the device gets ``config.changed``)."""
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, body = got
    name = _opt_str(body.get("name"))
    if name is None or len(name) > 100:
        return error(422, "invalid_name", ctx._("Give a name of at most 100 characters."))
    svc = services(request)
    device_id, settings = request.path_params["device_id"], svc.settings
    change = P.DeviceSettingsBody(name=name)
    try:
        await svc.runner.run_conn(lambda conn: enrolment.update(conn, device_id, change, settings))
    except LedgerError as exc:
        return _refusal(ctx, exc)
    version = svc.site.version
    await svc.runner.run(lambda ledger: ledger.announce_config(version))
    log.info("tech: %s renamed device %s", ctx.user.username if ctx.user else "?", device_id)
    return JSONResponse({"device": {"id": device_id, "name": name}})


async def remove(request: Request) -> Response:
    """Forget a device and revoke its token (as ``DELETE /devices/{id}``)."""
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    device_id = request.path_params["device_id"]
    try:
        await enrolment.forget_device(services(request), device_id)
    except LedgerError as exc:
        return _refusal(ctx, exc)
    log.info("tech: %s removed device %s", ctx.user.username if ctx.user else "?", device_id)
    return JSONResponse({"device": {"id": device_id}})


async def reload_site_file(request: Request) -> Response:
    """Apply the changed site file now (as ``POST /config/reload``); a bad one changes nothing."""
    got = await _admin_body(request, Permission.MANAGE_DEVICES)
    if isinstance(got, Response):
        return got
    ctx, _body = got
    try:
        outcome = await config_api.reload(services(request))
    except ConfigError as exc:
        return error(422, "invalid_site_file", str(exc), file=exc.file, key=exc.key, problem=exc.problem)
    log.info(
        "tech: %s reloaded the site file (version %s)",
        ctx.user.username if ctx.user else "?",
        outcome.version,
    )
    return JSONResponse(outcome.encode())
