"""The event socket's messages (``GET /api/v1/events``) and the follow stream's, each written once.

Every change is ``{"type", "seq", "at", …payload}``; the first message after connecting is
``{"type": "snapshot", "seq", "state"}``. Build events with their classes
(``TicketCalled(seq=…, at=…, ticket=…, counter=…)``), send ``event.encode()``, read with
:func:`decode_event`: an unknown ``type`` is ``None`` (ignored, as the contract asks), a known one
with a wrong shape raises :class:`ProtocolError`.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, TypeAdapter, ValidationError

from nummerlapp.common.protocol.base import Instant, Wire
from nummerlapp.common.protocol.errors import ProtocolError
from nummerlapp.common.protocol.resources import (
    Alarm,
    AppointmentSlipRef,
    Counter,
    CounterRef,
    Department,
    DepartmentRef,
    DepartmentState,
    Device,
    DeviceRef,
    FollowTicket,
    Site,
    Snapshot,
    Ticket,
)


class EventBase(Wire):
    """The envelope every change has: ``seq`` rises by exactly 1 per event across the site."""

    type: str
    seq: int
    at: Instant


class _Touches(EventBase):
    """An event that changed queues: the touched departments' new figures ride along."""

    departments: list[DepartmentState]


class _MayTouch(EventBase):
    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"departments"})
    departments: list[DepartmentState] | None = None


class _AtCounter(EventBase):
    """A ticket's step at a counter: the full ticket, and the counter that took it."""

    ticket: Ticket
    counter: CounterRef


class TicketIssued(_Touches):
    """A new ticket waits (the kiosk, the reception or a phone took it)."""

    type: Literal["ticket.issued"] = "ticket.issued"
    ticket: Ticket


class TicketCalled(_AtCounter, _Touches):
    """Enough for a board to show and announce the call without another request."""

    type: Literal["ticket.called"] = "ticket.called"


class TicketRecalled(_AtCounter):
    type: Literal["ticket.recalled"] = "ticket.recalled"


class TicketServing(_AtCounter):
    """The called visitor arrived at the desk (``called`` → ``serving``); sent once."""

    type: Literal["ticket.serving"] = "ticket.serving"


class TicketParked(_AtCounter):
    """Extension: the counter's current ticket stepped away (``parked``); ``call`` brings it
    back. The counter, now free, follows as ``counter.changed``. The queues do not change."""

    type: Literal["ticket.parked"] = "ticket.parked"


class TicketDone(_AtCounter, _Touches):
    type: Literal["ticket.done"] = "ticket.done"


class TicketNoShow(_AtCounter, _Touches):
    type: Literal["ticket.no_show"] = "ticket.no_show"


class TicketTransferred(_AtCounter, _Touches):
    """The ticket as it now waits in its new department; ``from`` names the one it left."""

    type: Literal["ticket.transferred"] = "ticket.transferred"
    from_: DepartmentRef = Field(validation_alias="from", serialization_alias="from")


class TicketVoid(EventBase):
    """A live ticket left from an earlier service day, or voided by a technician's reset."""

    type: Literal["ticket.void"] = "ticket.void"
    ticket: Ticket


class CounterChanged(_MayTouch):
    """A counter paused, opened, or took or let go of a ticket (as in the snapshot)."""

    type: Literal["counter.changed"] = "counter.changed"
    counter: Counter


class DepartmentChanged(EventBase):
    """A department's state changed: opening hours, or its queue after a batch of voids."""

    type: Literal["department.changed"] = "department.changed"
    department: Department


class SiteChanged(_MayTouch):
    """``reset`` (present and true only after a technician's reset): take a fresh snapshot."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"departments", "reset"})
    type: Literal["site.changed"] = "site.changed"
    site: Site
    reset: bool = False


class DeviceStatus(EventBase):
    """A device's heartbeat: its last report, printer state and when it was last seen."""

    type: Literal["device.status"] = "device.status"
    device: Device


class DeviceIdentify(EventBase):
    """The technician asks that device (and no other) to show itself."""

    type: Literal["device.identify"] = "device.identify"
    device: DeviceRef


class ConfigChanged(EventBase):
    """v1.1: the site file changed; devices fetch ``GET /config`` again."""

    type: Literal["config.changed"] = "config.changed"
    version: str


class _AlarmEvent(EventBase):
    """v1.1: a desk's silent alarm (staff, manager and admin sockets only)."""

    alarm: Alarm


class AlarmRaised(_AlarmEvent):
    type: Literal["alarm.raised"] = "alarm.raised"


class AlarmCleared(_AlarmEvent):
    type: Literal["alarm.cleared"] = "alarm.cleared"


class AppointmentSlip(EventBase):
    """Extension: print a booked visit's slip at one kiosk (the reception's "Print at kiosk").

    Sent to the event socket(s) of that enrolled kiosk only (never a board, another device, a
    desk, the public stream or a phone: the reference is the visitor's check-in credential). Not
    a change of the site's state and not stored: like the alarms it takes no ``seq`` of its own
    but carries the latest site event's, outside the order (:data:`OUT_OF_ORDER`)."""

    type: Literal["appointment.slip"] = "appointment.slip"
    device: DeviceRef
    appointment: AppointmentSlipRef
    lang: str = Field(min_length=2, max_length=16)


class SnapshotMessage(Wire):
    """The socket's first message after every connect."""

    type: Literal["snapshot"] = "snapshot"
    seq: int
    state: Snapshot


Change = Annotated[
    TicketIssued
    | TicketCalled
    | TicketRecalled
    | TicketServing
    | TicketParked
    | TicketDone
    | TicketNoShow
    | TicketTransferred
    | TicketVoid
    | CounterChanged
    | DepartmentChanged
    | SiteChanged
    | DeviceStatus
    | DeviceIdentify
    | ConfigChanged
    | AlarmRaised
    | AlarmCleared
    | AppointmentSlip,
    Field(discriminator="type"),
]
"""One change (every message of the socket but the snapshot; a device's job included)."""

Event = Annotated[Change | SnapshotMessage, Field(discriminator="type")]
"""Any message of the event socket."""

CallEvent = TicketCalled | TicketRecalled

# The messages outside the site-wide ``seq`` order: they carry the latest event's ``seq``, take
# none, and reach only some sockets (alarms: staff; a slip: one kiosk). A client passes them on
# without touching its last ``seq`` or its gap check (client/events.py).
OUT_OF_ORDER: frozenset[str] = frozenset({"alarm.raised", "alarm.cleared", "appointment.slip"})


# Built on first use, not at import: a device decodes a few kinds of message, and building every
# validator up front costs start-up time and memory on a Pi-class board (docs/benchmarks/).
@functools.cache
def _event_adapter() -> TypeAdapter[Change | SnapshotMessage]:
    return TypeAdapter(Event)


@functools.cache
def _change_adapter() -> TypeAdapter[Change]:
    return TypeAdapter(Change)


CHANGE_CLASSES: tuple[type[EventBase], ...] = get_args(get_args(Change)[0])
# A job for one device (a kiosk's slip) is not a site event: never stored, never on a board's,
# a desk's or the public stream. :func:`decode_event` reads it apart from EVENT_TYPES.
DEVICE_JOBS: tuple[type[EventBase], ...] = (AppointmentSlip,)
_MODELS: tuple[type[Wire], ...] = (*CHANGE_CLASSES, SnapshotMessage)
EVENT_TYPES: frozenset[str] = frozenset(
    str(model.model_fields["type"].default) for model in _MODELS if model not in DEVICE_JOBS
)
"""The site's events (the ``seq`` stream, the staff channel's alarms) and the snapshot."""


def _parse(raw: str | bytes | dict[str, Any], what: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(f"{what} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{what} is not a JSON object")
    return data


def decode_event(raw: str | bytes | dict[str, Any]) -> Change | SnapshotMessage | None:
    """A message of the event socket; ``None`` for a type this side does not know (ignore it)."""
    data = _parse(raw, "event")
    kind = data.get("type")
    if kind == "appointment.slip":  # a job for one device, not a change (not in EVENT_TYPES)
        try:
            return AppointmentSlip.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError(f"malformed {kind} message: {_first_problem(exc)}") from None
    if kind not in EVENT_TYPES:
        return None
    try:
        return _event_adapter().validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"malformed {kind} event: {_first_problem(exc)}") from None


def decode_change(kind: str, seq: int, at: str, payload: dict[str, Any]) -> Change | None:
    """A stored event (type, seq and at in their own columns, the payload beside them)."""
    if kind not in EVENT_TYPES or kind == "snapshot":
        return None
    try:
        return _change_adapter().validate_python({**payload, "type": kind, "seq": seq, "at": at})
    except ValidationError as exc:
        raise ProtocolError(f"malformed {kind} event: {_first_problem(exc)}") from None


def payload(event: Wire) -> dict[str, Any]:
    """An event's keys beside the envelope (what the ledger stores next to type, seq and at)."""
    data = event.encode()
    for key in ("type", "seq", "at"):
        data.pop(key, None)
    return data


# -- v1.1: the follow stream (``GET /api/v1/follow/{follow}/events``) ------------------------------


class FollowMessage(Wire):
    """The follow stream's only message: the visitor's ticket, each time it changes."""

    type: Literal["ticket"] = "ticket"
    ticket: FollowTicket


def decode_follow(raw: str | bytes | dict[str, Any]) -> FollowMessage | None:
    """A follow-stream message; ``None`` for a type this side does not know."""
    data = _parse(raw, "follow message")
    if data.get("type") != "ticket":
        return None
    try:
        return FollowMessage.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(f"malformed follow message: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "message"
    return f"{where}: {err.get('msg', 'invalid')} ({exc.error_count()} problem(s))"
