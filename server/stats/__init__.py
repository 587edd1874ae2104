"""Statistics for managers.

- ``figures.py``: the figures (waits, service times, counts) over live tickets and folded days;
- ``appointments.py``: the booked visits' figures (the five-minute promise);
- ``retention.py``: folds old tickets and booked visits into hourly aggregates, deletes old rows and events;
- ``cli.py``: ``main.py stats`` and ``main.py stats fold``;
- ``web/``: the manager reports page and ``GET /api/v1/stats`` (templates and static files inside).

The figures' public names are importable from here (``from server.stats import report``); they
are loaded on first use, so ``main.py --help`` (which imports ``server.stats.cli``) stays fast.
docs/STATS.md defines every figure.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nummerlapp.server.stats.figures import (
        BY,
        SPLITS,
        HourAgg,
        StatsError,
        aggregate_rows,
        check,
        collect,
        combine,
        load_folded,
        pack,
        parse_day,
        period_of,
        report,
        summary,
        unpack,
    )

__all__ = [
    "BY",
    "SPLITS",
    "HourAgg",
    "StatsError",
    "aggregate_rows",
    "check",
    "collect",
    "combine",
    "load_folded",
    "pack",
    "parse_day",
    "period_of",
    "report",
    "summary",
    "unpack",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.figures"), name)
    globals()[name] = value
    return value
