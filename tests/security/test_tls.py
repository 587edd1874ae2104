"""The LAN port over HTTPS with a self-signed pair made on first start; its fingerprint to pin."""

from __future__ import annotations

import hashlib
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from nummerlapp.tests.security.conftest import PASSWORD, start, stop


def test_self_signed_https_with_a_fingerprint_to_pin(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp: Path = tmp_path_factory.mktemp("tls")
    target = start(tmp, nofile_1024=False, extra=("--tls-self-signed",))
    try:
        folder = target.db.with_name(target.db.name + ".tls")
        cert, key = folder / "cert.pem", folder / "key.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", target.port)))
        served = hashlib.sha256(der).hexdigest()
        assert served == hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()

        # pinning: trust exactly this certificate, as an enrolled device will
        pinned = ssl.create_default_context(cafile=str(cert))
        pinned.check_hostname = False
        health = httpx.get(f"{target.base}/api/v1/health", verify=pinned).json()
        assert health["tls_sha256"] == served
        with pytest.raises(httpx.ConnectError):  # an unpinned client refuses it
            httpx.get(f"{target.base}/api/v1/health")
        assert served.upper() in target.log_text().replace(":", "")  # logged as AB:CD:… at start

        # staff sign in over HTTPS: the session cookie is Secure
        with httpx.Client(base_url=target.base, verify=pinned) as client:
            page = client.get("/desk/signin")
            csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            res = client.post("/desk/signin", data={"csrf": csrf, "username": "desk1", "password": PASSWORD})
            assert res.status_code == 303
            cookies = res.headers.get_list("set-cookie")
            assert any(c.startswith("nl_session=") and "secure" in c.lower() for c in cookies)

        # the visitors' port stays plain HTTP (its TLS, if any, is the proxy's)
        assert httpx.get(f"{target.public}/api/v1/health").status_code == 200
    finally:
        stop(target)
    # the second start reuses the pair: the pinned fingerprint does not change
    again = start(tmp, nofile_1024=False, extra=("--tls-self-signed",))
    try:
        der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", again.port)))
        assert hashlib.sha256(der).hexdigest() == served
    finally:
        stop(again)
