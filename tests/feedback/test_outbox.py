"""Answers wait on disk until the service acknowledges them; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nummerlapp.client.api import ApiUnavailable, BadRequest, Unauthorized
from nummerlapp.common import protocol as P
from nummerlapp.feedback.flow import Visit
from nummerlapp.feedback.outbox import Outbox, Sender
from nummerlapp.server.api.feedback import KEY_RE


class Service:
    """A post port that fails as told, then takes the bodies (and notes every attempt's key)."""

    def __init__(self) -> None:
        self.got: list[P.FeedbackBody] = []
        self.keys: list[str | None] = []  # every attempt's, failed ones included
        self.fail: Exception | None = None

    async def post(self, body: P.FeedbackBody, key: str | None) -> None:
        self.keys.append(key)
        if self.fail is not None:
            raise self.fail
        self.got.append(body)


def test_a_stored_visit_is_whole_and_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out")
    first = box.put(Visit({"overall": 5}, "nb"))
    second = box.put(Visit({"overall": 1, "solved": 0}, "sv"))
    assert box.pending() == [first, second]
    stored = box.read(second)
    assert stored.body == P.FeedbackBody(answers={"overall": 1, "solved": 0}, lang="sv")
    # each visit its own random key, one the service takes as an Idempotency-Key
    assert stored.key is not None and KEY_RE.fullmatch(stored.key) and len(stored.key) >= 32
    assert box.read(first).key not in (None, stored.key)
    assert box.read(second) == stored  # read again: the same key
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_every_attempt_of_a_visit_carries_its_key(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = Service()
        sender = Sender(Outbox(tmp_path / "out"), service.post)
        sender.queue(Visit({"overall": 4}, "nb"))
        sender.queue(Visit({"overall": 2}, "nb"))
        service.fail = ApiUnavailable("no answer", request_sent=True)  # the 201 may have been lost
        assert await sender.flush() == 0
        assert await sender.flush() == 0
        service.fail = None
        assert await Sender(Outbox(tmp_path / "out"), service.post).flush() == 2  # after a restart
        first, again, last, second = service.keys
        assert first == again == last and first is not None
        assert second is not None and second != first

    asyncio.run(scenario())


def test_a_file_from_an_older_version_is_sent_without_a_key(tmp_path: Path) -> None:
    """Before keys, a file was the bare body: it still goes out, without the header."""
    box = Outbox(tmp_path / "out")
    (box.folder / "00000000000000000001-0badf00d.json").write_text(
        '{"answers":{"overall":3},"lang":"nb"}', encoding="utf-8"
    )
    box.put(Visit({"overall": 5}, "nb"))

    async def scenario() -> None:
        service = Service()
        assert await Sender(box, service.post).flush() == 2
        assert [b.answers for b in service.got] == [{"overall": 3}, {"overall": 5}]
        assert service.keys[0] is None and service.keys[1] is not None

    asyncio.run(scenario())
    assert box.pending() == []


@pytest.mark.parametrize(
    "text",
    ['{"idempotency_key": "k"}', '{"idempotency_key": "", "body": {"answers": {"overall": 3}}}',
     '{"idempotency_key": 7, "body": {"answers": {"overall": 3}}}', '{"answers": {"overall": 3}, "x": 1}',
     "{not json"],
    ids=["no body", "empty key", "a number for a key", "an unknown field", "not JSON"],
)  # fmt: skip
def test_an_unreadable_file_is_set_aside(tmp_path: Path, text: str) -> None:
    box = Outbox(tmp_path / "out")
    (box.folder / "00000000000000000001-0badf00d.json").write_text(text, encoding="utf-8")
    service = Service()
    assert asyncio.run(Sender(box, service.post).flush()) == 0
    assert service.keys == [] and box.pending() == []
    assert len(list((box.folder / "rejected").glob("*.json"))) == 1


def test_visits_ending_together_are_sent_in_the_order_they_ended(tmp_path: Path) -> None:
    """Each visit's file is written in a worker thread, and threads may finish in any order: the
    files' order is taken when the visit ends (it once came from the writing thread's clock)."""

    async def scenario() -> None:
        service = Service()
        sender = Sender(Outbox(tmp_path / "out"), service.post)
        for n in range(40):
            sender.queue(Visit({"overall": 1 + n % 5, "solved": n % 2}, "nb" if n < 20 else "en"))
        assert await sender.flush() == 40
        got = [(b.answers["overall"], b.answers["solved"], b.lang) for b in service.got]
        assert got == [(1 + n % 5, n % 2, "nb" if n < 20 else "en") for n in range(40)]

    asyncio.run(scenario())


def test_offline_then_online(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = Service()
        sender = Sender(Outbox(tmp_path / "out"), service.post)
        service.fail = ApiUnavailable("cannot reach", request_sent=False)
        sender.queue(Visit({"overall": 4}, "nb"))
        sender.queue(Visit({"overall": 2}, "en"))
        assert await sender.flush() == 0
        assert sender.online is False and len(sender.outbox.pending()) == 2
        # a restart of the terminal: a new sender finds the same files
        service.fail = Unauthorized("revoked", "invalid_token")
        again = Sender(Outbox(tmp_path / "out"), service.post)
        assert await again.flush() == 0 and len(again.outbox.pending()) == 2  # a token problem keeps them
        service.fail = None
        assert await again.flush() == 2
        assert [b.answers for b in service.got] == [{"overall": 4}, {"overall": 2}]  # oldest first
        assert again.outbox.pending() == [] and again.online is True

    asyncio.run(scenario())


def test_a_refused_body_is_set_aside_not_retried(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = Service()
        sender = Sender(Outbox(tmp_path / "out"), service.post)
        sender.queue(Visit({"gone": 3}, "nb"))
        await sender.drain()
        service.fail = BadRequest("unknown question", "invalid_request")
        assert await sender.flush() == 0
        assert sender.outbox.pending() == []
        assert len(list((tmp_path / "out" / "rejected").glob("*.json"))) == 1

    asyncio.run(scenario())


@pytest.mark.timeout(20)
def test_the_sender_wakes_when_a_visit_ends(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = Service()
        sender = Sender(Outbox(tmp_path / "out"), service.post, retry_s=3600)
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.05)
        sender.queue(Visit({"overall": 5}, "nb"))
        for _ in range(100):
            if service.got:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        assert [b.answers for b in service.got] == [{"overall": 5}]

    asyncio.run(scenario())
