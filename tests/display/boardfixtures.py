"""Hand-made snapshots and events in PROTOCOL.md's shapes, shared by the board's tests."""

from __future__ import annotations

from typing import Any


def snapshot(seq: int = 10, calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "seq": seq,
        "state": {
            "seq": seq,
            "site": {"id": "askim", "name": "Servicetorget i Askim", "open": True},
            "departments": [
                {
                    "id": "nav",
                    "prefix": "A",
                    "name": {"nb": "NAV", "en": "NAV – welfare"},
                    "open": True,
                    "waiting": 5,
                    "estimated_wait_s": 600,
                },
                {
                    "id": "byggesak",
                    "prefix": "B",
                    "name": {"nb": "Byggesak", "en": "Building permits"},
                    "open": True,
                    "waiting": 2,
                    "estimated_wait_s": 300,
                },
                {
                    "id": "bolig",
                    "prefix": "C",
                    "name": {"nb": "Boligkontor", "en": "Housing office"},
                    "open": True,
                    "waiting": 0,
                    "estimated_wait_s": 0,
                },
                {
                    "id": "tolk",
                    "prefix": "D",
                    "name": {"nb": "Tolketjeneste", "en": "Interpreting"},
                    "open": False,
                    "waiting": 0,
                    "estimated_wait_s": None,
                },
            ],
            "counters": [
                {
                    "id": "1",
                    "name": "Skranke 1",
                    "departments": ["nav"],
                    "state": "open",
                    "ticket": {"number": "A011", "department": "nav"},
                },
                {
                    "id": "2",
                    "name": "Skranke 2",
                    "departments": ["nav", "bolig"],
                    "state": "open",
                    "ticket": None,
                },
                {
                    "id": "3",
                    "name": "Skranke 3",
                    "departments": ["byggesak"],
                    "state": "paused",
                    "ticket": None,
                },
            ],
            "calls": calls
            if calls is not None
            else [
                {"number": "A011", "department": "nav", "counter": "1", "at": "2026-11-23T09:14:03+01:00"},
                {
                    "number": "B004",
                    "department": "byggesak",
                    "counter": "3",
                    "at": "2026-11-23T09:10:00+01:00",
                },
                {"number": "A010", "department": "nav", "counter": "2", "at": "2026-11-23T09:05:00+01:00"},
            ],
        },
    }


def called(
    seq: int, number: str, counter: str, name: str | None = None, recall: bool = False
) -> dict[str, Any]:
    prefix_dep = {"A": "nav", "B": "byggesak", "C": "bolig", "D": "tolk"}
    return {
        "type": "ticket.recalled" if recall else "ticket.called",
        "seq": seq,
        "at": "2026-11-23T09:20:00+01:00",
        "ticket": {"id": f"t_{number}", "number": number, "department": prefix_dep[number[0]]},
        "counter": {"id": counter, "name": name or f"Skranke {counter}"},
    }


def event(seq: int, kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "seq": seq, "at": "2026-11-23T09:20:00+01:00", **data}
