"""Request bodies the service accepts: unknown keys refused, every string bounded (a 422 before
any work). Clients build their requests from the same classes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from nummerlapp.common.protocol.base import Body, DeviceRole, Id, PrinterState

Lang = Annotated[str, Field(min_length=2, max_length=16, description="a language the site offers")]
Text = Annotated[str, Field(max_length=300)]


class IssueBody(Body):
    """``POST /tickets``."""

    department: Id = Field(description="department id")
    lang: Lang | None = Field(default=None, description="visitor's language")


class TransferBody(Body):
    """``POST /counters/{id}/transfer``."""

    department: Id = Field(description="target department id")


class PrinterReportBody(Body):
    state: PrinterState
    detail: str = Field(default="", max_length=200)


class DeviceStatusBody(Body):
    """``POST /devices/{id}/status``: a kiosk's or board's heartbeat (``display`` is stored as ``board``)."""

    role: DeviceRole
    name: str = Field(default="", max_length=100)
    version: str = Field(default="", max_length=40)
    printer: PrinterReportBody | None = None


# -- v1.1 ------------------------------------------------------------------------------------------------


class EnrolmentRequest(Body):
    """``POST /enrolments``: a device without a token asks to join."""

    device: Id
    role: Literal["kiosk", "display", "feedback"]
    name: str = Field(min_length=1, max_length=100)


class EnrolmentApproval(Body):
    """``POST /enrolments/{code}/approve`` (every key optional)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    zone: Id | None = None
    printer: Id | None = None


class AppointmentCreate(Body):
    """``POST /appointments``."""

    department: Id
    start: dt.datetime = Field(description="ISO 8601 with an offset")
    reference: str | None = Field(default=None, min_length=8, max_length=8, pattern=r"^[A-HJKMNP-Z2-9]{8}$")


class FeedbackBody(Body):
    """``POST /feedback`` and ``POST /follow/{follow}/feedback``: question id → answer (1–5, yes/no as 1/0)."""

    answers: dict[Id, Annotated[int, Field(ge=0, le=5)]] = Field(min_length=1, max_length=5)
    lang: Lang | None = None


class BoardMessagesBody(Body):
    """``PUT /site/messages``: the "you said, we did" lines, each in the site's languages."""

    messages: list[dict[Lang, Text]] = Field(max_length=20)


class CallBody(Body):
    """``POST /counters/{id}/call``: a waiting or parked ticket by number or id, out of turn."""

    ticket: Id
