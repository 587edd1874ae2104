"""Inline SVG charts for the report page: drawn on the server, no JavaScript, no build step.

Each chart is a plain ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words
what it shows, and a ``<title>`` on every mark (a screen reader or a hovering mouse gets the
number); the page also has the same figures as a table. Colours: one blue ramp for counts, and
green/amber/red only for "within the target" with the words beside them, never colour alone.
Presentation attributes (``fill=``), not ``style=``: the page's Content-Security-Policy allows
no inline styles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

RAMP = ("#eef4fb", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
LINE_COLOURS = ("#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d")
OK, WARN, BAD = "#2e7d32", "#b26a00", "#c62828"
Translate = Callable[[str], str]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"


def heatmap(cells: dict[tuple[int, int], int], weekdays: Sequence[str], _: Translate) -> Markup:
    """Visits by weekday (rows, Monday first) × local hour of issue (columns)."""
    hours = sorted({h for _, h in cells}) or list(range(8, 16))
    hours = list(range(min(hours), max(hours) + 1))
    top = max(cells.values(), default=0)
    cw, ch, left, head = 38, 30, 44, 22
    width, height = left + cw * len(hours), head + ch * 7
    title = _("Visits by weekday and hour")
    out = [
        f'<svg role="img" viewBox="0 0 {width} {height}" class="chart heat" aria-labelledby="hm-t hm-d">',
        f'<title id="hm-t">{_e(title)}</title>',
        f'<desc id="hm-d">{_e(_("Tickets issued in each hour of each weekday over the period; darker is busier."))}'
        f" {_e(_('Busiest'))}: {top}</desc>",
    ]
    for i, h in enumerate(hours):
        out.append(
            f'<text x="{left + cw * i + cw / 2}" y="15" text-anchor="middle" class="axis">{h:02d}</text>'
        )
    for d in range(7):
        y = head + ch * d
        out.append(
            f'<text x="{left - 6}" y="{y + ch / 2 + 4}" text-anchor="end" class="axis">{_e(weekdays[d])}</text>'
        )
        for i, h in enumerate(hours):
            n = cells.get((d, h), 0)
            level = 0 if n == 0 or top == 0 else 1 + min(len(RAMP) - 2, int((len(RAMP) - 1) * n / (top + 1)))
            fill = RAMP[level]
            ink = "#ffffff" if level >= 4 else "#1a1a1a"
            x = left + cw * i
            out.append(
                f"<g><title>{_e(weekdays[d])} {h:02d}:00 – {n}</title>"
                f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" rx="3" fill="{fill}"/>'
                f'<text x="{x + cw / 2}" y="{y + ch / 2 + 4}" text-anchor="middle" fill="{ink}" class="cell">'
                f"{n if n else ''}</text></g>"
            )
    out.append("</svg>")
    return Markup("".join(out))


def wait_chart(rows: list[dict[str, Any]], target_s: int, _: Translate) -> Markup:
    """Median wait per period as bars, the 90th percentile as a tick, the target as a line."""
    width, height, left, bottom, top = 720, 260, 48, 40, 14
    peak = max([target_s * 1.25] + [float(r["wait_p90_s"] or 0) for r in rows])
    plot_h = height - bottom - top
    n = max(len(rows), 1)
    bw = (width - left - 10) / n

    def y(seconds: float) -> float:
        return top + plot_h * (1 - seconds / peak)

    title = _("Waiting time against the target")
    out = [
        f'<svg role="img" viewBox="0 0 {width} {height}" class="chart" aria-labelledby="wc-t wc-d">',
        f'<title id="wc-t">{_e(title)}</title>',
        f'<desc id="wc-d">{_e(_("Bars: median wait in minutes. Dark tick: 90th percentile. Dashed line: the target."))}'
        "</desc>",
    ]
    step = 5 * 60 if peak <= 60 * 60 else 15 * 60
    s = 0
    while s <= peak:
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(s):.1f}" y2="{y(s):.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y(s) + 4:.1f}" text-anchor="end" class="axis">{s // 60}</text>')
        s += step
    label_every = max(1, -(-n // 12))
    for i, r in enumerate(rows):
        x = left + bw * i
        med, p90 = r["wait_median_s"], r["wait_p90_s"]
        share = r["within_target"]
        colour = (
            OK if share is not None and share >= 0.9 else WARN if share is not None and share >= 0.75 else BAD
        )
        tip = (
            f"{r['period']}: {_('median')} {minutes(med)} min, p90 {minutes(p90)} min, "
            f"{_('within target')} {'–' if share is None else f'{share:.0%}'}"
        )
        out.append(f"<g><title>{_e(tip)}</title>")
        if med is not None:
            out.append(
                f'<rect x="{x + bw * 0.15:.1f}" y="{y(med):.1f}" width="{bw * 0.7:.1f}" '
                f'height="{max(0.0, y(0) - y(med)):.1f}" fill="{colour}" opacity="0.75"/>'
            )
        if p90 is not None:
            out.append(
                f'<line x1="{x + bw * 0.1:.1f}" x2="{x + bw * 0.9:.1f}" y1="{y(p90):.1f}" y2="{y(p90):.1f}" '
                'class="p90"/>'
            )
        out.append("</g>")
        if i % label_every == 0:
            out.append(
                f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="axis">'
                f"{_e(short_period(r['period']))}</text>"
            )
    out.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{y(target_s):.1f}" y2="{y(target_s):.1f}" class="target"/>'
    )
    out.append(
        f'<text x="{width - 12}" y="{y(target_s) - 5:.1f}" text-anchor="end" class="target-label">'
        f"{_e(_('target'))} {target_s // 60} min</text>"
    )
    out.append(f'<text x="{left}" y="{height - 6}" class="axis">{_e(_("minutes"))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def trend_chart(series: dict[str, list[tuple[str, int]]], labels: dict[str, str], _: Translate) -> Markup:
    """Tickets issued per period, one line per department."""
    width, height, left, bottom, top = 720, 260, 48, 56, 14
    periods = sorted({p for points in series.values() for p, _n in points})
    peak = max([1] + [n for points in series.values() for _p, n in points])
    plot_w, plot_h = width - left - 10, height - bottom - top
    pad = 30  # keeps the first and last labels inside the picture
    xs = {
        p: left
        + pad
        + ((plot_w - 2 * pad) * i / (len(periods) - 1) if len(periods) > 1 else plot_w / 2 - pad)
        for i, p in enumerate(periods)
    }

    def y(n: float) -> float:
        return top + plot_h * (1 - n / peak)

    out = [
        f'<svg role="img" viewBox="0 0 {width} {height}" class="chart" aria-labelledby="tr-t tr-d">',
        f'<title id="tr-t">{_e(_("Visits per department"))}</title>',
        f'<desc id="tr-d">{_e(_("Tickets issued per period, one line per department."))}</desc>',
    ]
    for k in range(5):
        v = peak * k / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="axis">{round(v)}</text>'
        )
    every = max(1, len(periods) // 10)
    for i, p in enumerate(periods):
        if i % every == 0:
            out.append(
                f'<text x="{xs[p]:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="axis">'
                f"{_e(short_period(p))}</text>"
            )
    for j, (dep, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[j % len(LINE_COLOURS)]
        coords = " ".join(f"{xs[p]:.1f},{y(n):.1f}" for p, n in points)
        out.append(f"<g><title>{_e(labels.get(dep, dep))}</title>")
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for p, n in points:
            out.append(
                f'<circle cx="{xs[p]:.1f}" cy="{y(n):.1f}" r="3.5" fill="{colour}">'
                f"<title>{_e(labels.get(dep, dep))} {_e(p)}: {n}</title></circle>"
            )
        out.append("</g>")
        lx = left + 150 * (j % 4)
        ly = height - 20 + 14 * (j // 4)
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 1}" class="legend">{_e(labels.get(dep, dep))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def short_period(label: str) -> str:
    """'2026-03-02' → '02.03', '2026-03-02T09:00+01:00' → '02.03 09', weeks and months as they are."""
    if "T" in label:
        day = dt.date.fromisoformat(label[:10])
        return f"{day:%d.%m} {label[11:13]}"
    if len(label) == 10:
        return f"{dt.date.fromisoformat(label):%d.%m}"
    return label
