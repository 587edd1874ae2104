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
Events whose payload PROTOCOL.md does not pin down (``ticket.issued``, ``department.changed``,
…) are read tolerantly: an explicit department object with a ``waiting`` count wins; otherwise
the count is adjusted by one for an issue, a call or a transfer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

MAX_CALLS = 12  # calls kept; the skin shows fewer
STREAM_DOWN = "stream.down"  # the local message client/events.py yields when the link drops
REFRESH = "refresh"  # local: a GET /api/v1/state read for fresh counts and estimates


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (mapping or {}).items()})


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
class DepartmentView:
    id: str
    prefix: str
    name: Mapping[str, str]
    open: bool = True
    waiting: int = 0
    estimated_wait_s: int | None = None

    def label(self, lang: str) -> str:
        return self.name.get(lang) or self.name.get("en") or next(iter(self.name.values()), self.id)


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
    message: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    departments: tuple[DepartmentView, ...] = ()
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

    def zone_departments(self, zone: Iterable[str] | None) -> tuple[DepartmentView, ...]:
        """The departments of the board's zone, in the zone's order (``None``: all of them)."""
        if zone is None:
            return self.departments
        by_id = {d.id: d for d in self.departments}
        return tuple(by_id[d] for d in zone if d in by_id)

    def counter(self, counter_id: str) -> CounterView | None:
        return next((c for c in self.counters if c.id == counter_id), None)


# ---------------------------------------------------------------------------------------------
# Reading the protocol's JSON


def _call(raw: Mapping[str, Any], counters: Mapping[str, CounterView], recall: bool = False) -> Call | None:
    """A call from a snapshot entry (flat) or a call event (``ticket`` + ``counter`` objects)."""
    inner = raw.get("ticket")
    ticket: Mapping[str, Any] = inner if isinstance(inner, Mapping) else raw
    counter = raw.get("counter")
    if isinstance(counter, Mapping):
        counter_id = str(counter.get("id", ""))
        counter_name = str(counter.get("name") or "")
    else:
        counter_id = "" if counter is None else str(counter)
        counter_name = str(raw.get("counter_name") or "")
    if not counter_name and counter_id in counters:
        counter_name = counters[counter_id].name
    number = ticket.get("number")
    if not number:
        return None
    return Call(
        number=str(number),
        counter_id=counter_id,
        counter_name=counter_name or counter_id,
        department=str(ticket.get("department") or ""),
        at=str(raw.get("at") or ""),
        recall=bool(raw.get("recall", recall)),
        ticket_id=str(ticket.get("id") or ""),
    )


def _department(raw: Mapping[str, Any], old: DepartmentView | None = None) -> DepartmentView:
    base = old or DepartmentView(id=str(raw["id"]), prefix="", name=MappingProxyType({}))
    name = raw.get("name")
    wait = raw.get("estimated_wait_s", base.estimated_wait_s)
    return replace(
        base,
        prefix=str(raw.get("prefix", base.prefix)),
        name=_frozen(name) if isinstance(name, Mapping) else base.name,
        open=bool(raw.get("open", base.open)),
        waiting=max(0, int(raw.get("waiting", base.waiting))),
        estimated_wait_s=None if wait is None else int(wait),
    )


def _counter(raw: Mapping[str, Any], old: CounterView | None = None) -> CounterView:
    base = old or CounterView(id=str(raw["id"]), name=str(raw.get("name") or raw["id"]))
    ticket_number = base.ticket_number
    if "ticket" in raw:
        ticket = raw["ticket"]
        ticket_number = (
            str(ticket["number"]) if isinstance(ticket, Mapping) and ticket.get("number") else None
        )
    deps = raw.get("departments")
    return replace(
        base,
        name=str(raw.get("name") or base.name),
        state=str(raw.get("state", base.state)),
        ticket_number=ticket_number,
        departments=tuple(str(d) for d in deps) if isinstance(deps, list) else base.departments,
    )


def from_snapshot(state: BoardState, snapshot: Mapping[str, Any], seq: int | None = None) -> BoardState:
    """Replace what the service owns with ``snapshot``; keep the board's own counters and id."""
    site = snapshot.get("site") or {}
    counters = tuple(_counter(c) for c in snapshot.get("counters") or ())
    by_id = {c.id: c for c in counters}
    calls = tuple(
        c for c in (_call(raw, by_id) for raw in (snapshot.get("calls") or ())[:MAX_CALLS]) if c is not None
    )
    message = site.get("message")
    return replace(
        state,
        connected=True,
        in_sync=True,
        seq=int(seq if seq is not None else snapshot.get("seq", 0)),
        site_id=str(site.get("id", "")),
        site_name=str(site.get("name", "")),
        site_open=bool(site.get("open", True)),
        message=_frozen(message) if isinstance(message, Mapping) else state.message,
        departments=tuple(_department(d) for d in snapshot.get("departments") or ()),
        counters=counters,
        calls=calls,
        down_reason="",
    )


# ---------------------------------------------------------------------------------------------
# Applying events


def _with_departments(state: BoardState, raws: Iterable[Mapping[str, Any]]) -> BoardState:
    deps = {d.id: d for d in state.departments}
    order = [d.id for d in state.departments]
    for raw in raws:
        if "id" not in raw:
            continue
        dep_id = str(raw["id"])
        if dep_id not in deps:
            order.append(dep_id)
        deps[dep_id] = _department(raw, deps.get(dep_id))
    return replace(state, departments=tuple(deps[i] for i in order))


def _bump_waiting(state: BoardState, department: str, delta: int) -> BoardState:
    return replace(
        state,
        departments=tuple(
            replace(d, waiting=max(0, d.waiting + delta)) if d.id == department else d
            for d in state.departments
        ),
    )


def _with_counter(state: BoardState, raw: Mapping[str, Any]) -> BoardState:
    if "id" not in raw:
        return state
    counter_id = str(raw["id"])
    old = state.counter(counter_id)
    new = _counter(raw, old)
    if old is None:
        return replace(state, counters=(*state.counters, new))
    return replace(state, counters=tuple(new if c.id == counter_id else c for c in state.counters))


def _set_counter_ticket(state: BoardState, counter_id: str, number: str | None) -> BoardState:
    return replace(
        state,
        counters=tuple(replace(c, ticket_number=number) if c.id == counter_id else c for c in state.counters),
    )


def _explicit_departments(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Department objects an event carries with counts (these beat our own ±1 arithmetic)."""
    found: list[Mapping[str, Any]] = []
    dep = event.get("department")
    if isinstance(dep, Mapping) and "id" in dep:
        found.append(dep)
    deps = event.get("departments")
    if isinstance(deps, list):
        found.extend(d for d in deps if isinstance(d, Mapping) and "id" in d)
    return found


def _ticket(event: Mapping[str, Any]) -> Mapping[str, Any]:
    ticket = event.get("ticket")
    return ticket if isinstance(ticket, Mapping) else {}


def _counter_id(event: Mapping[str, Any]) -> str | None:
    counter = event.get("counter")
    if isinstance(counter, Mapping):
        return str(counter["id"]) if "id" in counter else None
    if counter is not None:
        return str(counter)
    ticket_counter = _ticket(event).get("counter")
    return None if ticket_counter is None else str(ticket_counter)


def _apply(state: BoardState, event: Mapping[str, Any]) -> BoardState:
    kind = event.get("type")
    explicit = _explicit_departments(event)
    if explicit and kind != "ticket.transferred":
        state = _with_departments(state, explicit)
    ticket = _ticket(event)
    if kind in ("ticket.called", "ticket.recalled"):
        by_id = {c.id: c for c in state.counters}
        call = _call(event, by_id, recall=kind == "ticket.recalled")
        if call is None:
            return state
        if kind == "ticket.called" and not explicit:
            state = _bump_waiting(state, call.department, -1)
        if isinstance(event.get("counter"), Mapping):
            state = _with_counter(state, {**event["counter"], "ticket": {"number": call.number}})
        else:
            state = _set_counter_ticket(state, call.counter_id, call.number)
        return replace(state, calls=(call, *state.calls)[:MAX_CALLS], call_serial=state.call_serial + 1)
    if kind == "ticket.issued":
        return state if explicit else _bump_waiting(state, str(ticket.get("department", "")), +1)
    if kind in ("ticket.done", "ticket.no_show", "ticket.transferred"):
        counter_id = _counter_id(event)
        number = ticket.get("number")
        for c in state.counters:
            if (counter_id is None or c.id == counter_id) and number and c.ticket_number == number:
                state = _set_counter_ticket(state, c.id, None)
        if kind == "ticket.transferred":
            if explicit:
                state = _with_departments(state, explicit)
            elif ticket.get("department"):
                state = _bump_waiting(state, str(ticket["department"]), +1)
        return state
    if kind == "counter.changed":
        counter = event.get("counter")
        return _with_counter(state, counter) if isinstance(counter, Mapping) else state
    if kind == "site.changed":
        site = event.get("site") if isinstance(event.get("site"), Mapping) else event
        assert isinstance(site, Mapping)
        message = site.get("message")
        return replace(
            state,
            in_sync=state.in_sync and not event.get("reset"),  # a day reset: only a snapshot is right
            site_name=str(site.get("name") or state.site_name),
            site_open=bool(site.get("open", state.site_open)),
            message=_frozen(message) if isinstance(message, Mapping) else state.message,
        )
    if kind == "device.identify":
        device = event.get("device")
        device_id = device.get("id") if isinstance(device, Mapping) else event.get("device_id")
        if state.board_id and str(device_id) == state.board_id:
            return replace(state, identify_serial=state.identify_serial + 1)
        return state
    return state  # department.changed (handled above), device.status, types added later


def _refresh(state: BoardState, message: Mapping[str, Any]) -> BoardState:
    """Counts, estimates and opening from a ``GET /api/v1/state`` read, if it is not older than us.

    Events say who was issued or called, not the new estimated wait, so the board reads the state
    shortly after changes. Calls and counters are left to the stream (it owns their order); a read
    older than what the stream has applied is ignored, one newer only refreshes figures the stream
    will not change back.
    """
    snapshot = message.get("state")
    seq = message.get("seq")
    if state.seq is None or not isinstance(snapshot, Mapping) or not isinstance(seq, int) or seq < state.seq:
        return state
    site = snapshot.get("site") or {}
    deps = [d for d in snapshot.get("departments") or () if isinstance(d, Mapping)]
    return replace(
        _with_departments(state, deps),
        site_open=bool(site.get("open", state.site_open)),
        site_name=str(site.get("name") or state.site_name),
    )


def reduce(state: BoardState, message: Mapping[str, Any]) -> BoardState:
    """The next state after one message from client/events.py (snapshot, event or stream.down)."""
    kind = message.get("type")
    if kind == "snapshot":  # from the stream: replaces everything
        snapshot = message.get("state")
        if not isinstance(snapshot, Mapping):
            return state
        return from_snapshot(state, snapshot, message.get("seq"))
    if kind == REFRESH:
        return _refresh(state, message)
    if kind == STREAM_DOWN:
        if not state.connected:
            return state
        return replace(state, connected=False, down_reason=str(message.get("reason", "")))
    seq = message.get("seq")
    if not isinstance(seq, int) or state.seq is None:
        return state  # nothing to apply an event to before the first snapshot
    if seq <= state.seq:
        return state  # a duplicate
    applied = _apply(state, message)
    return replace(applied, seq=seq, in_sync=applied.in_sync and seq == state.seq + 1)


def reduce_all(state: BoardState, messages: Iterable[Mapping[str, Any]]) -> BoardState:
    for message in messages:
        state = reduce(state, message)
    return state


def new_calls(old: BoardState, new: BoardState) -> tuple[Call, ...]:
    """The calls that arrived live between two states, oldest first: what to announce."""
    count = min(new.call_serial - old.call_serial, len(new.calls))
    return tuple(reversed(new.calls[:count])) if count > 0 else ()
