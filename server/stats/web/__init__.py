"""The managers' report page and the statistics API.

``install(app)`` adds, to the FastAPI app of ``server.api.app.create_app``:

    GET /reports         HTML for a signed-in manager or admin (the desk pages' session): heat map
                         of visits by weekday and hour, waiting time against the target,
                         per-department trends, the figures as a table, and today's figures
                         updated every 10 s
    GET /api/v1/stats    JSON: ?from=&to=&department=&counter=&by=&per= — a manager or admin token
                         (``Authorization: Bearer``) or session; rows as ``main.py stats``
    /static/reports/     the page's script and style (no build step)

Who may read them is the one rule table's ``Permission.READ_STATS`` (server/api/auth.py): the
API's middleware checks it for ``/api/v1/stats`` (token or session) before this code runs, and
the page checks the signed-in user against the same entry.

Figures are computed in a worker thread on a read-only connection of their own (SQLite
``mode=ro``): it never takes the write lock the server's writer owns, never migrates, and WAL
readers never wait for the writer. Refusals use the protocol's error shape.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from nummerlapp.common.i18n import language_name, translator
from nummerlapp.common.protocol import error_body
from nummerlapp.config.model import Settings
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.errors import documented
from nummerlapp.server.api.services import services
from nummerlapp.server.ledger import schema
from nummerlapp.server.stats import feedback
from nummerlapp.server.stats.figures import (
    BY,
    SPLITS,
    StatsError,
    check,
    collect,
    collect_visits,
    combine,
    merge_visits,
    snapshot,
)
from nummerlapp.server.stats.web import charts, localfmt
from nummerlapp.server.web.context import context
from nummerlapp.server.web.render import choose_language

HERE = Path(__file__).resolve().parent
_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
localfmt.install(_env)  # dates, periods and numbers in the page's language
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def install(app: FastAPI) -> None:
    app.add_route("/reports", reports_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/api/v1/stats",
        stats_api_documented,
        methods=["GET"],
        summary="Figures for managers (manager, admin)",
        description="Issued, called, served, no-shows, transfers, waiting and service times and the "
        "share within the wait target, per department/counter/site and hour/day/week/month. "
        "Rows as `main.py stats`; see docs/STATS.md.",
        responses=documented(401, 403, 404, 422),
        tags=["statistics"],
    )
    app.mount("/static/reports", StaticFiles(directory=str(HERE / "static")), name="reports-static")
    feedback.install(app)  # GET /api/v1/stats/feedback (issue 16)


def _connect(path: Path) -> sqlite3.Connection:
    """A report's connection: read-only, never migrating (server/ledger/schema.py)."""
    return schema.connect_reader(path)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message).encode(), status_code=status)


# -- figures ---------------------------------------------------------------------------------


def _today(request: Request) -> dt.date:
    """Today on the site's wall clock, by the service's clock (the one the ledger uses)."""
    svc = services(request)
    return svc.clock().astimezone(svc.settings.site.tz).date()


def _params(request: Request, settings: Settings) -> dict[str, Any]:
    """Query parameters → checked report arguments (StatsError on anything wrong)."""
    q = request.query_params
    today = _today(request)
    lang = q.get("lang")  # the form's dates are typed in the page's language ("26.10.2026")
    end = localfmt.parse_day(q["to"], lang, "to date") if q.get("to") else today
    start = localfmt.parse_day(q["from"], lang, "from date") if q.get("from") else end - dt.timedelta(days=27)
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


def figures(path: Path, settings: Settings, args: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows, from one pass over the ledger (run in a worker thread)."""
    tz = settings.site.tz
    target = settings.site.wait_target_min * 60
    dep, counter = args["department"], args["counter"]
    conn = _connect(path)
    try:
        with snapshot(conn):  # walk-ins and visits from one state of the file
            aggs = collect(conn, tz, args["start"], args["end"])
            visits = collect_visits(conn, settings, args["start"], args["end"])
    finally:
        conn.close()
    rows = combine(aggs, tz, args["by"], args["split"], dep, counter, target)
    rows = merge_visits(rows, visits, settings, args["by"], args["split"], dep, counter)
    site = combine(aggs, tz, args["by"], "site", dep, counter, target)
    site = merge_visits(site, visits, settings, args["by"], "site", dep, counter)
    hours = combine(aggs, tz, "hour", "site", dep, counter, target)
    cells: dict[tuple[int, int], int] = {}
    for r in hours:
        start = dt.datetime.fromisoformat(r["start"])
        key = (start.weekday(), start.hour)
        cells[key] = cells.get(key, 0) + r["issued"]
    return {"rows": rows, "site": site, "cells": cells}


def today_figures(path: Path, settings: Settings, today: dt.date) -> dict[str, Any]:
    tz = settings.site.tz
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
    """Authorised by the API's middleware (``Permission.READ_STATS``) before it runs."""
    svc = services(request)
    settings = svc.settings
    try:
        args = _params(request, settings)
    except StatsError as exc:
        return _error(404 if exc.code.startswith("unknown_") else 422, exc.code, str(exc))
    data = await asyncio.to_thread(figures, svc.db_path, settings, args)
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
    svc = services(request)
    settings = svc.settings
    user = (await context(request)).user
    lang = request.query_params.get("lang") or ""
    if lang not in settings.site.languages:
        lang = choose_language(request)
    _ = translator("reports", lang)
    if user is None:
        return RedirectResponse("/desk/signin?next=/reports", status_code=303)
    if not user.may(Permission.READ_STATS):
        return _page(_env.get_template("forbidden.html").render(_=_, lang=lang), 403)
    try:
        args = _params(request, settings)
        problem = ""
    except StatsError as exc:
        problem = str(exc)
        args = _params_default(_today(request))
    path = svc.db_path
    data, today, said = await asyncio.gather(
        asyncio.to_thread(figures, path, settings, args),
        asyncio.to_thread(today_figures, path, settings, _today(request)),
        asyncio.to_thread(feedback.section, path, settings, args["start"], args["end"], args["by"], lang, _),
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
        appt_target_min=settings.appointments.target_min,
        feedback=said,
    )
    return _page(html, 200)


def _params_default(today: dt.date) -> dict[str, Any]:
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
