"""What the site service's app holds, typed: one :class:`Services` per app, one way to reach it.

``create_app`` (server/api/app.py) builds it; every route, page and middleware reaches it through
:func:`services` (from a request or a WebSocket) instead of reading loose ``app.state`` attributes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from nummerlapp.config.model import Settings
from nummerlapp.server.api.access import AuthStore
from nummerlapp.server.api.askgate import AskGate
from nummerlapp.server.api.follow import FollowHub
from nummerlapp.server.api.hub import Hub
from nummerlapp.server.api.reports import ReportGate
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.api.sitefile import SiteHolder
from nummerlapp.server.api.sockets import SocketClient
from nummerlapp.server.web.parts import WebParts

if TYPE_CHECKING:
    from nummerlapp.server.api.mdns import ServerMdns

Clock = Callable[[], dt.datetime]


class KioskLimiter:
    """One ticket per kiosk token per ``interval`` seconds (a child pressing fifty times wastes no paper)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[int, float] = {}

    def check(self, token_id: int) -> float:
        """0 when allowed now (and recorded), else the seconds to wait."""
        now = time.monotonic()
        last = self._last.get(token_id)
        if last is not None and now - last < self.interval:
            return self.interval - (now - last)
        self._last[token_id] = now
        return 0.0


@dataclass(frozen=True)
class Services:
    """Everything one app's routes and pages use. Built once by ``create_app``; never replaced.

    The settings in force live in ``site`` (a reload swaps them: server/api/config_api.py);
    ``settings`` reads them."""

    site: SiteHolder
    db_path: Path
    clock: Clock  # the ledger's clock (tests move time): "today" for reports too
    runner: LedgerRunner  # the single writer thread: ``await runner.run(lambda ledger: …)``
    hub: Hub  # event fan-out to the WebSockets
    auth: AuthStore  # token look-ups (read-only) and the pages' sessions
    limiter: KioskLimiter  # kiosk tokens: one ticket per interval
    web: WebParts  # the desk and technician pages' sessions, replay cache, accounts
    follow: FollowHub  # visitors' phones following their tickets (server/api/follow.py)
    reports: ReportGate = field(default_factory=ReportGate)  # device status before the writer
    mdns: ServerMdns | None = None
    enrolment_asks: AskGate = field(default_factory=AskGate)  # POST /enrolments per address
    sockets: dict[str, SocketClient] = field(default_factory=dict)  # device id → named socket
    tls_sha256: str | None = None  # the served certificate's fingerprint, when serving TLS

    @property
    def settings(self) -> Settings:
        """The site file in force now (a reload may swap it between two requests)."""
        return self.site.settings


def services(conn: HTTPConnection) -> Services:
    """The app's :class:`Services`, from a request or a WebSocket (a FastAPI dependency, too)."""
    found = getattr(conn.app.state, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("this app was not made by server.api.app.create_app")
    return found
