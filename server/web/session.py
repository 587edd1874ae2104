"""Signed-cookie sessions and CSRF tokens for the desk and technician pages.

The cookie is signed (itsdangerous, HMAC over a per-site secret) and names *who* signed in, at
which counter, in which language, and carries the CSRF synchroniser token. A signature alone
cannot be taken back, so since issue 14 a signed-in cookie also carries a random session id
(``sid``) whose SHA-256 is a row of the ledger's ``sessions`` table: every request looks the row
up together with the user (one indexed read on a read-only connection, in a worker thread).
Signing out deletes the row; a password change or a disabled account deletes all the user's
rows. A cookie copied before sign-out is then refused, whatever its signature says.

The cookie is HttpOnly (no script can read it), SameSite=Strict (no other site can make the
browser send it) and signed with a timestamp that expires it after ``max_age`` seconds.
The CSRF token lives inside the signed session and is sent back by every state-changing
request (a hidden form field or the ``X-CSRF-Token`` header of a fetch); a request without
the matching token changes nothing.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "nl_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
DEFAULT_MAX_AGE_S = 10 * 60 * 60  # one long working day; a desk signs in each morning


@dataclass(frozen=True)
class Session:
    """What the cookie carries. ``user_id`` is None before sign-in (the CSRF token still exists,
    so the sign-in form itself is protected against login CSRF)."""

    csrf: str
    user_id: int | None = None
    counter: str | None = None
    lang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sid: str | None = None  # the server-side session (ledger ``sessions``) of a signed-in user

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def with_(self, **changes: Any) -> Session:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "c": self.csrf,
            "u": self.user_id,
            "k": self.counter,
            "l": self.lang,
            "x": self.extra,
            "s": self.sid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session | None:
        csrf = data.get("c")
        if not isinstance(csrf, str) or len(csrf) < 16:
            return None
        user_id = data.get("u")
        counter = data.get("k")
        lang = data.get("l")
        extra = data.get("x")
        sid = data.get("s")
        if not isinstance(sid, str) or not isinstance(user_id, int):
            user_id, sid = None, None  # a signed-in session without its server-side id: none
        return cls(
            csrf=csrf,
            sid=sid,
            user_id=user_id,
            counter=counter if isinstance(counter, str) else None,
            lang=lang if isinstance(lang, str) else None,
            extra=extra if isinstance(extra, dict) else {},
        )

    @classmethod
    def fresh(cls, lang: str | None = None) -> Session:
        return cls(csrf=secrets.token_urlsafe(32), lang=lang)


def load_or_make_secret(path: Path) -> str:
    """The per-site signing secret, kept beside the ledger (mode 0600) so sessions survive a
    restart of the service but not a copy of the code to another site."""
    try:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            return text
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    os.replace(tmp, path)
    return secret


class SessionCodec:
    """Turns a :class:`Session` into a cookie value and back, refusing forged or old ones."""

    SALT = "nummerlapp.web.session"
    KNOWN_SALT = "nummerlapp.web.known"  # the known-browser cookie (server/web/throttle.py)
    KNOWN_ACCOUNTS = 8

    def __init__(self, secret: str, max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(secret, salt=self.SALT)
        self._known = URLSafeTimedSerializer(secret, salt=self.KNOWN_SALT)

    def known_dumps(self, accounts: list[str]) -> str:
        """The signed list of accounts this browser signed in to (newest last, a few at most)."""
        return self._known.dumps(accounts[-self.KNOWN_ACCOUNTS :])

    def known_loads(self, value: str | None, max_age_s: int) -> list[str]:
        if not value:
            return []
        try:
            data = self._known.loads(value, max_age=max_age_s)
        except BadSignature:  # SignatureExpired is one
            return []
        return [a for a in data if isinstance(a, str)] if isinstance(data, list) else []

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps(session.to_dict())

    def loads(self, value: str | None) -> tuple[Session | None, bool]:
        """Returns (session or None, expired?) — expired is told apart so the page can say so."""
        if not value:
            return None, False
        try:
            data = self._serializer.loads(value, max_age=self.max_age_s)
        except SignatureExpired:
            return None, True
        except BadSignature:
            return None, False
        if not isinstance(data, dict):
            return None, False
        return Session.from_dict(data), False

    def cookie_kwargs(self, secure: bool) -> dict[str, Any]:
        return {
            "key": COOKIE,
            "max_age": self.max_age_s,
            "httponly": True,
            "samesite": "strict",
            "secure": secure,
            "path": "/",
        }


def csrf_ok(session: Session | None, sent: str | None) -> bool:
    """Constant-time comparison of the token sent with the one in the session."""
    if session is None or not sent:
        return False
    return hmac.compare_digest(session.csrf.encode(), sent.encode())
