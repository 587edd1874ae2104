"""What the desk and technician pages keep per app: sessions, the replay cache, the sign-in
limiter and the accounts seam. ``create_app`` makes one :class:`WebParts` and keeps it in the
app's :class:`server.api.services.Services` (``services(request).web``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.web.backend import Backend
from nummerlapp.server.web.guard import ReplayCache
from nummerlapp.server.web.session import DEFAULT_MAX_AGE_S, Session, SessionCodec, load_or_make_secret
from nummerlapp.server.web.throttle import SigninLimiter

SESSION_ENV = "NUMMERLAPP_WEB_SESSION_S"  # session lifetime override (seconds), e.g. for a kiosk-like desk


class LazyCodec(SessionCodec):
    """A :class:`SessionCodec` whose secret is loaded on first use, from beside the ledger file:
    making an app (for its OpenAPI schema, say) writes no file."""

    def __init__(self, secret_path: Path, max_age_s: int) -> None:
        self._secret_path = secret_path
        self.max_age_s = max_age_s
        self._ready = False

    def _load(self) -> None:
        if not self._ready:
            SessionCodec.__init__(self, load_or_make_secret(self._secret_path), self.max_age_s)
            self._ready = True

    def dumps(self, session: Session) -> str:
        self._load()
        return super().dumps(session)

    def loads(self, value: str | None) -> tuple[Session | None, bool]:
        self._load()
        return super().loads(value)

    def known_dumps(self, accounts: list[str]) -> str:
        self._load()
        return super().known_dumps(accounts)

    def known_loads(self, value: str | None, max_age_s: int) -> list[str]:
        self._load()
        return super().known_loads(value, max_age_s)


@dataclass(frozen=True)
class WebParts:
    sessions: SessionCodec
    replay: ReplayCache
    signin_limiter: SigninLimiter
    backend: Backend

    @classmethod
    def make(cls, runner: LedgerRunner, db_path: Path) -> WebParts:
        max_age = int(os.environ.get(SESSION_ENV, "0") or 0) or DEFAULT_MAX_AGE_S
        secret = db_path.with_name(db_path.name + ".web-secret")
        return cls(LazyCodec(secret, max_age), ReplayCache(), SigninLimiter(), Backend(runner, db_path))
