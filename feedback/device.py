"""An exit terminal with no site file: it enrols, takes its questions from the service, follows changes.

``main.py feedback`` without ``--config`` and without a token runs this (docs/FEEDBACK.md):

1. no token in the state folder → the enrolment screen (skin/enrol_screen.py) shows the code
   the service gave (client/enrol.py) until a technician approves it;
2. with a token → ``GET /config``: the site's languages and the feedback questions; the flow is
   built from it, answers go through the outbox (feedback/outbox.py) with this token;
3. the event stream carries the terminal's token; ``config.changed`` fetches the configuration
   again and :meth:`FeedbackFlow.use_settings` applies it; a refused token (revoked) deletes the
   token file and the enrolment screen comes back (answers still in the outbox stay on disk).

Imports no Kivy itself: the window (feedback.app) is made by the caller after ``configure_window()``.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from nummerlapp.feedback.flow import FeedbackFlow
from nummerlapp.feedback.outbox import Outbox, Sender
from nummerlapp.feedback.runner import FeedbackOptions, heartbeat
from nummerlapp.feedback.window import configure_window

if TYPE_CHECKING:  # feedback.app imports Kivy, which must wait for configure_window
    from nummerlapp.feedback.app import FeedbackApp

log = logging.getLogger(__name__)

DeviceTerminal = DeviceStart[FeedbackOptions]  # how an exit terminal without a site file starts


async def run_device_terminal(
    app: FeedbackApp, terminal: DeviceTerminal, tasks: Sequence[Callable[[], Any]] = ()
) -> None:
    """Run the terminal until its window closes (``tasks`` run beside it; a test's observer)."""
    await run_device_window(
        app, terminal, "feedback", "feedback terminal", lambda device: enrolled(app, terminal, device), tasks
    )


async def enrolled(app: FeedbackApp, terminal: DeviceTerminal, device: Device) -> None:
    """One enrolment's life: enrol if needed, work until revoked."""
    identity = device.identity
    async with device.session(app.show_enrolment) as (base, token, api):
        flow: FeedbackFlow | None = None

        def changed(config: DeviceConfig) -> None:
            if flow is not None:
                flow.use_settings(config.settings)

        link = DeviceLink(api, base, identity.device_id, on_config=changed, tls=device.state.tls())
        config = await link.refresh()
        sender = Sender(Outbox(terminal.opts.outbox), api.give_feedback)
        flow = FeedbackFlow(config.settings, sender.queue, default_lang=terminal.opts.lang)
        app.attach(flow)
        name = config.name or identity.name
        log.info("feedback terminal %s at work with the service at %s", identity.device_id, base)
        helpers = [
            asyncio.create_task(sender.run()),
            asyncio.create_task(heartbeat(api, identity.device_id, name)),
        ]
        try:
            await link.follow(token)
        finally:
            for task in helpers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def main_enrolled(opts: FeedbackOptions, state_dir: Path, fullscreen: bool = False) -> int:
    """No site file: enrol with the service and take the settings from it."""
    configure_window(*opts.size, fullscreen=fullscreen)
    asyncio.run(run_enrolled(opts, state_dir))
    return 0


async def run_enrolled(opts: FeedbackOptions, state_dir: Path) -> None:
    from nummerlapp.feedback.app import FeedbackApp  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    terminal = DeviceTerminal.of(opts, state_dir, opts.device_id, "feedback")
    await run_device_terminal(FeedbackApp(None, size=opts.size), terminal)
