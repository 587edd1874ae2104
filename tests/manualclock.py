"""A clock the test moves by hand, for the window-less state machines (kiosk and exit terminal
flows) that take ``clock: Callable[[], float]``."""

from __future__ import annotations


class ManualClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
