"""TLS for the LAN port: a given certificate and key, or a self-signed pair made on first start.

Staff passwords must not cross the LAN in clear (issue 14). ``server --tls-cert C --tls-key K``
serves the LAN port over HTTPS with a certificate the site already has (the municipality's own
CA); ``--tls-self-signed`` makes an EC P-256 key and a self-signed certificate beside the ledger
on first start (``<ledger>.tls/cert.pem`` and ``key.pem``, the key 0600) and reuses them after.

A self-signed certificate cannot be checked against a CA, so a device trusts it by *pinning*:
the SHA-256 of the certificate (:func:`fingerprint`) is logged at start and shown by
``GET /api/v1/health`` as ``tls_sha256``; enrolment (issue 13) will have the technician confirm it
with the enrolment code, and the device keep it. A browser shows the same fingerprint in its
certificate viewer, so a technician can compare it once per desk PC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from nummerlapp.common.errors import ConfigError

VALID_DAYS = 3650


def fingerprint(cert_path: Path) -> str:
    """Hex SHA-256 of the certificate's DER bytes (what browsers call the SHA-256 fingerprint)."""
    pem = cert_path.read_text(encoding="ascii")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def self_signed(folder: Path, hosts: list[str]) -> tuple[Path, Path]:
    """The self-signed pair in ``folder``, made now if it is not there yet."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.is_file() and key.is_file():
        return cert, key
    try:
        from cryptography import x509  # noqa: PLC0415  # start-up: only when a pair is made
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415  # start-up
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415  # start-up
        from cryptography.x509.oid import NameOID  # noqa: PLC0415  # start-up
    except ImportError:
        raise ConfigError(
            "server", "--tls-self-signed", "needs the 'cryptography' package (pip install cryptography)"
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "nummerlapp")])
    alt: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_bytes)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


def default_hosts(listen_host: str) -> list[str]:
    """Names the self-signed certificate is made for: the host's name, localhost, addresses."""
    hosts = [socket.gethostname(), "localhost", "127.0.0.1"]
    if listen_host not in ("", "0.0.0.0", "::"):
        hosts.insert(0, listen_host)
    return hosts


def check_pair(cert: Path, key: Path) -> None:
    """A clear error (not a traceback) for a missing or unusable certificate or key."""
    for path, what in ((cert, "--tls-cert"), (key, "--tls-key")):
        if not path.is_file():
            raise ConfigError(str(path), what, "no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(str(cert), "--tls-cert/--tls-key", f"not a usable pair with {key}: {exc}") from None
