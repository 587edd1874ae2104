"""Requests to join, counted per address in memory: a flood is refused before the ledger is touched."""

from __future__ import annotations

import collections
import time

ASKS_PER_MINUTE = 20


class AskGate:
    """At most :data:`ASKS_PER_MINUTE` enrolment requests per address per minute, from memory."""

    def __init__(self, per_minute: int = ASKS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._asks: dict[str, collections.deque[float]] = {}

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        if len(self._asks) > 10_000:  # bounded memory, whatever the callers
            self._asks = {a: q for a, q in self._asks.items() if q and now - q[-1] < 60}
        asks = self._asks.setdefault(address, collections.deque())
        while asks and now - asks[0] >= 60:
            asks.popleft()
        if len(asks) >= self.per_minute:
            return False
        asks.append(now)
        return True
