"""Pydantic models of the HTTP API's bodies and answers, so ``/openapi.json`` says exactly what the
server accepts and returns (it is fuzzed against: see tests/server/test_fuzz.py).

Request bodies forbid unknown keys and bound every string, so bad input is a 422 before any ledger
call. Answers mirror PROTOCOL.md; snapshot parts allow extra keys because the ledger may add
informative fields (``override``, ``next_open``) without breaking clients.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Id = Field(min_length=1, max_length=64)


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case error code, e.g. `queue_full`, `invalid_request`")
    message: str = Field(description="a human sentence for technicians")


class ErrorOut(BaseModel):
    """Every 4xx answer has this shape."""

    model_config = ConfigDict(extra="allow")
    error: ErrorDetail


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    site: str


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=64, description="department id")
    lang: str | None = Field(default=None, min_length=2, max_length=16, description="visitor's language")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=64, description="target department id")


class TicketOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    number: str
    department: str
    status: Literal["waiting", "called", "serving", "done", "no_show", "void"]
    issued_at: str
    ahead: int | None
    estimated_wait_s: int | None
    counter: str | None
    called_at: str | None


class TicketResult(BaseModel):
    ticket: TicketOut | None


class ServeResult(BaseModel):
    """``POST /counters/{id}/serve``: the counter's current ticket, now (or already) ``serving``."""

    ticket: TicketOut


class CounterTicket(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    number: str
    department: str


class CounterOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    departments: list[str]
    state: Literal["open", "paused"]
    ticket: CounterTicket | None


class CounterResult(BaseModel):
    counter: CounterOut


class SiteOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    open: bool


class SiteResult(BaseModel):
    site: SiteOut


class DepartmentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    prefix: str
    name: dict[str, str]
    open: bool
    waiting: int
    estimated_wait_s: int | None


class CallOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: str
    department: str
    counter: str
    at: str
    recall: bool = False


class SnapshotOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int
    site: SiteOut
    departments: list[DepartmentOut]
    counters: list[CounterOut]
    calls: list[CallOut]


PrinterState = Literal["ok", "paper_near_end", "paper_end", "cover_open", "offline", "unknown"]


class PrinterStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: PrinterState
    detail: str = Field(default="", max_length=200)


class DeviceStatusIn(BaseModel):
    """A kiosk's or board's heartbeat (extension, see docs/API.md)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["kiosk", "board", "display"]
    name: str = Field(default="", max_length=100)
    version: str = Field(default="", max_length=40)
    printer: PrinterStatusIn | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    role: str
    name: str | None = None
    sources: list[Literal["mdns", "socket", "report"]]
    last_seen: str | None = None
    status: dict[str, Any] | None = None
    address: str | None = None


class DevicesOut(BaseModel):
    devices: list[DeviceOut]


class DeviceResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    device: dict[str, Any]


class AcceptedOut(BaseModel):
    ok: Literal[True]
