"""What one listener lets a connection cost: body size, header time, connections, sockets.

PROTOCOL.md v1.1 "Limits", and issue 14's attacks, each answered here:

- **Body size** (:class:`BodyLimit`, an ASGI middleware): a request body over
  :data:`MAX_BODY` (64 KiB) answers 413 ``too_large`` without being read to the end — at once
  when ``Content-Length`` says so, else as soon as the chunks pass the limit — and the
  connection is closed, so the rest is never read.
- **Header time and connection caps** (:class:`GuardedHttpTools`, uvicorn's httptools protocol
  with two additions, made per listener by :func:`http_protocol`): a connection must finish its
  request line and headers within ``header_timeout_s`` of connecting (or of its previous
  answer), else it is closed; and a listener holds at most ``max_connections`` HTTP connections.
  When a new one would pass the cap, the oldest connection that is *waiting for headers* (idle
  keep-alive or half-sent) is closed to make room: connections that do nothing can never crowd
  out a desk's ``next``, which always finds a place. Only when every connection is busy with a
  request is the newcomer refused.
- **WebSockets** (:class:`SocketLimit`, an ASGI middleware): at most ``max_sockets`` open on the
  listener and ``per_address`` from one client address; beyond them the handshake is refused
  (HTTP 403) before anything is done. Their file descriptors come from their own share, so a
  thousand idle event sockets leave the HTTP share alone.

The shares come from the process's file limit (:func:`budget`): systemd's ``LimitNOFILE`` in
deploy/systemd, or whatever ``ulimit -n`` gave. The limits are logged at start.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nummerlapp.server.api.errors import error_response

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
BODY_TIMEOUT_S = 10.0  # from the headers to the body's last byte
RESERVED_FDS = 64  # the ledger and its WAL, logs, mDNS, the listening sockets, threads' files


# -- the shares of the file limit ---------------------------------------------------------------


@dataclass(frozen=True)
class ListenerLimits:
    """What one listener (the LAN port or the public port) allows."""

    name: str
    max_connections: int  # HTTP connections at once (idle ones are evicted first)
    max_sockets: int  # WebSockets at once
    per_address: int  # WebSockets from one client address
    header_timeout_s: float  # to send the request line and headers
    keep_alive_s: float  # idle time between requests on one connection


@dataclass(frozen=True)
class Budget:
    nofile: int
    lan: ListenerLimits
    public: ListenerLimits


def raise_file_limit(wanted: int = 65536) -> int:
    """Raise the soft file limit as far as the hard one allows; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return int(soft) if soft != resource.RLIM_INFINITY else wanted


def budget(nofile: int, public: bool = True) -> Budget:
    """Split ``nofile`` descriptors between the listeners' connections and sockets.

    The LAN port gets a fixed share for HTTP and for sockets (a site has tens of desks and
    boards, not thousands); the public port gets the rest, most of it for the phones' follow
    sockets. The shares add up to less than the limit, so ``accept`` never fails for want of a
    descriptor: the caps act first, and they act by evicting idle connections.
    """
    usable = max(200, nofile - RESERVED_FDS)
    lan_http = max(48, min(1024, usable * 15 // 100))
    lan_ws = max(48, min(2048, usable * 15 // 100))
    lan = ListenerLimits("lan", lan_http, lan_ws, per_address=64, header_timeout_s=10.0, keep_alive_s=5.0)
    if not public:
        lan = ListenerLimits(
            "lan",
            usable * 50 // 100,
            usable * 45 // 100,
            per_address=64,
            header_timeout_s=10.0,
            keep_alive_s=5.0,
        )
        return Budget(nofile, lan, ListenerLimits("public", 0, 0, 0, 5.0, 5.0))
    rest = usable - lan_http - lan_ws
    pub_http = max(32, min(4096, rest * 20 // 100))
    pub_ws = max(32, rest - pub_http)
    # Phones behind the guest Wi-Fi's NAT (or a proxy not named with --public-proxy) all share one
    # address: the per-address cap there only stops one machine from taking every socket. What
    # bounds a visitor is the follow secret: at most 8 phones per ticket (server/api/follow.py).
    per_address = min(pub_ws, 2048)
    pub = ListenerLimits("public", pub_http, pub_ws, per_address, header_timeout_s=5.0, keep_alive_s=5.0)
    return Budget(nofile, lan, pub)


# -- body size ------------------------------------------------------------------------------------


def _too_large() -> Any:
    return error_response(
        413,
        "too_large",
        f"the request body is larger than {MAX_BODY // 1024} KiB",
        headers={"Connection": "close"},
    )


def _too_slow() -> Any:
    return error_response(
        408, "too_slow", "the request body did not arrive in time", headers={"Connection": "close"}
    )


class BodyLimit:
    """413 ``too_large`` for a body over ``limit`` bytes, reading no further; 408 for a body
    that has not arrived ``timeout_s`` after the headers (a trickled body holds no connection)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (declared > self.limit or declared < 0):
            await _too_large()(scope, receive, send)
            return
        metered = _Metered(scope, receive, send, self.limit, time.monotonic() + self.timeout_s)
        await self.app(scope, metered.receive, metered.send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


class _Metered:
    """One request's ``receive`` (counted, with a deadline) and ``send`` (watched).

    When the body passes the limit or its deadline, the answer (413 or 408, ``Connection:
    close``) is sent from here at once, and the app is told the client left: whatever the app
    (FastAPI turns any error while reading a body into its own 400) sends after that is dropped.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int, deadline: float) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.deadline = deadline
        self.seen = 0
        self.body_done = False
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.body_done:  # after the body only a disconnect comes: wait for it as long as it takes
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), max(0.01, self.deadline - time.monotonic()))
        except TimeoutError:
            return await self._refuse(_too_slow())
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                return await self._refuse(_too_large())
            self.body_done = not message.get("more_body", False)
        return message

    async def _refuse(self, answer: Any) -> Message:
        if not self.started:
            await answer(self.scope, self._receive, self._send)
            self.started = True
        self.refused = True
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


# -- header time and connection caps ------------------------------------------------------------


class ConnectionGuard:
    """The HTTP connections of one listener, oldest first, and who is waiting for headers."""

    def __init__(self, limits: ListenerLimits) -> None:
        self.limits = limits
        self._open: OrderedDict[GuardedHttpTools, None] = OrderedDict()
        self.evicted = 0
        self.timed_out = 0
        self.refused = 0
        self._last_log = 0.0

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, conn: GuardedHttpTools) -> bool:
        """Take a new connection; make room by closing the oldest idle one. False: refused."""
        if len(self._open) >= self.limits.max_connections:
            victim = next((c for c in self._open if c.waiting_headers), None)
            if victim is None:
                self.refused += 1
                self._quietly_log()
                return False
            self.evicted += 1
            self.forget(victim)
            victim.transport.abort()
            self._quietly_log()
        self._open[conn] = None
        return True

    def forget(self, conn: GuardedHttpTools) -> None:
        self._open.pop(conn, None)

    def _quietly_log(self) -> None:
        """Say so once every 10 s at most (one line, not one per connection)."""
        now = time.monotonic()
        if now - self._last_log >= 10.0:
            self._last_log = now
            log.warning(
                "%s port: %d connections open (cap %d): %d idle closed to make room, %d refused, %d too slow",
                self.limits.name,
                len(self._open),
                self.limits.max_connections,
                self.evicted,
                self.refused,
                self.timed_out,
            )


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and the listener's cap."""

    guard: ConnectionGuard  # set on the subclass :func:`http_protocol` makes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting_headers = True
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.abort()
            return
        self._arm()

    def _arm(self) -> None:
        self.waiting_headers = True
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.guard.limits.header_timeout_s, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self.waiting_headers and not self.transport.is_closing():
            self.guard.timed_out += 1
            self.guard.forget(self)
            self.transport.abort()

    def on_headers_complete(self) -> None:
        self.waiting_headers = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            # Between requests: idle again. Keep-alive closes it if nothing comes; once a byte
            # of the next request came, uvicorn stops that timer, so this deadline (keep-alive
            # plus the header time) is what a half-sent next request gets.
            self.waiting_headers = True
            if self._deadline is not None:
                self._deadline.cancel()
            limits = self.guard.limits
            self._deadline = self.loop.call_later(
                limits.keep_alive_s + limits.header_timeout_s, self._too_slow
            )

    def handle_websocket_upgrade(self) -> None:
        self.guard.forget(self)  # a socket now: SocketLimit counts it
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.forget(self)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)


def http_protocol(guard: ConnectionGuard) -> type[GuardedHttpTools]:
    """The protocol class for one listener (uvicorn's ``Config(http=…)``)."""
    return type(f"GuardedHttpTools_{guard.limits.name}", (GuardedHttpTools,), {"guard": guard})


# -- WebSockets ----------------------------------------------------------------------------------


class SocketLimit:
    """Caps the WebSockets of one listener, in total and per client address (module docstring)."""

    def __init__(self, app: ASGIApp, limits: ListenerLimits) -> None:
        self.app = app
        self.limits = limits
        self.open = 0
        self._by_address: dict[str, int] = {}
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "?"
        if (
            self.open >= self.limits.max_sockets
            or self._by_address.get(address, 0) >= self.limits.per_address
        ):
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning(
                    "%s port: WebSocket refused (%d open, cap %d, %d per address): %d refused so far",
                    self.limits.name,
                    self.open,
                    self.limits.max_sockets,
                    self.limits.per_address,
                    self.refused,
                )
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013, "reason": "too many connections"})
            return
        self.open += 1
        self._by_address[address] = self._by_address.get(address, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
            left = self._by_address.get(address, 1) - 1
            if left > 0:
                self._by_address[address] = left
            else:
                self._by_address.pop(address, None)
