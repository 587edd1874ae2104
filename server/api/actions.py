"""The counter actions, spelled once: the API's routes, its access rules and the desk page's
buttons are all made from :data:`ACTIONS`.

PROTOCOL.md names next, recall, no-show, done, transfer, pause and open; this project adds serve;
version 1.1 adds call and park (rows here) and the silent alarm, which is in :class:`CounterAction`
and the access table but is not a ticket action: it answers 202 with the alarm and goes to staff
sockets only, so its route is server/api/alarms.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from nummerlapp.server.api.auth import Permission
from nummerlapp.server.ledger import CounterState, Ledger, Ticket


class CounterAction(StrEnum):
    """``POST /api/v1/counters/{id}/<value>`` (and ``/desk/api/counters/{id}/<value>``)."""

    NEXT = "next"
    RECALL = "recall"
    SERVE = "serve"
    NO_SHOW = "no-show"
    DONE = "done"
    TRANSFER = "transfer"
    PAUSE = "pause"
    OPEN = "open"
    CALL = "call"  # v1.1
    PARK = "park"  # v1.1
    ALARM = "alarm"  # v1.1


@dataclass(frozen=True)
class Target:
    """What an action's request body names besides the counter (transfer: the department)."""

    department: str | None = None
    ticket: str | None = None  # call: the ticket's number or id


Outcome = Ticket | CounterState | None
Perform = Callable[[Ledger, str, Target], Outcome]


@dataclass(frozen=True)
class ActionSpec:
    action: CounterAction
    perform: Perform  # runs in the writer thread: ``perform(ledger, counter_id, target)``
    summary: str  # the route's documentation
    answers: Literal["ticket", "counter"]  # ``{"ticket": …}`` or ``{"counter": …}``
    needs_department: bool = False  # the body names a department (``{"department": id}``)
    needs_ticket: bool = False  # the body names a ticket (``{"ticket": number or id}``)
    # The desk sends the ticket it believed current; the action is refused when the counter has
    # moved on since (server/web/guard.py). Actions on the counter's state do not need it.
    acts_on_current: bool = True

    @property
    def permission(self) -> Permission:
        return PERMISSIONS[self.action]


def _department(target: Target) -> str:
    if target.department is None:
        raise ValueError("this action needs a department")
    return target.department


def _ticket(target: Target) -> str:
    if target.ticket is None:
        raise ValueError("this action needs a ticket")
    return target.ticket


ACTIONS: MappingProxyType[CounterAction, ActionSpec] = MappingProxyType(
    {
        spec.action: spec
        for spec in (
            ActionSpec(
                CounterAction.NEXT,
                lambda ledger, counter, _t: ledger.next(counter),
                "Close the current ticket as done and call the next one (`ticket: null` if nobody waits).",
                "ticket",
            ),
            ActionSpec(
                CounterAction.RECALL,
                lambda ledger, counter, _t: ledger.recall(counter),
                "Announce the current ticket again.",
                "ticket",
            ),
            ActionSpec(
                CounterAction.SERVE,
                lambda ledger, counter, _t: ledger.start_serving(counter),
                "Extension: the called visitor has arrived at the desk: the current ticket `called` → "
                "`serving` (`ticket.serving`). Already serving: 200 with the ticket, nothing changes, "
                "no event.",
                "ticket",
            ),
            ActionSpec(
                CounterAction.NO_SHOW,
                lambda ledger, counter, _t: ledger.no_show(counter),
                "The current ticket did not come: `no_show`.",
                "ticket",
            ),
            ActionSpec(
                CounterAction.DONE,
                lambda ledger, counter, _t: ledger.done(counter),
                "The current ticket is finished; the counter is idle.",
                "ticket",
            ),
            ActionSpec(
                CounterAction.TRANSFER,
                lambda ledger, counter, target: ledger.transfer(counter, _department(target)),
                "The current ticket waits in another department, keeping its place by original issue time.",
                "ticket",
                needs_department=True,
            ),
            ActionSpec(
                CounterAction.CALL,
                lambda ledger, counter, target: ledger.call(counter, _ticket(target)),
                "Call a waiting or parked ticket of the counter's departments out of turn, by number "
                "(`A012`; `a12` reads the same) or id; the current ticket closes as done, as with "
                "`next`. 404 `unknown_ticket`; 409 `not_waiting` (being called, served or finished).",
                "ticket",
                needs_ticket=True,
            ),
            ActionSpec(
                CounterAction.PARK,
                lambda ledger, counter, _t: ledger.park(counter),
                "The current ticket steps away (`parked`): `next` skips it, its number stays taken, "
                "`call` brings it back (`ticket.parked`, then `counter.changed`).",
                "ticket",
            ),
            ActionSpec(
                CounterAction.PAUSE,
                lambda ledger, counter, _t: ledger.pause(counter),
                "The counter stops taking calls (`next` answers 409 `counter_paused`).",
                "counter",
                acts_on_current=False,
            ),
            ActionSpec(
                CounterAction.OPEN,
                lambda ledger, counter, _t: ledger.open_counter(counter),
                "The counter takes calls again.",
                "counter",
                acts_on_current=False,
            ),
        )
    }
)

# Which permission each action needs (server/api/auth.py's GRANTS says who has it).
PERMISSIONS: MappingProxyType[CounterAction, Permission] = MappingProxyType(
    {
        a: Permission.RAISE_ALARM if a is CounterAction.ALARM else Permission.COUNTER_WORK
        for a in CounterAction
    }
)
