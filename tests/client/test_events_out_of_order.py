"""The messages outside the ``seq`` order (``P.OUT_OF_ORDER``: alarms, a kiosk's slip) reach the
consumer as they come: never dropped as duplicates, never a gap, and the last ``seq`` stays put.

A small WebSocket server of the test's own on 127.0.0.1 plays the service (as in
tests/client/test_events.py): an out-of-order message cannot be sent at a chosen ``seq`` by the
real service on demand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from nummerlapp.client.events import EventStream
from nummerlapp.common import protocol as P
from nummerlapp.tests.client.test_events import issued, reader_factory, scripted
from nummerlapp.tests.protocol import samples
from nummerlapp.tests.server.serverproc import free_port

pytestmark = pytest.mark.timeout(60)
__all__ = ["reader_factory"]  # the fixture


def slip(seq: int, device: str = "kiosk-entrance") -> str:
    return P.AppointmentSlip(
        seq=seq,
        at=samples.AT,
        device=P.DeviceRef(id=device),
        appointment=P.AppointmentSlipRef(reference="K7QX2M4P", department="bygg", start=samples.AT),
        lang="nb",
    ).encode_json()


def alarm(seq: int) -> str:
    found = P.Alarm(id="al_1", counter=samples.counter_ref("2"), at=samples.AT)
    return P.AlarmRaised(seq=seq, at=samples.AT, alarm=found).encode_json()


def test_the_out_of_order_types_are_one_set_in_the_protocol() -> None:
    assert {"alarm.raised", "alarm.cleared", "appointment.slip"} == P.OUT_OF_ORDER
    assert "appointment.slip" not in P.EVENT_TYPES  # a device's job, not a site event
    decoded = P.decode_event(slip(4))
    assert isinstance(decoded, P.AppointmentSlip) and decoded.appointment.reference == "K7QX2M4P"
    assert P.decode_change("appointment.slip", 4, samples.AT, json.loads(slip(4))) is None  # never stored
    with pytest.raises(P.ProtocolError):
        P.decode_event({**json.loads(slip(4)), "device": "kiosk-entrance"})


async def test_out_of_order_messages_pass_and_leave_the_seq_alone(reader_factory: Any) -> None:
    async def script(ws: ServerConnection, n: int, base: int) -> None:
        await ws.send(issued(base + 1))
        await ws.send(slip(base + 1))  # the latest event's seq: not a duplicate
        await ws.send(alarm(base + 1))
        await ws.send(slip(base - 50))  # even an old seq: not a duplicate, not a gap
        await ws.send(issued(base + 2))  # the order goes on: no gap
        await ws.send(slip(base + 9))  # a high seq is no gap either
        await ws.send(issued(base + 3))

    port = free_port()
    async with serve(scripted(script), "127.0.0.1", port):
        stream = EventStream(f"http://127.0.0.1:{port}")
        reader = reader_factory(stream)
        await reader.wait_for(lambda m: m.get("seq") == 103 and m["type"] == "ticket.issued")
        kinds = [(m["type"], m["seq"]) for m in reader.messages]
        assert kinds == [
            ("snapshot", 100),
            ("ticket.issued", 101),
            ("appointment.slip", 101),
            ("alarm.raised", 101),
            ("appointment.slip", 50),
            ("ticket.issued", 102),
            ("appointment.slip", 109),
            ("ticket.issued", 103),
        ]  # one connection: no resync, nothing dropped
        assert stream.last_seq == 103 and stream.connects == 1
