"""Visitors' feedback for managers: answers per question, department and period, and by wait band.

    GET /api/v1/stats/feedback?from=&to=&by=&per=[&format=csv]     manager, admin

``by`` is ``hour``, ``day`` (default), ``week`` or ``month``; ``per`` is ``department`` (default:
a row per department, and one with ``department: null`` for the exit terminal, whose answers
have none) or ``site``. Each row gives the number of answers, their mean (faces 1–5; yes/no: the
share of "yes") and the count of each answer. ``by_wait`` answers the managers' question "do long
waits give worse answers?": the phone's answers per question and wait band (under 5, 5–15, over
15 minutes of waiting), each band's mean beside the others. ``format=csv`` gives the rows as
CSV for a spreadsheet (the report page links it).

The report page (server/stats/web/) shows the same figures with an SVG chart (:func:`section`).
Figures come from the ledger's ``feedback`` table on the report's read-only connection; a row
there holds no ticket id, number or secret (server/ledger/feedback.py).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nummerlapp.common import protocol as P
from nummerlapp.config.model import Settings
from nummerlapp.server.api.errors import documented
from nummerlapp.server.api.services import services
from nummerlapp.server.ledger import schema
from nummerlapp.server.stats.figures import BY, StatsError, parse_day, period_of

SPLITS = ("department", "site")
BAND_WORDS = {"under_5": "under 5 min", "5_15": "5–15 min", "over_15": "over 15 min"}
Translate = Callable[[str], str]


@dataclass
class _Tally:
    counts: dict[int, int] = field(default_factory=dict)

    def add(self, value: int) -> None:
        self.counts[value] = self.counts.get(value, 0) + 1

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        n = self.answers
        return None if n == 0 else round(sum(v * c for v, c in self.counts.items()) / n, 3)


def _rows(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    return conn.execute(
        """SELECT hour_utc, department, wait_band, question, answer FROM feedback
           WHERE service_day BETWEEN ? AND ? ORDER BY hour_utc""",
        (start.isoformat(), end.isoformat()),
    ).fetchall()


def check(by: str, per: str) -> None:
    if by not in BY:
        raise StatsError(f"by must be one of {', '.join(BY)}, not {by!r}")
    if per not in SPLITS:
        raise StatsError(f"per must be one of {', '.join(SPLITS)}, not {per!r}")


def build(
    settings: Settings, rows: Iterable[tuple[Any, ...]], start: dt.date, end: dt.date, by: str, per: str
) -> P.FeedbackReport:
    """The report from the stored answers (pure: the test computes the same from its own data)."""
    check(by, per)
    tz = settings.site.tz
    known = {q.id for q in settings.feedback.questions}
    groups: dict[tuple[str, str, str | None, str], _Tally] = {}
    totals: dict[str, _Tally] = {}
    bands: dict[tuple[str, str], _Tally] = {}
    for hour_utc, department, band, question, answer in rows:
        if question not in known:
            continue  # a question since removed from the site file
        label, begins = period_of(dt.datetime.fromisoformat(hour_utc), by, tz)
        dep = department if per == "department" else None
        groups.setdefault((begins, label, dep, question), _Tally()).add(answer)
        totals.setdefault(question, _Tally()).add(answer)
        if band is not None:
            bands.setdefault((question, band), _Tally()).add(answer)
    order = {q.id: i for i, q in enumerate(settings.feedback.questions)}
    by_id = {q.id: q for q in settings.feedback.questions}
    deps = {d.id: i for i, d in enumerate(settings.departments)}

    def row(
        period: str, begins: str, question: str, tally: _Tally, dep: str | None, split: bool
    ) -> P.FeedbackRow:
        extra: dict[str, Any] = {"department": dep} if split else {}
        counts = {str(v): tally.counts.get(v, 0) for v in by_id[question].values}
        return P.FeedbackRow(
            period=period, start=begins, question=question, answers=tally.answers, mean=tally.mean, counts=counts,
            **extra,
        )  # fmt: skip

    keyed = sorted(
        groups.items(),
        key=lambda kv: (kv[0][0], -1 if kv[0][2] is None else deps.get(kv[0][2], 99), order[kv[0][3]]),
    )
    return P.FeedbackReport(
        site=settings.site.id,
        **{"from": start.isoformat()},
        to=end.isoformat(),
        by=by,
        per=per,
        timezone=settings.site.timezone,
        questions=[
            P.FeedbackQuestion(id=q.id, scale="faces" if q.scale == "faces" else "yes_no", text=dict(q.text))
            for q in settings.feedback.questions
        ],
        rows=[row(label, begins, q, t, dep, per == "department") for (begins, label, dep, q), t in keyed],
        totals=[
            row(f"{start.isoformat()}/{end.isoformat()}", start.isoformat(), q.id, totals[q.id], None, False)
            for q in settings.feedback.questions
            if q.id in totals
        ],
        by_wait=[
            P.WaitBandRow(
                question=q.id, band=band, answers=bands[(q.id, band)].answers, mean=bands[(q.id, band)].mean
            )
            for q in settings.feedback.questions
            for band in P.WAIT_BANDS
            if (q.id, band) in bands
        ],
    )


def report(
    path: Path, settings: Settings, start: dt.date, end: dt.date, by: str, per: str
) -> P.FeedbackReport:
    """The report from the ledger file (a read-only connection; run it in a worker thread)."""
    conn = schema.connect_reader(path)
    try:
        return build(settings, _rows(conn, start, end), start, end, by, per)
    finally:
        conn.close()


def to_csv(data: P.FeedbackReport) -> str:
    """The rows, then the wait bands, as CSV (one header line each; answers' counts as columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["period", "start", "department", "question", "answers", "mean", "1", "2", "3", "4", "5", "0"]
    )
    for r in data.rows:
        writer.writerow(
            [r.period, r.start, r.department or "", r.question, r.answers, "" if r.mean is None else r.mean]
            + [r.counts.get(k, "") for k in ("1", "2", "3", "4", "5", "0")]
        )
    writer.writerow([])
    writer.writerow(["question", "wait_band", "answers", "mean"])
    for b in data.by_wait:
        writer.writerow([b.question, b.band, b.answers, "" if b.mean is None else b.mean])
    return out.getvalue()


# -- HTTP ----------------------------------------------------------------------------------------


def _today(request: Request) -> dt.date:
    svc = services(request)
    return svc.clock().astimezone(svc.settings.site.tz).date()


def params(request: Request) -> tuple[dt.date, dt.date, str, str]:
    q = request.query_params
    end = parse_day(q["to"], "to") if q.get("to") else _today(request)
    start = parse_day(q["from"], "from") if q.get("from") else end - dt.timedelta(days=27)
    if start > end:
        raise StatsError("from is after to")
    if (end - start).days > 3 * 366:
        raise StatsError("the period is longer than three years")
    by, per = q.get("by") or "day", q.get("per") or "department"
    check(by, per)
    return start, end, by, per


async def feedback_api(
    request: Request,
    from_: str | None = Query(
        None, alias="from", description="first service day, YYYY-MM-DD (default: 27 days before `to`)"
    ),
    to: str | None = Query(None, description="last service day, YYYY-MM-DD (default: today)"),
    by: str | None = Query(None, description="period: " + " | ".join(BY) + " (default: day)"),
    per: str | None = Query(None, description="split: department | site (default: department)"),
    format: str | None = Query(None, description="`csv` for CSV (default: JSON)"),
) -> Response:
    """Authorised by the API's middleware (``Permission.READ_STATS``) before it runs."""
    svc = services(request)
    try:
        start, end, by_, per_ = params(request)
    except StatsError as exc:
        return JSONResponse(P.error_body(exc.code, str(exc)).encode(), status_code=422)
    data = await asyncio.to_thread(report, svc.db_path, svc.settings, start, end, by_, per_)
    if format == "csv":
        name = f"feedback-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            to_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
    return JSONResponse(data.encode(), headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    app.add_api_route(
        "/api/v1/stats/feedback",
        feedback_api,
        methods=["GET"],
        summary="Visitors' feedback (manager, admin)",
        description="Answers per question, department and period, and the phone's answers by wait band. "
        "`format=csv` for CSV. See docs/FEEDBACK.md.",
        response_model=P.FeedbackReport,
        responses=documented(401, 403, 422),
        tags=["statistics"],
    )


# -- the report page's section --------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def band_chart(data: P.FeedbackReport, lang: str, _: Translate) -> Markup:
    """Average answer per wait band for each five-face question: three bars side by side."""
    faces = [q for q in data.questions if q.scale == "faces"]
    means = {(b.question, b.band): b for b in data.by_wait}
    width, row_h, left, top = 720, 34, 230, 24
    height = top + row_h * 3 * max(1, len(faces)) + 16 * len(faces) + 24
    colours = {"under_5": "#9ecae1", "5_15": "#4292c6", "over_15": "#08306b"}
    out = [
        f'<svg role="img" viewBox="0 0 {width} {height}" class="chart" aria-labelledby="fb-t fb-d">',
        f'<title id="fb-t">{_e(_("Answers by waiting time"))}</title>',
        f'<desc id="fb-d">{_e(_("Average answer (1 very bad to 5 very good) for each wait band; phone answers only."))}</desc>',
    ]
    x0 = left

    def x(v: float) -> float:
        return x0 + (width - x0 - 60) * (v - 1) / 4

    for v in range(1, 6):
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top - 6}" y2="{height - 20}" class="grid"/>')
        out.append(f'<text x="{x(v):.1f}" y="{top - 10}" text-anchor="middle" class="axis">{v}</text>')
    y = top
    for q in faces:
        out.append(
            f'<text x="4" y="{y + 14}" class="axis"><tspan font-weight="bold">{_e(P.label(q.text, lang))}</tspan></text>'
        )
        y += 16
        for band in P.WAIT_BANDS:
            found = means.get((q.id, band))
            words = _(BAND_WORDS[band])
            out.append(
                f'<text x="{left - 8}" y="{y + row_h * 0.6:.1f}" text-anchor="end" class="axis">{_e(words)}</text>'
            )
            if found is not None and found.mean is not None:
                tip = f"{P.label(q.text, lang)} · {words}: {found.mean:.2f} ({found.answers})"
                out.append(
                    f"<g><title>{_e(tip)}</title>"
                    f'<rect x="{x0}" y="{y + 4}" width="{max(2.0, x(found.mean) - x0):.1f}" height="{row_h - 10}" '
                    f'fill="{colours[band]}"/>'
                    f'<text x="{x(found.mean) + 6:.1f}" y="{y + row_h * 0.6:.1f}" class="axis">{found.mean:.1f} '
                    f"({found.answers})</text></g>"
                )
            else:
                out.append(f'<text x="{x0 + 4}" y="{y + row_h * 0.6:.1f}" class="axis">–</text>')
            y += row_h
    out.append("</svg>")
    return Markup("".join(out))


def section(
    path: Path, settings: Settings, start: dt.date, end: dt.date, by: str, lang: str, _: Translate
) -> Markup:
    """The report page's feedback section: chart, table per question and period, CSV link."""
    if not settings.feedback.questions:
        return Markup("")
    data = report(path, settings, start, end, by, "site")
    names = {q.id: P.label(q.text, lang) for q in data.questions}
    out = [
        '<section aria-labelledby="fb-h" id="feedback">',
        f'<h2 id="fb-h">{_e(_("What visitors said"))}</h2>',
        f'<p class="hint">{_e(_("Answers from the exit terminal and from phones after the visit. Mean: 1 very bad to 5 very good; for yes/no questions the share of yes."))} '
        f'<a href="/api/v1/stats/feedback?from={start}&amp;to={end}&amp;by={by}&amp;format=csv">CSV</a> · '
        f'<a href="/api/v1/stats/feedback?from={start}&amp;to={end}&amp;by={by}">JSON</a></p>',
    ]
    if not data.rows:
        out.append(f"<p>{_e(_('No answers in this period.'))}</p></section>")
        return Markup("".join(out))
    out.append(str(band_chart(data, lang, _)))
    out.append('<div class="scroll"><table><thead><tr>')
    for head in (_("Period"), _("Question"), _("Answers"), _("Mean")):
        out.append(f'<th scope="col">{_e(head)}</th>')
    out.append("</tr></thead><tbody>")
    for r in data.rows:
        mean = (
            "–"
            if r.mean is None
            else (f"{r.mean:.0%}" if data_scale(data, r.question) == "yes_no" else f"{r.mean:.2f}")
        )
        out.append(
            f"<tr><td>{_e(r.period)}</td><td>{_e(names.get(r.question, r.question))}</td>"
            f'<td class="n">{r.answers}</td><td class="n">{_e(mean)}</td></tr>'
        )
    out.append("</tbody></table></div></section>")
    return Markup("".join(out))


def data_scale(data: P.FeedbackReport, question: str) -> str:
    return next((q.scale for q in data.questions if q.id == question), "faces")
