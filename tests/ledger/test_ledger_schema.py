"""The file's set-up: migrations recorded once, pragmas, tables, concurrent first opens."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from nummerlapp.server.ledger import Ledger, schema
from nummerlapp.tests.ledger.ledgerfixtures import example, raw

TABLES = {
    "tickets",
    "events",
    "counters",
    "numbering",
    "site_state",
    "devices",
    "tokens",
    "users",
    "migrations",
    "hourly_stats",
    "stats_days",
}


def test_migrations_recorded_once(db_path: Path) -> None:
    conn = schema.connect(db_path)
    assert schema.schema_version(conn) == len(schema.MIGRATIONS)
    assert schema.migrate(conn) == []  # nothing left to apply
    conn.close()
    Ledger(db_path, example()).close()
    with raw(db_path) as c:
        rows = c.execute("SELECT version, name FROM migrations").fetchall()
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert (
        [r[0] for r in rows]
        == [version for version, _name, _step in schema.MIGRATIONS]
        == list(range(1, schema.LATEST + 1))
    )
    assert tables >= TABLES


def test_connection_pragmas(db_path: Path) -> None:
    conn = schema.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == schema.BUSY_TIMEOUT_MS
    finally:
        conn.close()


def test_no_personal_data_columns(db_path: Path) -> None:
    Ledger(db_path, example()).close()
    with raw(db_path) as c:
        cols = {r[1] for r in c.execute("PRAGMA table_info(tickets)")}
    assert not cols & {"name", "phone", "email", "person", "ssn", "birth_date"}
    assert {
        "issued_at",
        "called_at",
        "first_called_at",
        "done_at",
        "transferred_from",
        "transfers",
        "lang",
    } <= cols


def test_live_number_unique_in_the_file_itself(db_path: Path) -> None:
    ledger = Ledger(db_path, example())
    ledger.close()
    with raw(db_path) as c:
        row = ("x", "A001", 1, 1, "nav", "nav", "waiting", "nb", "2026-11-23", "t", "t", 1)
        c.execute(
            "INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, service_day, issued_at, order_at, order_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            row,
        )
        try:
            c.execute(
                "INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, service_day, issued_at, order_at, order_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                ("y", *row[1:]),
            )
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("two live tickets with one number were accepted")
        c.execute("UPDATE tickets SET status='done' WHERE id='x'")
        c.execute(
            "INSERT INTO tickets (id, number, num, seq, department, origin, status, lang, service_day, issued_at, order_at, order_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ("y", *row[1:]),
        )


def test_concurrent_first_open(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            schema.connect(path).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with raw(path) as c:
        assert c.execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == len(
            schema.MIGRATIONS
        )  # each once
