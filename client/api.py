"""Async HTTP client for the site service (shared/PROTOCOL.md), used by kiosks, boards and tools.

It speaks the wire contract and nothing else: answers are read with the protocol module's classes
(``nummerlapp.common.protocol``; a wrong shape is a ``ProtocolError``, a kind of
``ServiceUnavailable``), every non-2xx answer becomes an exception from
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
import ssl
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from nummerlapp.client.tls import CertificateChanged, is_certificate_failure
from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, Forbidden, LedgerError, NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

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


M = TypeVar("M", bound=P.Wire)


def decode(model: type[M], data: object, what: str) -> M:
    """An answer read with the protocol's class for it; a wrong shape is a :class:`ProtocolError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "answer"
        raise P.ProtocolError(f"malformed answer to {what}: {where}: {err.get('msg', 'invalid')}") from None


def error_from_response(response: httpx.Response) -> LedgerError | ServiceError:
    """Map a non-2xx answer to the error tree; the protocol body gives ``code`` and ``message``."""
    code: str | None = None
    message = f"HTTP {response.status_code}"
    details: dict[str, Any] = {}
    try:
        err = P.ErrorBody.model_validate_json(response.content).error
    except ValidationError:  # not the protocol's body (a proxy's page, a 5xx): the status says it
        pass
    else:
        code, message = err.code, err.message
        details = {k: v for k, v in err.encode().items() if k not in ("code", "message")}
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
        verify: ssl.SSLContext | bool = True,
        pinned_sha256: str | None = None,
    ) -> None:
        """``verify``: httpx's (client/tls.py: the pinned certificate of an enrolled device, or
        the enrolment's first contact); ``pinned_sha256`` names the pin in the error when the
        service shows another certificate (:class:`~client.tls.CertificateChanged`)."""
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._pinned = pinned_sha256
        headers = {"Accept": "application/json", "User-Agent": "nummerlapp-client/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
            transport=transport,
            verify=verify,
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

    def set_token(self, token: str | None) -> None:
        """A device's new token (after enrolment), or none (revoked): later requests carry it."""
        self._token = token
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        else:
            self._http.headers.pop("Authorization", None)

    async def _request(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        try:
            response = await self._http.request(method, P.API_PREFIX + path, json=json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            if self._pinned and is_certificate_failure(exc):
                raise CertificateChanged(self.base_url, self._pinned) from exc
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

    async def health(self) -> P.Health:
        """``GET /health``: ``{"status", "version", "site"}``. Cheap: use it as a liveness probe."""
        return decode(P.Health, await self._request("GET", "/health"), "GET /health")

    async def get_state(self) -> P.Snapshot:
        """``GET /state``: the board snapshot."""
        return decode(P.Snapshot, await self._request("GET", "/state"), "GET /state")

    async def issue_ticket(self, department: str, lang: str | None = None) -> P.IssuedTicket:
        """``POST /tickets``. Raises NotFound, Conflict (closed, ``queue_full``), RateLimited."""
        body = P.IssueBody(department=department, lang=lang) if lang else P.IssueBody(department=department)
        answer = await self._request("POST", "/tickets", json=body.encode())
        return decode(P.IssuedTicket, answer, "POST /tickets")

    async def check_in(self, reference: str, lang: str | None = None) -> P.IssuedTicket:
        """``POST /appointments/{reference}/check-in``: the booked visit's ticket (with ``appointment``).

        Raises NotFound (``unknown_appointment``) and Conflict (``not_today``, ``already_checked_in``,
        ``cancelled``, ``too_late``)."""
        body = P.CheckInBody(lang=lang) if lang else P.CheckInBody()
        path = f"/appointments/{reference}/check-in"
        answer = await self._request("POST", path, json=body.encode())
        return decode(P.CheckInAnswer, answer, "POST /appointments/{reference}/check-in").ticket

    async def get_ticket(self, ticket_id: str) -> P.Ticket:
        """``GET /tickets/{id}`` with fresh ``ahead`` and ``estimated_wait_s``."""
        return decode(P.Ticket, await self._request("GET", f"/tickets/{ticket_id}"), "GET /tickets/{id}")

    async def give_feedback(
        self, body: P.FeedbackBody, idempotency_key: str | None = None
    ) -> P.FeedbackAnswer:
        """``POST /feedback`` (feedback token): one visit's answers at the exit terminal.

        ``idempotency_key``: sent as the ``Idempotency-Key`` header; the same key on every attempt
        to send one visit makes the service store it once (feedback/outbox.py keeps one per visit).
        Raises BadRequest (422: a question the site no longer asks), Unauthorized/Forbidden."""
        headers = None if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        answer = await self._request("POST", "/feedback", json=body.encode(), headers=headers)
        return decode(P.FeedbackAnswer, answer, "POST /feedback")

    # -- v1.1: enrolment and configuration (client/enrol.py) ------------------------------------

    async def ask_to_join(self, body: P.EnrolmentRequest) -> P.Enrolment:
        """``POST /enrolments``: the code to show. Raises RateLimited (429: too many wait)."""
        answer = await self._request("POST", "/enrolments", json=body.encode())
        return decode(P.EnrolmentAnswer, answer, "POST /enrolments").enrolment

    async def enrolment(self, enrolment_id: str) -> P.Enrolment:
        """``GET /enrolments/{id}``: pending, approved (with the token, once), refused, expired."""
        answer = await self._request("GET", f"/enrolments/{enrolment_id}")
        return decode(P.EnrolmentAnswer, answer, "GET /enrolments/{id}").enrolment

    async def get_config(self) -> P.ConfigAnswer:
        """``GET /config`` (device token): what this device needs of the site file."""
        return decode(P.ConfigAnswer, await self._request("GET", "/config"), "GET /config")

    async def report_device_status(
        self,
        device_id: str,
        *,
        role: P.DeviceRole,
        name: str,
        version: str,
        printer: P.PrinterReport | None = None,
    ) -> P.Device:
        """``POST /devices/{id}/status``: the service records it and emits ``device.status``."""
        body = P.DeviceStatusBody(
            role=role,
            name=name[:100],
            version=version[:40],
            printer=None
            if printer is None
            else P.PrinterReportBody(state=printer.state, detail=printer.detail[:200]),
        )
        answer = await self._request("POST", f"/devices/{device_id}/status", json=body.encode())
        return decode(P.DeviceAnswer, answer, "POST /devices/{id}/status").device
