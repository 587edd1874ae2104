"""The protocol module on its own: strict about the shapes it knows, silent about the rest; and
events stored by the v1.0 ledger still served in v1.1's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from nummerlapp.common import protocol as P
from nummerlapp.server.ledger import Ledger, LedgerReader
from nummerlapp.tests.ledger.ledgerfixtures import MONDAY, Clock, at, example, raw
from nummerlapp.tests.protocol import samples


def test_unknown_event_type_is_ignored() -> None:
    assert P.decode_event({"type": "queue.rebalanced", "seq": 4, "at": samples.AT}) is None
    assert P.decode_event('{"type": "ticket.teleported", "seq": 5}') is None
    assert P.decode_follow({"type": "ticket.moved"}) is None


def test_unknown_keys_are_ignored_and_dropped() -> None:
    event = samples.called(7, "A012", "2").encode()
    event["mood"] = "sunny"
    event["ticket"]["colour"] = "blue"
    event["counter"]["floor"] = 2
    decoded = P.decode_event(json.dumps(event))
    assert isinstance(decoded, P.TicketCalled) and decoded.counter == P.CounterRef(id="2", name="Skranke 2")
    again = decoded.encode()
    assert "mood" not in again and "colour" not in again["ticket"] and "floor" not in again["counter"]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e.update(counter="2"),  # v1.0's bare counter id
        lambda e: e["ticket"].pop("number"),
        lambda e: e.update(seq="eleven"),
        lambda e: e["ticket"].update(status="lost"),
        lambda e: e.pop("departments"),
    ],
)
def test_a_known_type_in_a_wrong_shape_is_refused(spoil: object) -> None:
    event = samples.called(7, "A012", "2").encode()
    spoil(event)  # type: ignore[operator]
    with pytest.raises(P.ProtocolError, match=r"ticket\.called"):
        P.decode_event(event)
    with pytest.raises(P.ProtocolError):
        P.decode_event("not json")


def test_optional_keys_are_absent_unless_given() -> None:
    open_site = samples.site().encode()
    assert "next_open" not in open_site and "messages" not in open_site
    closed = P.Site(id="s", name="S", open=False, override=False, next_open=None).encode()
    assert closed["next_open"] is None  # present (null: no opening known) while closed
    plain = samples.issued_ticket("A001").encode()
    assert "follow" not in plain and "appointment" not in plain
    followed = P.IssuedTicket(**{**samples.issued_ticket("A001").encode(), "follow": "f" * 16}).encode()
    assert followed["follow"] == "f" * 16
    assert P.SiteChanged(seq=1, at=samples.AT, site=samples.site()).encode().keys() == {
        "type",
        "seq",
        "at",
        "site",
    }


def test_request_bodies_refuse_unknown_keys_and_bound_strings() -> None:
    with pytest.raises(ValidationError):
        P.IssueBody.model_validate({"department": "nav", "colour": "red"})
    with pytest.raises(ValidationError):
        P.IssueBody.model_validate({"department": "x" * 65})
    with pytest.raises(ValidationError):
        P.DeviceStatusBody.model_validate({"role": "kiosk", "printer": {"state": "on fire"}})
    with pytest.raises(ValidationError):
        P.FeedbackBody.model_validate({"answers": {"q1": 6}})
    assert P.IssueBody(department="nav").encode() == {"department": "nav"}
    assert P.AppointmentCreate.model_validate({"department": "bygg", "start": "2026-12-03T10:40:00+01:00"})


def test_v11_shapes_round_trip() -> None:
    alarm = P.Alarm(id="al_1", counter=samples.counter_ref("2"), at=samples.AT)
    follow = P.FollowTicket(
        number="A012", department="nav", status="waiting", ahead=3, estimated_wait_s=360, counter=None
    )
    for message in (
        P.AlarmRaised(seq=1, at=samples.AT, alarm=alarm),
        P.AlarmCleared(seq=2, at=samples.AT, alarm=alarm),
        P.ConfigChanged(seq=3, at=samples.AT, version="9f2c"),
    ):
        assert P.decode_event(message.encode_json()) == message
    assert P.decode_follow(P.FollowMessage(ticket=follow).encode_json()) == P.FollowMessage(ticket=follow)
    enrolment = P.Enrolment(id="en_x", code="123456", status="pending", expires_at=samples.AT)
    assert enrolment.encode().keys() == {"id", "code", "status", "expires_at"}
    assert P.Enrolment(status="approved", token="nl_x").encode() == {"status": "approved", "token": "nl_x"}


def test_label_falls_back_in_order() -> None:
    assert P.label({"nb": "NAV", "en": "Welfare"}, "sv") == "Welfare"
    assert P.label({"nb": "NAV"}, "sv") == "NAV"
    assert P.label({}, "sv", default="nav") == "nav"


def test_events_stored_by_the_v10_ledger_are_served_in_v11_shape(tmp_path: Path) -> None:
    """Rows written before v1.1 (bare counter ids, brief tickets) are upgraded when read."""
    db = tmp_path / "ledger.db"
    clock = Clock(at(MONDAY, 9))
    ledger = Ledger(db, example(), clock=clock)
    ticket = ledger.issue("nav")
    ledger.close()
    conn = raw(db)
    when = clock.now.astimezone().isoformat()
    brief = {"id": ticket.id, "number": ticket.number, "department": "nav"}
    deps = [samples.state("nav", 0).encode()]  # v1.0 rows carried these already
    stored = [
        ("ticket.called", {"ticket": brief, "counter": {"id": "1", "name": "Skranke 1"}, "departments": deps}),
        ("ticket.done", {"ticket": {**ticket.to_json(), "status": "done", "counter": "1"}, "counter": "1",
                         "departments": deps}),
        ("ticket.transferred", {"ticket": ticket.to_json(), "from": "byggesak", "counter": "2", "departments": deps}),
        ("counter.changed", {"counter": {"id": "1", "name": "Skranke 1", "departments": ["nav"],
                                         "state": "open", "ticket": {**brief, "status": "called"}}}),
    ]  # fmt: skip
    with conn:
        for kind, data in stored:
            conn.execute(
                "INSERT INTO events (type, at, data) VALUES (?, ?, ?)", (kind, when, json.dumps(data))
            )
    conn.close()
    reader = LedgerReader(db, example(), clock=clock)
    try:
        events = reader.events_after(1)
        snapshot = reader.state()
    finally:
        reader.close()
    called, done, moved, changed = events
    assert isinstance(called, P.TicketCalled) and called.ticket.status == "called"
    assert (
        called.ticket.counter == called.counter and called.ticket.issued_at == ticket.to_json()["issued_at"]
    )
    assert isinstance(done, P.TicketDone) and done.counter == P.CounterRef(id="1", name="Skranke 1")
    assert done.ticket.counter == done.counter
    assert isinstance(moved, P.TicketTransferred) and moved.from_.id == "byggesak" and moved.from_.name["nb"]
    assert isinstance(changed, P.CounterChanged) and changed.counter.ticket is not None
    assert changed.counter.ticket.counter == P.CounterRef(id="1", name="Skranke 1")
    assert snapshot.calls[0].counter == P.CounterRef(id="1", name="Skranke 1")
    for event in events:  # and what is served now decodes as it is
        assert P.decode_event(event.encode_json()) == event
