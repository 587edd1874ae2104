"""``main.py stats`` through a real subprocess: formats, usage errors (exit 2), fold."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nummerlapp.server.ledger import schema
from nummerlapp.tests.stats.statsfixtures import add, at

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "stats", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    conn = schema.connect(path)
    add(conn, "nav", at("2026-03-02 09:00"), at("2026-03-02 09:01"), at("2026-03-02 09:11"), counter="1")
    add(
        conn,
        "nav",
        at("2026-03-02 09:10"),
        at("2026-03-02 09:30"),
        at("2026-03-02 09:35"),
        counter="2",
        lang="sv",
    )
    add(
        conn,
        "bolig",
        at("2026-03-03 10:00"),
        at("2026-03-03 10:04"),
        at("2026-03-03 10:05"),
        counter="4",
        lang="en",
        status="no_show",
    )
    conn.close()
    return path


def test_json(ledger: Path) -> None:
    p = run(
        "--db", str(ledger), "--from", "2026-03-01", "--to", "2026-03-31", "--by", "week", "--format", "json"
    )
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert (data["by"], data["wait_target_min"], data["timezone"]) == ("week", 15, "Europe/Oslo")
    nav = next(r for r in data["rows"] if r["department"] == "nav")
    # waits 60 and 1200 s: mean 630, one of two within 15 min
    assert (nav["period"], nav["issued"], nav["wait_mean_s"], nav["within_target"]) == (
        "2026-W10",
        2,
        630,
        0.5,
    )


def test_csv(ledger: Path) -> None:
    p = run("--db", str(ledger), "--from", "2026-03-02", "--to", "2026-03-03", "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [(r["period"], r["department"], r["issued"]) for r in rows] == [
        ("2026-03-02", "nav", "2"),
        ("2026-03-03", "bolig", "1"),
    ]
    assert (rows[0]["lang_nb"], rows[0]["lang_sv"], rows[0]["lang_en"]) == ("1", "1", "0")
    assert (rows[1]["no_show"], rows[1]["service_mean_s"]) == ("1", "")


def test_table_and_counter(ledger: Path) -> None:
    p = run("--db", str(ledger), "--from", "2026-03-02", "--to", "2026-03-02", "--counter", "2")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["period", "counter", "issued"]
    assert lines[1].split()[:3] == ["2026-03-02", "2", "1"] and "20:00" in lines[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-02-30", "--to", "2026-03-01"],
            "error: bad --from date '2026-02-30': expected YYYY-MM-DD",
        ),
        (
            ["--from", "2026-03-01", "--to", "yesterday"],
            "error: bad --to date 'yesterday': expected YYYY-MM-DD",
        ),
        (
            ["--from", "2026-03-02", "--to", "2026-03-01"],
            "error: the period ends (2026-03-01) before it starts",
        ),
        (
            ["--from", "2026-03-01", "--to", "2026-03-02", "--department", "x"],
            "error: unknown department 'x'",
        ),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--format", "xml"], "error: bad --format 'xml'"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--by", "year"], "error: bad period 'year'"),
        (["--from", "2026-03-01"], "error: stats needs --from DATE and --to DATE"),
        (["fold", "--days", "-1"], "error: bad --days -1"),
        (["fold", "--days", "ninety"], "error: bad --days 'ninety'"),
    ],
)
def test_usage_errors_are_one_line_exit_2_and_change_nothing(
    ledger: Path, args: list[str], message: str
) -> None:
    before = ledger.read_bytes()
    p = run("--db", str(ledger), *args) if args[0] != "fold" else run("fold", "--db", str(ledger), *args[1:])
    assert p.returncode == 2
    assert p.stderr.startswith(message) and p.stderr.count("\n") == 1, p.stderr
    assert p.stdout == ""
    assert ledger.read_bytes() == before


def test_missing_ledger(tmp_path: Path) -> None:
    p = run("--db", str(tmp_path / "none.db"), "--from", "2026-03-01", "--to", "2026-03-02")
    assert (p.returncode, p.stderr.strip()) == (2, f"error: no ledger at {tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()


def test_fold(ledger: Path) -> None:
    before = run(
        "--db", str(ledger), "--from", "2026-03-01", "--to", "2026-03-31", "--by", "hour", "--format", "json"
    )
    with sqlite3.connect(ledger) as conn:
        for hhmm in ("09:00", "09:10", "10:00"):
            conn.execute(
                "INSERT INTO events (type, at, data) VALUES ('ticket.issued', ?, '{}')",
                (at(f"2026-03-02 {hhmm}"),),
            )
    p = run("fold", "--db", str(ledger), "--days", "0")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {
        "folded": ["2026-03-02", "2026-03-03"],
        "deleted_days": ["2026-03-02", "2026-03-03"],
        "deleted_rows": 3,
        "deleted_visits": 0,
        "deleted_events": 2,  # the latest event stays, so seq keeps rising
    }
    with sqlite3.connect(ledger) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
        assert conn.execute("SELECT seq FROM events").fetchall() == [(3,)]
    after = run(
        "--db", str(ledger), "--from", "2026-03-01", "--to", "2026-03-31", "--by", "hour", "--format", "json"
    )
    assert json.loads(after.stdout) == json.loads(before.stdout)
