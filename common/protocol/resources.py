"""The resources and answers of shared/PROTOCOL.md v1.1 and docs/API.md, each written once.

"One shape per thing": a counter is named by :class:`CounterRef` (``{"id", "name"}``) wherever
it appears, a ticket is a :class:`Ticket` wherever it appears (a counter's current ticket in the
snapshot is a :class:`TicketBase`: the same keys without the fresh ``ahead`` and
``estimated_wait_s``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, JsonValue

from nummerlapp.common.protocol.base import (
    PRINTER_FAULTS,
    CounterStateWord,
    DeviceSource,
    Instant,
    LocalizedText,
    PrinterState,
    TicketStatus,
    Wire,
    label,
)

# -- references ---------------------------------------------------------------------------------


class CounterRef(Wire):
    """A counter as every event, answer and snapshot names it."""

    id: str
    name: str


class DepartmentRef(Wire):
    """A department named in an event (``ticket.transferred``'s ``from``): id and its names."""

    id: str
    name: LocalizedText

    def label(self, lang: str) -> str:
        return label(self.name, lang, default=self.id)


class AppointmentRef(Wire):
    """The booked visit a checked-in ticket belongs to."""

    reference: str
    start: Instant


# -- tickets --------------------------------------------------------------------------------------


class TicketBase(Wire):
    """A ticket's keys that do not age (the snapshot's ``counters[].ticket``)."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"appointment"})
    id: str = Field(description="unique forever and unguessable")
    number: str = Field(description="what people see, e.g. `A012`")
    department: str
    status: TicketStatus
    issued_at: Instant
    counter: CounterRef | None = Field(description="the counter calling or serving it, else null")
    called_at: Instant | None
    lang: str = Field(description="the language the visitor chose (the site's default if none)")
    appointment: AppointmentRef | None = Field(default=None, description="only for a checked-in booking")


class Ticket(TicketBase):
    """PROTOCOL.md's ticket: with ``ahead`` and ``estimated_wait_s`` fresh when it was sent."""

    ahead: int | None = Field(description="tickets called before this one; 0 when called, null when finished")
    estimated_wait_s: int | None


class IssuedTicket(Ticket):
    """The answer to ``POST /tickets`` and to a check-in: the only place ``follow`` appears."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"appointment", "follow"})
    follow: str | None = Field(default=None, description="the ticket's follow secret, for its QR code")


class TicketAnswer(Wire):
    """Counter actions: ``{"ticket": {…}}``, or ``{"ticket": null}`` from `next` when nobody waits."""

    ticket: Ticket | None


class CurrentTicketAnswer(Wire):
    """``POST /counters/{id}/serve`` and ``/call``: the counter's ticket, never null."""

    ticket: Ticket


class CheckInAnswer(Wire):
    ticket: IssuedTicket


# -- the snapshot ----------------------------------------------------------------------------------


class Site(Wire):
    """The site as the snapshot, ``site.changed`` and the site actions show it."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"next_open", "messages"})
    id: str
    name: str
    open: bool
    override: bool | None = Field(description="true/false while site/open or site/close rules today")
    next_open: Instant | None = Field(default=None, description="only while closed: when issuing opens")
    messages: list[LocalizedText] | None = Field(default=None, description="board messages, shown in turn")


class DepartmentState(Wire):
    """The parts of a department that change; events carry these as ``departments``."""

    id: str
    open: bool
    waiting: int
    estimated_wait_s: int = Field(description="the wait of someone taking a ticket now")
    oldest_issued_at: Instant | None
    oldest_waiting_at: Instant | None


class Department(DepartmentState):
    """A department in the snapshot and ``department.changed``."""

    prefix: str
    name: LocalizedText

    def label(self, lang: str) -> str:
        return label(self.name, lang, default=self.id)

    def with_state(self, state: DepartmentState) -> Department:
        """This department with the changing parts an event carried."""
        return self.model_copy(update=dict(state))


class Counter(Wire):
    """A desk in the snapshot and ``counter.changed``.

    ``name`` is in the site's first language. ``names`` (an extension, absent when the site file
    gives one plain name) holds the site file's name per language, so a board or page in
    another language can say "Counter 2" where the site's language says "Skranke 2".
    """

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"names"})
    id: str
    name: str
    names: LocalizedText | None = Field(
        default=None, description="extension: the name per language (the site file's table), if it has one"
    )
    departments: list[str]
    state: CounterStateWord
    ticket: TicketBase | None

    @property
    def ref(self) -> CounterRef:
        return CounterRef(id=self.id, name=self.name)


class Call(Wire):
    """One of the snapshot's recent calls, newest first."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"recall"})
    number: str
    department: str
    counter: CounterRef
    at: Instant
    recall: bool = False


class Snapshot(Wire):
    """``GET /api/v1/state`` and the event socket's first message."""

    seq: int
    site: Site
    departments: list[Department]
    counters: list[Counter]
    calls: list[Call]


class CounterAnswer(Wire):
    counter: Counter


class SiteAnswer(Wire):
    site: Site


class Health(Wire):
    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"tls_sha256"})
    status: Literal["ok"]
    version: str
    site: str
    tls_sha256: str | None = Field(
        default=None,
        description="only when the service serves TLS: the SHA-256 of its certificate (hex), to pin",
    )


# -- devices -----------------------------------------------------------------------------------------


class PrinterReport(Wire):
    """A kiosk's printer in the protocol's words."""

    state: PrinterState
    detail: str = ""

    @property
    def can_print(self) -> bool:
        return self.state not in PRINTER_FAULTS


class DeviceReport(Wire):
    """What a device last reported about itself (stored; also the device's ``status``)."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"printer"})
    version: str = ""
    printer: PrinterReport | None = None


class Device(Wire):
    """A device that reported status: the ``device.status`` event and the status answer."""

    id: str
    role: str
    name: str | None
    status: DeviceReport
    version: str | None
    printer: PrinterReport | None
    last_seen: Instant | None


class DeviceAnswer(Wire):
    device: Device


class DeviceEntry(Wire):
    """One line of ``GET /devices``: whatever is known of a device, and how it is known."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset(
        {"name", "status", "version", "printer", "last_seen", "address", "zone", "printer_id"}
    )
    id: str
    role: str
    sources: list[DeviceSource]
    name: str | None = None
    status: DeviceReport | None = None
    version: str | None = None
    printer: PrinterReport | None = None
    last_seen: Instant | None = None
    address: str | None = None
    # v1.1 (issue 13): an enrolled device holds a token; ``connected`` while its event socket
    # (opened with that token) is open. A board's zone and a kiosk's printer as approved.
    enrolled: bool = False
    connected: bool = False
    zone: str | None = None
    printer_id: str | None = Field(default=None, description="a kiosk's printer (site file id)")


class DeviceList(Wire):
    devices: list[DeviceEntry]


class DeviceRef(Wire):
    """The device ``device.identify`` is meant for."""

    id: str


class Accepted(Wire):
    ok: Literal[True]


# -- v1.1: enrolment ----------------------------------------------------------------------------------

EnrolmentStatus = Literal["pending", "approved", "refused", "expired"]


class Enrolment(Wire):
    """A device's request to join: the first answer has id, code and expires_at; a later look
    has the status, and the token in the first answer after approval only."""

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset(
        {"id", "code", "expires_at", "token", "site", "tls_sha256"}
    )
    status: EnrolmentStatus
    id: str | None = None
    code: str | None = Field(default=None, description="6 digits, shown on the device's screen")
    expires_at: Instant | None = None
    token: str | None = None
    site: str | None = Field(default=None, description="extension: the site's name, for the code screen")
    tls_sha256: str | None = Field(
        default=None, description="extension: the served certificate's SHA-256 (hex), for the device to pin"
    )


class EnrolmentAnswer(Wire):
    enrolment: Enrolment


class PendingEnrolment(Wire):
    code: str
    device: str
    role: Literal["kiosk", "display", "feedback"]
    name: str
    address: str
    expires_at: Instant


class PendingEnrolments(Wire):
    enrolments: list[PendingEnrolment]


class DeviceSettingsAnswer(Wire):
    """Extension: ``PATCH /devices/{id}`` (admin): the device as the list shows it now."""

    device: DeviceEntry


# -- v1.1: configuration from the service --------------------------------------------------------------


class ConfigAnswer(Wire):
    """``GET /config``: what this device needs, and the version to compare with ``config.changed``."""

    version: str
    config: dict[str, JsonValue]


class ConfigReloaded(Wire):
    """Extension: ``POST /config/reload`` (admin): the site file in force now.

    ``restart`` lists the keys that changed in the file but take effect only after a restart
    (they keep their old values until then)."""

    version: str
    changed: bool
    restart: list[str]


# -- v1.1: the public follow view -------------------------------------------------------------------


class FollowTicket(Wire):
    """A ticket as a visitor's phone sees it: no id, no times of other tickets."""

    number: str
    department: str
    status: TicketStatus
    ahead: int | None
    estimated_wait_s: int | None
    counter: CounterRef | None


class FollowAnswer(Wire):
    ticket: FollowTicket


# -- v1.1: appointments --------------------------------------------------------------------------------

AppointmentStatus = Literal["booked", "checked_in", "called", "serving", "done", "no_show", "cancelled"]
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: nothing to mistake
REFERENCE_LEN = 8


def normalize_reference(text: object) -> str | None:
    """A visit's reference as a visitor typed it or a scanner read it, or None if it is none.

    Case and spaces or dashes between groups do not matter (``k7qx 2m4p``); a QR code holding
    an address that ends in the reference (``…/a/K7QX2M4P``) gives the reference.
    """
    if not isinstance(text, str) or len(text) > 200:
        return None
    candidate = text.strip().rstrip("/").rsplit("/", 1)[-1]
    candidate = "".join(c for c in candidate if not c.isspace() and c != "-").upper()
    ok = len(candidate) == REFERENCE_LEN and all(c in REFERENCE_ALPHABET for c in candidate)
    return candidate if ok else None


class Appointment(Wire):
    id: str
    reference: str = Field(description="8 characters without look-alikes; no name is ever stored")
    department: str
    start: Instant
    status: AppointmentStatus
    ticket: str | None = Field(description="the id of the ticket it was checked in as")
    source: str


class AppointmentAnswer(Wire):
    appointment: Appointment


class AppointmentList(Wire):
    appointments: list[Appointment]


class AppointmentSlipRef(Wire):
    """Extension: what a kiosk prints on a booked visit's slip (``appointment.slip``): the
    reference, the department's id and the start. Nothing about the visitor."""

    reference: str
    department: str
    start: Instant


class KioskChoice(Wire):
    """Extension: an enrolled kiosk whose event socket is connected now (the reception's list)."""

    id: str
    name: str


class KioskChoices(Wire):
    kiosks: list[KioskChoice]


# -- v1.1: silent alarm -----------------------------------------------------------------------------------


class Alarm(Wire):
    id: str
    counter: CounterRef
    at: Instant


class AlarmAnswer(Wire):
    """``POST /counters/{id}/alarm`` (202) and ``POST /alarms/{id}/clear`` (200)."""

    alarm: Alarm


class DepartmentAnswer(Wire):
    """Extension: ``POST /departments/{id}/open``, ``/close`` and ``/hours``."""

    department: Department
