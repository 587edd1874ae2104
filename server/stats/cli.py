"""``main.py stats``: reports for managers on the command line, and ``stats fold`` (retention).

    python main.py stats --from 2026-11-01 --to 2026-11-30 --by week --format table
    python main.py stats --from 2026-11-01 --to 2026-11-30 --department nav --format csv
    python main.py stats fold --days 90

A usage error (bad date, unknown department or counter, the period ending before it starts, no
ledger file) prints one line on stderr and exits 2 without touching the ledger. Nothing heavy is
imported at module level, so ``main.py --help`` stays fast.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from nummerlapp.common.cli import DEFAULT_DB, add_site_options

FORMATS = ("csv", "json", "table")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "stats",
        help="reports for managers (visits, waits, service times) and retention",
        description="Figures per department or counter and per hour, day, week or month, from the "
        "ticket ledger and its folded hourly aggregates. Dates are service days in the site's time zone.",
    )
    add_site_options(p)
    p.add_argument("--from", dest="start", metavar="DATE", help="first service day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", metavar="DATE", help="last service day, YYYY-MM-DD (included)")
    p.add_argument("--department", metavar="ID", help="only this department")
    p.add_argument("--counter", metavar="ID", help="only this counter (rows per counter)")
    p.add_argument("--by", default="day", help="period: hour, day, week or month (default: day)")
    p.add_argument(
        "--per", default=None, help="rows per department (default), counter (default with --counter) or site"
    )
    p.add_argument("--format", default="table", help="csv, json or table (default: table)")
    p.set_defaults(func=run_report)
    sub = p.add_subparsers(dest="stats_command", metavar="fold")
    f = sub.add_parser(
        "fold",
        help="fold closed days into hourly aggregates; delete ticket rows and events older than --days",
        description="Aggregates every closed service day not yet folded, then deletes the ticket rows "
        "and events of days older than --days (one transaction per day; the latest event is always kept "
        "so numbering of events goes on). Safe to run again.",
    )
    add_site_options(f)
    f.add_argument(
        "--days", default="90", metavar="N", help="keep ticket rows and events this many days (default 90)"
    )
    f.set_defaults(func=run_fold)


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _ledger_path(args: argparse.Namespace) -> Path:
    """The existing ledger file of ``--db`` (StatsError if there is none: nothing is created)."""
    from nummerlapp.server.stats.figures import StatsError  # noqa: PLC0415  # start-up

    path = Path(args.db) if args.db is not None else DEFAULT_DB
    if not path.is_file():
        raise StatsError(f"no ledger at {path}")
    return path


def _open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection for a report (it never takes the write lock the server owns).

    A file no writer has upgraded to this program's schema yet is upgraded once here, by a
    writer connection opened and closed for that alone; the report itself still reads only.
    """
    from nummerlapp.server.ledger import schema  # noqa: PLC0415  # start-up

    try:
        return schema.connect_reader(path)
    except schema.SchemaOutdated:
        schema.connect(path).close()  # applies the missing migrations
        return schema.connect_reader(path)


def run_report(args: argparse.Namespace) -> int:
    # Start-up time: main.py imports every command module for --help; the figures load on use.
    from nummerlapp.config import settings_from_args  # noqa: PLC0415  # start-up
    from nummerlapp.server.stats.figures import StatsError, check, parse_day, report  # noqa: PLC0415  # start-up

    try:
        if not args.start or not args.end:
            raise StatsError("stats needs --from DATE and --to DATE (or the fold command)")
        start = parse_day(args.start, "--from date")
        end = parse_day(args.end, "--to date")
        if args.format not in FORMATS:
            raise StatsError(f"bad --format {args.format!r}: expected csv, json or table")
        split = args.per or ("counter" if args.counter else "department")
        settings = settings_from_args(args)
        check(settings, start, end, args.by, split, args.department, args.counter)
        conn = _open_reader(_ledger_path(args))
        try:
            rows = report(conn, settings, start, end, args.by, split, args.department, args.counter)
        finally:
            conn.close()
    except StatsError as exc:
        return _usage(str(exc))
    meta = {
        "site": settings.site.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": args.by,
        "per": split,
        "timezone": settings.site.timezone,
        "wait_target_min": settings.site.wait_target_min,
    }
    if args.format == "json":
        print(json.dumps({**meta, "rows": rows}, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        sys.stdout.write(to_csv(rows, settings.site.languages))
    else:
        sys.stdout.write(to_table(rows, split))
    return 0


def run_fold(args: argparse.Namespace) -> int:
    # Start-up time: main.py imports every command module for --help; SQLite code loads on use.
    from nummerlapp.config import settings_from_args  # noqa: PLC0415  # start-up
    from nummerlapp.server.ledger import schema  # noqa: PLC0415  # start-up
    from nummerlapp.server.stats.figures import StatsError  # noqa: PLC0415  # start-up
    from nummerlapp.server.stats.retention import fold  # noqa: PLC0415  # start-up

    try:
        try:
            days = int(args.days)
        except ValueError:
            raise StatsError(f"bad --days {args.days!r}: expected a whole number") from None
        if days < 0:
            raise StatsError(f"bad --days {days}: must be 0 or more")
        settings = settings_from_args(args)
        conn = schema.connect(_ledger_path(args))  # the fold writes: a writer connection, migrated
        try:
            result = fold(conn, settings, days)
        finally:
            conn.close()
    except StatsError as exc:
        return _usage(str(exc))
    print(json.dumps(result.to_json()))
    return 0


def to_csv(rows: list[dict[str, Any]], languages: tuple[str, ...] = ()) -> str:
    """One line per row; languages become ``lang_<code>`` columns (site languages first)."""
    langs = list(languages)
    for row in rows:
        langs += [lang for lang in row["langs"] if lang not in langs]
    out = io.StringIO()
    if not rows:
        return ""
    fields = [k for k in rows[0] if k != "langs"] + [f"lang_{lang}" for lang in langs]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        values = [row[k] for k in rows[0] if k != "langs"] + [row["langs"].get(lang, 0) for lang in langs]
        writer.writerow(["" if v is None else v for v in values])
    return out.getvalue()


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def to_table(rows: list[dict[str, Any]], split: str) -> str:
    """A plain aligned table for a terminal; times as minutes:seconds."""
    head = ["period", split if split != "site" else "", "issued", "called", "served", "no-show", "transf"]
    head += ["wait mean", "median", "p90", "max", "in target", "service median", "languages"]
    lines = [head]
    for r in rows:
        share = "-" if r["within_target"] is None else f"{100 * r['within_target']:.0f}%"
        langs = " ".join(f"{k}:{v}" for k, v in r["langs"].items())
        lines.append(
            [
                r["period"],
                str(r.get(split, "")),
                *(str(r[k]) for k in ("issued", "called", "served", "no_show", "transfers")),
                *(_mmss(r[k]) for k in ("wait_mean_s", "wait_median_s", "wait_p90_s", "wait_max_s")),
                share,
                _mmss(r["service_median_s"]),
                langs,
            ]
        )
    if split == "site":
        lines = [line[:1] + line[2:] for line in lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )
    return text + ("\n" if rows else "\n(no tickets in this period)\n")
