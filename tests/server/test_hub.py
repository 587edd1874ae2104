"""The fan-out's drop rule, on the real Hub in a real event loop (no server needed)."""

from __future__ import annotations

from nummerlapp.server.api.hub import Hub


def _events(first: int, count: int) -> list[dict[str, object]]:
    return [{"type": "ticket.issued", "seq": seq, "at": "t"} for seq in range(first, first + count)]


async def test_a_client_that_keeps_up_survives_a_commit_larger_than_its_buffer() -> None:
    hub = Hub(max_queue=8)
    sub = hub.subscribe()
    hub.publish(_events(1, 50))  # one group commit of 50 tickets
    assert not sub.dropped
    assert [seq for seq, _ in await sub.next_batch()] == list(range(1, 51))
    hub.publish(_events(51, 3))
    assert [seq for seq, _ in await sub.next_batch()] == [51, 52, 53]
    assert hub.last_seq == 53


async def test_a_client_still_a_full_buffer_behind_is_dropped_and_the_others_are_not() -> None:
    hub = Hub(max_queue=8)
    stuck, reader = hub.subscribe(), hub.subscribe()
    dropped: list[bool] = []
    stuck.on_drop = lambda: dropped.append(True)
    for first in range(1, 40, 4):
        hub.publish(_events(first, 4))
        await reader.next_batch()  # the reader sends what it gets; the stuck one never does
    assert stuck.dropped and dropped == [True]
    assert not reader.dropped
    assert await stuck.next_batch() == []
    assert hub.clients == 1 and hub.dropped_total == 1


async def test_encoded_once_same_text_for_every_client() -> None:
    hub = Hub()
    a, b = hub.subscribe(), hub.subscribe()
    hub.publish(_events(7, 1))
    (seq_a, text_a), (seq_b, text_b) = (await a.next_batch())[0], (await b.next_batch())[0]
    assert seq_a == seq_b == 7 and text_a is text_b
