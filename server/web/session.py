"""Signed-cookie sessions and CSRF tokens for the desk and technician pages.

Why a signed cookie rather than a server-side session table: the appliance has one server and
a handful of desks, and the ledger is the only state that must survive a restart. A session
only names *who* signed in, at which counter, in which language, and carries the CSRF
synchroniser token; signing it (itsdangerous, HMAC-SHA1 over a per-site secret) is enough, and
every request still re-reads the user from the ``users`` table, so disabling an account or
taking away a counter acts at once, not at expiry.

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

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def with_(self, **changes: Any) -> Session:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "k": self.counter, "l": self.lang, "x": self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session | None:
        csrf = data.get("c")
        if not isinstance(csrf, str) or len(csrf) < 16:
            return None
        user_id = data.get("u")
        counter = data.get("k")
        lang = data.get("l")
        extra = data.get("x")
        return cls(
            csrf=csrf,
            user_id=user_id if isinstance(user_id, int) else None,
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

    def __init__(self, secret: str, max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(secret, salt=self.SALT)

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
