"""The server's mDNS presence: advertise ``role=server`` and list the boards and kiosks heard.

Both share one ``AsyncZeroconf`` on the server's loop (one multicast socket set, no thread of our
own). Started in the app's lifespan after the ledger opened, withdrawn (goodbye packets) when the
app shuts down, so clients stop trying a server that is gone within a second rather than at the
record's TTL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from nummerlapp.common.discovery import Advertiser, Browser, Device, Interfaces, _zc_interfaces

log = logging.getLogger(__name__)


class ServerMdns:
    """Advertises the site service and browses for devices of the same site (or unpaired)."""

    def __init__(
        self,
        site_id: str,
        port: int,
        *,
        interfaces: Interfaces = None,
        addresses: Sequence[str] | None = None,
        tls: bool = False,
    ) -> None:
        self.site_id = site_id
        self.tls = tls  # announced as TXT ``tls=1``: devices that find the service speak HTTPS to it
        self.port = port
        self.interfaces = list(interfaces) if interfaces is not None else None
        self.addresses = list(addresses) if addresses is not None else None
        self.advertiser: Advertiser | None = None
        self.browser: Browser | None = None
        self._aiozc: object | None = None

    async def start(self) -> None:
        aiozc = AsyncZeroconf(interfaces=_zc_interfaces(self.interfaces), ip_version=IPVersion.V4Only)
        self._aiozc = aiozc
        self.advertiser = Advertiser(
            "server",
            self.site_id,
            self.port,
            device_id=self.site_id,
            interfaces=self.interfaces,
            addresses=self.addresses,
            properties={"tls": "1"} if self.tls else None,
            aiozc=aiozc,
        )
        self.browser = Browser(interfaces=self.interfaces, aiozc=aiozc)
        await self.browser.start()
        await self.advertiser.start()

    async def stop(self) -> None:
        if self.advertiser is not None:
            await self.advertiser.stop()
        if self.browser is not None:
            await self.browser.stop()
        aiozc = self._aiozc
        self._aiozc = None
        if aiozc is not None:
            await aiozc.async_close()  # type: ignore[attr-defined]

    def devices(self) -> list[Device]:
        """Boards and kiosks heard over mDNS (not servers), of this site or not yet paired."""
        if self.browser is None:
            return []
        return [d for d in self.browser.devices() if d.role != "server" and d.site in (self.site_id, "")]
