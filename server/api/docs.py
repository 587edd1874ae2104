"""``/docs`` (Swagger UI) and ``/redoc``, served from the appliance itself.

FastAPI's own pages load their scripts from a CDN, so on an appliance without internet they
were blank. The same pages are made here with FastAPI's ``get_swagger_ui_html`` and
``get_redoc_html``, pointed at copies of the scripts shipped in a Python package
(``fastapi-offline``, a dependency: it carries ``swagger-ui-bundle.js``, ``swagger-ui.css`` and
``redoc.standalone.js``) and served under ``/static/docs``. Only the LAN port has them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_STATIC = "/static/docs"


def _assets() -> Path | None:
    try:
        import fastapi_offline  # noqa: PLC0415  # start-up: only when the app is made
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).resolve().parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI) -> None:
    folder = _assets()
    if folder is None:  # no local copy: better no page than a page that calls a CDN
        return
    app.mount(DOCS_STATIC, StaticFiles(directory=str(folder)), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
        )

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
