"""An enrolled device trusts exactly the certificate it pinned at enrolment (client/tls.py).

A real server with ``--tls-self-signed``: a device enrols over HTTPS (first contact: the
certificate is compared by its fingerprint, which the enrolment screen shows), keeps the
certificate beside its token, then fetches its configuration and opens its event socket trusting
only that certificate. The server restarts with a NEW self-signed certificate (same ledger, so the
token is still good): the device refuses it, over HTTP and on the socket, with a clear error.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest

from nummerlapp.client.enrol import Enroller, Identity, Phase, StateDir
from nummerlapp.client.events import EventStream, StreamDown
from nummerlapp.client.tls import CertificateChanged, sha256_of
from nummerlapp.common import protocol as P
from nummerlapp.tests.security.conftest import Target, start, stop

pytestmark = pytest.mark.timeout(120)


async def _enrol(target: Target, state: StateDir) -> tuple[Enroller, str]:
    async def resolve() -> str:
        return target.base

    enroller = Enroller(Identity("kiosk-tls", "kiosk", "Kiosk ved inngangen"), state, resolve, poll_s=0.1)
    running = asyncio.create_task(enroller.run())
    for _ in range(200):
        if enroller.view.phase == Phase.WAITING:
            break
        await asyncio.sleep(0.05)
    assert enroller.view.phase == Phase.WAITING, enroller.view
    async with httpx.AsyncClient(verify=False) as admin:  # the test's own check of the answer is below
        res = await admin.post(
            f"{target.base}/api/v1/enrolments/{enroller.view.code}/approve", headers=target.admin, json={}
        )
        assert res.status_code == 200, res.text
    base, token = await asyncio.wait_for(running, 10)
    assert base == target.base
    return enroller, token


async def _first_message(stream: EventStream) -> object:
    try:
        async for message in stream:
            return message
    finally:
        await stream.close()
    return None


async def test_a_device_pins_the_certificate_and_refuses_another(tmp_path: Path) -> None:
    target = await asyncio.to_thread(start, tmp_path, False, ("--tls-self-signed",))
    folder = target.db.with_name(target.db.name + ".tls")
    served = sha256_of((folder / "cert.pem").read_text(encoding="ascii"))
    state = StateDir(tmp_path / "state")
    try:
        enroller, token = await _enrol(target, state)
        # the fingerprint the screen showed, and the certificate kept beside the token (0600)
        assert enroller.view.fingerprint_text == f"{served[:4]} {served[4:8]}"
        assert state.tls_sha256 == served and state.tls_cert is not None
        assert sha256_of(state.tls_cert) == served
        assert ((tmp_path / "state" / "tls_cert.pem").stat().st_mode & 0o777) == 0o600
        # later connections trust the pinned certificate (HTTP and the event socket)
        async with state.api(target.base, token) as api:
            config = await api.get_config()
            device = config.config["device"]
            assert isinstance(device, dict) and device["id"] == "kiosk-tls"
        first = await asyncio.wait_for(
            _first_message(EventStream(target.base, token=token, tls=state.tls())), 10
        )
        assert isinstance(first, P.SnapshotMessage)
    finally:
        await asyncio.to_thread(stop, target)

    # the service comes back with another certificate: refused, clearly
    shutil.rmtree(folder)
    again = await asyncio.to_thread(start, tmp_path, False, ("--tls-self-signed",))
    try:
        other = sha256_of((folder / "cert.pem").read_text(encoding="ascii"))
        assert other != served
        async with httpx.AsyncClient(verify=False) as check:  # the token itself is still good
            res = await check.get(f"{again.base}/api/v1/config", headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 200
        async with state.api(again.base, token) as api:
            with pytest.raises(CertificateChanged) as refused:
                await api.get_config()
        text = str(refused.value)
        assert "pinned at enrolment" in text and f"{served[:4]} {served[4:8]}" in text
        assert "technician page" in text
        down = await asyncio.wait_for(
            _first_message(EventStream(again.base, token=token, tls=state.tls())), 10
        )
        assert isinstance(down, StreamDown) and not down.refused
        assert "CERTIFICATE_VERIFY_FAILED" in down.reason or "certificate verify failed" in down.reason
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # the pin alone decides
            await asyncio.to_thread(
                lambda: httpx.get(f"{again.base}/api/v1/health", verify=state.tls() or True)
            )
    finally:
        await asyncio.to_thread(stop, again)
