"""The technician page (admin users): devices, staff accounts, tokens, the site file, reset.

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

from nummerlapp.common.errors import ConfigError, LedgerError
from nummerlapp.config import load_settings
from nummerlapp.config.loader import EMBEDDED, EMBEDDED_LABEL
from nummerlapp.config.model import Settings
from nummerlapp.server.api import auth
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import Services, services
from nummerlapp.server.web.context import Ctx, backend, context, error, read_json, redirect, require_user_json
from nummerlapp.server.web.desk import printer_state
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


def merge_devices(reported: list[dict[str, Any]], svc: Services) -> list[dict[str, Any]]:
    """Devices from every source: status reports (ledger), named event sockets, mDNS.

    A kiosk whose printer failed may still be heard over mDNS; a board that never reported a
    status is still on the socket — the technician should see all of them, with where each was
    found.
    """
    found: dict[str, dict[str, Any]] = {}
    for dev in reported:
        found[dev["id"]] = {**dev, "printer_state": printer_state(dev.get("printer")) or "", "address": ""}
    for device_id, info in list(svc.sockets.items()):
        entry = found.setdefault(device_id, {"id": device_id, "role": info.role, "status": {}})
        entry["address"] = entry.get("address") or info.address
    mdns = svc.mdns
    if mdns is not None:
        try:
            heard = list(mdns.devices())
        except Exception:  # discovery trouble must not take the page down
            heard = []
        for d in heard:
            entry = found.setdefault(d.device_id, {"id": d.device_id, "role": d.role, "status": {}})
            entry["address"] = entry.get("address") or f"{d.host}:{d.port}"
            entry.setdefault("version", d.properties.get("version"))
    return list(found.values())


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
    devices = merge_devices(await be.devices(), svc)
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


def tech_strings(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
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
