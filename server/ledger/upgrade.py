"""Events stored before protocol v1.1, read in today's shape.

Version 1.0 of the ledger stored a counter as a bare id in ``ticket.done``, ``ticket.no_show``,
``ticket.serving``, ``ticket.transferred`` and inside tickets, ``from`` as a bare department id,
and a brief ticket (``{"id", "number", "department"}``, plus ``status`` in a counter's ticket) in
call events and ``counter.changed``. Rewriting the stored rows would take the writer's lock for a
migration of history nobody may ever read again; instead each old payload is upgraded when it is
read (the snapshot's recent calls, ``events_after``), from the site file's names and the ticket's
own row. Nothing is invented that the old event did not imply: a called ticket was ``called`` at
the event's counter at the event's time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import NotFound
from nummerlapp.config.model import Settings
from nummerlapp.server.ledger.models import Ticket


class Reads(Protocol):
    """What an upgrade reads of the ledger: ``reads.Reads`` (which calls ``upgrade_v10`` with
    itself, so naming the class here would make the two files import each other)."""

    settings: Settings

    def _now(self) -> dt.datetime: ...
    def _load(self, ticket_id: str, now: dt.datetime) -> Ticket: ...
    def _counter_ref(self, counter_id: str) -> P.CounterRef: ...
    def _department_ref(self, department_id: str) -> P.DepartmentRef: ...


_CALLS = ("ticket.called", "ticket.recalled")


def upgrade_v10(reads: Reads, kind: str, at: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The v1.1 payload of a v1.0 event (a copy; ``payload`` is not changed)."""
    out: dict[str, Any] = json.loads(json.dumps(payload))
    counter = out.get("counter")
    if isinstance(counter, str):
        out["counter"] = reads._counter_ref(counter).encode()
    source = out.get("from")
    if isinstance(source, str):
        out["from"] = reads._department_ref(source).encode()
    ticket = out.get("ticket")
    if isinstance(ticket, dict):
        if kind in _CALLS:
            ticket = _full(
                reads, ticket, {"status": "called", "counter": out.get("counter"), "called_at": at}
            )
        out["ticket"] = _upgrade_ticket(reads, ticket)
    if isinstance(counter, dict) and isinstance(counter.get("ticket"), dict):  # counter.changed
        current = _full(
            reads, counter["ticket"], {"counter": {"id": counter.get("id"), "name": counter.get("name")}}
        )
        current.pop("ahead", None)
        current.pop("estimated_wait_s", None)
        out["counter"] = {**counter, "ticket": _upgrade_ticket(reads, current)}
    return out


def _upgrade_ticket(reads: Reads, ticket: dict[str, Any]) -> dict[str, Any]:
    counter = ticket.get("counter")
    if isinstance(counter, str):
        return {**ticket, "counter": reads._counter_ref(counter).encode()}
    return ticket


def _full(reads: Reads, brief: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    """A brief ticket filled from its row, as it was at the event (``then``)."""
    if "issued_at" in brief:
        return brief
    try:
        row = reads._load(str(brief.get("id")), reads._now()).wire().encode()
    except NotFound:  # a ticket the ledger no longer holds: the event's own facts only
        row = {
            "issued_at": then.get("called_at"),
            "called_at": None,
            "lang": reads.settings.site.default_language,
        }
    return {**row, "ahead": 0, "estimated_wait_s": 0, **brief, **then}
