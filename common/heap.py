"""Settling the Python heap once a device's first screen is up.

Start-up leaves a few hundred thousand objects (Kivy, httpx, Babel, pydantic, the site) that live
as long as the kiosk or board. Left alone, the first full garbage collection walks them all
(30-40 ms) at whatever allocates next: the first visitor's touch, between the service's answer and
the printer's first byte, or the first call on a board, between the event and the frame
(docs/benchmarks/kiosk.md). So each device collects once while its first screen is idle and
freezes what is left: later collections walk only what the visits make.
"""

from __future__ import annotations

import gc

SETTLE_HEAP_S = 0.5  # after the first frame: long enough for the first screen, short for a visitor


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
