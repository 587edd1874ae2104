"""Visitors' phones following their ticket: ``GET /api/v1/follow/{follow}`` and its WebSocket.

PROTOCOL.md v1.1 "The public surface": a phone knows its ticket only by the ``follow`` secret
printed in the QR code. The stream sends the ticket's follow view first, then again each time
one of its values changes. The cost must not grow with phones × events, so:

- :class:`FollowHub` keeps one entry per *followed ticket* (not per phone): its department, the
  last view sent (encoded once, as text) and the set of phones on it.
- The event hub hands it every committed batch of events (:meth:`FollowHub.on_events`, on the
  loop). From them it marks what may have changed: the tickets the events name, and the
  departments whose queue or estimate moved (a call changes ``ahead`` and the estimate of every
  ticket waiting in that department; a paused counter changes the estimates of its departments).
- One task (:meth:`FollowHub._pump`) then, for the marked departments that someone follows, reads
  the department's whole queue ONCE (one indexed query, :meth:`LedgerReader.queue_positions`) and
  for the marked followed tickets their rows, in a single read view on its own read-only
  connection, in its own thread: never on the writer, never on the loop. Batches that arrive
  while it works are merged into the next round.
- Each followed ticket's new view is encoded once; if it differs from the last one, the text is
  handed to that ticket's phones. A phone holds only the *latest* text (a slot, not a queue): a
  slow phone skips views it had no time for and never makes the service buffer anything.

The view has no id and no times (:class:`nummerlapp.common.protocol.FollowTicket`); the follow
secret appears in no event, snapshot or answer to a public request.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import NotFound
from nummerlapp.config.model import Settings
from nummerlapp.server.api.errors import documented as _errors
from nummerlapp.server.api.errors import error_response
from nummerlapp.server.ledger import LedgerReader, Ticket

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PHONES_PER_TICKET = 8  # a family shares a ticket; a thousand sockets on one is an attack
CLOSE_WAIT_S = 2.0


class FollowSub:
    """One phone: the latest view text for it (a slot: newer replaces older) and a wake-up."""

    __slots__ = ("_wake", "closed", "text")

    def __init__(self) -> None:
        self.text: str | None = None
        self._wake = asyncio.Event()
        self.closed = False

    def put(self, text: str) -> None:
        self.text = text
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self) -> str | None:
        """The newest view not yet taken (None once closed)."""
        while self.text is None and not self.closed:
            self._wake.clear()
            await self._wake.wait()
        text, self.text = self.text, None
        return None if self.closed else text


@dataclass
class Followed:
    """A ticket someone follows: where it waits, the last view sent (and its text), its phones."""

    ticket_id: str
    department: str
    view: P.FollowTicket
    text: str
    phones: set[FollowSub] = field(default_factory=set)

    def update(self, view: P.FollowTicket) -> bool:
        """Take a newly computed view; True when it differs from the last one (encoded once)."""
        if view == self.view:
            return False
        self.view = view
        self.text = P.FollowMessage(ticket=view).encode_json()
        return True


Place = tuple[int, int]  # a waiting ticket's (ahead, estimated_wait_s)


class FollowHub:
    """The followed tickets and their phones; recomputes changed views once per change."""

    def __init__(
        self, db_path: Path, settings: Settings, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.db_path = db_path
        self.settings = settings
        self.clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._reader: LedgerReader | None = None  # used in the executor's one thread only
        self._tickets: dict[str, Followed] = {}
        self._by_department: dict[str, set[str]] = {}
        self._dirty_departments: set[str] = set()
        self._dirty_tickets: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0  # recomputations made (each covers one or more committed batches)
        self.views = 0  # follow views computed
        self.pushed = 0  # changed views handed to phones (one per phone)

    # -- lifecycle (the app's lifespan) -----------------------------------------------------------

    async def start(self) -> None:
        """After the writer opened (and migrated) the ledger."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="follow")
        self._wake = asyncio.Event()
        await self._in_thread(self._open)
        self._task = asyncio.create_task(self._pump())

    def _open(self) -> None:
        self._reader = LedgerReader(self.db_path, self.settings, clock=self.clock)

    async def use_settings(self, settings: Settings) -> None:
        """A reloaded site file (issue 13, server/api/config_api.py): views follow it from now on."""
        self.settings = settings
        reader = self._reader
        if reader is not None and self._executor is not None:
            await self._in_thread(lambda: reader.use_settings(settings))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for entry in self._tickets.values():
            for phone in entry.phones:
                phone.close()
        if self._executor is not None:
            with contextlib.suppress(Exception):
                await self._in_thread(self._close_reader)
            self._executor.shutdown(wait=False)
            self._executor = None

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def _in_thread(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise RuntimeError("the follow hub is not running")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _read(self) -> LedgerReader:
        if self._reader is None:
            raise RuntimeError("the follow hub is not running")
        return self._reader

    # -- phones -------------------------------------------------------------------------------------

    @property
    def phones(self) -> int:
        return sum(len(e.phones) for e in self._tickets.values())

    @property
    def followed(self) -> int:
        return len(self._tickets)

    async def ticket(self, follow: str) -> Ticket:
        """The ticket of a follow secret, fresh (NotFound for an unknown or malformed one)."""
        return await self._in_thread(lambda: self._read().by_follow(follow))

    def attach(self, ticket: Ticket, phone: FollowSub) -> str | None:
        """Follow ``ticket`` on ``phone``; returns the first view to send (None: too many phones)."""
        entry = self._tickets.get(ticket.id)
        if entry is None:
            view = ticket.follow_view()
            entry = Followed(ticket.id, ticket.department, view, P.FollowMessage(ticket=view).encode_json())
            self._tickets[ticket.id] = entry
            self._by_department.setdefault(ticket.department, set()).add(ticket.id)
        elif len(entry.phones) >= MAX_PHONES_PER_TICKET:
            return None
        entry.phones.add(phone)
        # The view read before the entry existed may already be old: look again in the next round.
        self._mark(tickets=(ticket.id,))
        return entry.text

    def detach(self, ticket_id: str, phone: FollowSub) -> None:
        entry = self._tickets.get(ticket_id)
        if entry is None:
            return
        entry.phones.discard(phone)
        if not entry.phones:
            del self._tickets[ticket_id]
            in_dep = self._by_department.get(entry.department)
            if in_dep is not None:
                in_dep.discard(ticket_id)
                if not in_dep:
                    del self._by_department[entry.department]

    # -- changes ------------------------------------------------------------------------------------

    def on_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """A committed batch of events (the event hub calls this on the loop): mark, don't compute."""
        departments: set[str] = set()
        tickets: set[str] = set()
        for event in events:
            _touched(event, departments, tickets, self._all_departments)
        self._mark(departments, tickets)

    @property
    def _all_departments(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.settings.departments)

    def _mark(self, departments: Iterable[str] = (), tickets: Iterable[str] = ()) -> None:
        followed = False
        for dep in departments:
            if dep in self._by_department:
                self._dirty_departments.add(dep)
                followed = True
        for ticket_id in tickets:
            if ticket_id in self._tickets:
                self._dirty_tickets.add(ticket_id)
                followed = True
        if followed and self._wake is not None:
            self._wake.set()

    async def _pump(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            departments, self._dirty_departments = self._dirty_departments, set()
            tickets, self._dirty_tickets = self._dirty_tickets, set()
            wanted = {
                dep: [t for t in self._by_department.get(dep, ()) if t in self._tickets]
                for dep in departments
            }
            try:
                fresh = await self._in_thread(partial(self._compute, wanted, tickets))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("follow: recomputing views failed")
                continue
            self.rounds += 1
            self._deliver(fresh)

    def _compute(self, wanted: dict[str, list[str]], tickets: set[str]) -> dict[str, Ticket | Place]:
        """In the follow thread: the new state of the marked followed tickets, one read view.

        A ticket waiting in a marked department gets its place from the department's queue (one
        query for the whole department); a followed ticket no longer waiting there, or named by
        an event, is read whole by id.
        """
        reader = self._read()
        out: dict[str, Ticket | Place] = {}
        with reader.read_view():
            reload = set(tickets)
            for dep, ids in wanted.items():
                if not ids:
                    continue
                positions = reader.queue_positions(dep)
                for ticket_id in ids:
                    place = positions.get(ticket_id)
                    if place is None or ticket_id in tickets:
                        reload.add(ticket_id)
                    else:
                        out[ticket_id] = place
            for ticket in reader.tickets(sorted(reload)):
                out[ticket.id] = ticket
        return out

    def _deliver(self, fresh: dict[str, Ticket | Place]) -> None:
        """On the loop: each changed view is encoded once and handed to that ticket's phones."""
        for ticket_id, value in fresh.items():
            entry = self._tickets.get(ticket_id)
            if entry is None:  # nobody follows it any more
                continue
            if isinstance(value, Ticket):
                view = value.follow_view()
                if value.department != entry.department:  # transferred: follow it there
                    self._move(entry, value.department)
            elif entry.view.status != "waiting":  # it waits again: read it whole next round
                self._mark(tickets=(ticket_id,))
                continue
            else:
                view = entry.view.model_copy(update={"ahead": value[0], "estimated_wait_s": value[1]})
            self.views += 1
            if not entry.update(view):
                continue
            for phone in entry.phones:
                phone.put(entry.text)
            self.pushed += len(entry.phones)

    def _move(self, entry: Followed, department: str) -> None:
        old = self._by_department.get(entry.department)
        if old is not None:
            old.discard(entry.ticket_id)
            if not old:
                del self._by_department[entry.department]
        entry.department = department
        self._by_department.setdefault(department, set()).add(entry.ticket_id)


def _touched(
    event: Mapping[str, Any], departments: set[str], tickets: set[str], every: tuple[str, ...]
) -> None:
    """What one event (as sent on the event socket) may have changed for phones."""
    kind = str(event.get("type", ""))
    if kind.startswith(("device.", "config.", "alarm.")):
        return
    ticket = event.get("ticket")
    if isinstance(ticket, Mapping):
        if isinstance(ticket.get("id"), str):
            tickets.add(ticket["id"])
        if isinstance(ticket.get("department"), str):
            departments.add(ticket["department"])
    moved_from = event.get("from")
    if isinstance(moved_from, Mapping) and isinstance(moved_from.get("id"), str):
        departments.add(moved_from["id"])
    for dep in event.get("departments") or ():
        if isinstance(dep, Mapping) and isinstance(dep.get("id"), str):
            departments.add(dep["id"])
    department = event.get("department")
    if isinstance(department, Mapping) and isinstance(department.get("id"), str):
        departments.add(department["id"])
    counter = event.get("counter")
    if kind == "counter.changed" and isinstance(counter, Mapping):
        departments.update(d for d in counter.get("departments") or () if isinstance(d, str))
    if kind == "site.changed":
        departments.update(every)


# -- the routes (the public app and the LAN app alike) -------------------------------------------------

router = APIRouter()

Follow = PathParam(min_length=1, max_length=64, description="the ticket's follow secret (from its QR code)")


def follow_hub(conn: Request | WebSocket) -> FollowHub:
    svc = getattr(conn.app.state, "services", None)
    hub = getattr(svc, "follow", None)
    if not isinstance(hub, FollowHub):
        raise RuntimeError("this app has no follow hub")
    return hub


@router.get(
    "/follow/{follow}",
    response_model=P.FollowAnswer,
    responses=_errors(404, 422),
    tags=["public"],
)
async def follow_ticket(request: Request, follow: str = Follow) -> JSONResponse:
    """A visitor's ticket by its follow secret: number, department, status, place, wait, counter."""
    ticket = await follow_hub(request).ticket(follow)
    return JSONResponse(P.FollowAnswer(ticket=ticket.follow_view()).encode())


async def serve_follow(websocket: WebSocket) -> None:
    """``WS /api/v1/follow/{follow}/events``: the view first, then each changed view."""
    hub = follow_hub(websocket)
    follow = str(websocket.path_params.get("follow", ""))
    try:
        ticket = await hub.ticket(follow)
    except NotFound:
        await _refuse(websocket, 404, "unknown_ticket", "no such ticket")
        return
    phone = FollowSub()
    first = hub.attach(ticket, phone)
    if first is None:
        await _refuse(websocket, 429, "too_many_requests", "too many phones follow this ticket")
        return
    try:
        await websocket.accept()
        await websocket.send_text(first)
        await _pump(websocket, phone)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.detach(ticket.id, phone)
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(1000), CLOSE_WAIT_S)


async def _pump(websocket: WebSocket, phone: FollowSub) -> None:
    """Send each newer view until the phone leaves (its close is noticed by ``listen``)."""

    async def listen() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
        phone.close()

    listener = asyncio.create_task(listen())
    try:
        while True:
            text = await phone.next()
            if text is None:
                return
            await websocket.send_text(text)
    finally:
        listener.cancel()
        with contextlib.suppress(BaseException):
            await listener


async def _refuse(websocket: WebSocket, status: int, code: str, message: str) -> None:
    """Refuse the handshake with an HTTP answer (if the server can send one), else a close."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(status, code, message))
    else:
        await websocket.close(1008, code)


router.add_api_websocket_route("/follow/{follow}/events", serve_follow)
