"""Pinning the service's TLS certificate (issues 13 and 14): trusted once at enrolment, then exactly.

A site's service may serve HTTPS with a self-signed certificate (``server --tls-self-signed``,
server/api/tls.py) that no CA vouches for. A device trusts it the way SSH trusts a host key:

- **Enrolment** is the first contact: the device talks to the service without checking the
  certificate (:func:`first_contact`), the enrolment answer names the certificate's SHA-256
  (``tls_sha256``) and the device shows its first 8 hex digits under the code, for the technician
  to compare with the technician page. After approval the device fetches the certificate itself
  and keeps it (:class:`~client.enrol.StateDir`) only if its SHA-256 is the announced one.
- **Every later connection** (HTTP and the event socket) trusts that certificate and nothing else
  (:func:`pinned`: the kept certificate is the only trust anchor, partial chains allowed so a
  CA-issued leaf pins as well). A different certificate fails the handshake; the client turns
  that into :class:`CertificateChanged`, whose message says what to do.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from urllib.parse import urlsplit

from nummerlapp.common.errors import ServiceUnavailable


class CertificateChanged(ServiceUnavailable):
    """The service showed a certificate other than the one pinned at enrolment."""

    def __init__(self, base: str, pinned_sha256: str) -> None:
        short = pinned_sha256[:8]
        super().__init__(
            f"{base} shows a TLS certificate other than the one this device pinned at enrolment "
            f"(sha256 {short[:4]} {short[4:]}…): refusing to talk to it. If the service really has a "
            "new certificate, remove this device on the technician page and approve its new code."
        )
        self.pinned_sha256 = pinned_sha256


def sha256_of(pem: str) -> str:
    """Hex SHA-256 of a PEM certificate's DER bytes (as ``tls_sha256`` and browsers give it)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def first_contact() -> ssl.SSLContext:
    """Enrolment only: TLS without checking the certificate (it is compared by its fingerprint)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def pinned(pem: str) -> ssl.SSLContext:
    """Trust exactly this certificate (whatever name or address the service is reached by)."""
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False  # a LAN service is reached by address; the pin is the identity
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def is_https(base: str) -> bool:
    return urlsplit(base).scheme in ("https", "wss")


async def fetch_certificate(base: str) -> str:
    """The PEM certificate the service at ``base`` shows now (no check: compare its SHA-256)."""
    parts = urlsplit(base)
    address = (parts.hostname or "127.0.0.1", parts.port or 443)
    return await asyncio.to_thread(ssl.get_server_certificate, address, timeout=5.0)


def is_certificate_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a failed certificate check."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
