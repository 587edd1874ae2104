"""The session, CSRF and click-guard machinery on its own (no server, no browser)."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from nummerlapp.server.web.guard import ReplayCache
from nummerlapp.server.web.render import parse_accept_language
from nummerlapp.server.web.session import Session, SessionCodec, csrf_ok, load_or_make_secret
from nummerlapp.server.web.throttle import ADDRESS_LIMIT, PAIR_LIMIT, Reservation, SigninLimiter


def test_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite.web-secret"
    first = load_or_make_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_make_secret(path) == first


def test_session_round_trip_forgery_and_expiry() -> None:
    codec = SessionCodec("s" * 40, max_age_s=60)
    session = Session.fresh("sv").with_(user_id=3, counter="2", sid="server-side-id")
    assert codec.loads(codec.dumps(session)) == (session, False)
    # signed in without a server-side session id (a cookie from before issue 14): signed out
    bare = Session.fresh("sv").with_(user_id=3)
    assert codec.loads(codec.dumps(bare))[0] == bare.with_(user_id=None)
    other = SessionCodec("t" * 40, max_age_s=60)
    assert other.loads(codec.dumps(session)) == (None, False)  # another site's secret
    assert codec.loads(codec.dumps(session)[:-2] + "xx") == (None, False)  # tampered
    assert codec.loads("garbage") == (None, False)

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 61

    class Old(URLSafeTimedSerializer):
        default_signer = OldSigner

    old = Old("s" * 40, salt=SessionCodec.SALT).dumps(session.to_dict())
    assert codec.loads(old) == (None, True)


def test_csrf_comparison() -> None:
    session = Session.fresh()
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, None)
    assert not csrf_ok(
        session, session.csrf[:-1] + "A" if session.csrf[-1] != "A" else session.csrf[:-1] + "B"
    )
    assert not csrf_ok(None, session.csrf)


def test_replay_cache_acts_once_per_key_even_concurrently() -> None:
    calls = 0

    async def act() -> tuple[int, dict[str, object]]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return 200, {"n": calls}

    async def main() -> list[tuple[tuple[int, dict[str, object]], bool]]:
        cache = ReplayCache(ttl_s=60)
        together = await asyncio.gather(cache.once("k", act), cache.once("k", act))
        later = await cache.once("k", act)
        other = await cache.once("other", act)
        return [*together, later, other]

    results = asyncio.run(main())
    assert [r[0][1]["n"] for r in results] == [1, 1, 1, 2]
    assert [r[1] for r in results] == [False, True, True, False]


def test_signin_limiter_reserves_before_the_check() -> None:
    limiter = SigninLimiter()
    places = [limiter.reserve("10.0.0.5", "desk1", known=False) for _ in range(PAIR_LIMIT + 3)]
    held = [p for p in places if isinstance(p, Reservation)]
    assert len(held) == PAIR_LIMIT  # in flight at once: the rest wait, unchecked
    assert all(isinstance(p, float) and p > 0 for p in places[PAIR_LIMIT:])
    for place in held:
        limiter.settle(place, ok=False)
    other_accounts = [limiter.reserve("10.0.0.5", f"u{i}", known=False) for i in range(10)]
    assert sum(isinstance(p, Reservation) for p in other_accounts) == ADDRESS_LIMIT - PAIR_LIMIT
    assert isinstance(limiter.reserve("10.0.0.6", "desk1", known=False), Reservation)  # another machine


def test_a_known_browser_is_not_locked_out_by_strangers() -> None:
    limiter = SigninLimiter()
    for i in range(40):  # many machines guess one account
        place = limiter.reserve(f"10.0.1.{i}", "desk1", known=False)
        if isinstance(place, Reservation):
            limiter.settle(place, ok=False)
    assert not isinstance(limiter.reserve("10.0.2.1", "desk1", known=False), Reservation)
    place = limiter.reserve("10.0.2.1", "desk1", known=True)  # the desk PC that signed in before
    assert isinstance(place, Reservation)
    limiter.settle(place, ok=True)


def test_accept_language() -> None:
    assert parse_accept_language("sv-SE,sv;q=0.9,en;q=0.5") == ["sv", "sv", "en"]
    assert parse_accept_language("en;q=0.2, nb;q=0.8") == ["nb", "en"]
    assert parse_accept_language("no, x;q=0") == ["nb"]
    assert parse_accept_language(None) == []
