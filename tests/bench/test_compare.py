"""The benchmark comparison: the noise margin on hand-made results, and a real slowed code path caught.

Speed itself is proven by ``python -m bench``, not here: these tests check the *comparison*
(does it flag what got worse, and only that), so nothing asserts a time against a goal.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from nummerlapp.bench import cli, printer_bench, results
from nummerlapp.bench.common import Figures
from nummerlapp.printer import service


def fig(
    key: str, runs: list[float], better: str = "lower", budget: str = "host", **kw: Any
) -> dict[str, Any]:
    f = Figures(key.split(".")[0], budget).fig(key.split(".", 1)[1], key, "ms", better, **kw)
    for r in runs:
        f.add(r)
    return f.to_json() | {"bench": key.split(".")[0]}


def result_file(*figures: dict[str, Any], commit: str = "c0ffee") -> dict[str, Any]:
    return {
        "schema": 1,
        "date": "2026-11-24T10:00:00+00:00",
        "commit": commit,
        "dirty": False,
        "command": "python -m bench",
        "duration_s": 1.0,
        "machine": {"cpu": "test", "cores": 2, "kernel": "6", "python": "3.11", "memory_gb": 1.0},
        "budgets": {
            "host": {"description": "the machine", "quota_us": None, "period_us": 100000, "method": ""}
        },
        "figures": list(figures),
        "skipped": [],
        "details": {},
    }


def worse_keys(old: dict[str, Any], new: dict[str, Any], rel: float = 0.10) -> set[tuple[str, str]]:
    return {(c.key, c.budget) for c in results.compare(old, new, rel) if c.worse}


# -- the margin on hand-made files -----------------------------------------------------------------


def test_lower_is_better_worse_only_beyond_old_max_plus_margin() -> None:
    old = result_file(fig("k.t", [10.0, 11.0, 12.0]))  # spread 2, 10 % of median 1.1 → margin 2
    assert worse_keys(old, result_file(fig("k.t", [14.0, 14.0, 14.0]))) == set()  # 14 = 12 + 2: not beyond
    assert worse_keys(old, result_file(fig("k.t", [14.1, 14.1, 14.1]))) == {("k.t", "host")}


def test_the_relative_part_covers_a_figure_without_spread() -> None:
    old = result_file(fig("k.t", [100.0]))
    assert worse_keys(old, result_file(fig("k.t", [109.0]))) == set()
    assert worse_keys(old, result_file(fig("k.t", [111.0]))) == {("k.t", "host")}
    assert worse_keys(old, result_file(fig("k.t", [111.0])), rel=0.2) == set()


def test_higher_is_better_worse_below_old_min_minus_margin() -> None:
    old = result_file(fig("l.rate", [3000.0, 3100.0, 3200.0], better="higher"))  # margin max(310, 200) = 310
    assert worse_keys(old, result_file(fig("l.rate", [2700.0], better="higher"))) == set()
    assert worse_keys(old, result_file(fig("l.rate", [2680.0], better="higher"))) == {("l.rate", "host")}
    changes = results.compare(old, result_file(fig("l.rate", [4000.0], better="higher")))
    assert changes[0].better and not changes[0].worse


def test_a_noisy_old_figure_needs_a_move_larger_than_its_noise() -> None:
    old = result_file(fig("k.t", [10.0, 30.0, 50.0]))  # spread 40 → the new median must pass 90
    assert worse_keys(old, result_file(fig("k.t", [80.0, 85.0, 89.0]))) == set()
    assert worse_keys(old, result_file(fig("k.t", [91.0]))) == {("k.t", "host")}


def test_the_absolute_floor_keeps_tiny_figures_quiet() -> None:
    old = result_file(fig("c.idle", [1.0, 1.0], abs_margin=0.5))
    assert worse_keys(old, result_file(fig("c.idle", [1.4, 1.5], abs_margin=0.5))) == set()
    assert worse_keys(old, result_file(fig("c.idle", [1.6], abs_margin=0.5))) == {("c.idle", "host")}


def test_budgets_are_compared_apart_and_missing_figures_are_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = result_file(
        fig("k.t", [10.0], budget="host"), fig("k.t", [20.0], budget="pi4"), fig("k.gone", [1.0])
    )
    new = result_file(
        fig("k.t", [10.0], budget="host"), fig("k.t", [40.0], budget="pi4"), fig("k.added", [1.0])
    )
    assert worse_keys(old, new) == {("k.t", "pi4")}
    assert results.report(old, new) == 1
    out = capsys.readouterr().out
    assert "worse  k.t [pi4]" in out and "k.gone [host]" in out and "k.added [host]" in out
    assert results.report(old, old) == 0


def test_the_command_line_compare_exits_non_zero_on_a_regression(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(result_file(fig("k.t", [10.0, 10.5]))))
    new.write_text(json.dumps(result_file(fig("k.t", [20.0]))))
    assert cli.main(["compare", str(old), str(new)]) == 1
    assert cli.main(["compare", str(old), str(old)]) == 0


def test_the_page_is_made_from_the_file_only(tmp_path: Path) -> None:
    data = result_file(
        fig("kiosk.touch_to_first_byte_ms", [8.25, 8.5, 9.0], goal=15.0),
        fig("ledger.rate", [2950.0], better="higher", goal=3000.0),
    )
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    page = tmp_path / "B.md"
    assert cli.main(["render", str(path), "--page", str(page)]) == 0
    text = page.read_text()
    assert "GENERATED" in text and "c0ffee" in text
    assert "**8.50** ms (8.25–9.00) [3] met" in text
    assert "**2,950**" in text and "**not met**" in text


# -- a real code path, slowed on purpose -----------------------------------------------------------


def printer_figures(slow_s: float, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The printer benchmark for real (layout, a TicketPrinter on a socat pty with a fake printer),
    optionally with a sleep added to the layout step of ``print_ticket`` only."""
    if slow_s:
        original = getattr(service, "layout")  # noqa: B009  # imported there, not exported

        def slow_layout(*args: Any, **kw: Any) -> Any:
            time.sleep(slow_s)
            return original(*args, **kw)

        monkeypatch.setattr(service, "layout", slow_layout)  # the step inside print_ticket() only
    figs = Figures("printer", "host")
    printer_bench.collect(figs, runs=5, tickets=10, with_import=False, log=lambda _s: None)
    monkeypatch.undo()
    return result_file(*figs.to_json())


def test_compare_catches_a_slowed_print_path_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    before = printer_figures(0.0, monkeypatch)
    after = printer_figures(0.025, monkeypatch)
    changes = results.compare(before, after)
    worse = {c.key for c in changes if c.worse}
    # the slowed step lies between print_ticket() and the first byte: those figures move, no other
    # (the p95 of a few tickets is their worst one, so a load spike in the *before* run can widen
    # its margin past the slowdown: it may or may not be flagged; the median must be)
    assert "printer.first_byte_ms" in worse, [c.line() for c in changes]
    assert worse <= {"printer.first_byte_ms", "printer.first_byte_p95_ms"}, [c.line() for c in changes]
    # and the unchanged code, measured again, stays within the margin (looser here: the machine is
    # shared, and this part checks that nothing is flagged by itself, not how tight the margin is)
    again = printer_figures(0.0, monkeypatch)
    steady = {"printer.first_byte_ms", "printer.layout_ms", "printer.ticket_bytes"}
    flagged = {key for key, _ in worse_keys(before, again, rel=0.5)} & steady
    assert flagged == set(), [c.line() for c in results.compare(before, again)]
