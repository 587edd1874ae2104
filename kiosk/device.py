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
   screen comes back;
4. ``appointment.slip`` for this kiosk (the reception's "Print at kiosk"): a booked visit's slip
   printed in a worker thread through the kiosk's printer (the same lock as tickets, never on
   the window's loop); a printer fault is logged and reported like a ticket's, and the resting
   screen follows it.

Imports no Kivy itself: the window (kiosk.app) is made by the caller after ``configure_window()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nummerlapp.client.enrol import (
    Device,
    DeviceConfig,
    DeviceLink,
    DeviceStart,
    run_device_window,
)
from nummerlapp.common import protocol as P
from nummerlapp.common.errors import PrinterError
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.flow import KioskFlow
from nummerlapp.kiosk.ports import DeviceInfo, state_from_error
from nummerlapp.kiosk.printing import KioskPrinter, visit_label
from nummerlapp.kiosk.runner import KioskOptions, make_printer, pin_checker, version
from nummerlapp.kiosk.window import configure_window

if TYPE_CHECKING:  # kiosk.app imports Kivy, which must wait for configure_window
    from nummerlapp.kiosk.app import KioskApp

log = logging.getLogger(__name__)

DeviceKiosk = DeviceStart[KioskOptions]  # how a kiosk without a site file starts


def printer_for(settings: Settings, opts: KioskOptions, old: Any) -> Any:
    """The printer for these settings: the old one (told the new texts) if it is unchanged."""
    wanted = opts.printer or settings.kiosk.printer
    if isinstance(old, KioskPrinter) and settings.printer(wanted) == old.printer_settings:
        old.settings = settings  # the ticket's texts (site and department names) follow the file
        return None
    return make_printer(settings, opts.printer)


async def print_slip(flow: KioskFlow, slip: P.AppointmentSlip) -> None:
    """Print a booked visit's slip at this kiosk's printer (in a thread); a fault is logged and
    reported as the printer's state (``device.status``), the resting screen following it."""
    printer = flow.printer
    if not isinstance(printer, KioskPrinter):
        log.warning("no printer: a booked visit's slip was not printed")
        return
    try:
        await asyncio.to_thread(printer.print_slip, slip)
    except (PrinterError, P.ProtocolError, ValueError) as exc:
        start = slip.appointment.start
        log.error("printing the slip of the visit at %s failed: %s", visit_label_of(start), exc)
        if isinstance(exc, PrinterError):
            flow.printer_state = state_from_error(exc, getattr(exc, "status", None))
            await flow.report_now()
            await flow.check_printer()


def visit_label_of(start: str) -> str:
    try:
        return visit_label(dt.datetime.fromisoformat(start))
    except ValueError:
        return "?"


async def run_device_kiosk(
    app: KioskApp, kiosk: DeviceKiosk, tasks: Sequence[Callable[[], Any]] = ()
) -> None:
    """Run the kiosk until its window closes (``tasks`` run beside it; the tests' observer)."""
    await run_device_window(app, kiosk, "kiosk", "kiosk", lambda device: _enrolled(app, kiosk, device), tasks)


async def _enrolled(app: KioskApp, kiosk: DeviceKiosk, device: Device) -> None:
    """One enrolment's life: enrol if needed, work until revoked."""
    identity = device.identity
    async with device.session(app.show_enrolment) as (base, token, api):
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

        slips: set[asyncio.Task[None]] = set()  # held until printed (a task nobody holds may vanish)

        def slip(message: P.AppointmentSlip) -> None:
            if flow is None:
                return
            task = asyncio.get_running_loop().create_task(print_slip(flow, message))
            slips.add(task)
            task.add_done_callback(slips.discard)

        link = DeviceLink(
            api,
            base,
            identity.device_id,
            on_config=changed,
            on_identify=identify,
            on_slip=slip,
            tls=device.state.tls(),
        )
        config = await link.refresh()
        settings = config.settings
        printer = make_printer(settings, kiosk.opts.printer)
        info = DeviceInfo(
            identity.device_id,
            config.name or identity.name,
            version(),
            {"printer": getattr(printer, "id", "?")},
        )
        flow = KioskFlow(
            settings, api, printer, info, pin_check=pin_checker(settings), default_lang=kiosk.opts.lang
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
    app = KioskApp(None, version=version(), log_tail=tail, size=opts.size)
    try:
        await run_device_kiosk(app, DeviceKiosk.of(opts, state_dir, opts.device_id, "kiosk"))
    finally:
        logging.getLogger().removeHandler(tail)
