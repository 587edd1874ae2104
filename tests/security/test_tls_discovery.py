"""A device with nothing but mDNS finds a service that serves TLS and enrols over HTTPS.

The service's mDNS record carries ``tls=1`` when it serves HTTPS (server/api/mdns.py), so the
address a device hears is ``https://…`` (common/discovery.py); before, it was always ``http://`` and a
device had to be given ``--server https://…`` by hand. A real server with ``--tls-self-signed``
announces itself on 127.0.0.1 only; the device's own finder (client/enrol.py ``ServiceFinder``)
hears it, and the enrolment pins the certificate it met there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from nummerlapp.client.enrol import Enroller, Identity, Phase, ServiceFinder, StateDir
from nummerlapp.client.tls import sha256_of
from nummerlapp.tests.security.conftest import start, stop

pytestmark = pytest.mark.timeout(120)
LO = ["127.0.0.1"]


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
async def test_a_device_hears_the_service_with_its_scheme_and_enrols(tmp_path: Path, tls: bool) -> None:
    target = start(tmp_path, extra=("--tls-self-signed",) if tls else (), mdns=True)
    finder = ServiceFinder(None, interfaces=LO)
    try:
        await finder.start()
        base = await asyncio.wait_for(finder.found(), 15)
        assert base == target.base and base.startswith("https://" if tls else "http://")
        state = StateDir(tmp_path / "device")
        enroller = Enroller(
            Identity("kiosk-mdns", "kiosk", "Kiosk ved inngangen"), state, finder.resolve, poll_s=0.1
        )
        running = asyncio.create_task(enroller.run())
        async with asyncio.timeout(15):
            while enroller.view.phase != Phase.WAITING:
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(verify=False) as admin:  # the technician's approval
            code = enroller.view.code
            res = await admin.post(f"{target.base}/api/v1/enrolments/{code}/approve", headers=target.admin)
            assert res.status_code == 200, res.text
        found_base, token = await asyncio.wait_for(running, 15)
        assert found_base == target.base and token
        if tls:  # the certificate met over the discovered address is the one kept
            served = (tmp_path / "ledger.sqlite.tls" / "cert.pem").read_text()
            assert state.tls_sha256 == sha256_of(served)
        else:
            assert state.tls_sha256 is None
    finally:
        await finder.stop()
        stop(target)
