"""The ledger's SQLite schema and its migrations: ONE list for the whole file.

Every table in the file (tickets and events, tokens and users, the statistics' aggregates) is
made by a step of :data:`MIGRATIONS`, recorded in the ``migrations`` table; nothing else creates
or versions tables. A writer opens the file with :func:`connect`, which sets the connection up
(WAL, ``synchronous=FULL``, a busy timeout) and applies any step not yet recorded. Migrations run
inside ``BEGIN IMMEDIATE`` so two processes starting at once serialize: the second one sees the
first one's rows in ``migrations`` and does nothing.

A reader (reports, token and user look-ups, :class:`server.ledger.LedgerReader`) opens the file
with :func:`connect_reader`: SQLite's ``mode=ro``, so it can neither write nor take the write lock
the server's single writer owns, and it never migrates. A file older than this code is refused
with :class:`SchemaOutdated` (a writer, e.g. the server starting, upgrades it).

Times are stored as UTC ISO 8601 text with microseconds (``2026-11-23T08:14:03.123456+00:00``):
fixed width, so text order is time order (``ORDER BY order_at`` works across DST changes), and
SQLite's ``julianday()`` reads it for statistics.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from nummerlapp.common.errors import LedgerError
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
    # The text as released (LIVE_SQL has grown since: migration 4 rebuilds this index).
    db.execute(
        "CREATE UNIQUE INDEX tickets_live_number ON tickets(number) "
        "WHERE status IN ('waiting', 'called', 'serving')"
    )
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


def _migration_2(db: sqlite_utils.Database) -> None:
    """The statistics' hourly aggregates (server/stats/retention.py folds closed days into them).

    Until this step the statistics code made these tables itself and kept its own version in a
    ``stats_meta`` table; a file made then already has them (``IF NOT EXISTS`` keeps their rows)
    and loses only ``stats_meta``, whose one row this list now says.
    """
    db.execute(
        """CREATE TABLE IF NOT EXISTS hourly_stats (
            hour_utc TEXT NOT NULL,          -- start of the local hour, UTC ISO 8601
            hour_local TEXT NOT NULL,        -- the same instant with the site's offset (for people)
            service_day TEXT NOT NULL,       -- the service day the tickets belonged to
            origin TEXT NOT NULL,            -- department that issued the number
            department TEXT NOT NULL,        -- department where the ticket ended
            counter TEXT NOT NULL,           -- counter that handled it last ('' if never called)
            issued INTEGER NOT NULL,
            called INTEGER NOT NULL,
            served INTEGER NOT NULL,
            no_show INTEGER NOT NULL,
            void INTEGER NOT NULL,
            transfers INTEGER NOT NULL,
            waits BLOB NOT NULL,             -- sorted uint32 little-endian seconds, origin's waits
            services BLOB NOT NULL,          -- sorted uint32 little-endian seconds (served tickets)
            langs TEXT NOT NULL,             -- JSON {"nb": 3, ...}
            PRIMARY KEY (hour_utc, origin, department, counter)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS hourly_stats_day ON hourly_stats(service_day)")
    # Days whose tickets are in hourly_stats; the raw rows may still exist (kept for N days).
    db.execute(
        """CREATE TABLE IF NOT EXISTS stats_days (
            service_day TEXT PRIMARY KEY,
            folded_at TEXT NOT NULL,
            tickets INTEGER NOT NULL,
            raw_deleted_at TEXT
        )"""
    )
    # The ledger indexes tickets by (department, status, ...) and (department, service_day, ...);
    # a fold and a report select by service_day alone.
    db.execute("CREATE INDEX IF NOT EXISTS tickets_stats_day ON tickets(service_day)")
    db.execute("DROP TABLE IF EXISTS stats_meta")


def _migration_3(db: sqlite_utils.Database) -> None:
    """Issue 14: each ticket's ``follow`` secret (stored hashed) and the pages' sessions.

    ``follow_hash`` is the hex SHA-256 of the ticket's follow secret (128 random bits, printed in
    its QR code): a fast hash is enough for a secret nobody can guess (the token argument,
    server/api/auth.py), and a copy of the ledger then holds nothing that opens a visitor's page.
    The partial unique index finds a ticket by it; tickets issued before this step have none.

    ``sessions``: one row per signed-in browser (the SHA-256 of the random session id its signed
    cookie carries). Signing out deletes the row, a password change or a disabled account deletes
    the user's rows: a copied cookie is worthless from then on (server/web/session.py).
    """
    db.execute("ALTER TABLE tickets ADD COLUMN follow_hash TEXT")
    db.execute("CREATE UNIQUE INDEX tickets_follow ON tickets(follow_hash) WHERE follow_hash IS NOT NULL")
    db.execute(
        """CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,   -- hex SHA-256 of the session id in the signed cookie
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            address TEXT                -- where the sign-in came from (for the technician)
        )"""
    )
    db.execute("CREATE INDEX sessions_user ON sessions(user_id)")


_OLD_STATUS_CHECK = "CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show', 'void'))"
_NEW_STATUS_CHECK = "CHECK (status IN ('waiting', 'called', 'serving', 'parked', 'done', 'no_show', 'void'))"


def _migration_4(db: sqlite_utils.Database) -> None:
    """Issue 17: parked tickets, the wait after a transfer, and the silent alarms' log.

    - ``parked`` becomes a ticket status (a visitor who stepped away to fetch a paper; ``call``
      brings them back). SQLite cannot change a CHECK constraint in place, so ``tickets`` is
      rebuilt: made anew from its own stored definition (whatever earlier steps added) with the
      wider CHECK, the rows copied, its indexes made again. A parked ticket's number stays live,
      so the partial unique index ``tickets_live_number`` is made with today's ``LIVE_SQL``.
    - ``parked_at``: when it was parked (the desk lists parked tickets oldest first).
    - ``rewait_from`` / ``rewait_s``: a transferred ticket waits again; ``rewait_from`` is when
      that wait began (the transfer), and each call after it adds the seconds to ``rewait_s``
      (null: never waited after a transfer, or transferred before this step), which the
      statistics count as a wait in the department it waited for (docs/STATS.md).
    - ``counters.idle_since``: when the counter last let its ticket go (the manager's live view).
    - ``alarms``: each silent alarm with its counter and times, and nothing about anyone.
    """
    conn = db.conn
    table_sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tickets'"
    ).fetchone()[0]
    if _OLD_STATUS_CHECK not in table_sql:
        raise RuntimeError("migration 4: the tickets table's status CHECK is not the released one")
    indexes = [
        (row[0], row[1])
        for row in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL"
        )
    ]
    new_sql = table_sql.replace(_OLD_STATUS_CHECK, _NEW_STATUS_CHECK).replace(
        "CREATE TABLE tickets", "CREATE TABLE tickets_rebuilt", 1
    )
    conn.execute(new_sql)
    conn.execute("INSERT INTO tickets_rebuilt SELECT * FROM tickets")
    conn.execute("DROP TABLE tickets")
    conn.execute("ALTER TABLE tickets_rebuilt RENAME TO tickets")
    for name, sql in indexes:
        if name == "tickets_live_number":
            sql = f"CREATE UNIQUE INDEX tickets_live_number ON tickets(number) WHERE {LIVE_SQL}"
        conn.execute(sql)
    conn.execute("ALTER TABLE tickets ADD COLUMN parked_at TEXT")
    conn.execute("ALTER TABLE tickets ADD COLUMN rewait_from TEXT")
    conn.execute("ALTER TABLE tickets ADD COLUMN rewait_s INTEGER")
    # When the counter last let its ticket go (done, no-show, transfer, park): the live view's idle time.
    conn.execute("ALTER TABLE counters ADD COLUMN idle_since TEXT")
    conn.execute(
        """CREATE TABLE alarms (
            id TEXT PRIMARY KEY,        -- "al_" + 96 random bits
            counter TEXT NOT NULL,      -- the desk that raised it; never a person
            service_day TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            cleared_at TEXT             -- null while it stands
        )"""
    )
    conn.execute("CREATE INDEX alarms_open ON alarms(raised_at) WHERE cleared_at IS NULL")


def _migration_5(db: sqlite_utils.Database) -> None:
    """Issue 15: booked visits (appointments), checked in by a reference, never by a name.

    ``appointments``: one row per booked visit. ``reference`` is 8 characters without
    look-alikes (server/ledger/appointments.py); there is no column for a name, phone number,
    e-mail address or free text, so none can be stored. ``uid_hash`` is the hex SHA-256 of the
    iCalendar UID an imported visit came with (a UID may carry a host name or an address; only
    its hash is needed to recognise the event again), ``sequence`` its SEQUENCE. ``status`` is
    ``booked``, ``checked_in``, ``cancelled`` or ``no_show``; once checked in, the visit's ticket
    tells how it went on (called, serving, done, no_show), read through ``ticket``.

    ``tickets.appointment`` / ``tickets.appt_start``: the reference and start of the visit a
    ticket was checked in for (NULL for a walk-in), so ``next`` can call a due booked visit
    first (the partial index keeps that look-up off the walk-ins' issue path).
    """
    conn = db.conn
    conn.execute(
        """CREATE TABLE appointments (
            id TEXT PRIMARY KEY,            -- "ap_" + 96 random bits
            reference TEXT NOT NULL UNIQUE, -- what the visitor types or scans
            department TEXT NOT NULL,
            start TEXT NOT NULL,            -- UTC ISO 8601
            service_day TEXT NOT NULL,      -- the start's service day (site time zone)
            status TEXT NOT NULL CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
            ticket TEXT,                    -- the ticket it was checked in as
            source TEXT NOT NULL,           -- api | ics | desk | a token's name; never a person
            uid_hash TEXT UNIQUE,           -- imported: hex SHA-256 of the iCalendar UID
            sequence INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            checked_in_at TEXT,
            cancelled_at TEXT
        )"""
    )
    conn.execute("CREATE INDEX appointments_day ON appointments(service_day, start)")
    conn.execute("CREATE INDEX appointments_booked ON appointments(start) WHERE status = 'booked'")
    conn.execute("ALTER TABLE tickets ADD COLUMN appointment TEXT")
    conn.execute("ALTER TABLE tickets ADD COLUMN appt_start TEXT")
    conn.execute(
        "CREATE INDEX tickets_appt_due ON tickets(department, appt_start) "
        "WHERE appt_start IS NOT NULL AND status = 'waiting' AND first_called_at IS NULL"
    )


def _migration_6(db: sqlite_utils.Database) -> None:
    """Issue 16: visitors' feedback answers (server/ledger/feedback.py, docs/FEEDBACK.md).

    One row per answer, holding no ticket id, number or follow secret: the answer's local hour
    (its start, as UTC), service day, where it came from, the ticket's department and wait band
    for a phone answer (NULL for the exit terminal's) and the visitor's language. Answers of one
    visit share nothing that joins them to each other or to a ticket.
    ``tickets.feedback_given`` marks a ticket whose phone answered already (once per ticket).
    """
    db.execute(
        """CREATE TABLE feedback (
            hour_utc TEXT NOT NULL,      -- start of the local hour of the answer, UTC ISO 8601
            service_day TEXT NOT NULL,   -- YYYY-MM-DD in the site's time zone
            source TEXT NOT NULL CHECK (source IN ('terminal', 'phone')),
            department TEXT,             -- phone: the ticket's department; terminal: NULL
            wait_band TEXT CHECK (wait_band IN ('under_5', '5_15', 'over_15')),  -- phone only
            lang TEXT,
            question TEXT NOT NULL,
            answer INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX feedback_day ON feedback(service_day)")
    db.execute("ALTER TABLE tickets ADD COLUMN feedback_given INTEGER NOT NULL DEFAULT 0")


def _migration_7(db: sqlite_utils.Database) -> None:
    """Issue 13: devices join by enrolment (server/api/enrolment.py, docs/API.md "Enrolment").

    ``enrolments``: one row per request to join. The request's id is the secret that fetches the
    token, so only its SHA-256 is stored (``id_hash``); ``code`` is the 6 digits the device shows.
    ``status``: pending → approved → collected (the token was handed out, once), or refused;
    a pending row past ``expires_at`` is expired. ``devices`` gains what enrolment gives a device:
    its token (``token_id``), a board's zone, a kiosk's printer, its address, when it joined.
    """
    db.execute(
        """CREATE TABLE enrolments (
            id_hash TEXT PRIMARY KEY,
            code TEXT NOT NULL,
            device TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('kiosk', 'display', 'feedback')),
            name TEXT NOT NULL,
            address TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'collected', 'refused')),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            settings TEXT                -- the approval's {"name", "zone", "printer"} (JSON)
        )"""
    )
    db.execute("CREATE INDEX enrolments_pending ON enrolments(status, expires_at)")
    db.execute("CREATE INDEX enrolments_code ON enrolments(code)")
    for column in ("token_id INTEGER", "zone TEXT", "printer TEXT", "address TEXT", "enrolled_at TEXT"):
        db.execute(f"ALTER TABLE devices ADD COLUMN {column}")
    db.execute("CREATE INDEX devices_token ON devices(token_id) WHERE token_id IS NOT NULL")


def _migration_8(db: sqlite_utils.Database) -> None:
    """The exit terminal's ``Idempotency-Key``: a ``POST /feedback`` sent again is stored once.

    ``feedback_keys``: one row per keyed ``POST /feedback`` that stored answers, written in the
    same transaction as those answers (server/ledger/feedback.py). ``key_hash`` is the hex
    SHA-256 of who sent it (the enrolled device, else the token) and the key, never the key
    itself; its PRIMARY KEY is the UNIQUE constraint that makes a second store of one key
    impossible. ``stored`` is how many answers the first request stored (a repeat gets the same
    answer); ``service_day`` lets rows older than ``KEY_DAYS`` be deleted. WITHOUT ROWID: the rows
    are kept in hash order, so not even their order lines them up with the answers they stored;
    nothing in a row joins it to an answer, a ticket or a visitor.
    """
    db.execute(
        """CREATE TABLE feedback_keys (
            key_hash TEXT PRIMARY KEY,      -- hex SHA-256 of (device or token, Idempotency-Key)
            service_day TEXT NOT NULL,      -- YYYY-MM-DD in the site's time zone: pruning only
            stored INTEGER NOT NULL         -- answers the first request stored
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX feedback_keys_day ON feedback_keys(service_day)")


def _migration_9(db: sqlite_utils.Database) -> None:
    """The statistics' fold keeps the booked visits' figures too (server/stats/retention.py).

    ``hourly_visits``: per local hour of the visits' start, department and counter that handled
    the visit's ticket last ('' when never called), the booked visits that were not cancelled,
    how many were checked in and how many were no-shows, and the waits from the later of start
    and check-in to the first call as a sorted array of whole seconds (as ``hourly_stats``
    keeps the walk-ins' waits): the five-minute share and the longest wait are exact over any
    period, against the target of the day the report is made. No reference, ticket or time of
    a single visit. ``stats_visit_days``: the service days whose visits are in it (a day folded
    before this step has its walk-ins in ``stats_days`` but its visits still in their rows,
    until the next fold takes them). Reports read a folded day from here and the other days
    from ``appointments`` and their tickets.
    """
    db.execute(
        """CREATE TABLE hourly_visits (
            hour_utc TEXT NOT NULL,          -- start of the local hour of the visits' start, UTC
            hour_local TEXT NOT NULL,        -- the same instant with the site's offset (for people)
            service_day TEXT NOT NULL,       -- the visits' service day
            department TEXT NOT NULL,        -- the visit's department
            counter TEXT NOT NULL,           -- counter that handled its ticket last ('' if never called)
            booked INTEGER NOT NULL,         -- visits not cancelled
            checked_in INTEGER NOT NULL,
            no_show INTEGER NOT NULL,
            waits BLOB NOT NULL,             -- sorted uint32 little-endian seconds to the first call
            PRIMARY KEY (hour_utc, department, counter)
        )"""
    )
    db.execute("CREATE INDEX hourly_visits_day ON hourly_visits(service_day)")
    db.execute(
        """CREATE TABLE stats_visit_days (
            service_day TEXT PRIMARY KEY,
            folded_at TEXT NOT NULL,
            visits INTEGER NOT NULL,         -- booked visits aggregated (cancelled ones are not counted)
            raw_deleted_at TEXT              -- when the day's appointment rows were deleted
        )"""
    )


Migration = tuple[int, str, Callable[[sqlite_utils.Database], None]]

# The one list: (version, name, step). Append only; a step never changes once released.
MIGRATIONS: tuple[Migration, ...] = (
    (1, "tickets, events, counters, site state, devices, tokens, users", _migration_1),
    (2, "statistics: hourly aggregates and folded days", _migration_2),
    (3, "tickets' follow secrets (hashed); server-side page sessions", _migration_3),
    (4, "parked tickets, waits after a transfer, the silent alarms' log", _migration_4),
    (5, "booked visits (appointments) and their tickets", _migration_5),
    (6, "visitor feedback answers; a ticket's feedback given once", _migration_6),
    (7, "device enrolment: requests to join; enrolled devices' tokens and settings", _migration_7),
    (8, "feedback idempotency keys: a terminal's answers sent again are stored once", _migration_8),
    (9, "statistics: booked visits' hourly aggregates and folded days", _migration_9),
)
LATEST = MIGRATIONS[-1][0]


class SchemaOutdated(LedgerError):
    """A reader met a file that a writer has not upgraded to this code's schema yet."""

    status = 503
    code = "schema_outdated"


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


def _owner_only(path: Path) -> None:
    """Create the ledger file owner-only (0600) and tighten an older one: it holds password
    hashes. SQLite gives its ``-wal`` and ``-shm`` files the main file's mode when it makes
    them; ones left by an older version are tightened here too."""
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        return
    # Never open (and close) an existing ledger here: closing any descriptor of the file drops
    # every POSIX lock this process holds on it, SQLite's included (a classic corruption trap).
    if not path.exists():
        with contextlib.suppress(OSError):  # sqlite3 reports the real problem (no folder, no right)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            part = path.with_name(path.name + suffix)
            if part.exists() and part.stat().st_mode & 0o077:
                part.chmod(0o600)


def connect(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the ledger file for writing, configured and migrated.

    ``isolation_level=None``: Python's sqlite3 opens no implicit transactions, so the ledger's
    own ``BEGIN IMMEDIATE`` is the only transaction control.
    """
    _owner_only(Path(path))
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=check_same_thread)
    try:
        configure(conn)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def connect_reader(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open an existing ledger file read-only (``mode=ro``): no write, no write lock, no migration.

    WAL readers never block the writer nor wait for it. Raises :class:`SchemaOutdated` when the
    file's schema is older than :data:`LATEST` (no writer has opened it since an upgrade) and
    ``sqlite3.OperationalError`` when there is no file.
    """
    uri = f"file:{Path(path).resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=check_same_thread)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema_version(conn)
        if version < LATEST:
            raise SchemaOutdated(
                f"the ledger {path} has schema version {version}, this program needs {LATEST}: "
                "start the server (or any command that writes) once to upgrade it"
            )
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration recorded (0 for a file no writer has set up)."""
    try:
        row = conn.execute("SELECT MAX(version) FROM migrations").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return 0
    return int(row[0] or 0)
