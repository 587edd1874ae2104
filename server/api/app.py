"""The site service's HTTP + WebSocket API (PROTOCOL.md, plus the extensions in docs/API.md).

``create_app(settings, db_path, ...)`` builds a FastAPI app whose lifespan opens the ledger in its
writer thread (server/api/runner.py), fans events out through the hub (server/api/hub.py) and, if given,
advertises over mDNS (server/api/mdns.py). Everything the routes and pages use is one typed
:class:`~server.api.services.Services`, reached with ``services(request)``.

The parts it is made of, each imported here and importing nothing of this module: the error
answers (errors.py), who may do what (auth.py's rule table, access.py's middleware), the
counter actions (actions.py), the routes (routes.py), the event socket (sockets.py), and the
pages: desk, technician and phone (server/web/) and the statistics (server/stats/web/).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, WebSocket

from nummerlapp.common.protocol import Snapshot
from nummerlapp.config.model import Settings
from nummerlapp.server.api import appointments, config_api, enrolment, feedback, floor
from nummerlapp.server.api.access import API, AccessMiddleware, AuthStore
from nummerlapp.server.api.docs import install_docs
from nummerlapp.server.api.errors import install_error_handlers
from nummerlapp.server.api.follow import FollowHub
from nummerlapp.server.api.follow import router as follow_router
from nummerlapp.server.api.hub import DEFAULT_MAX_QUEUE, Hub
from nummerlapp.server.api.limits import BodyLimit, ListenerLimits, SocketLimit, budget, raise_file_limit
from nummerlapp.server.api.routes import router
from nummerlapp.server.api.runner import LedgerRunner
from nummerlapp.server.api.services import KioskLimiter, Services
from nummerlapp.server.api.sitefile import SiteFile, SiteHolder
from nummerlapp.server.api.sockets import serve_events
from nummerlapp.server.stats import web as stats_web
from nummerlapp.server.web import pages
from nummerlapp.server.web.apiauth import session_authenticator
from nummerlapp.server.web.parts import WebParts

if TYPE_CHECKING:
    from nummerlapp.server.api.mdns import ServerMdns

log = logging.getLogger(__name__)
TICK_S = 30.0  # Ledger.tick(): day roll-over and opening-hour changes become events
TOUCH_FLUSH_S = 60.0  # tokens.last_used_at is written at most this often


def _version() -> str:
    try:
        return version("nummerlapp")
    except PackageNotFoundError:
        return "0.1.0"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    settings: Settings,
    db_path: Path,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    client_queue: int = DEFAULT_MAX_QUEUE,
    mdns: ServerMdns | None = None,
    limits: ListenerLimits | None = None,
    tls_sha256: str | None = None,
) -> FastAPI:
    """Build the site service app. Stable signature; everything else is keyword-only.

    - ``settings``: the site (config.load_settings); ``db_path``: the ledger's SQLite file.
    - ``clock``: ``() -> aware datetime`` for the ledger (tests move time); None: the real clock.
    - ``client_queue``: events buffered per WebSocket client before it is dropped (code 1013).
    - ``mdns``: a :class:`server.api.mdns.ServerMdns` started/stopped with the app; None: no mDNS.
    - ``limits``: this (LAN) listener's WebSocket caps (server/api/limits.py); None: the shares
      of the current file limit.
    - ``tls_sha256``: the served certificate's SHA-256, shown by ``/health`` (devices pin it).

    The visitors' port is a second app on the same :class:`Services`:
    :func:`server.api.public.create_public_app` (it runs no lifespan of its own).

    ``services(request)`` (server/api/services.py) then gives the app's :class:`Services`.
    """
    db_path = Path(db_path)
    hub = Hub(client_queue)
    runner = LedgerRunner(db_path, settings, clock=clock, on_events=hub.publish_threadsafe)
    web = WebParts.make(runner, db_path)
    store = AuthStore(db_path, runner, sessions=session_authenticator(web))
    follow = FollowHub(db_path, settings, clock)
    hub.listeners.append(follow.on_events)
    svc = Services(
        site=SiteHolder(SiteFile.of(settings)),  # issue 13: the site file in force, reloadable
        db_path=db_path,
        clock=clock or _utc_now,
        runner=runner,
        hub=hub,
        auth=store,
        limiter=KioskLimiter(settings.site.kiosk_interval_s),
        web=web,
        follow=follow,
        mdns=mdns,
        tls_sha256=tls_sha256,
    )

    async def snapshot() -> Snapshot:
        return await runner.run(lambda ledger: ledger.state())

    async def tick() -> None:
        await runner.run(lambda ledger: ledger.tick())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind_loop(asyncio.get_running_loop())
        await runner.start()
        store.open()
        await follow.start()
        tasks = [asyncio.create_task(_every(TICK_S, tick))]
        tasks.append(asyncio.create_task(_every(TOUCH_FLUSH_S, store.flush)))
        tasks.append(asyncio.create_task(enrolment.watch_revoked(svc)))  # issue 13
        await config_api.started(svc)  # issue 13: SIGHUP reloads the site file
        if mdns is not None:
            await mdns.start()
        log.info("site service for %r ready (ledger %s)", settings.site.id, db_path)
        try:
            yield
        finally:
            hub.close()
            await follow.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if mdns is not None:
                with contextlib.suppress(Exception):
                    await mdns.stop()
            with contextlib.suppress(Exception):
                await store.flush()
            store.close()
            await runner.close()
            log.info("site service stopped")

    app = FastAPI(
        title="Nummerlapp site service",
        version=_version(),
        description="Queue tickets for public service centres. Wire protocol v1: docs/PROTOCOL.md, docs/API.md.",
        lifespan=lifespan,
        docs_url=None,  # served from the appliance itself below, not from a CDN
        redoc_url=None,
    )
    app.state.services = svc  # the one attribute: read it with services(request)
    install_error_handlers(app)
    app.add_middleware(AccessMiddleware, store=store)
    # Outermost: a socket or a body too many is refused before anything else looks at it.
    app.add_middleware(SocketLimit, limits=limits or budget(raise_file_limit()).lan)
    app.add_middleware(BodyLimit)
    app.include_router(router, prefix=API)
    app.include_router(follow_router, prefix=API)
    install_docs(app)
    app.include_router(feedback.router, prefix=API)  # issue 16: feedback and board messages
    app.include_router(feedback.public_router, prefix=API)
    app.include_router(appointments.router, prefix=API)  # issue 15: booked visits
    app.include_router(floor.router, prefix=API)  # issue 17: silent alarm, a department by hand
    app.include_router(enrolment.router, prefix=API)  # issue 13: devices join, configuration
    app.include_router(config_api.router, prefix=API)

    @app.websocket(f"{API}/events")
    async def events(websocket: WebSocket) -> None:
        await serve_events(
            websocket,
            hub,
            snapshot,
            svc.sockets,
            auth=store,
            device_of=lambda token_id: runner.run_conn(lambda conn: enrolment.device_of(conn, token_id)),
            alarms=lambda: runner.run(lambda ledger: ledger.open_alarms()),
        )

    _declare_bearer(app)
    pages.install(app)  # desk, technician and phone pages (server/web/)
    stats_web.install(app)  # the report page and GET /api/v1/stats (server/stats/web/)
    return app


def _declare_bearer(app: FastAPI) -> None:
    """Add the bearer scheme the routes' ``security`` names to /openapi.json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["HTTPBearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "a token made with `python main.py token --role ROLE`",
            }
            feedback.document(schema, app.state.services.settings)  # this site's languages and questions
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _every(period: float, fn: Callable[[], Awaitable[Any]]) -> None:
    while True:
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job failed")
        await asyncio.sleep(period)
