"""One migrations list for the whole file, and readers that open it read-only.

A file made by the code before the list took the statistics in (migration 1 from the ledger, the
statistics' own tables and ``stats_meta`` row from ``ensure_schema``) must upgrade in place and
keep its rows; a reader never writes, never migrates and refuses a file no writer upgraded yet.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from nummerlapp.server.ledger import Ledger, LedgerReader, schema
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, example, raw

# What server/stats/figures.py's ensure_schema() created before migration 2 existed, verbatim.
OLD_STATS_SQL = (
    """CREATE TABLE IF NOT EXISTS hourly_stats (
        hour_utc TEXT NOT NULL, hour_local TEXT NOT NULL, service_day TEXT NOT NULL,
        origin TEXT NOT NULL, department TEXT NOT NULL, counter TEXT NOT NULL,
        issued INTEGER NOT NULL, called INTEGER NOT NULL, served INTEGER NOT NULL,
        no_show INTEGER NOT NULL, void INTEGER NOT NULL, transfers INTEGER NOT NULL,
        waits BLOB NOT NULL, services BLOB NOT NULL, langs TEXT NOT NULL,
        PRIMARY KEY (hour_utc, origin, department, counter)
    )""",
    "CREATE INDEX IF NOT EXISTS hourly_stats_day ON hourly_stats(service_day)",
    """CREATE TABLE IF NOT EXISTS stats_days (
        service_day TEXT PRIMARY KEY, folded_at TEXT NOT NULL, tickets INTEGER NOT NULL,
        raw_deleted_at TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS stats_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tickets_stats_day ON tickets(service_day)",
    "INSERT OR REPLACE INTO stats_meta (key, value) VALUES ('schema', 'stats-1')",
)


def _old_file(path: Path, with_stats: bool) -> None:
    """A ledger as the previous code left it: only migration 1 recorded (and maybe stats-1)."""
    conn = sqlite3.connect(path, isolation_level=None)
    schema.configure(conn)
    db = sqlite_utils.Database(conn)
    db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
    number, name, step = schema.MIGRATIONS[0]
    step(db)
    conn.execute("INSERT INTO migrations VALUES (?, ?, '2026-01-01T00:00:00.000000+00:00')", (number, name))
    conn.execute("INSERT INTO tokens (role, name, secret_hash, created_at) VALUES ('admin', 'old', 'h', 't')")
    if with_stats:
        for sql in OLD_STATS_SQL:
            conn.execute(sql)
        conn.execute(
            "INSERT INTO hourly_stats VALUES ('2026-03-02T08:00:00+00:00', '2026-03-02T09:00:00+01:00',"
            " '2026-03-02', 'nav', 'nav', '1', 3, 3, 2, 1, 0, 0, x'3c000000', x'3c000000', '{\"nb\": 3}')"
        )
        conn.execute("INSERT INTO stats_days VALUES ('2026-03-02', 't', 3, NULL)")
    conn.close()


def _tables(path: Path) -> set[str]:
    with raw(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize("with_stats", [True, False], ids=["stats-1 tables", "ledger only"])
def test_a_file_of_the_previous_code_upgrades_in_place(tmp_path: Path, with_stats: bool) -> None:
    path = tmp_path / "old.db"
    _old_file(path, with_stats)
    assert "stats_meta" in _tables(path) if with_stats else "hourly_stats" not in _tables(path)
    with pytest.raises(schema.SchemaOutdated):  # a reader does not upgrade it
        schema.connect_reader(path)
    conn = schema.connect(path)  # a writer does
    try:
        assert schema.schema_version(conn) == schema.LATEST == len(schema.MIGRATIONS)
        assert schema.migrate(conn) == []
        folded = conn.execute("SELECT COUNT(*) FROM hourly_stats").fetchone()[0]
        days = [r[0] for r in conn.execute("SELECT service_day FROM stats_days")]
        tokens = conn.execute("SELECT name FROM tokens").fetchall()
    finally:
        conn.close()
    assert (folded, days) == ((1, ["2026-03-02"]) if with_stats else (0, []))
    assert tokens == [("old",)]
    tables = _tables(path)
    assert {"hourly_stats", "stats_days"} <= tables and "stats_meta" not in tables
    with raw(path) as c:
        versions = [r[0] for r in c.execute("SELECT version FROM migrations ORDER BY version")]
        assert versions == [number for number, _, _ in schema.MIGRATIONS]
        indexes = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"hourly_stats_day", "tickets_stats_day"} <= indexes
    schema.connect_reader(path).close()  # now readers open it


def test_a_reader_cannot_write_and_never_migrates(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Ledger(path, example(), clock=Clock(at(MONDAY, 9))).close()
    conn = schema.connect_reader(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("INSERT INTO site_state (key, value) VALUES ('x', 'y')")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE nope (x)")
    finally:
        conn.close()
    reader = LedgerReader(path, example())
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._conn.execute("DELETE FROM tickets")
    finally:
        reader.close()
    with pytest.raises(sqlite3.OperationalError):  # no file: a reader creates none
        schema.connect_reader(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_a_reader_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    """A writer holding a long ``BEGIN IMMEDIATE`` does not delay a reader (nor does the reader
    take the write lock: it answers at once instead of waiting out the busy timeout)."""
    path = tmp_path / "ledger.db"
    Ledger(path, example(), clock=Clock(at(MONDAY, 9))).close()
    writer = schema.connect(path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO site_state (key, value) VALUES ('held', 'yes')")
    try:
        start = time.monotonic()
        reader = schema.connect_reader(path)
        try:
            assert reader.execute("SELECT COUNT(*) FROM site_state WHERE key = 'held'").fetchone()[0] == 0
        finally:
            reader.close()
        assert time.monotonic() - start < 2.0  # the busy timeout is 10 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()
