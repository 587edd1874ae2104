"""Start the exit terminal: find the service, build flow, outbox and window, run until closed.

The service address: ``--server``; else mDNS (``role=server`` with this site's id); else the site
file's ``site.server_url``. No address at all is not fatal here: answers wait in the outbox and the
terminal keeps asking visitors. Everything runs on one asyncio loop; ``configure_window`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

from nummerlapp.client.api import ApiClient
from nummerlapp.common.discovery import find_server
from nummerlapp.common.errors import NummerlappError
from nummerlapp.common.protocol import API_PREFIX
from nummerlapp.config.model import Settings
from nummerlapp.feedback.flow import FeedbackFlow
from nummerlapp.feedback.outbox import Outbox, Sender
from nummerlapp.feedback.window import configure_window

log = logging.getLogger(__name__)

HEARTBEAT_S = 300.0  # device.status: the technician's device list shows the terminal alive


@dataclass(frozen=True)
class FeedbackOptions:
    server: str | None
    token: str | None
    size: tuple[int, int]
    lang: str | None
    outbox: Path
    mdns_interfaces: Sequence[str] | None = None
    mdns: bool = True
    device_id: str = ""
    name: str = ""
    discover_timeout_s: float = 5.0


def version() -> str:
    try:
        return dist_version("nummerlapp")
    except Exception:  # not installed as a distribution (running from the checkout)
        return "0.1.0"


async def resolve_server(settings: Settings, opts: FeedbackOptions) -> str | None:
    if opts.server:
        return opts.server.rstrip("/").removesuffix(API_PREFIX)
    if opts.mdns:
        found = await find_server(settings.site.id, opts.mdns_interfaces, opts.discover_timeout_s)
        if found is not None:
            return f"http://{found[0]}:{found[1]}"
    if settings.site.server_url:
        return settings.site.server_url.rstrip("/").removesuffix(API_PREFIX)
    return None


async def heartbeat(api: ApiClient, device_id: str, name: str) -> None:
    while True:
        with contextlib.suppress(NummerlappError):
            await api.report_device_status(device_id, role="feedback", name=name, version=version())
        await asyncio.sleep(HEARTBEAT_S)


async def run_terminal(settings: Settings, opts: FeedbackOptions) -> None:
    from nummerlapp.feedback.app import FeedbackApp, run_app  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    base = await resolve_server(settings, opts)
    if base is None:
        log.warning("no service found for site %r: answers wait in %s", settings.site.id, opts.outbox)
        base = "http://127.0.0.1:0"
    device_id = opts.device_id or f"feedback-{socket.gethostname()}"
    async with ApiClient(base, opts.token) as api:
        sender = Sender(Outbox(opts.outbox), api.give_feedback)
        flow = FeedbackFlow(settings, sender.queue, default_lang=opts.lang)
        app = FeedbackApp(flow, size=opts.size)
        log.info("feedback terminal %s using the service at %s", device_id, base)

        async def beat() -> None:
            await heartbeat(api, device_id, opts.name or device_id)

        await run_app(app, (sender.run, beat))
        await sender.drain()


def main(settings: Settings, opts: FeedbackOptions, fullscreen: bool = False) -> int:
    configure_window(*opts.size, fullscreen=fullscreen)
    asyncio.run(run_terminal(settings, opts))
    return 0
