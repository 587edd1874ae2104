"""The board's state: a pure reducer of the service's snapshot and events.

``reduce(state, message) -> state`` never touches a window, a clock or the network, so every rule
of what the wall shows is tested without Kivy (tests/display/test_state.py) and the Kivy skin
only binds to the result. States are frozen: a skin compares old and new to redraw only what
changed, which keeps an idle board from drawing at all.

Truthfulness rules, because a board that quietly shows stale calls sends people to wrong desks:

* a ``snapshot`` replaces everything the service owns (calls, counters, departments, site);
* events at or below the current ``seq`` are duplicates and change nothing;
* an event above ``seq + 1`` means events were lost: it is still applied (a call is better shown
  than hidden) but ``in_sync`` turns false until the next snapshot (the event stream reconnects
  for one at once);
* a local ``stream.down`` message (client/events.py) turns ``connected`` false, which the skin
  shows as its "reconnecting" mark; the next snapshot turns it true.

Only numbers reach this state: tickets carry no names, so none can reach the wall.
Messages arrive decoded by the protocol module (client/events.py): every event that changes a
queue carries the touched departments' fresh counts and estimates (``departments``), so the board
never counts on its own and never re-reads ``/state``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from nummerlapp.client.events import Message, StreamDown
from nummerlapp.common import protocol as P

MAX_CALLS = 12  # calls kept; the skin shows fewer


@dataclass(frozen=True)
class Call:
    """One call to a counter, as the wall shows it: number and counter, nothing personal."""

    number: str
    counter_id: str
    counter_name: str
    department: str = ""
    at: str = ""
    recall: bool = False
    ticket_id: str = ""


@dataclass(frozen=True)
class CounterView:
    id: str
    name: str
    state: str = "open"
    ticket_number: str | None = None
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class BoardState:
    """Everything one board shows. ``call_serial`` / ``identify_serial`` count live happenings.

    They rise by one for each call (or recall) that arrives as an event, and for each identify
    command for ``board_id``; a snapshot never raises them. The skin highlights and announces when
    ``call_serial`` rises, so a reconnect does not replay old calls aloud.
    """

    board_id: str = ""
    connected: bool = False
    in_sync: bool = False
    seq: int | None = None
    site_id: str = ""
    site_name: str = ""
    site_open: bool = True
    messages: tuple[Mapping[str, str], ...] = ()  # the site's board messages, if it sends any
    # "You said, we did" (issue 16): which message is shown (turn modulo their number), and
    # whether a live call holds them back (a call always wins the screen: see next_message).
    message_turn: int = 0
    message_held: bool = False
    departments: tuple[P.Department, ...] = ()
    counters: tuple[CounterView, ...] = ()
    calls: tuple[Call, ...] = ()
    call_serial: int = 0
    identify_serial: int = 0
    down_reason: str = ""

    @property
    def latest(self) -> Call | None:
        return self.calls[0] if self.calls else None

    def previous(self, count: int) -> tuple[Call, ...]:
        """The calls before the latest, newest first, without repeating the latest number."""
        if not self.calls:
            return ()
        latest = self.calls[0].number
        seen = {latest}
        out: list[Call] = []
        for call in self.calls[1:]:
            if call.number in seen:
                continue
            seen.add(call.number)
            out.append(call)
            if len(out) == count:
                break
        return tuple(out)

    def zone_departments(self, zone: Iterable[str] | None) -> tuple[P.Department, ...]:
        """The departments of the board's zone, in the zone's order (``None``: all of them)."""
        if zone is None:
            return self.departments
        by_id = {d.id: d for d in self.departments}
        return tuple(by_id[d] for d in zone if d in by_id)

    def counter(self, counter_id: str) -> CounterView | None:
        return next((c for c in self.counters if c.id == counter_id), None)


# ---------------------------------------------------------------------------------------------
# Reading the protocol's messages


def _counter(counter: P.Counter) -> CounterView:
    number = counter.ticket.number if counter.ticket is not None else None
    return CounterView(counter.id, counter.name, counter.state, number, tuple(counter.departments))


def _messages(site: P.Site) -> tuple[Mapping[str, str], ...]:
    return tuple(MappingProxyType(dict(m)) for m in site.messages or ())


def from_snapshot(state: BoardState, snapshot: P.Snapshot) -> BoardState:
    """Replace what the service owns with ``snapshot``; keep the board's own id and serials."""
    calls = tuple(
        Call(c.number, c.counter.id, c.counter.name, c.department, c.at, c.recall)
        for c in snapshot.calls[:MAX_CALLS]
    )
    return replace(
        state,
        connected=True,
        in_sync=True,
        seq=snapshot.seq,
        site_id=snapshot.site.id,
        site_name=snapshot.site.name,
        site_open=snapshot.site.open,
        messages=_messages(snapshot.site),
        departments=tuple(snapshot.departments),
        counters=tuple(_counter(c) for c in snapshot.counters),
        calls=calls,
        down_reason="",
    )


# ---------------------------------------------------------------------------------------------
# Applying events


def _with_departments(state: BoardState, changed: Iterable[P.DepartmentState | P.Department]) -> BoardState:
    deps = {d.id: d for d in state.departments}
    order = [d.id for d in state.departments]
    for dep in changed:
        if isinstance(dep, P.Department):
            new = dep
        elif dep.id in deps:
            new = deps[dep.id].with_state(dep)
        else:
            continue  # figures of a department this board has no names for: wait for a snapshot
        if dep.id not in deps:
            order.append(dep.id)
        deps[dep.id] = new
    return replace(state, departments=tuple(deps[i] for i in order))


def _with_counter(state: BoardState, new: CounterView) -> BoardState:
    if state.counter(new.id) is None:
        return replace(state, counters=(*state.counters, new))
    return replace(state, counters=tuple(new if c.id == new.id else c for c in state.counters))


def _set_counter_ticket(state: BoardState, counter_id: str, number: str | None) -> BoardState:
    return replace(
        state,
        counters=tuple(replace(c, ticket_number=number) if c.id == counter_id else c for c in state.counters),
    )


def _call(state: BoardState, event: P.TicketCalled | P.TicketRecalled) -> BoardState:
    ticket, counter = event.ticket, event.counter
    recall = isinstance(event, P.TicketRecalled)
    call = Call(ticket.number, counter.id, counter.name, ticket.department, event.at, recall, ticket.id)
    state = _set_counter_ticket(state, counter.id, ticket.number)
    return replace(
        state, calls=(call, *state.calls)[:MAX_CALLS], call_serial=state.call_serial + 1, message_held=True
    )


def _apply(state: BoardState, event: P.Change) -> BoardState:
    departments = getattr(event, "departments", None)
    if departments:
        state = _with_departments(state, departments)
    if isinstance(event, P.TicketCalled | P.TicketRecalled):
        return _call(state, event)
    if isinstance(event, P.TicketDone | P.TicketNoShow | P.TicketTransferred):
        held = state.counter(event.counter.id)
        if held is not None and held.ticket_number == event.ticket.number:
            state = _set_counter_ticket(state, held.id, None)
        return state
    if isinstance(event, P.CounterChanged):
        return _with_counter(state, _counter(event.counter))
    if isinstance(event, P.DepartmentChanged):
        return _with_departments(state, [event.department])
    if isinstance(event, P.SiteChanged):
        return replace(
            state,
            in_sync=state.in_sync and not event.reset,  # a day reset: only a snapshot is right
            site_name=event.site.name,
            site_open=event.site.open,
            messages=_messages(event.site),
        )
    if isinstance(event, P.DeviceIdentify) and state.board_id and event.device.id == state.board_id:
        return replace(state, identify_serial=state.identify_serial + 1)
    return state  # ticket.issued / serving / void (figures above), device.status, alarms, …


def reduce(state: BoardState, message: Message) -> BoardState:
    """The next state after one message from client/events.py (snapshot, event or stream down)."""
    if isinstance(message, P.SnapshotMessage):  # from the stream: replaces everything
        return from_snapshot(state, message.state)
    if isinstance(message, StreamDown):
        if not state.connected:
            return state
        return replace(state, connected=False, down_reason=message.reason)
    if state.seq is None:
        return state  # nothing to apply an event to before the first snapshot
    if message.seq <= state.seq:
        return state  # a duplicate
    applied = _apply(state, message)
    return replace(applied, seq=message.seq, in_sync=applied.in_sync and message.seq == state.seq + 1)


def reduce_all(state: BoardState, messages: Iterable[Message]) -> BoardState:
    for message in messages:
        state = reduce(state, message)
    return state


def shown_message(state: BoardState) -> Mapping[str, str] | None:
    """The board message on screen now: none while a live call holds them back, else the
    messages in turn (``message_turn`` modulo their number)."""
    if not state.messages or state.message_held:
        return None
    return state.messages[state.message_turn % len(state.messages)]


def next_message(state: BoardState) -> BoardState:
    """The skin's message clock ticked: a held message line comes back (the same message, the
    call has had the screen), otherwise the next message takes the line."""
    if state.message_held:
        return replace(state, message_held=False)
    if len(state.messages) < 2:
        return state
    return replace(state, message_turn=(state.message_turn + 1) % len(state.messages))


def new_calls(old: BoardState, new: BoardState) -> tuple[Call, ...]:
    """The calls that arrived live between two states, oldest first: what to announce."""
    count = min(new.call_serial - old.call_serial, len(new.calls))
    return tuple(reversed(new.calls[:count])) if count > 0 else ()
