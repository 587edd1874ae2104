"""Making a desk click act at most once.

A desk worker presses Next hundreds of times a day; a double click, a bouncing key or a
retried request must never call two visitors. Three layers, each enough on its own:

1. the page disables the buttons while a request is in flight;
2. every click carries an idempotency key; a key seen in the last ``ttl_s`` seconds gets the
   remembered answer again instead of acting again (:class:`ReplayCache`);
3. a counter action says which ticket the desk believed was current (``expect``); under a lock
   per counter the server refuses when the counter has moved on since (compare-and-set), so
   even two keys from two tabs cannot advance the queue twice for one intent.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

Answer = tuple[int, dict[str, Any]]


class ReplayCache:
    """Remembers the answer to each idempotency key for a short while (bounded in size)."""

    def __init__(self, ttl_s: float = 120.0, max_keys: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._answers: OrderedDict[str, tuple[float, Answer]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Answer]] = {}

    def _expire(self, now: float) -> None:
        while self._answers:
            key, (at, _) = next(iter(self._answers.items()))
            if now - at <= self.ttl_s and len(self._answers) <= self.max_keys:
                break
            del self._answers[key]

    async def once(self, key: str, act: Callable[[], Awaitable[Answer]]) -> tuple[Answer, bool]:
        """Run ``act`` once per key; returns (answer, replayed?). A second request with the same
        key that arrives while the first still runs waits for the first one's answer."""
        now = time.monotonic()
        self._expire(now)
        if key in self._answers:
            return self._answers[key][1], True
        if key in self._pending:
            return await asyncio.shield(self._pending[key]), True
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            answer = await act()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(answer)
        self._answers[key] = (time.monotonic(), answer)
        return answer, False


class CounterLocks:
    """One asyncio lock per counter: the check of ``expect`` and the action are one step."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, counter_id: str) -> asyncio.Lock:
        lock = self._locks.get(counter_id)
        if lock is None:
            lock = self._locks[counter_id] = asyncio.Lock()
        return lock
