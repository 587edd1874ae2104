"""A kiosk with no site file: it enrols, takes its settings from the service and follows changes.

``main.py kiosk`` without ``--config`` runs this (docs/KIOSK.md, "Enrolment"):

1. no token in the state folder → the enrolment screen (skin/enrol_screen.py) shows the code
   the service gave (client/enrol.py) until a technician approves it;
2. with a token → ``GET /config``: the site (languages, departments and texts, opening hours),
   the technician PIN hash and this kiosk's printer; the flow is built from it and the visitor
   screen replaces the enrolment screen;
3. the event stream carries the kiosk's token; ``config.changed`` fetches the configuration again
   and :meth:`KioskFlow.use_settings` applies it at once (a new printer when its id or
   connection changed); a refused token (revoked) deletes the token file and the enrolment
   screen comes back.

Imports no Kivy itself: the window (kiosk.app) is made by the caller after ``configure_window()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nummerlapp.client.enrol import (
    DeviceConfig,
    DeviceLink,
    Enroller,
    EnrolView,
    Identity,
    Revoked,
    ServiceFinder,
    StateDir,
    keep_enrolled,
    run_window,
)
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.flow import KioskFlow
from nummerlapp.kiosk.ports import DeviceInfo
from nummerlapp.kiosk.printing import KioskPrinter
from nummerlapp.kiosk.runner import KioskOptions, make_printer, pin_checker, version
from nummerlapp.kiosk.window import configure_window

if TYPE_CHECKING:  # kiosk.app imports Kivy, which must wait for configure_window
    from nummerlapp.kiosk.app import KioskApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceKiosk:
    """How a kiosk without a site file starts."""

    opts: KioskOptions
    state_dir: Path
    device_id: str


def printer_for(settings: Settings, opts: KioskOptions, old: Any) -> Any:
    """The printer for these settings: the old one (told the new texts) if it is unchanged."""
    wanted = opts.printer or settings.kiosk.printer
    if isinstance(old, KioskPrinter) and settings.printer(wanted) == old.printer_settings:
        old.settings = settings  # the ticket's texts (site and department names) follow the file
        return None
    return make_printer(settings, opts.printer)


async def run_device_kiosk(
    app: KioskApp, kiosk: DeviceKiosk, tasks: Sequence[Callable[[], Any]] = ()
) -> None:
    """Run the kiosk until its window closes (``tasks`` run beside it; the tests' observer)."""
    finder = ServiceFinder(kiosk.opts.server, mdns=kiosk.opts.mdns, interfaces=kiosk.opts.mdns_interfaces)
    await finder.start()
    state = StateDir(kiosk.state_dir)
    identity = Identity(kiosk.device_id, "kiosk", kiosk.opts.name or kiosk.device_id)

    async def work() -> None:
        await app.first_frame.wait()
        await keep_enrolled(lambda: _enrolled(app, kiosk, state, identity, finder), "kiosk")

    try:
        await run_window(app, work, tasks)
    finally:
        await finder.stop()


async def _enrolled(
    app: KioskApp, kiosk: DeviceKiosk, state: StateDir, identity: Identity, finder: ServiceFinder
) -> None:
    """One enrolment's life: enrol if needed, work until revoked."""
    token = state.token
    if token is None:
        enroller = Enroller(identity, state, finder.resolve)
        enroller.subscribe(app.show_enrolment)
        app.show_enrolment(enroller.view)
        base, token = await enroller.run()
    else:
        base = await finder.found()
    async with state.api(base, token) as api:  # over HTTPS: only the pinned certificate
        flow: KioskFlow | None = None

        def changed(config: DeviceConfig) -> None:
            if flow is None:
                return
            settings = config.settings
            flow.use_settings(
                settings,
                printer=printer_for(settings, kiosk.opts, flow.printer),
                pin_check=pin_checker(settings),
            )
            asyncio.get_running_loop().create_task(flow.refresh_state())  # open flags of new departments

        def identify() -> None:
            app.identify(flow.device.name if flow is not None else identity.name)

        link = DeviceLink(
            api, base, identity.device_id, on_config=changed, on_identify=identify, tls=state.tls()
        )
        try:
            config = await link.refresh()
            settings = config.settings
            printer = make_printer(settings, kiosk.opts.printer)
            device = DeviceInfo(
                identity.device_id,
                config.name or identity.name,
                version(),
                {"printer": getattr(printer, "id", "?")},
            )
            flow = KioskFlow(
                settings, api, printer, device, pin_check=pin_checker(settings), default_lang=kiosk.opts.lang
            )
            app.attach(flow)
            log.info("kiosk %s at work with the service at %s", identity.device_id, base)
            runner = asyncio.create_task(flow.run())
            try:
                await link.follow(token)
            finally:
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
                await flow.aclose()
        except Revoked as exc:
            log.warning("kiosk: the service no longer knows this kiosk (%s): enrolling again", exc)
            state.forget()
            app.show_enrolment(EnrolView(device_name=identity.name))


def main_enrolled(opts: KioskOptions, state_dir: Path, fullscreen: bool = False) -> int:
    """No site file: enrol with the service and take the settings from it (kiosk/device.py)."""
    configure_window(*opts.size, fullscreen=fullscreen)
    asyncio.run(run_enrolled(opts, state_dir))
    return 0


async def run_enrolled(opts: KioskOptions, state_dir: Path) -> None:
    from nummerlapp.kiosk.app import KioskApp  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window
    from nummerlapp.kiosk.technician import LogTail  # noqa: PLC0415  # (as above)

    tail = LogTail()
    logging.getLogger().addHandler(tail)
    device_id = opts.device_id or f"kiosk-{socket.gethostname()}"
    app = KioskApp(None, version=version(), log_tail=tail, size=opts.size)
    try:
        await run_device_kiosk(app, DeviceKiosk(opts, state_dir, device_id))
    finally:
        logging.getLogger().removeHandler(tail)
