"""The protocol's error answers: ``{"error": {"code", "message"}}`` for every 4xx, and their docs.

Used by the app (its exception handlers, the access middleware), the routes and every part that
adds endpoints (server/stats/web/); it imports nothing of theirs, so none of them imports the app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nummerlapp.common.errors import LedgerError
from nummerlapp.common.protocol import ErrorBody
from nummerlapp.common.protocol import error_body as protocol_error_body

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    426: "upgrade_required",
    429: "too_many_requests",
}


def error_body(code: str, message: str, extra: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The protocol's error body (``ErrorBody``); known ``extra`` details (``next_open``) ride along."""
    return protocol_error_body(code, message, extra).encode()


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, extra), status_code=status, headers=headers)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx, including FastAPI's own 404/405/422, answers ``{"error": {code, message}}``."""

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (bytes that are not UTF-8)
            return error_response(422, "invalid_request", f"the request body could not be read: {exc.detail}")
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(exc))

    async def ledger_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)
        status = exc.status if 400 <= exc.status < 500 else 409
        code = "invalid_request" if status == 422 else exc.code
        return error_response(status, code, exc.message, extra=exc.details)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LedgerError, ledger_error)


_DOCUMENTED: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": code}
    for status, code in STATUS_CODES.items()
    if status in (401, 403, 404, 409, 422, 429)
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error answers it can give, in /openapi.json."""
    return {s: _DOCUMENTED[s] for s in statuses}
