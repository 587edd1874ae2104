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
from nummerlapp.feedback.flow import FeedbackFlow
from nummerlapp.feedback.outbox import Outbox, Sender
from nummerlapp.feedback.runner import FeedbackOptions, heartbeat
from nummerlapp.feedback.window import configure_window

if TYPE_CHECKING:  # feedback.app imports Kivy, which must wait for configure_window
    from nummerlapp.feedback.app import FeedbackApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceTerminal:
    """How an exit terminal without a site file starts."""

    opts: FeedbackOptions
    state_dir: Path
    device_id: str


async def run_device_terminal(
    app: FeedbackApp, terminal: DeviceTerminal, tasks: Sequence[Callable[[], Any]] = ()
) -> None:
    """Run the terminal until its window closes (``tasks`` run beside it; a test's observer)."""
    opts = terminal.opts
    finder = ServiceFinder(opts.server, mdns=opts.mdns, interfaces=opts.mdns_interfaces)
    await finder.start()
    state = StateDir(terminal.state_dir)
    identity = Identity(terminal.device_id, "feedback", opts.name or terminal.device_id)

    async def work() -> None:
        await app.first_frame.wait()
        await keep_enrolled(lambda: enrolled(app, terminal, state, identity, finder), "feedback terminal")

    try:
        await run_window(app, work, tasks)
    finally:
        await finder.stop()


async def enrolled(
    app: FeedbackApp, terminal: DeviceTerminal, state: StateDir, identity: Identity, finder: ServiceFinder
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
        flow: FeedbackFlow | None = None

        def changed(config: DeviceConfig) -> None:
            if flow is not None:
                flow.use_settings(config.settings)

        link = DeviceLink(api, base, identity.device_id, on_config=changed, tls=state.tls())
        try:
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
        except Revoked as exc:
            log.warning("feedback terminal: the service no longer knows it (%s): enrolling again", exc)
            state.forget()
            app.show_enrolment(EnrolView(device_name=identity.name))


def main_enrolled(opts: FeedbackOptions, state_dir: Path, fullscreen: bool = False) -> int:
    """No site file: enrol with the service and take the settings from it."""
    configure_window(*opts.size, fullscreen=fullscreen)
    asyncio.run(run_enrolled(opts, state_dir))
    return 0


async def run_enrolled(opts: FeedbackOptions, state_dir: Path) -> None:
    from nummerlapp.feedback.app import FeedbackApp  # noqa: PLC0415  # Kivy reads its settings at import: after configure_window

    device_id = opts.device_id or f"feedback-{socket.gethostname()}"
    await run_device_terminal(FeedbackApp(None, size=opts.size), DeviceTerminal(opts, state_dir, device_id))
