"""Start a kiosk: find the service, build flow, printer and window, advertise, run until closed.

Resolution order for the service address: ``--server``; else mDNS (``_nummerlapp._tcp`` with
``role=server`` and this site's id); else the site file's ``site.server_url``. Everything runs on
one asyncio loop (window, HTTP, zeroconf); ``kiosk.window.configure_window`` must have run first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nummerlapp.client.api import ApiClient
from nummerlapp.common.discovery import Advertiser, find_server
from nummerlapp.common.errors import ServiceUnavailable
from nummerlapp.common.protocol import API_PREFIX
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.flow import KioskFlow
from nummerlapp.kiosk.ports import DeviceInfo
from nummerlapp.kiosk.printing import KioskPrinter, NoPrinter
from nummerlapp.kiosk.scanner import SerialScanner
from nummerlapp.kiosk.window import configure_window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KioskOptions:
    server: str | None
    token: str | None
    printer: str | None
    size: tuple[int, int]
    lang: str | None
    mdns_interfaces: Sequence[str] | None  # None: all interfaces
    mdns: bool = True
    device_id: str = ""
    name: str = ""
    discover_timeout_s: float = 5.0
    scanner: str | None = None  # a serial barcode/QR scanner's port (kiosk/scanner.py)


def version() -> str:
    try:
        return dist_version("nummerlapp")
    except Exception:  # not installed as a distribution (running from the checkout)
        return "0.1.0"


async def resolve_server(settings: Settings, opts: KioskOptions) -> str:
    if opts.server:
        return opts.server.rstrip("/").removesuffix(API_PREFIX)
    if opts.mdns:
        found = await find_server(settings.site.id, opts.mdns_interfaces, opts.discover_timeout_s)
        if found is not None:
            host, port = found
            log.info("found the service by mDNS at %s:%s", host, port)
            return f"http://{host}:{port}"
    if settings.site.server_url:
        return settings.site.server_url.rstrip("/").removesuffix(API_PREFIX)
    raise ServiceUnavailable(
        f"no service found for site {settings.site.id!r}: give --server URL or set site.server_url"
    )


def make_printer(settings: Settings, printer_id: str | None) -> Any:
    wanted = printer_id or settings.kiosk.printer
    printer_settings = settings.printer(wanted)
    if printer_settings is None:
        log.warning("no printer %r in the site file: numbers are shown on screen only", wanted)
        return NoPrinter()
    return KioskPrinter(settings, printer_settings)


def pin_checker(settings: Settings) -> Any:
    """argon2 verification of the technician PIN (slow on purpose; the flow runs it in a thread)."""
    pin_hash = settings.kiosk.technician_pin_hash
    if not pin_hash:
        return None

    hasher = PasswordHasher()

    def check(pin: str) -> bool:
        try:
            return bool(hasher.verify(pin_hash, pin))
        except (VerificationError, InvalidHashError):
            return False

    return check


async def run_kiosk(settings: Settings, opts: KioskOptions) -> None:
    from nummerlapp.kiosk.app import KioskApp, run_app  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window
    from nummerlapp.kiosk.technician import LogTail  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    tail = LogTail()
    logging.getLogger().addHandler(tail)
    base = await resolve_server(settings, opts)
    device_id = opts.device_id or f"kiosk-{socket.gethostname()}"
    printer = make_printer(settings, opts.printer)
    device = DeviceInfo(
        device_id, opts.name or device_id, version(), {"printer": getattr(printer, "id", "?")}
    )
    advertiser = None
    async with ApiClient(base, opts.token) as api:
        flow = KioskFlow(
            settings, api, printer, device, pin_check=pin_checker(settings), default_lang=opts.lang
        )
        app = KioskApp(flow, version=device.version, log_tail=tail, size=opts.size)
        if opts.mdns:
            advertiser = await _advertise(settings, opts, device_id)
        scanner = None
        if opts.scanner:
            scanner = SerialScanner(opts.scanner, flow.scanned, asyncio.get_running_loop())
            scanner.start()
        try:
            log.info("kiosk %s using the service at %s", device_id, base)
            await run_app(app, flow)
        finally:
            if scanner is not None:
                scanner.stop()
            if advertiser is not None:
                await advertiser.stop()
            logging.getLogger().removeHandler(tail)


async def _advertise(settings: Settings, opts: KioskOptions, device_id: str) -> Any:
    """``role=kiosk`` on mDNS so the technician's tools list this kiosk. Failure is not fatal."""

    advertiser = Advertiser(
        "kiosk", settings.site.id, 9, device_id=device_id, interfaces=opts.mdns_interfaces
    )
    try:
        await advertiser.start()
    except Exception as exc:  # a kiosk without multicast still serves visitors
        log.warning("mDNS advertisement failed: %s", exc)
        with contextlib.suppress(Exception):
            await advertiser.stop()
        return None
    return advertiser


def main(settings: Settings, opts: KioskOptions, fullscreen: bool = False) -> int:
    configure_window(*opts.size, fullscreen=fullscreen)
    asyncio.run(run_kiosk(settings, opts))
    return 0
