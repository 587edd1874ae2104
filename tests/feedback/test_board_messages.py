"""'You said, we did' on the boards: messages in turn below the calls, and a call always wins.

The rules are the board's reducer (display/state.py: ``next_message``, ``shown_message``) and its
words (display/view.py), tested without a window; one rendered board (board_messages_script.py)
shows the same on real Kivy labels and pixels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nummerlapp.common import protocol as P
from nummerlapp.display.state import BoardState, next_message, reduce, shown_message
from nummerlapp.display.view import board_text
from nummerlapp.tests.protocol.samples import AT, called, site, snapshot

MESSAGES = [
    {
        "nb": "Dere ba om flere stoler – nå har vi 12 nye",
        "en": "You asked for more chairs – we have 12 new ones",
    },
    {"nb": "Nå åpent til 18 på torsdager", "en": "Now open until 6 pm on Thursdays"},
    {"nb": "Barnehjørnet er flyttet til vinduet", "en": "The children's corner is now by the window"},
]


def with_messages(messages: list[dict[str, str]]) -> BoardState:
    snap = snapshot(seq=10)
    snap = snap.model_copy(update={"state": snap.state.model_copy(update={"site": site(messages=messages)})})
    return reduce(BoardState(), snap)


def line(state: BoardState, lang: str = "nb") -> str:
    return board_text(state, lang, message="Velkommen!").message


def test_messages_rotate() -> None:
    state = with_messages(MESSAGES)
    seen = []
    for _ in range(4):
        seen.append(line(state))
        state = next_message(state)
    assert seen == [MESSAGES[0]["nb"], MESSAGES[1]["nb"], MESSAGES[2]["nb"], MESSAGES[0]["nb"]]
    assert line(state, "en") == MESSAGES[1]["en"]


def test_a_call_always_wins_the_screen() -> None:
    state = next_message(with_messages(MESSAGES))  # the second message shows
    state = reduce(state, called(11, "A012", "2"))
    assert state.latest is not None and state.latest.number == "A012"
    assert shown_message(state) is None and line(state) == ""  # the call has the screen
    state = reduce(state, called(12, "A013", "1"))  # another call: still held
    assert line(state) == ""
    state = next_message(state)  # the highlight is over: the same message comes back
    assert line(state) == MESSAGES[1]["nb"]
    assert line(next_message(state)) == MESSAGES[2]["nb"]


def test_messages_change_live() -> None:
    state = next_message(next_message(with_messages(MESSAGES)))
    fewer = P.SiteChanged(seq=11, at=AT, site=site(messages=MESSAGES[:1]))
    state = reduce(state, fewer)
    assert line(state) == MESSAGES[0]["nb"]  # turn modulo the new number of messages
    none = P.SiteChanged(seq=12, at=AT, site=site())
    state = reduce(state, none)
    assert line(state) == "Velkommen!"  # no board messages: the site file's line as before


def test_a_snapshot_brings_messages_and_keeps_nothing_stale() -> None:
    state = with_messages(MESSAGES)
    assert state.messages[0]["en"] == MESSAGES[0]["en"]
    assert reduce(state, snapshot(seq=20)).messages == ()


SCRIPT = Path(__file__).with_name("board_messages_script.py")


@pytest.mark.render
@pytest.mark.timeout(120)
def test_rendered_board_rotates_and_gives_way_to_a_call(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), json.dumps({"messages": MESSAGES, "out": str(tmp_path)})],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["rotation"][:3] == [m["nb"] for m in MESSAGES]
    assert facts["during_call"] == {"number": "A012", "message": ""}
    assert facts["after_call"] in [m["nb"] for m in MESSAGES]
    from PIL import Image  # noqa: PLC0415  # only the rendered test needs it

    for shot in facts["shots"]:
        with Image.open(shot) as img:
            assert img.size == (1920, 1080)
