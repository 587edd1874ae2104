"""Sign-in limits that parallel requests cannot get past, and that a stranger cannot turn
against the desk staff (docs/WEB.md, "Sign-in limits").

Every attempt *reserves* its place before the password is checked: :meth:`SigninLimiter.reserve`
counts the attempts still being checked as failures until they are known, and it runs on the
event loop without awaiting anything, so it is atomic (the loop is the lock). Two hundred
requests sent at once therefore get at most :data:`ADDRESS_LIMIT` real argon2 checks, the same
as two hundred sent one after the other. An attempt that turns out right gives its place back.

Three counts, each over a sliding window:

- per address (:data:`ADDRESS_LIMIT` in :data:`ADDRESS_WINDOW_S`): one machine guessing;
- per account and address (:data:`PAIR_LIMIT` in :data:`PAIR_WINDOW_S`): one machine patiently
  guessing one account;
- per account across addresses (:data:`ACCOUNT_LIMIT` in :data:`ACCOUNT_WINDOW_S`): many
  machines guessing one account. This one would let a stranger lock a desk out by guessing its
  account name, so it does not apply to a *known browser*: one that signed in to that account
  before (a long-lived signed cookie, :data:`KNOWN_COOKIE`, names the accounts). The desk PC
  that signs in every morning keeps signing in during an attack; the attacker's machines do not.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

ADDRESS_LIMIT = 10
ADDRESS_WINDOW_S = 60.0
PAIR_LIMIT = 5
PAIR_WINDOW_S = 300.0
ACCOUNT_LIMIT = 30
ACCOUNT_WINDOW_S = 900.0
KNOWN_COOKIE = "nl_known"
KNOWN_MAX_AGE_S = 365 * 24 * 3600
MAX_KEYS = 20_000  # per count: never grow without bound (a flood of addresses is cleared)


@dataclass
class _Count:
    """Failures (their times) and attempts still being checked, for one key."""

    failures: deque[float] = field(default_factory=deque)
    pending: int = 0

    def load(self, now: float, window: float) -> int:
        while self.failures and now - self.failures[0] >= window:
            self.failures.popleft()
        return len(self.failures) + self.pending

    def retry_after(self, now: float, window: float) -> float:
        return window - (now - self.failures[0]) if self.failures else 1.0


class _Counts:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._by_key: dict[object, _Count] = {}

    def get(self, key: object) -> _Count:
        count = self._by_key.get(key)
        if count is None:
            if len(self._by_key) >= MAX_KEYS:
                self._prune()
            count = self._by_key[key] = _Count()
        return count

    def full(self, key: object, now: float) -> float:
        """0 when another attempt fits, else the seconds until one does."""
        count = self._by_key.get(key)
        if count is None or count.load(now, self.window) < self.limit:
            return 0.0
        return max(1.0, count.retry_after(now, self.window))

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [k for k, c in self._by_key.items() if c.load(now, self.window) == 0]:
            del self._by_key[key]
        if len(self._by_key) >= MAX_KEYS:  # still full: forget the oldest half
            for key in list(self._by_key)[: MAX_KEYS // 2]:
                del self._by_key[key]


@dataclass
class Reservation:
    """One attempt's place in the counts; settle it with :meth:`SigninLimiter.settle`."""

    keys: list[tuple[_Counts, object]]
    settled: bool = False


class SigninLimiter:
    def __init__(self) -> None:
        self.address = _Counts(ADDRESS_LIMIT, ADDRESS_WINDOW_S)
        self.pair = _Counts(PAIR_LIMIT, PAIR_WINDOW_S)
        self.account = _Counts(ACCOUNT_LIMIT, ACCOUNT_WINDOW_S)
        self.checks = 0  # real password checks made (for the logs and the tests)

    def reserve(self, address: str, account: str, known: bool) -> Reservation | float:
        """Take a place for one attempt, or the seconds to wait (nothing is checked then)."""
        now = time.monotonic()
        counts: list[tuple[_Counts, object]] = [(self.address, address), (self.pair, (account, address))]
        if not known:
            counts.append((self.account, account))
        wait = max(c.full(key, now) for c, key in counts)
        if wait > 0:
            return wait
        for c, key in counts:
            c.get(key).pending += 1
        self.checks += 1
        return Reservation(counts)

    def settle(self, reservation: Reservation, ok: bool) -> None:
        """The check's outcome: a failure stays counted, a success gives the place back."""
        if reservation.settled:
            return
        reservation.settled = True
        now = time.monotonic()
        for c, key in reservation.keys:
            count = c.get(key)
            count.pending = max(0, count.pending - 1)
            if not ok:
                count.failures.append(now)
        if ok:  # the right password from here: this machine's failures for the account are forgiven
            for c, key in reservation.keys:
                if c is self.pair:
                    c.get(key).failures.clear()
