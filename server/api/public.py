"""The visitors' surface: the app behind ``server --public-port`` (PROTOCOL.md v1.1).

Visitors' phones reach the service over the guest Wi-Fi or through the municipality's proxy:
assume anyone there is hostile and patient (docs/DESIGN "Three networks, one service"). So this
is a separate app on its own listener, with its own stricter caps (server/api/limits.py), and it
has exactly these routes, nothing else:

- ``GET /t/{follow}``: the ticket page of the QR code (server/web/phone.py), and its two static
  files ``/static/web/phone.js`` and ``/static/web/ui.css``;
- ``GET /api/v1/health``;
- ``GET /api/v1/follow/{follow}`` and the WebSocket ``/api/v1/follow/{follow}/events``
  (server/api/follow.py), and ``POST /api/v1/follow/{follow}/feedback`` (server/api/feedback.py).

Every other path answers 404 (no OpenAPI, no docs, no desk, no device API, no event stream):
the LAN port keeps those. The app shares the LAN app's :class:`Services` (one ledger writer, one
follow fan-out) and runs no lifespan of its own: the LAN app's lifespan opens and closes
everything, and the server starts this listener only once that one is up (server/cli.py).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from nummerlapp.server.api import feedback
from nummerlapp.server.api.access import API
from nummerlapp.server.api.errors import install_error_handlers
from nummerlapp.server.api.follow import router as follow_router
from nummerlapp.server.api.limits import BodyLimit, ListenerLimits, SocketLimit, budget, raise_file_limit
from nummerlapp.server.api.routes import health
from nummerlapp.server.api.services import Services
from nummerlapp.server.web import phone


def create_public_app(lan_app: FastAPI, limits: ListenerLimits | None = None) -> FastAPI:
    """The visitors' app, on the same :class:`Services` as ``lan_app`` (made by ``create_app``)."""
    svc = lan_app.state.services
    app = FastAPI(
        title="Nummerlapp – visitors",
        version=lan_app.version,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    if not isinstance(svc, Services):
        raise TypeError("lan_app was not made by server.api.app.create_app")
    app.state.services = svc
    install_error_handlers(app)
    app.add_middleware(SocketLimit, limits=limits or budget(raise_file_limit()).public)
    app.add_middleware(BodyLimit)
    api = APIRouter()
    api.add_api_route("/health", health, methods=["GET"], tags=["public"], response_model=None)
    app.include_router(api, prefix=API)
    app.include_router(follow_router, prefix=API)
    app.include_router(feedback.public_router, prefix=API)  # issue 16: a phone's feedback, once
    app.add_route("/t/{follow}", phone.ticket_page, methods=["GET"], include_in_schema=False)
    app.add_route("/static/web/{name}", phone.static_file, methods=["GET"], include_in_schema=False)
    return app
