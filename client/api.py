"""Async HTTP client for the site service (shared/PROTOCOL.md), used by kiosks, boards and tools.

It speaks the wire contract and nothing else: every non-2xx answer becomes an exception from
``common.errors`` carrying the protocol's snake_case ``code``, and every transport failure becomes
``ServiceUnavailable``. Callers decide what a visitor sees; this module never formats words for
people, and it must not import Kivy (boards and command-line tools use it too).

Why ``ServiceUnavailable.request_sent`` matters: a ``POST /tickets`` that failed to *connect* issued
nothing and may be retried, but one whose answer was lost (read timeout, connection reset after
sending) may already have issued a number, and retrying would print a second ticket for one visitor.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from nummerlapp.common.errors import Conflict, Forbidden, LedgerError, NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT_S = 5.0


class Unauthorized(Forbidden):
    """401: no token, or a token the service does not know (revoked, typed wrong)."""

    status = 401
    code = "unauthorized"


class BadRequest(LedgerError):
    """400/422: the service refused the shape of the request. A client bug, never a visitor's."""

    status = 422
    code = "bad_request"


class RateLimited(LedgerError):
    """429: this kiosk token asked again before its interval passed; nothing was issued."""

    status = 429
    code = "rate_limited"

    @property
    def retry_after_s(self) -> float:
        value = self.details.get("retry_after_s")
        return float(value) if isinstance(value, int | float) else 2.0


class ServiceError(ServiceUnavailable):
    """The service answered 5xx: it is up but could not do it. Treated like unreachable."""


class ApiUnavailable(ServiceUnavailable):
    """Transport failure. ``request_sent`` is False only when nothing reached the service."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


_STATUS_ERRORS: dict[int, type[LedgerError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
    429: RateLimited,
}


@dataclass(frozen=True)
class Ticket:
    """A ticket as the protocol sends it. ``raw`` keeps fields added by later protocol versions."""

    id: str
    number: str
    department: str
    status: str
    issued_at: str
    ahead: int
    estimated_wait_s: int | None
    counter: str | None = None
    called_at: str | None = None
    lang: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ticket:
        try:
            wait = data.get("estimated_wait_s")
            return cls(
                id=str(data["id"]),
                number=str(data["number"]),
                department=str(data["department"]),
                status=str(data.get("status", "waiting")),
                issued_at=str(data.get("issued_at", "")),
                ahead=int(data.get("ahead") or 0),
                estimated_wait_s=None if wait is None else int(wait),
                counter=None if data.get("counter") is None else str(data["counter"]),
                called_at=data.get("called_at"),
                lang=data.get("lang"),
                raw=dict(data),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ServiceError(f"malformed ticket from the service: {exc!r}") from exc


def error_from_response(response: httpx.Response) -> LedgerError | ServiceError:
    """Map a non-2xx answer to the error tree; the protocol body gives ``code`` and ``message``."""
    code: str | None = None
    message = f"HTTP {response.status_code}"
    details: dict[str, Any] = {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = str(err.get("code")) if err.get("code") else None
        message = str(err.get("message") or message)
        details = {k: v for k, v in err.items() if k not in ("code", "message")}
    elif isinstance(body, dict) and "detail" in body:  # a framework's own 422 shape
        message = str(body["detail"])
    if response.status_code >= 500:
        return ServiceError(f"service error {response.status_code}: {message}")
    retry_after = response.headers.get("retry-after")
    if retry_after is not None and "retry_after_s" not in details:
        with contextlib.suppress(ValueError):
            details["retry_after_s"] = float(retry_after)
    cls = _STATUS_ERRORS.get(response.status_code, LedgerError)
    exc = cls(message, code, **details)
    exc.status = response.status_code
    return exc


class ApiClient:
    """One connection pool to one site service. Use as ``async with ApiClient(url, token) as api``.

    ``transport`` is httpx's seam: production passes nothing, a test of a caller with no server may
    pass ``httpx.MockTransport`` (the client's own tests run against the real server process).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        headers = {"Accept": "application/json", "User-Agent": "nummerlapp-client/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
            transport=transport,
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    async def _request(self, method: str, path: str, json: Any = None) -> Any:
        try:
            response = await self._http.request(method, API_PREFIX + path, json=json)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ApiUnavailable(f"cannot reach {self.base_url}: {exc}", request_sent=False) from exc
        except httpx.TransportError as exc:  # read/write timeouts, resets, protocol errors
            raise ApiUnavailable(f"no answer from {self.base_url}: {exc!r}", request_sent=True) from exc
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ServiceError(f"{method} {path}: answer is not JSON") from exc
        raise error_from_response(response)

    # -- the endpoints --------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """``GET /health``: ``{"status", "version", "site"}``. Cheap: use it as a liveness probe."""
        result: dict[str, Any] = await self._request("GET", "/health")
        return result

    async def get_state(self) -> dict[str, Any]:
        """``GET /state``: the board snapshot exactly as the protocol shapes it."""
        result: dict[str, Any] = await self._request("GET", "/state")
        return result

    async def issue_ticket(self, department: str, lang: str | None = None) -> Ticket:
        """``POST /tickets``. Raises NotFound, Conflict (closed, ``queue_full``), RateLimited."""
        body: dict[str, Any] = {"department": department}
        if lang:
            body["lang"] = lang
        return Ticket.from_json(await self._request("POST", "/tickets", json=body))

    async def get_ticket(self, ticket_id: str) -> Ticket:
        """``GET /tickets/{id}`` with fresh ``ahead`` and ``estimated_wait_s``."""
        return Ticket.from_json(await self._request("GET", f"/tickets/{ticket_id}"))

    async def report_device_status(
        self,
        device_id: str,
        *,
        role: str,
        name: str,
        version: str,
        printer: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """``POST /devices/{id}/status``: the service records it and emits ``device.status``."""
        body: dict[str, Any] = {"role": role, "name": name, "version": version}
        if printer is not None:
            body["printer"] = printer
        if extra:
            body.update(extra)
        await self._request("POST", f"/devices/{device_id}/status", json=body)
