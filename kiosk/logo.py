"""``python main.py kiosk --store-logo FILE``: the ticket logo into this kiosk's own printer.

The logo lives in the printer's NV memory and is stored once (docs/PRINTER.md, "Logo"). A kiosk
started with a site file stores it with that file's printer settings, as ``main.py printer logo``
does. A kiosk that joined the site by itself has no site file: it takes its printer's settings
from the service, as it does when it runs (``GET /api/v1/config`` with the token it keeps in its
state folder; the service found by ``--server`` or over mDNS), so the technician needs nothing
but the image on the kiosk. No window opens.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nummerlapp.client.enrol import ServiceFinder, StateDir, fetch_config
from nummerlapp.common.errors import ConfigError, Forbidden, ServiceUnavailable
from nummerlapp.config.model import Settings
from nummerlapp.kiosk.runner import KioskOptions
from nummerlapp.printer.cli import store_logo

FIND_S = 15.0


def store(settings: Settings, printer_id: str | None, file: Path) -> int:
    """Store ``file`` in the printer this kiosk prints with (``--printer``, else ``kiosk.printer``)."""
    wanted = printer_id or settings.kiosk.printer
    ps = settings.printer(wanted) if wanted else (settings.printers[0] if settings.printers else None)
    if ps is None:
        known = ", ".join(p.id for p in settings.printers) or "none"
        raise ConfigError("--printer", "", f"no printer {wanted!r} for this kiosk (known: {known})")
    return store_logo(ps, file)


async def service_settings(opts: KioskOptions, state_dir: Path, find_s: float = FIND_S) -> Settings:
    """This enrolled kiosk's settings from the service, with its kept token (and pinned certificate)."""
    state = StateDir(state_dir)
    token = state.token
    if token is None:
        raise ConfigError(
            str(state_dir),
            "token",
            "this kiosk has not joined a site yet: start it, have its code approved, then store the logo",
        )
    finder = ServiceFinder(opts.server, mdns=opts.mdns, interfaces=opts.mdns_interfaces)
    await finder.start()
    try:
        base = await asyncio.wait_for(finder.found(), find_s)
    except TimeoutError:
        raise ServiceUnavailable(
            f"no site service heard over mDNS in {find_s:.0f} s: give --server URL"
        ) from None
    finally:
        await finder.stop()
    try:
        async with state.api(base, token) as api:
            config = await fetch_config(api, base)
    except Forbidden as exc:
        raise Forbidden(
            f"the service at {base} refused this kiosk's token ({exc}): it was removed from the site; "
            "start the kiosk to join again",
            code=exc.code,
        ) from None
    return config.settings


def store_enrolled(opts: KioskOptions, state_dir: Path, file: Path) -> int:
    settings = asyncio.run(service_settings(opts, state_dir))
    return store(settings, opts.printer, file)
