"""The error body every 4xx carries, and the error a side raises for a shape it cannot read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field

from nummerlapp.common.errors import ServiceUnavailable
from nummerlapp.common.protocol.base import Instant, Wire


class ProtocolError(ServiceUnavailable):
    """The other side sent a known shape wrongly (a missing key, a wrong type).

    A client treats it like a service that answered with nonsense: it is unusable right now, and
    nothing a visitor did caused it.
    """


class ErrorDetail(Wire):
    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"next_open"})
    code: str = Field(description="snake_case error code, e.g. `queue_full`, `invalid_request`")
    message: str = Field(description="a human sentence for technicians")
    next_open: Instant | None = Field(
        default=None, description="`site_closed` / `department_closed`: when issuing opens again"
    )


class ErrorBody(Wire):
    """Every 4xx answer: ``{"error": {"code", "message"}}`` (closed answers add ``next_open``)."""

    error: ErrorDetail


def error_body(code: str, message: str, details: Mapping[str, object] | None = None) -> ErrorBody:
    """The error body; known ``details`` (``next_open``, also when null) ride beside code and message."""
    return ErrorBody(error=ErrorDetail.model_validate({**(details or {}), "code": code, "message": message}))
