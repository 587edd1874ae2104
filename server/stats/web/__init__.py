"""The managers' report page and the statistics API.

``install(app)`` adds, to the FastAPI app of ``server.api.app`` (after ``app.state.settings`` and
``app.state.runner`` exist, like ``server.web.install``):

    GET /reports         HTML for a signed-in admin (the desk pages' session): heat map of visits
                         by weekday and hour, waiting time against the target, per-department
                         trends, the figures as a table, and today's figures updated every 10 s
    GET /api/v1/stats    JSON: ?from=&to=&department=&counter=&by=&per= — an admin token
                         (``Authorization: Bearer``) or an admin session; rows as ``main.py stats``
    /static/reports/     the page's script and style (no build step)

Figures are computed in a worker thread on a connection of their own (WAL: readers never block
the ledger's writer); nothing here writes tickets. Refusals use the protocol's error shape.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from fastapi import Query
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from nummerlapp.common.i18n import language_name, translator
from nummerlapp.server.api import auth
from nummerlapp.server.ledger import schema
from nummerlapp.server.stats.figures import BY, SPLITS, StatsError, check, collect, combine, parse_day
from nummerlapp.server.stats.web import charts

HERE = Path(__file__).resolve().parent
_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def install(app: Any) -> None:
    app.add_route("/reports", reports_page, methods=["GET"], include_in_schema=False)
    from nummerlapp.server.api.app import _errors

    app.add_api_route(
        "/api/v1/stats",
        stats_api_documented,
        methods=["GET"],
        summary="Figures for managers (admin)",
        description="Issued, called, served, no-shows, transfers, waiting and service times and the "
        "share within the wait target, per department/counter/site and hour/day/week/month. "
        "Rows as `main.py stats`; see docs/STATS.md.",
        responses=_errors(401, 403, 404, 422),
        tags=["statistics"],
    )
    app.mount("/static/reports", StaticFiles(directory=str(HERE / "static")), name="reports-static")
    service = getattr(app.state, "auth", None)
    if service is not None and hasattr(service, "extra"):
        # server/api/app.py's AuthMiddleware guards /api/v1/stats (admin); the page polls it with
        # the desk pages' session cookie, so an admin session counts there (and only there).
        service.extra.append(_session_principal)


async def _session_principal(scope: Any) -> Any:
    if scope.get("path", "").rstrip("/") != "/api/v1/stats" or "app" not in scope:
        return None
    user = await _session_user(Request(scope))
    if user is None:
        return None
    return auth.Principal("user", user.id, user.role, user.counter, user.username)


# -- wiring ----------------------------------------------------------------------------------


def _db_path(request: Request) -> Path:
    state = request.app.state
    runner = getattr(state, "runner", None)
    return Path(runner.db_path if runner is not None else state.db_path)


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _connect(path: Path) -> sqlite3.Connection:
    from nummerlapp.server.stats.figures import ensure_schema

    conn = schema.connect(path)
    ensure_schema(conn)
    return conn


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _session_user(request: Request) -> Any:
    """The signed-in user of the desk pages' session, if ``server.web`` is installed."""
    if not hasattr(request.app.state, "web_sessions"):
        return None
    from nummerlapp.server.web.context import context

    ctx = await context(request)
    return ctx.user


async def _principal_role(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()

        def verify() -> Any:
            conn = schema.connect(_db_path(request))
            try:
                return auth.verify_token(conn, secret)
            finally:
                conn.close()

        principal = await asyncio.to_thread(verify)
        return principal.role if principal is not None else ""
    user = await _session_user(request)
    return user.role if user is not None else None


# -- figures ---------------------------------------------------------------------------------


def _params(request: Request, settings: Any) -> dict[str, Any]:
    """Query parameters → checked report arguments (StatsError on anything wrong)."""
    q = request.query_params
    today = dt.datetime.now(dt.UTC).astimezone(settings.site.tz).date()
    end = parse_day(q["to"], "to date") if q.get("to") else today
    start = parse_day(q["from"], "from date") if q.get("from") else end - dt.timedelta(days=27)
    if (end - start).days > 3 * 366:
        raise StatsError("the period is longer than three years")
    args: dict[str, Any] = {
        "start": start,
        "end": end,
        "by": q.get("by") or "day",
        "split": q.get("per") or ("counter" if q.get("counter") else "department"),
        "department": q.get("department") or None,
        "counter": q.get("counter") or None,
    }
    check(settings, **args)
    return args


def figures(path: Path, settings: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows, from one pass over the ledger (run in a worker thread)."""
    tz = settings.site.tz
    target = settings.site.wait_target_min * 60
    conn = _connect(path)
    try:
        aggs = collect(conn, tz, args["start"], args["end"])
    finally:
        conn.close()
    dep, counter = args["department"], args["counter"]
    rows = combine(aggs, tz, args["by"], args["split"], dep, counter, target)
    site = combine(aggs, tz, args["by"], "site", dep, counter, target)
    hours = combine(aggs, tz, "hour", "site", dep, counter, target)
    cells: dict[tuple[int, int], int] = {}
    for r in hours:
        start = dt.datetime.fromisoformat(r["start"])
        key = (start.weekday(), start.hour)
        cells[key] = cells.get(key, 0) + r["issued"]
    return {"rows": rows, "site": site, "cells": cells}


def today_figures(path: Path, settings: Any) -> dict[str, Any]:
    tz = settings.site.tz
    today = dt.datetime.now(dt.UTC).astimezone(tz).date()
    conn = _connect(path)
    try:
        aggs = collect(conn, tz, today, today)
    finally:
        conn.close()
    rows = combine(aggs, tz, "day", "site", wait_target_s=settings.site.wait_target_min * 60)
    if rows:
        return rows[0]
    empty: dict[str, Any] = {"period": today.isoformat(), "within_target": None, "langs": {}}
    empty.update(dict.fromkeys(("issued", "called", "served", "no_show", "void", "transfers"), 0))
    empty.update(dict.fromkeys(("wait_mean_s", "wait_median_s", "wait_p90_s", "wait_max_s"), None))
    return empty


async def stats_api_documented(
    request: Request,
    from_: str | None = Query(
        None, alias="from", description="first service day, YYYY-MM-DD (default: 27 days before `to`)"
    ),
    to: str | None = Query(None, description="last service day, YYYY-MM-DD (default: today)"),
    department: str | None = Query(None, description="only this department id"),
    counter: str | None = Query(None, description="only this counter id"),
    by: str | None = Query(None, description="period: " + " | ".join(BY) + " (default: day)"),
    per: str | None = Query(None, description="split: " + " | ".join(SPLITS) + " (default: department)"),
) -> Response:
    """The FastAPI face of :func:`stats_api`: declares the query so /openapi.json describes it."""
    return await stats_api(request)


async def stats_api(request: Request) -> Response:
    role = await _principal_role(request)
    if role is None:
        return _error(401, "unauthorized", "an admin token or an admin sign-in is needed")
    if role != "admin":
        return _error(403, "forbidden", "statistics are for the admin role")
    settings = _settings(request)
    try:
        args = _params(request, settings)
    except StatsError as exc:
        return _error(404 if exc.code.startswith("unknown_") else 422, exc.code, str(exc))
    data = await asyncio.to_thread(figures, _db_path(request), settings, args)
    body = {
        "site": settings.site.id,
        "from": args["start"].isoformat(),
        "to": args["end"].isoformat(),
        "by": args["by"],
        "per": args["split"],
        "timezone": settings.site.timezone,
        "wait_target_min": settings.site.wait_target_min,
        "rows": data["rows"],
        "totals": data["site"],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# -- the page --------------------------------------------------------------------------------


async def reports_page(request: Request) -> Response:
    settings = _settings(request)
    user = await _session_user(request)
    lang = request.query_params.get("lang") or ""
    if lang not in settings.site.languages:
        from nummerlapp.server.web.render import choose_language

        lang = choose_language(request)
    _ = translator("reports", lang)
    if user is None:
        return RedirectResponse("/desk/signin?next=/reports", status_code=303)
    if user.role != "admin":
        return _page(_env.get_template("forbidden.html").render(_=_, lang=lang), 403)
    try:
        args = _params(request, settings)
        problem = ""
    except StatsError as exc:
        problem = str(exc)
        args = _params_default(settings)
    path = _db_path(request)
    data, today = await asyncio.gather(
        asyncio.to_thread(figures, path, settings, args), asyncio.to_thread(today_figures, path, settings)
    )
    labels = {d.id: d.label(lang) for d in settings.departments}
    series: dict[str, list[tuple[str, int]]] = {}
    if args["split"] == "department":
        for r in data["rows"]:
            series.setdefault(r["department"], []).append((r["period"], r["issued"]))
    target = settings.site.wait_target_min * 60
    weekdays = [_(d) for d in WEEKDAYS]
    html = _env.get_template("reports.html").render(
        _=_,
        lang=lang,
        site=settings.site,
        languages=[(code, language_name(code)) for code in settings.site.languages],
        departments=[(d.id, labels[d.id]) for d in settings.departments],
        counters=[(c.id, c.name) for c in settings.counters],
        args=args,
        problem=problem,
        rows=data["rows"],
        site_rows=data["site"],
        today=today,
        labels=labels,
        heatmap=charts.heatmap(data["cells"], weekdays, _),
        wait_chart=charts.wait_chart(data["site"], target, _),
        trend_chart=charts.trend_chart(series, labels, _) if series else None,
        minutes=charts.minutes,
        target_min=settings.site.wait_target_min,
    )
    return _page(html, 200)


def _params_default(settings: Any) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).astimezone(settings.site.tz).date()
    return {
        "start": today - dt.timedelta(days=27),
        "end": today,
        "by": "day",
        "split": "department",
        "department": None,
        "counter": None,
    }


def _page(html: str, status: int) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = CSP
    return response


__all__ = ["figures", "install"]
