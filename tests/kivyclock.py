"""Waiting on Kivy's clock from the asyncio loop Kivy runs in: the kiosk's render script
(tests/kiosk/render_script.py) and its benchmark probe (bench/kiosk_probe.py).

It imports ``kivy.clock``: import it only after the window is configured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from kivy.clock import Clock


async def frames(n: int) -> None:
    """Let Kivy's clock tick ``n`` times (each tick may draw a frame)."""
    for _ in range(n):
        fut = asyncio.get_running_loop().create_future()
        Clock.schedule_once(lambda _dt, f=fut: f.done() or f.set_result(None), 0)
        await fut


async def until(predicate: Callable[..., object], timeout: float = 8.0, what: str = "") -> None:
    """Tick by tick until ``predicate()`` holds; AssertionError after ``timeout`` seconds.

    (``...``: a predicate in a loop binds the loop's values as defaults, ``lambda w=wanted: …``.)"""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await frames(1)
