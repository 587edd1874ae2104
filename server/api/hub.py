"""Event fan-out from the ledger to every WebSocket client.

The ledger's listener runs in the writer thread; :meth:`Hub.publish_threadsafe` hands the committed
events to the loop with ``call_soon_threadsafe``, where :meth:`Hub.publish` encodes each event to
JSON **once** and appends the same ``str`` to every subscriber's bounded buffer. Hundreds of boards
therefore cost one ``json.dumps`` per event, not hundreds.

A subscriber whose buffer is full has fallen behind: it is marked dropped (its buffer is cleared
and its ``on_drop`` callback runs, which cancels a send stuck on a full socket) and the endpoint
closes it with code 1013 "try again later"; the client reconnects and starts from a fresh
snapshot. One slow or stuck board never delays the others, and memory per client stays bounded.

Ordering without gaps: a client subscribes *first*, then takes the snapshot in the writer thread,
then skips buffered events with ``seq <= snapshot seq``. Events committed after the snapshot are
published after the subscription existed, so none is missed; the skip removes the overlap.

The staff channel: a subscription made with ``staff=True`` (a socket of a staff, manager or admin
token or signed-in page: server/api/sockets.py) also gets the messages of
:meth:`Hub.publish_staff` (the silent alarm's ``alarm.*``). They are buffered as ``(None, text)``:
outside the site-wide ``seq`` order, never skipped, and no other subscription ever sees them, so
boards, kiosks and public sockets see neither an alarm nor a gap in ``seq``.

The device channel: a subscription whose ``device`` is set (the socket of an enrolled device's
own token: server/api/sockets.py) also gets the messages :meth:`Hub.publish_device` addresses to
that device id (a kiosk's ``appointment.slip``), buffered the same way as ``(None, text)``: no
other subscription sees them, and nobody sees a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 256
CLOSE_TOO_SLOW = 1013  # "try again later": the client reconnects to a fresh snapshot
CLOSE_SHUTDOWN = 1001  # "going away": the server stops


def encode(event: Mapping[str, Any]) -> str:
    """Compact JSON, the same text for every client."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class Subscription:
    """One client's bounded buffer of encoded events, ``(seq, text)`` in seq order (``seq`` None:
    a staff- or device-channel message, outside the site-wide order)."""

    def __init__(self, hub: Hub, max_queue: int, staff: bool = False) -> None:
        self._hub = hub
        self._max = max_queue
        self.staff = staff
        self.device: str | None = None  # an enrolled device's own socket: its device id
        self._buffer: deque[tuple[int | None, str]] = deque()
        self._wake = asyncio.Event()
        self.dropped = False
        self.closing = False  # the server is shutting down
        self.on_drop: Callable[[], None] | None = None

    def _offer(self, items: Sequence[tuple[int | None, str]]) -> None:
        """Append one commit's events, or drop the client if it is still a full buffer behind.

        The test is made once per commit, before the commit's events are added: a client that
        had sent everything it was given is never dropped because one commit (a group commit of
        many tickets) carried more events than the buffer holds. Memory stays bounded by the
        buffer plus one commit's events.
        """
        if self.dropped:
            return
        if len(self._buffer) >= self._max:
            self.dropped = True
            self._buffer.clear()
            self._wake.set()
            self._hub._discard(self)
            log.info("events: dropped a client that fell %d events behind", self._max)
            if self.on_drop is not None:
                self.on_drop()
            return
        self._buffer.extend(items)
        self._wake.set()

    def _close(self) -> None:
        self.closing = True
        self._wake.set()

    async def next_batch(self) -> list[tuple[int | None, str]]:
        """Wait for buffered events and take them all ([] once dropped or closing)."""
        while not self._buffer and not self.dropped and not self.closing:
            self._wake.clear()
            await self._wake.wait()
        if self.dropped or self.closing:
            return []
        batch = list(self._buffer)
        self._buffer.clear()
        return batch

    def close(self) -> None:
        """Unsubscribe (the client left)."""
        self._hub._discard(self)


class Hub:
    """The set of subscribers and the last event seq seen."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.max_queue = max_queue
        self._subs: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_seq = 0
        self.dropped_total = 0
        self.closed = False
        # Called on the loop with each committed batch of events (before the sockets' fan-out).
        self.listeners: list[Callable[[list[Mapping[str, Any]]], None]] = []

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def clients(self) -> int:
        return len(self._subs)

    def subscribe(self, staff: bool = False) -> Subscription:
        """A new client's buffer; ``staff``: it also gets :meth:`publish_staff`'s messages."""
        sub = Subscription(self, self.max_queue, staff)
        if self.closed:
            sub._close()
        else:
            self._subs.add(sub)
        return sub

    def _discard(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.discard(sub)
            if sub.dropped:
                self.dropped_total += 1

    def publish(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fan events out (loop thread only). Each is encoded once."""
        events = list(events)
        items = [(int(event["seq"]), encode(event)) for event in events]
        if not items:
            return
        for listener in self.listeners:  # e.g. the phones' follow fan-out (server/api/follow.py)
            listener(events)
        self.last_seq = max(self.last_seq, max(seq for seq, _ in items))
        for sub in list(self._subs):
            sub._offer(items)

    def publish_staff(self, message: Mapping[str, Any]) -> None:
        """Send one staff-channel message (loop thread only) to staff subscriptions only."""
        item: tuple[int | None, str] = (None, encode(message))
        for sub in list(self._subs):
            if sub.staff:
                sub._offer([item])

    def publish_device(self, device_id: str, message: Mapping[str, Any]) -> int:
        """Send one message (loop thread only) to the subscriptions of that one device; → how
        many took it (0: the device has no socket now)."""
        item: tuple[int | None, str] = (None, encode(message))
        delivered = 0
        for sub in list(self._subs):
            if sub.device is not None and sub.device == device_id and not sub.dropped:
                sub._offer([item])
                delivered += 0 if sub.dropped else 1
        return delivered

    def device_connected(self, device_id: str) -> bool:
        """Whether that device has a live subscription now (its own token's socket)."""
        return any(sub.device == device_id and not sub.dropped for sub in self._subs)

    @property
    def staff_clients(self) -> int:
        return sum(1 for sub in self._subs if sub.staff)

    def publish_threadsafe(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Called from the ledger writer thread after a commit."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self.publish, events)

    def close(self) -> None:
        """Server shutdown: wake every client so its endpoint closes the socket."""
        self.closed = True
        for sub in list(self._subs):
            sub._close()
        self._subs.clear()
