"""common.discovery on 127.0.0.1: advertise, browse by role, find_server, withdraw."""

from __future__ import annotations

import asyncio

import pytest

from nummerlapp.common.discovery import Advertiser, Browser, find_server

pytestmark = pytest.mark.timeout(60)
LO = ["127.0.0.1"]


async def test_advertise_browse_and_withdraw() -> None:
    async with Browser(interfaces=LO) as browser:
        server = Advertiser("server", "loopsite", 18555, device_id="loopsite", interfaces=LO)
        board = Advertiser("board", "loopsite", 0, device_id="board-7", interfaces=LO)
        kiosk = Advertiser("kiosk", "", 0, device_id="kiosk-unpaired", interfaces=LO)
        await asyncio.gather(server.start(), board.start(), kiosk.start())
        try:
            found = await find_server("loopsite", LO, timeout=8)
            assert found == ("127.0.0.1", 18555)
            assert await find_server("othersite", LO, timeout=1.5) is None
            got = await browser.wait_for(lambda d: d.role == "kiosk", 8)
            assert got is not None and got.site == "" and got.device_id == "kiosk-unpaired"
            b = await browser.wait_for(lambda d: d.role == "board", 8)
            assert b is not None and b.site == "loopsite" and b.properties["v"] == "1"
            srv = await browser.wait_for(lambda d: d.role == "server", 8)
            assert srv is not None and srv.properties["path"] == "/api/v1" and srv.port == 18555
        finally:
            await board.stop()
        # the goodbye packet removes the board from the browser's table
        async with asyncio.timeout(8):
            while any(d.role == "board" for d in browser.devices()):
                await asyncio.sleep(0.05)
        assert [d.device_id for d in browser.devices("kiosk")] == ["kiosk-unpaired"]
        await asyncio.gather(server.stop(), kiosk.stop())


def test_advertiser_rejects_unknown_role() -> None:
    with pytest.raises(ValueError, match="role"):
        Advertiser("toaster", "x", 1, interfaces=LO)
