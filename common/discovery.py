"""mDNS / DNS-SD discovery shared by the server, the kiosk and the board.

Every Nummerlapp device advertises itself under ``_nummerlapp._tcp.local.`` with TXT keys
``role`` (server, board, kiosk), ``site`` (empty while unpaired), ``v=1`` and, for the server,
``path=/api/v1`` (PROTOCOL.md, "Discovery").

Three tools, all asyncio (python-zeroconf's ``AsyncZeroconf``) so they share the caller's loop:

- :class:`Advertiser` publishes one device and withdraws it (goodbye packets) on ``stop()``;
- :class:`Browser` keeps a live table of the devices it hears, optionally filtered by role/site;
- :func:`find_server` waits for the site's server and returns ``(host, port)``.

Every one takes ``interfaces``: ``None`` means all interfaces (production); tests pass
``["127.0.0.1"]`` or run inside network namespaces they made, so nothing is ever advertised on the
machine's real network. Each advertised device gets its own host name
(``<role>-<id>.local.``): several devices on one machine, or in network namespaces that share one
UTS host name, must not claim the same A record with different addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Self

from zeroconf import BadTypeInNameException, InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf._utils.net import get_all_addresses
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_nummerlapp._tcp.local."
PROTOCOL_VERSION = "1"
API_PATH = "/api/v1"
ROLES = ("server", "board", "kiosk")

Interfaces = Sequence[str] | None


def _zc_interfaces(interfaces: Interfaces) -> Any:
    """Translate our ``interfaces`` (None: all) to python-zeroconf's ``InterfacesType``."""

    return InterfaceChoice.All if interfaces is None else list(interfaces)


def _local_ipv4(interfaces: Interfaces) -> list[str]:
    """The IPv4 addresses to put in our A record: the chosen ones, or every non-loopback one."""
    if interfaces is not None:
        return [i for i in interfaces if _is_ipv4(i)]

    found = [a for a in get_all_addresses() if not a.startswith("127.")]
    return found or ["127.0.0.1"]


def _is_ipv4(text: str) -> bool:
    try:
        socket.inet_aton(text)
    except OSError:
        return False
    return text.count(".") == 3


def _label(text: str) -> str:
    """A DNS label from free text: lower case letters, digits and dashes, at most 40 characters."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return cleaned[:40] or "device"


@dataclass(frozen=True)
class Device:
    """One advertised Nummerlapp device as heard on the network."""

    name: str  # the full service instance name
    role: str
    site: str
    host: str  # the first IPv4 address (what a client connects to)
    port: int
    addresses: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def device_id(self) -> str:
        return self.properties.get("id", "") or self.name.split(".", 1)[0]

    @property
    def base_url(self) -> str:
        """Where to reach it: ``https`` when its record says ``tls=1`` (a service serving TLS)."""
        scheme = "https" if self.properties.get("tls") == "1" else "http"
        return f"{scheme}://{self.host}:{self.port}{self.properties.get('path', '')}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.device_id,
            "name": self.name,
            "role": self.role,
            "site": self.site,
            "host": self.host,
            "port": self.port,
            "addresses": list(self.addresses),
        }


class _ZeroconfUser:
    """What the advertiser and the browser share: a zeroconf instance, the caller's or one of our
    own made on :meth:`start` (closed again on :meth:`stop`), and ``async with``."""

    def __init__(self, interfaces: Interfaces, aiozc: AsyncZeroconf | None) -> None:
        self.interfaces = interfaces
        self._own_zc = aiozc is None
        self._aiozc = aiozc

    def _zeroconf(self) -> AsyncZeroconf:
        """The zeroconf instance, made now if this object owns one and has none yet."""
        if self._aiozc is None:
            self._aiozc = AsyncZeroconf(
                interfaces=_zc_interfaces(self.interfaces), ip_version=IPVersion.V4Only
            )
        return self._aiozc

    async def _close_own(self) -> None:
        if self._own_zc and self._aiozc is not None:
            await self._aiozc.async_close()
            self._aiozc = None

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class Advertiser(_ZeroconfUser):
    """Publishes one device under ``_nummerlapp._tcp`` until :meth:`stop`.

    ``device_id`` names the device (a kiosk's or board's own id; the server passes its site id);
    it becomes the instance name ``Nummerlapp <role> <device_id>`` and the host name, and goes in
    the TXT record as ``id``. Use it as ``async with Advertiser(...):`` or start/stop.
    """

    def __init__(
        self,
        role: str,
        site: str,
        port: int,
        *,
        device_id: str | None = None,
        interfaces: Interfaces = None,
        addresses: Sequence[str] | None = None,
        properties: Mapping[str, str] | None = None,
        aiozc: AsyncZeroconf | None = None,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self.role = role
        self.site = site
        self.port = port
        super().__init__(interfaces, aiozc)
        self.device_id = device_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
        self.addresses = list(addresses) if addresses is not None else _local_ipv4(interfaces)
        props = {"role": role, "site": site, "v": PROTOCOL_VERSION, "id": self.device_id}
        if role == "server":
            props["path"] = API_PATH
        props.update(properties or {})
        self.properties = props
        self._info: AsyncServiceInfo | None = None

    @property
    def service_name(self) -> str:
        return self._info.name if self._info is not None else self._wanted_name()

    def _wanted_name(self) -> str:
        return f"Nummerlapp {self.role} {self.device_id[:40]}.{SERVICE_TYPE}"

    async def start(self) -> None:
        """Announce the device (probing for a unique name first, renaming on a clash)."""
        if self._info is not None:
            return
        aiozc = self._zeroconf()
        info = AsyncServiceInfo(
            SERVICE_TYPE,
            self._wanted_name(),
            port=self.port,
            properties=dict(self.properties),
            server=f"{_label(self.role + '-' + self.device_id)}.local.",
            parsed_addresses=self.addresses,
        )
        await aiozc.async_register_service(info, allow_name_change=True)
        self._info = info
        log.info("mDNS: advertising %s on %s port %d", info.name, ", ".join(self.addresses), self.port)

    async def update(self, **properties: str) -> None:
        """Change TXT keys (for example ``site`` after pairing) and re-announce."""
        self.properties.update(properties)
        if self._info is None or self._aiozc is None:
            return
        self._info._set_properties(dict(self.properties))  # type: ignore[arg-type]
        await self._aiozc.async_update_service(self._info)

    async def stop(self) -> None:
        """Withdraw the advertisement (goodbye packets) and close our zeroconf instance."""
        aiozc, info = self._aiozc, self._info
        self._info = None
        if aiozc is None:
            return
        if info is not None:
            with contextlib.suppress(Exception):
                task = await aiozc.async_unregister_service(info)
                await task
            log.info("mDNS: withdrew %s", info.name)
        await self._close_own()


class Browser(_ZeroconfUser):
    """A live table of the Nummerlapp devices heard on the network.

    ``role`` / ``site`` filter what is kept (``None``: anything). ``on_change(device, present)`` is
    called in the loop whenever a device appears, changes or leaves. Resolution of each instance
    (SRV, TXT, A) runs as a task so the zeroconf callback never blocks.
    """

    def __init__(
        self,
        *,
        role: str | None = None,
        site: str | None = None,
        interfaces: Interfaces = None,
        aiozc: AsyncZeroconf | None = None,
        on_change: Callable[[Device, bool], None] | None = None,
    ) -> None:
        super().__init__(interfaces, aiozc)
        self.role = role
        self.site = site
        self.on_change = on_change
        self._browser: AsyncServiceBrowser | None = None
        self._devices: dict[str, Device] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    def devices(self, role: str | None = None) -> list[Device]:
        """Devices heard so far (optionally of one role), sorted by name."""
        found = (d for d in self._devices.values() if role is None or d.role == role)
        return sorted(found, key=lambda d: d.name)

    async def start(self) -> None:
        if self._browser is not None:
            return
        self._browser = AsyncServiceBrowser(
            self._zeroconf().zeroconf, SERVICE_TYPE, handlers=[self._on_state]
        )

    async def stop(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_own()

    async def wait_for(self, predicate: Callable[[Device], bool], timeout: float) -> Device | None:
        """The first device (already heard or arriving within ``timeout`` s) for which predicate holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for device in self.devices():
                if predicate(device):
                    return device
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _on_state(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            gone = self._devices.pop(name, None)
            if gone is not None:
                self._notify(gone, False)
            return
        task = asyncio.get_running_loop().create_task(self._resolve(zeroconf, service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, zeroconf: Zeroconf, service_type: str, name: str) -> None:
        try:
            info = AsyncServiceInfo(service_type, name)
        except BadTypeInNameException:
            return
        if not await info.async_request(zeroconf, 3000):
            log.debug("mDNS: could not resolve %s", name)
            return
        device = _device_from_info(name, info)
        if device is None:
            return
        if self.role is not None and device.role != self.role:
            return
        if self.site is not None and device.site != self.site:
            return
        self._devices[name] = device
        self._notify(device, True)

    def _notify(self, device: Device, present: bool) -> None:
        self._changed.set()
        if self.on_change is not None:
            try:
                self.on_change(device, present)
            except Exception:  # a listener's bug must not stop discovery
                log.exception("mDNS: on_change failed")


def _device_from_info(name: str, info: AsyncServiceInfo) -> Device | None:
    props = {k: v or "" for k, v in info.decoded_properties.items()}
    if props.get("v") != PROTOCOL_VERSION or info.port is None:
        return None
    addresses = tuple(info.parsed_addresses(IPVersion.V4Only))
    if not addresses:
        return None
    return Device(
        name=name,
        role=props.get("role", ""),
        site=props.get("site", ""),
        host=addresses[0],
        port=int(info.port),
        addresses=addresses,
        properties=MappingProxyType(props),
    )


async def find_server(
    site_id: str | None, interfaces: Interfaces = None, timeout: float = 5.0
) -> tuple[str, int] | None:
    """Wait up to ``timeout`` s for the server of ``site_id`` (``None``: any site); ``(host, port)``."""
    async with Browser(role="server", site=site_id, interfaces=interfaces) as browser:
        device = await browser.wait_for(lambda d: True, timeout)
    return (device.host, device.port) if device is not None else None


def describe(devices: Iterable[Device]) -> list[dict[str, object]]:
    """JSON-ready list of devices (for the API and the technician's tools)."""
    return [d.to_json() for d in devices]
