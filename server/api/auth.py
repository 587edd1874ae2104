"""Device tokens and staff users: making, checking, listing, revoking.

Tokens are ``nl_`` + 43 url-safe characters: 256 random bits from ``secrets``. Only the SHA-256
of a token is stored. A slow password hash (argon2, bcrypt) exists to make guessing a *low-entropy*
secret expensive; a 256-bit random secret cannot be guessed at any speed, so a fast hash is as safe
and lets the server look the token up by its hash (a unique index) on every request without
spending milliseconds of CPU per call. A lost token is revoked, never read back.

Staff users (issue 7's sign-in pages) have people-chosen passwords, so they get argon2id
(argon2-cffi's defaults) and a dummy verification for unknown names (the answer takes as long
whether or not the user exists).

Every function takes a ``sqlite3.Connection`` opened with :func:`server.ledger.schema.connect`; writers
use ``BEGIN IMMEDIATE`` so the ``token`` command can add a token while the server runs, and the
server looks tokens up per request (no cache) so a revoke takes effect on the next request.

Who may do what is ONE table, :data:`GRANTS` (permission → roles), consulted by the API's
middleware (server/api/access.py), the desk and technician pages (server/web/) and the
statistics API and page (server/stats/web/). A staff token or user may be bound to one counter;
what that binding means is written once, in :func:`refusal`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from nummerlapp.common.errors import Conflict, LedgerError, NotFound

if TYPE_CHECKING:
    from nummerlapp.config.model import Settings


class Role(StrEnum):
    """A token's role (PROTOCOL.md v1.1 "Roles"); a signed-in user has one of :data:`USER_ROLES`."""

    KIOSK = "kiosk"
    DISPLAY = "display"
    FEEDBACK = "feedback"
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"
    BOOKING = "booking"


ROLES: tuple[Role, ...] = tuple(Role)  # every token role
USER_ROLES: tuple[Role, ...] = (Role.STAFF, Role.MANAGER, Role.ADMIN)  # people who sign in on pages
BINDABLE: frozenset[Role] = frozenset({Role.STAFF})  # roles a token or user may bind to one counter


class Permission(StrEnum):
    """What a request asks to do. Endpoints and pages name one; :data:`GRANTS` says who may."""

    ISSUE_TICKET = "issue_ticket"  # POST /tickets; the desk's reception
    COUNTER_WORK = "counter_work"  # the counter actions (server/api/actions.py) but the alarm
    RAISE_ALARM = "raise_alarm"  # v1.1 POST /counters/{id}/alarm
    CLEAR_ALARM = "clear_alarm"  # v1.1 POST /alarms/{id}/clear
    HEAR_ALARMS = "hear_alarms"  # v1.1 the event socket's alarm.* messages (server/api/sockets.py)
    OPEN_CLOSE_SITE = "open_close_site"  # POST /site/open|close|hours; v1.1 a department too
    EDIT_BOARD_MESSAGES = "edit_board_messages"  # v1.1 PUT /site/messages
    READ_STATS = "read_stats"  # GET /stats and the report page; v1.1 feedback figures, live view
    REPORT_DEVICE_STATUS = "report_device_status"  # POST /devices/{id}/status
    READ_CONFIG = "read_config"  # v1.1 GET /config
    GIVE_FEEDBACK = "give_feedback"  # v1.1 POST /feedback
    MANAGE_DEVICES = "manage_devices"  # GET /devices, identify; v1.1 enrolments, device revoke
    MANAGE_ACCOUNTS = "manage_accounts"  # tokens and users (the technician page)
    RESET_DAY = "reset_day"  # void every live ticket (the technician page)
    BOOK_APPOINTMENTS = "book_appointments"  # v1.1 /appointments
    CHECK_IN = "check_in"  # v1.1 /appointments/{reference}/check-in
    PRINT_SLIP = "print_slip"  # /appointments/{reference}/slip: a visit's slip at a kiosk (extension)
    READ_TICKETS = "read_tickets"  # v1.1 GET /tickets/{id} (ids are on the boards' event stream)


_R = Role
# THE table. A ``manager`` (PROTOCOL.md v1.1) reads statistics, opens and closes the site or a
# department and edits board messages; it makes no tokens, users or devices.
GRANTS: MappingProxyType[Permission, frozenset[Role]] = MappingProxyType(
    {
        Permission.ISSUE_TICKET: frozenset({_R.KIOSK, _R.STAFF, _R.ADMIN}),
        Permission.COUNTER_WORK: frozenset({_R.STAFF, _R.ADMIN}),
        Permission.RAISE_ALARM: frozenset({_R.STAFF}),
        Permission.CLEAR_ALARM: frozenset({_R.STAFF, _R.MANAGER, _R.ADMIN}),
        Permission.HEAR_ALARMS: frozenset({_R.STAFF, _R.MANAGER, _R.ADMIN}),
        Permission.OPEN_CLOSE_SITE: frozenset({_R.MANAGER, _R.ADMIN}),
        Permission.EDIT_BOARD_MESSAGES: frozenset({_R.MANAGER, _R.ADMIN}),
        Permission.READ_STATS: frozenset({_R.MANAGER, _R.ADMIN}),
        Permission.REPORT_DEVICE_STATUS: frozenset({_R.KIOSK, _R.DISPLAY, _R.FEEDBACK, _R.ADMIN}),
        Permission.READ_CONFIG: frozenset({_R.KIOSK, _R.DISPLAY, _R.FEEDBACK}),
        Permission.GIVE_FEEDBACK: frozenset({_R.FEEDBACK}),
        Permission.MANAGE_DEVICES: frozenset({_R.ADMIN}),
        Permission.MANAGE_ACCOUNTS: frozenset({_R.ADMIN}),
        Permission.RESET_DAY: frozenset({_R.ADMIN}),
        Permission.BOOK_APPOINTMENTS: frozenset({_R.STAFF, _R.MANAGER, _R.ADMIN, _R.BOOKING}),
        Permission.CHECK_IN: frozenset({_R.KIOSK, _R.STAFF, _R.ADMIN}),
        Permission.PRINT_SLIP: frozenset({_R.STAFF, _R.MANAGER, _R.ADMIN}),
        Permission.READ_TICKETS: frozenset({_R.KIOSK, _R.DISPLAY, _R.STAFF, _R.MANAGER, _R.ADMIN}),
    }
)
# Permissions exercised AT a counter: a token or user bound to one counter has them there only.
AT_COUNTER: frozenset[Permission] = frozenset({Permission.COUNTER_WORK, Permission.RAISE_ALARM})

Refusal = Literal["forbidden", "wrong_counter"]


def refusal(
    role: str, bound: str | None, permission: Permission, counter: str | None = None
) -> Refusal | None:
    """Why ``role`` (bound to counter ``bound``, if any) may not do ``permission`` [at ``counter``].

    None: allowed. ``"forbidden"``: the role lacks the permission (an unknown role lacks all).
    ``"wrong_counter"``: a bound role acting at another counter; a permission of
    :data:`AT_COUNTER` asked without a counter is refused to a bound role too.
    """
    if role not in GRANTS[permission]:
        return "forbidden"
    if bound is not None and role in BINDABLE and permission in AT_COUNTER and counter != bound:
        return "wrong_counter"
    return None


def may(role: str, bound: str | None, permission: Permission, counter: str | None = None) -> bool:
    return refusal(role, bound, permission, counter) is None


TOKEN_PREFIX = "nl_"
_TOKEN_RE = re.compile(r"^nl_[A-Za-z0-9_-]{43}$")
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10


class InvalidInput(LedgerError):
    """A token or user request with a bad value (unknown role, counter on a non-staff token...)."""

    status = 422
    code = "invalid_request"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def hash_token(secret: str) -> str:
    """Hex SHA-256 of the token text (see the module docstring for why a fast hash is right)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return bool(_TOKEN_RE.match(secret))


@dataclass(frozen=True)
class Principal:
    """Who is asking: a device token or a signed-in staff user."""

    kind: Literal["token", "user"]
    id: int
    role: str
    counter: str | None
    name: str

    def refusal(self, permission: Permission, counter: str | None = None) -> Refusal | None:
        return refusal(self.role, self.counter, permission, counter)

    def may(self, permission: Permission, counter: str | None = None) -> bool:
        return refusal(self.role, self.counter, permission, counter) is None

    def may_act_on_counter(self, counter_id: str) -> bool:
        """May work at ``counter_id`` (:data:`Permission.COUNTER_WORK` there)."""
        return self.may(Permission.COUNTER_WORK, counter_id)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    role: str
    counter: str | None
    name: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    counter: str | None
    created_at: str
    disabled_at: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def principal(self) -> Principal:
        """The signed-in user as the one who asks (the same rules as a token of its role)."""
        return Principal("user", self.id, self.role, self.counter, self.username)

    def may(self, permission: Permission, counter: str | None = None) -> bool:
        return refusal(self.role, self.counter, permission, counter) is None


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE … COMMIT`` on ``conn`` (rolled back if the block raises)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _check_role_counter(
    role: str, counter: str | None, roles: tuple[Role, ...], settings: Settings | None
) -> None:
    if not isinstance(role, str) or role not in roles:
        raise InvalidInput(f"role must be one of {', '.join(roles)}, not {role!r}", code="invalid_role")
    if counter is not None and (not isinstance(counter, str) or not counter.strip()):
        # e.g. {"counter": 5}: never read as "no counter", which would be valid at every counter
        raise InvalidInput("counter must be a counter id (a string) or absent", code="invalid_counter")
    if counter is not None:
        if role not in BINDABLE:
            raise InvalidInput("only a staff token or user can be bound to a counter", code="invalid_counter")
        if settings is not None and settings.counter(counter) is None:
            raise NotFound(f"unknown counter {counter!r}", code="unknown_counter")


# -- tokens -------------------------------------------------------------------------------------


def create_token(
    conn: sqlite3.Connection,
    role: str,
    counter: str | None = None,
    name: str | None = None,
    settings: Settings | None = None,
) -> tuple[str, TokenInfo]:
    """Make a token; returns ``(secret, info)``. The secret is shown once and never stored."""
    _check_role_counter(role, counter, ROLES, settings)
    if name is not None and not isinstance(name, str):
        raise InvalidInput("name must be text", code="invalid_name")
    _encodable(name or "", "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = _now()
    label = (name or "").strip()[:80] or f"{role}{'-' + counter if counter else ''}"
    with write_transaction(conn):
        cur = conn.execute(
            "INSERT INTO tokens (role, counter, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (role, counter, label, hash_token(secret), created),
        )
        token_id = int(cur.lastrowid or 0)
    return secret, TokenInfo(token_id, role, counter, label, created, None, None)


def _token_row(row: tuple[Any, ...]) -> TokenInfo:
    return TokenInfo(int(row[0]), row[1], row[2], row[3] or "", row[4], row[5], row[6])


_TOKEN_COLS = "id, role, counter, name, created_at, revoked_at, last_used_at"


def list_tokens(conn: sqlite3.Connection, include_revoked: bool = True) -> list[TokenInfo]:
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    rows = conn.execute(f"SELECT {_TOKEN_COLS} FROM tokens{where} ORDER BY id").fetchall()
    return [_token_row(r) for r in rows]


def revoke_token(conn: sqlite3.Connection, token_id: int) -> TokenInfo:
    """Revoke a token (idempotent for an already revoked one); NotFound for an unknown id."""
    with write_transaction(conn):
        conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_now(), token_id)
        )
        row = conn.execute(f"SELECT {_TOKEN_COLS} FROM tokens WHERE id = ?", (token_id,)).fetchone()
    if row is None:
        raise NotFound(f"no token with id {token_id}", code="unknown_token")
    return _token_row(row)


def verify_token(conn: sqlite3.Connection, secret: str) -> Principal | None:
    """The principal for a live token, or None (unknown, malformed or revoked)."""
    if not looks_like_token(secret):
        return None
    row = conn.execute(
        "SELECT id, role, counter, name FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL",
        (hash_token(secret),),
    ).fetchone()
    if row is None:
        return None
    return Principal("token", int(row[0]), row[1], row[2], row[3] or "")


def touch_tokens(conn: sqlite3.Connection, used: dict[int, str]) -> None:
    """Record ``last_used_at`` for a batch of token ids (the server flushes this now and then)."""
    if not used:
        return
    with write_transaction(conn):
        conn.executemany("UPDATE tokens SET last_used_at = ? WHERE id = ?", [(t, i) for i, t in used.items()])


# -- staff users --------------------------------------------------------------------------------


def _hasher() -> Any:
    from argon2 import PasswordHasher  # noqa: PLC0415  # start-up: argon2 only when a password is hashed or checked

    return PasswordHasher()


_DUMMY_HASH: str | None = None


def _check_username(username: str) -> None:
    if not _USERNAME_RE.match(username):
        raise InvalidInput(
            "username must be 1-64 characters: lower-case letters, digits, '.', '_' or '-' "
            "(use a role name like 'desk2', not a person's name)",
            code="invalid_username",
        )


def create_user(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    role: str = "staff",
    counter: str | None = None,
    settings: Settings | None = None,
) -> UserInfo:
    """Add a staff user with an argon2id password hash; Conflict if the name is taken."""
    _check_username(username)
    _check_role_counter(role, counter, USER_ROLES, settings)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", code="weak_password")
    _encodable(password, "password")
    password_hash = _hasher().hash(password)
    created = _now()
    try:
        with write_transaction(conn):
            cur = conn.execute(
                "INSERT INTO users (username, password_hash, role, counter, created_at) VALUES (?, ?, ?, ?, ?)",
                (username, password_hash, role, counter, created),
            )
    except sqlite3.IntegrityError:
        raise Conflict(f"user {username!r} exists", code="user_exists") from None
    return UserInfo(int(cur.lastrowid or 0), username, role, counter, created, None)


_USER_COLS = "id, username, role, counter, created_at, disabled_at"


def _user_row(row: tuple[Any, ...]) -> UserInfo:
    return UserInfo(int(row[0]), row[1], row[2], row[3], row[4], row[5])


def list_users(conn: sqlite3.Connection) -> list[UserInfo]:
    return [_user_row(r) for r in conn.execute(f"SELECT {_USER_COLS} FROM users ORDER BY id")]


def disable_user(conn: sqlite3.Connection, username: str) -> UserInfo:
    """Disable a user (they can no longer sign in); NotFound for an unknown name."""
    with write_transaction(conn):
        conn.execute(
            "UPDATE users SET disabled_at = ? WHERE username = ? AND disabled_at IS NULL", (_now(), username)
        )
        row = conn.execute(f"SELECT {_USER_COLS} FROM users WHERE username = ?", (username,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (row[0],))
    if row is None:
        raise NotFound(f"no user {username!r}", code="unknown_user")
    return _user_row(row)


def set_password(conn: sqlite3.Connection, username: str, password: str) -> UserInfo:
    """A new password for a user; every session of that user ends (signed out everywhere)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", code="weak_password")
    _encodable(password, "password")
    password_hash = _hasher().hash(password)
    with write_transaction(conn):
        row = conn.execute(f"SELECT {_USER_COLS} FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}", code="unknown_user")
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, row[0]))
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (row[0],))
    return _user_row(row)


# -- page sessions (server/web/session.py) ---------------------------------------------------------


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def start_session(conn: sqlite3.Connection, user_id: int, address: str = "") -> str:
    """Record a signed-in browser; returns the session id its signed cookie carries."""
    session_id = secrets.token_urlsafe(32)
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO sessions (id_hash, user_id, created_at, address) VALUES (?, ?, ?, ?)",
            (_session_hash(session_id), user_id, _now(), address[:64]),
        )
    return session_id


def end_session(conn: sqlite3.Connection, session_id: str) -> None:
    """Sign-out: the session id is worthless from now on, wherever the cookie was copied to."""
    with write_transaction(conn):
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_session_hash(session_id),))


def end_sessions(conn: sqlite3.Connection, user_id: int) -> int:
    """End every session of a user (password change, account disabled); returns how many."""
    with write_transaction(conn):
        return conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount


def session_user(conn: sqlite3.Connection, session_id: str, user_id: int) -> UserInfo | None:
    """The enabled user of a live session (the one the cookie names), else None."""
    row = conn.execute(
        f"""SELECT {", ".join("u." + c.strip() for c in _USER_COLS.split(","))}
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id_hash = ? AND s.user_id = ? AND u.disabled_at IS NULL""",
        (_session_hash(session_id), user_id),
    ).fetchone()
    return None if row is None else _user_row(row)


def _encodable(text: str, what: str) -> None:
    """Refuse text that cannot be stored as UTF-8 (a lone surrogate from JSON's ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{what} contains characters that are not valid text", code="invalid_text"
        ) from None


def verify_user(conn: sqlite3.Connection, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an enabled user, else None.

    Unknown and disabled users still cost one argon2 verification, so timing tells nothing.
    """
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError  # noqa: PLC0415  # start-up: argon2 only when a password is hashed or checked

    global _DUMMY_HASH
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        password = password.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    hasher = _hasher()
    row = conn.execute(
        "SELECT id, password_hash, role, counter, disabled_at FROM users WHERE username = ?", (username,)
    ).fetchone()
    if row is None or row[4] is not None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hasher.hash(secrets.token_hex(16))
        with suppress(VerifyMismatchError, VerificationError, InvalidHashError):
            hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        hasher.verify(row[1], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return Principal("user", int(row[0]), row[2], row[3], username)
