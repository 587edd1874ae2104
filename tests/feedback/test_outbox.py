"""Answers wait on disk until the service acknowledges them; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nummerlapp.client.api import ApiUnavailable, BadRequest, Unauthorized
from nummerlapp.common import protocol as P
from nummerlapp.feedback.flow import Visit
from nummerlapp.feedback.outbox import Outbox, Sender


class Service:
    """A post port that fails as told, then takes the bodies."""

    def __init__(self) -> None:
        self.got: list[P.FeedbackBody] = []
        self.fail: Exception | None = None

    async def post(self, body: P.FeedbackBody) -> None:
        if self.fail is not None:
            raise self.fail
        self.got.append(body)


def test_a_stored_visit_is_whole_and_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out")
    first = box.put(Visit({"overall": 5}, "nb"))
    second = box.put(Visit({"overall": 1, "solved": 0}, "sv"))
    assert box.pending() == [first, second]
    assert box.read(second) == P.FeedbackBody(answers={"overall": 1, "solved": 0}, lang="sv")
    assert not list((tmp_path / "out").glob("*.tmp"))


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
