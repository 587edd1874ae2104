"""The ledger's SQLite schema and its migrations.

Every process that opens the ledger file calls :func:`connect`, which sets the connection up the
same way (WAL, ``synchronous=FULL``, a busy timeout) and applies any migration not yet recorded in
the ``migrations`` table. Migrations run inside ``BEGIN IMMEDIATE`` so two processes starting at
once serialize: the second one sees the first one's rows in ``migrations`` and does nothing.

Times are stored as UTC ISO 8601 text with microseconds (``2026-11-23T08:14:03.123456+00:00``):
fixed width, so text order is time order (``ORDER BY order_at`` works across DST changes), and
SQLite's ``julianday()`` reads it for statistics.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from nummerlapp.server.ledger.models import LIVE_SQL

BUSY_TIMEOUT_MS = 10_000  # other processes (token CLI, a second server by mistake) wait, not fail
# Checkpoint the WAL into the main file every this many pages (16 MB) instead of the default 1000:
# fewer checkpoints (each one fsyncs the main file too) on the issue path; pages written many
# times between checkpoints are copied once.
WAL_CHECKPOINT_PAGES = 4000


def _migration_1(db: sqlite_utils.Database) -> None:
    """Tickets, events, counters, site state, devices, tokens and staff users."""
    # WITHOUT ROWID: the table is stored in its primary key's b-tree, so issuing a ticket writes
    # one page for the row instead of a row page plus a separate primary-key index page (each
    # page is a WAL frame to fsync). Written as SQL because sqlite-utils cannot say WITHOUT ROWID.
    db.execute(
        """CREATE TABLE tickets (
            id TEXT PRIMARY KEY,        -- "t_" + 128 random bits, url-safe
            number TEXT NOT NULL,       -- visible number, e.g. "A012"
            num INTEGER NOT NULL,       -- the integer part of number (1..max_number)
            seq INTEGER NOT NULL,       -- n-th ticket of its department that service day (never wraps)
            department TEXT NOT NULL,   -- where it waits / was served now
            origin TEXT NOT NULL,       -- the department that issued the number
            status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show', 'void')),
            lang TEXT NOT NULL,
            source TEXT,                -- kiosk / token name that asked for it; never a person
            service_day TEXT NOT NULL,  -- YYYY-MM-DD in the site's time zone
            issued_at TEXT NOT NULL,
            order_at TEXT NOT NULL,     -- original issue time: queue position, kept across transfers
            order_seq INTEGER NOT NULL, -- seq of the ticket.issued event: tie-break for equal order_at
            counter TEXT,
            called_at TEXT,             -- the latest call (called->done is the service in this department)
            first_called_at TEXT,       -- the first call (issued->first call is the visitor's wait)
            serving_at TEXT,
            done_at TEXT,               -- when it left the queue for good (done, no_show or void)
            transferred_from TEXT,
            transfers INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID"""
    )
    # The invariant "no two live tickets share a number", enforced by SQLite itself.
    db.execute(f"CREATE UNIQUE INDEX tickets_live_number ON tickets(number) WHERE {LIVE_SQL}")
    # Each index costs a WAL page per write on the issue path, so there are few, and partial
    # where only some rows are ever looked up.
    db.table("tickets").create_index(["department", "status", "order_at", "order_seq"], "tickets_queue")
    db.execute("CREATE INDEX tickets_done ON tickets(department, service_day, done_at) WHERE status = 'done'")

    # seq is the rowid: inserting NULL gives max(seq)+1, rollbacks leave no gap; retention deletes
    # old events but always keeps the latest, so seq never repeats.
    db.table("events").create(
        {"seq": int, "type": str, "at": str, "data": str}, pk="seq", not_null=["type", "at"]
    )
    db.execute("CREATE INDEX events_calls ON events(seq) WHERE type IN ('ticket.called', 'ticket.recalled')")

    db.table("counters").create(
        {"id": str, "state": str, "ticket": str}, pk="id", not_null=["state"], defaults={"state": "open"}
    )
    # Per-department numbering for the current service day (reset_day sets last_num back to 0).
    db.table("numbering").create(
        {"department": str, "service_day": str, "last_num": int, "seq": int},
        pk="department",
        not_null=["service_day", "last_num", "seq"],
    )
    # One row per key: "service_day" (the day the ledger last rolled over to), "override"
    # (JSON {"day": ..., "open": bool}: the site opened or closed by hand for the rest of that day).
    db.table("site_state").create({"key": str, "value": str}, pk="key")
    db.table("devices").create(
        {"id": str, "role": str, "name": str, "status": str, "last_seen": str}, pk="id", not_null=["role"]
    )
    db.execute(
        """CREATE TABLE tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            role TEXT NOT NULL,
            counter TEXT,
            name TEXT,
            secret_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            last_used_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            counter TEXT,
            created_at TEXT NOT NULL,
            disabled_at TEXT
        )"""
    )


MIGRATIONS: tuple[tuple[int, str, Callable[[sqlite_utils.Database], None]], ...] = (
    (1, "tickets, events, counters, site state, devices, tokens, users", _migration_1),
)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (persistent: a no-op once done).

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, without
    its busy handler, while another connection is opening the same brand-new file; so retry
    briefly. Only the first opens of a new ledger ever race here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() == "wal" or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def configure(conn: sqlite3.Connection) -> None:
    """Pragmas every connection to the ledger file needs (they are per connection)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _enable_wal(conn)
    # FULL: a commit is on disk (WAL fsynced) before we return, so a printed ticket survives a
    # power cut, not only a crash of the process.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied now."""
    db = sqlite_utils.Database(conn, execute_plugins=False)
    applied_now: list[int] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        db.table("migrations").create(
            {"version": int, "name": str, "applied_at": str}, pk="version", if_not_exists=True
        )
        done = {row[0] for row in conn.execute("SELECT version FROM migrations")}
        for version, name, apply in MIGRATIONS:
            if version in done:
                continue
            apply(db)
            conn.execute(
                "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")),
            )
            applied_now.append(version)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied_now


def connect(
    path: str | Path, *, check_same_thread: bool = True, readonly: bool = False
) -> sqlite3.Connection:
    """Open the ledger file, configured and migrated.

    ``isolation_level=None``: Python's sqlite3 opens no implicit transactions, so the ledger's
    own ``BEGIN IMMEDIATE`` is the only transaction control. ``readonly`` opens a reader that
    never migrates (the file must already exist).
    """
    if readonly:
        uri = f"file:{Path(path).resolve()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=check_same_thread)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread)
    try:
        configure(conn)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(version) FROM migrations").fetchone()
    return int(row[0] or 0)
