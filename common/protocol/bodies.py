"""Request bodies the service accepts: unknown keys refused, every string bounded (a 422 before
any work). Clients build their requests from the same classes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from nummerlapp.common.protocol.base import Body, DeviceRole, Id, PrinterState
from nummerlapp.common.protocol.feedback import MAX_MESSAGES, BoardMessage

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


class DeviceSettingsBody(Body):
    """Extension: ``PATCH /devices/{id}`` (admin): rename an enrolled device, change a board's
    zone or a kiosk's printer (every key optional; ``""`` clears zone or printer)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    zone: str | None = Field(default=None, max_length=64)
    printer: str | None = Field(default=None, max_length=64)


class AppointmentCreate(Body):
    """``POST /appointments``."""

    department: Id
    start: dt.datetime = Field(description="ISO 8601 with an offset")
    reference: str | None = Field(default=None, min_length=8, max_length=8, pattern=r"^[A-HJKMNP-Z2-9]{8}$")


class CheckInBody(Body):
    """``POST /appointments/{reference}/check-in`` (optional): the language the visitor chose."""

    lang: Lang | None = Field(default=None, description="visitor's language")


class SlipBody(Body):
    """Extension: ``POST /appointments/{reference}/slip``: the kiosk that prints it, and the
    slip's language (default: the site's first)."""

    kiosk: Id = Field(description="an enrolled kiosk's device id")
    lang: Lang | None = Field(default=None, description="the slip's language (a site language)")


def _number(value: object) -> object:
    """An answer is a JSON number (``4``, also ``4.0``): not ``true``, not ``"4"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an answer is a number: 1 to 5, or 1 (yes) / 0 (no)")
    return value


class FeedbackBody(Body):
    """``POST /feedback`` and ``POST /follow/{follow}/feedback``: question id → answer (1–5, yes/no as 1/0)."""

    answers: dict[Id, Annotated[int, Field(ge=0, le=5), BeforeValidator(_number)]] = Field(
        min_length=1, max_length=5
    )
    lang: Lang | None = None


class BoardMessagesBody(Body):
    """``PUT /site/messages``: the "you said, we did" lines, each in the site's languages, each
    optionally with ``"until": "YYYY-MM-DD"`` (the last day shown; :class:`.feedback.BoardMessage`)."""

    messages: list[BoardMessage] = Field(max_length=MAX_MESSAGES)


class CallBody(Body):
    """``POST /counters/{id}/call``: a waiting or parked ticket by number or id, out of turn."""

    ticket: Id
