"""The site service's event stream, as an async iterator that never goes quietly stale.

    stream = EventStream("http://127.0.0.1:8420")
    async for message in stream:        # in order: the protocol's classes, and StreamDown
        ...                              # SnapshotMessage, TicketCalled, …, StreamDown(reason)

Every consumer (board, kiosk, end-to-end tests) needs the same three guarantees from the
WebSocket at ``/api/v1/events`` (PROTOCOL.md), so they live here once and not in each UI:

* **A snapshot first.** After every (re)connect the first message yielded is the server's
  ``snapshot``; a consumer replaces its whole state with it, so nothing missed while the link was
  down survives as a stale value.
* **No silent gaps.** ``seq`` rises by exactly 1 per event; an event that skips a number means
  events were lost, so the stream drops the connection at once and reconnects (which yields a fresh
  snapshot). Duplicates (``seq`` not above the last one) are dropped. The messages outside the
  order (``P.OUT_OF_ORDER``: the staff sockets' ``alarm.*``, a kiosk's ``appointment.slip``)
  carry the latest event's ``seq`` without taking one: they are passed on as they come, and
  neither count as a duplicate nor move the last ``seq`` or the gap check.
* **The contract's shapes, checked.** Every message is read with the protocol module
  (``decode_event``): a type this side does not know is skipped (its ``seq`` still counts), a
  known type with a wrong shape drops the connection like a gap would (it is logged).
* **Truthful about the link.** When the connection drops (or the first attempt fails) the stream
  yields one local :class:`StreamDown` message, so a board can show its
  "reconnecting" mark. WebSocket pings every 0.6 s with a 0.6 s timeout (and a 0.2 s close wait) catch a
  dead link (a pulled cable sends no FIN) within about 1.4 s. Reconnects back off 0.1 s, 0.2 s, … capped at 2 s.

The server address is either fixed or asked of a *resolver* before each attempt, so mDNS
rediscovery (a service restarted on another port or host) plugs in without the stream knowing
about zeroconf. The backoff wait does not have to run out before a *new* address is tried:

* after a failed attempt the resolver is asked again (within the backoff delay) and an address
  other than the one that just failed is tried at once (once: if that fails too, the stream waits);
* :meth:`EventStream.wake` (the board calls it when mDNS hears the service's record added or
  changed) ends the current backoff wait, or abandons a connection attempt still in progress, and
  tries the freshly resolved address now. A crashed service sends no mDNS goodbye, so its dead
  address stays in the table until its restart announces the new one: that announcement is the
  moment to connect, not the next backoff step.

After a wake the backoff starts again at its first step: a service just announced may still be
binding its port when the first attempt arrives.

This module must not import Kivy: it is shared by headless code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI, WebSocketException

from nummerlapp.common import protocol as P

log = logging.getLogger(__name__)
FIRST = asyncio.FIRST_COMPLETED

STREAM_DOWN = "stream.down"  # local message type: never sent by the server


@dataclass(frozen=True)
class StreamDown:
    """Local: the link to the service dropped (or the first attempt failed). Not a wire shape."""

    reason: str
    type: Literal["stream.down"] = "stream.down"
    refused: bool = False  # the service refused this client's token (revoked): 401/403 at the upgrade


Message = P.Change | P.SnapshotMessage | StreamDown  # P.Change: a kiosk's P.AppointmentSlip too
Resolver = Callable[[], Awaitable[str | None]]


def events_url(base: str) -> str:
    """``http://host:port`` (or ``ws://…``, with or without a path) → the events WebSocket URL."""
    parts = urlsplit(base if "://" in base else f"http://{base}")
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"not an http(s) or ws(s) address: {base!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(P.EVENTS_PATH):
        path = path.removesuffix(P.API_PREFIX) + P.EVENTS_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def backoff_delays(first: float = 0.1, cap: float = 2.0) -> Iterator[float]:
    """0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, … seconds: quick for a blip, gentle when it lasts."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


class EventStream:
    """Snapshot + events from the site service, reconnecting forever until :meth:`close`.

    ``server`` is a base address (``http://host:port``) or an async resolver returning one (or
    ``None`` when it knows none right now). Iterate once; the iterator ends only after ``close()``.
    """

    def __init__(
        self,
        server: str | Resolver,
        *,
        first_backoff: float = 0.1,
        max_backoff: float = 2.0,
        ping_interval: float = 0.6,
        ping_timeout: float = 0.6,
        open_timeout: float = 2.0,
        token: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._server = server
        self.token = token  # a device's token: the service lists the device as connected
        self.tls = tls  # wss://: an enrolled device's pinned certificate (client/tls.py)
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.open_timeout = open_timeout
        self.connected = False
        self.last_seq: int | None = None
        self.url: str | None = None  # the WebSocket URL of the current or last connection
        self.connects = 0  # successful connections so far (a snapshot was received)
        self.down_since: float | None = time.monotonic()
        self._closed = asyncio.Event()
        self._woken = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._resync = False

    async def _resolve(self) -> str | None:
        if isinstance(self._server, str):
            return self._server
        try:
            return await self._server()
        except Exception as exc:  # a resolver fault must not end the stream
            log.warning("could not resolve the service address: %s", exc)
            return None

    async def close(self) -> None:
        """End the iteration (from any task) and close the connection."""
        self._closed.set()
        if self._ws is not None:
            await self._ws.close()

    async def resync(self) -> None:
        """Drop the connection and reconnect at once for a fresh snapshot (no ``stream.down``).

        For a consumer that knows its state is wrong (a day reset, a gap it noticed itself).
        """
        self._resync = True
        if self._ws is not None:
            await self._ws.close()

    def wake(self) -> None:
        """Try the service now: end a backoff wait or an attempt in progress, and re-resolve.

        For a consumer that learnt the service's address may have changed (an mDNS record added
        or updated). Does nothing to a live connection: a healthy link is not dropped on hearsay
        (a dead one is noticed by ping within about 1.4 s).
        """
        if not self.connected:
            self._woken.set()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._run()

    async def run(self, on_message: Callable[[Message], object]) -> None:
        """Callback form: call ``on_message`` for each message until :meth:`close`."""
        async for message in self:
            on_message(message)

    def _down(self, reason: str, refused: bool = False) -> Message:
        self.connected = False
        if self.down_since is None:
            self.down_since = time.monotonic()
        return StreamDown(reason, refused=refused)

    async def _run(self) -> AsyncIterator[Message]:
        delays: Iterator[float] = backoff_delays(self.first_backoff, self.max_backoff)
        announced_down = False
        base: str | None = None  # an address resolved during the last wait, to try next
        jumped = False  # the attempt just made went to such an address, skipping the wait
        while not self._closed.is_set():
            if self._woken.is_set():
                # the service was just heard of (again), maybe still binding: retry it quickly
                delays = backoff_delays(self.first_backoff, self.max_backoff)
                self._woken.clear()
            tried = base if base is not None else await self._resolve()
            base = None
            ending = _Ending()
            async with contextlib.aclosing(self._attempt(tried, ending)) as messages:
                async for message in messages:
                    if isinstance(message, P.SnapshotMessage):
                        delays = backoff_delays(self.first_backoff, self.max_backoff)
                        announced_down = False
                    yield message
            if ending.woken:
                continue  # an attempt abandoned for a fresher address: no "down", no wait
            if self._closed.is_set():
                break
            if self._resync:
                self._resync = False
                continue  # straight back for a fresh snapshot; the link itself was fine
            if self.connected or not announced_down or ending.refused:
                log.info("event stream down (%s); reconnecting", ending.reason)
                announced_down = True
                yield self._down(ending.reason, ending.refused)
            base = await self._wait(next(delays), None if jumped else tried)
            jumped = base is not None  # at most one skipped wait in a row: two dead addresses
            # named in turn must not make a busy loop
        self.connected = False

    async def _attempt(self, base: str | None, ending: _Ending) -> AsyncGenerator[Message, None]:
        """One connection to ``base``: its messages; how it ended is written into ``ending``."""
        if base is None:
            ending.reason = "service not found"
            return
        try:
            async for message in self._session(events_url(base)):
                yield message
            ending.reason = "connection closed"
        except _Gap as gap:
            log.info("event stream: %s; taking a fresh snapshot", gap)
            self._resync = True
        except _Woken:
            log.info("event stream: woken while connecting to %s; trying again", base)
            ending.woken = True
        except P.ProtocolError as exc:
            log.warning("event stream: %s; reconnecting", exc)
            ending.reason = str(exc)
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            ending.reason = _describe(exc)
            ending.refused = isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403)
        finally:
            self._ws = None

    async def _wait(self, delay: float, tried: str | None) -> str | None:
        """The backoff wait after a failure; an address to try at once, or None (resolve again).

        Spent asking the resolver again (a service restarted elsewhere: try its new address now,
        not after the wait) and then sleeping, cut short by :meth:`close` or :meth:`wake`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        if tried is not None and not isinstance(self._server, str):
            fresh: str | None = None
            with contextlib.suppress(TimeoutError):
                fresh = await asyncio.wait_for(self._resolve(), delay)
            if fresh is not None and fresh != tried:
                log.info("event stream: the service is now at %s", fresh)
                return fresh
        waits = [loop.create_task(self._closed.wait()), loop.create_task(self._woken.wait())]
        try:
            await asyncio.wait(waits, timeout=max(0.0, deadline - loop.time()), return_when=FIRST)
        finally:
            for task in waits:
                task.cancel()
        return None

    async def _open(self, url: str) -> ClientConnection:
        """Connect, unless :meth:`wake` or :meth:`close` comes first (then raise :class:`_Woken`)."""
        loop = asyncio.get_running_loop()
        opening = loop.create_task(self._connect(url))
        waits = [loop.create_task(self._closed.wait()), loop.create_task(self._woken.wait())]
        try:
            await asyncio.wait([opening, *waits], return_when=FIRST)
        finally:
            for task in waits:
                task.cancel()
        if not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await opening
            raise _Woken
        return opening.result()

    async def _connect(self, url: str) -> ClientConnection:
        return await connect(
            url,
            open_timeout=self.open_timeout,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            close_timeout=0.2,  # a dead peer never answers the close: do not wait on it
            proxy=None,
            max_size=8 * 1024 * 1024,
            additional_headers={"Authorization": f"Bearer {self.token}"} if self.token else None,
            ssl=self.tls if url.startswith("wss:") else None,
        )

    async def _session(self, url: str) -> AsyncIterator[Message]:
        """One connection: yield its snapshot then its in-order events; raise on a gap."""
        self.url = url
        async with await self._open(url) as ws:
            self._ws = ws
            if self._closed.is_set():
                return
            have_snapshot = False
            async for raw in ws:
                try:
                    data = json.loads(raw)
                except ValueError:
                    log.warning("ignoring a message that is not JSON: %.80r", raw)
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
                    log.warning("ignoring a message without type and seq: %.80r", raw)
                    continue
                seq: int = data["seq"]
                message = P.decode_event(data)  # raises ProtocolError for a known type gone wrong
                if isinstance(message, P.SnapshotMessage):
                    have_snapshot = True
                    self.last_seq = seq
                    self.connected = True
                    self.connects += 1
                    self.down_since = None
                    yield message
                    continue
                if not have_snapshot:
                    raise _Gap("an event came before the snapshot")
                if data.get("type") in P.OUT_OF_ORDER:  # takes no seq: not a duplicate, no gap
                    if message is not None:
                        yield message
                    continue
                assert self.last_seq is not None
                if seq <= self.last_seq:
                    continue  # a duplicate: already applied
                if seq != self.last_seq + 1:
                    raise _Gap(f"missed events {self.last_seq + 1}..{seq - 1}")
                self.last_seq = seq
                if message is not None:  # None: a type this side does not know (it still counts)
                    yield message


@dataclass
class _Ending:
    """How one connection attempt ended (written by ``EventStream._attempt``)."""

    reason: str = "stopped"
    woken: bool = False  # abandoned for a fresher address: try again at once
    refused: bool = False  # the upgrade was refused (401/403): the token is no good


class _Gap(Exception):
    """Events were lost on this connection; the cure is a fresh snapshot."""


class _Woken(Exception):
    """A connection attempt was abandoned because :meth:`EventStream.wake` (or close) came first."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, InvalidURI):
        return f"bad address: {exc}"
    if isinstance(exc, InvalidHandshake):
        return f"refused: {exc}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
