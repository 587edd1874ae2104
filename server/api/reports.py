"""Device status reports that cannot flood the desks or slow the writer (issue 14).

Before, any kiosk or board token could report for any number of invented device ids: 3,000
"out of paper" reports put 3,002 fault banners on every desk and, each one a write on the single
ledger writer, slowed every desk action from 2 ms to 267 ms. :class:`ReportGate` now stands in
front of the writer:

- a token reports for at most :data:`DEVICES_PER_TOKEN` device ids (an admin token for
  :data:`DEVICES_PER_ADMIN`): a kiosk is one device, a board is one; a further id answers 403
  ``too_many_devices`` and is never written, never shown;
- a report that says what the last one said, within :data:`UNCHANGED_S`, is answered from memory
  without touching the ledger (a heartbeat every few seconds costs no write);
- a changed status spends a token from a small per-device bucket (:data:`BURST` reports, refilled
  at :data:`REFILL_PER_S`): a flapping or hostile device gets 429 instead of the writer.

So the writer sees at most a few reports per second per token, whatever the devices send.
Enrolment (issue 13) will bind a token to exactly one device; the cap then becomes "its own id".
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from nummerlapp.common import protocol as P

DEVICES_PER_TOKEN = 4
DEVICES_PER_ADMIN = 64
UNCHANGED_S = 30.0
BURST = 5.0
REFILL_PER_S = 1.0
MAX_DEVICES = 4096  # remembered in memory at most (least recently reported forgotten first)


@dataclass
class _Seen:
    status: str  # the report's canonical JSON
    answer: P.Device
    written_at: float
    tokens: float
    refilled_at: float


class TooManyDevices(Exception):
    pass


class ReportGate:
    def __init__(self) -> None:
        self._by_token: dict[int, OrderedDict[str, None]] = {}
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    def check(self, token_id: int, admin: bool, device_id: str, status: str) -> P.Device | float | None:
        """Before writing a report: the cached answer (skip the write), the seconds to wait
        (429), or None (write it, then :meth:`written`). Raises :class:`TooManyDevices`."""
        ids = self._by_token.setdefault(token_id, OrderedDict())
        if device_id not in ids:
            if len(ids) >= (DEVICES_PER_ADMIN if admin else DEVICES_PER_TOKEN):
                raise TooManyDevices(device_id)
            ids[device_id] = None
        now = time.monotonic()
        seen = self._seen.get(device_id)
        if seen is None:
            return None
        self._seen.move_to_end(device_id)
        if seen.status == status and now - seen.written_at < UNCHANGED_S:
            return seen.answer
        seen.tokens = min(BURST, seen.tokens + (now - seen.refilled_at) * REFILL_PER_S)
        seen.refilled_at = now
        if seen.tokens < 1.0:
            return (1.0 - seen.tokens) / REFILL_PER_S
        seen.tokens -= 1.0
        return None

    def written(self, device_id: str, status: str, answer: P.Device) -> None:
        now = time.monotonic()
        seen = self._seen.get(device_id)
        if seen is None:
            self._seen[device_id] = _Seen(status, answer, now, BURST - 1.0, now)
            while len(self._seen) > MAX_DEVICES:
                self._seen.popitem(last=False)
        else:
            seen.status, seen.answer, seen.written_at = status, answer, now
