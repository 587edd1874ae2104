"""The exit terminal's visit, without a window: a manual clock and a list for the send port."""

from __future__ import annotations

import pytest

from nummerlapp.config import load_settings
from nummerlapp.feedback.flow import FeedbackFlow, Screen, Visit
from nummerlapp.tests.manualclock import ManualClock

SETTINGS = load_settings(None)  # four questions: overall, wait, staff (faces), solved (yes/no)


Clock = ManualClock  # tests/feedback/test_flow_settings.py imports it by this name


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sent() -> list[Visit]:
    return []


@pytest.fixture
def flow(clock: Clock, sent: list[Visit]) -> FeedbackFlow:
    return FeedbackFlow(SETTINGS, sent.append, clock=clock)


def settle(flow: FeedbackFlow, clock: Clock) -> None:
    """Let a choice stand and the next screen's grace pass (ticks as the app does, 10 a second)."""
    for _ in range(int((flow.settle_s + flow.grace_s) * 10) + 2):
        clock.advance(0.1)
        flow.tick()


def answer(flow: FeedbackFlow, clock: Clock, value: int) -> None:
    assert flow.choose(value)
    settle(flow, clock)


def test_resting_screen_is_the_first_question(flow: FeedbackFlow) -> None:
    assert flow.resting and flow.screen == Screen.QUESTION
    assert flow.question is not None and flow.question.id == "overall"
    assert flow.lang == "nb" and not flow.large_text


def test_a_whole_visit_sends_one_set(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    for value in (4, 2, 5):
        answer(flow, clock, value)
    assert flow.question is not None and flow.question.id == "solved"
    answer(flow, clock, 1)
    assert flow.screen == Screen.THANKS
    assert sent == [Visit({"overall": 4, "wait": 2, "staff": 5, "solved": 1}, "nb")]
    assert not flow.choose(3) and not flow.skip()  # the thank-you screen takes no touches
    clock.advance(SETTINGS.feedback.thanks_s)
    flow.tick()
    assert flow.resting and flow.answers == {} and flow.chosen is None


def test_fifty_presses_of_one_face_count_once(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    """A child hammering one face: every press within the settle time only chooses it again, so
    the question is answered once; then the child walks off and the visit ends at the idle reset."""
    for question in ("overall", "wait"):
        for _ in range(50):
            flow.choose(1)
            clock.advance(0.05)
            flow.tick()
        assert flow.question is not None and flow.question.id == question and flow.chosen == 1
        settle(flow, clock)
    assert flow.answers == {"overall": 1, "wait": 1}
    clock.advance(SETTINGS.feedback.idle_timeout_s)
    flow.tick()
    assert sent == [Visit({"overall": 1, "wait": 1}, "nb")]  # one visit, one answer per question
    assert flow.resting


def test_the_last_touch_before_moving_on_wins(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    flow.choose(5)
    clock.advance(0.5)
    flow.tick()
    flow.choose(2)  # changed its mind within the settle time
    settle(flow, clock)
    assert flow.question is not None and flow.question.id == "wait"
    assert flow.answers == {"overall": 2}


def test_touches_in_the_grace_of_a_new_screen_are_ignored(flow: FeedbackFlow, clock: Clock) -> None:
    flow.choose(3)
    clock.advance(flow.settle_s)
    flow.tick()  # moved on just now
    assert flow.question is not None and flow.question.id == "wait"
    assert not flow.choose(5) and flow.chosen is None  # the tail of a double tap
    clock.advance(flow.grace_s)
    assert flow.choose(5)


def test_skip_moves_on_without_an_answer(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    flow.choose(4)
    assert flow.skip()  # a choice on screen is dropped by the skip
    settle(flow, clock)
    assert flow.question is not None and flow.question.id == "wait"
    for _ in range(3):
        assert flow.skip()
        settle(flow, clock)
    assert flow.screen == Screen.THANKS
    assert sent == []  # nothing answered: nothing sent


def test_idle_reset_sends_what_was_answered_and_forgets(
    flow: FeedbackFlow, clock: Clock, sent: list[Visit]
) -> None:
    flow.set_language("en")
    flow.toggle_large_text()
    answer(flow, clock, 5)  # then the visitor walks away from the second question
    clock.advance(SETTINGS.feedback.idle_timeout_s)
    flow.tick()
    assert sent == [Visit({"overall": 5}, "en")]
    assert flow.resting and flow.lang == "nb" and not flow.large_text and flow.answers == {}


def test_idle_without_touches_sends_nothing(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    clock.advance(3600)
    flow.tick()
    assert sent == [] and flow.resting and flow.visits == 0


def test_language_switch_keeps_the_answers(flow: FeedbackFlow, clock: Clock, sent: list[Visit]) -> None:
    answer(flow, clock, 3)
    flow.set_language("sv")
    flow.set_language("de")  # not a site language: ignored
    assert flow.lang == "sv" and flow.answers == {"overall": 3} and flow.in_visit
    for value in (3, 3, 0):
        answer(flow, clock, value)
    assert sent == [Visit({"overall": 3, "wait": 3, "staff": 3, "solved": 0}, "sv")]


def test_values_off_the_scale_are_ignored(flow: FeedbackFlow, clock: Clock) -> None:
    assert not flow.choose(0) and not flow.choose(6)  # faces are 1-5
    for _ in range(3):
        answer(flow, clock, 3)
    assert not flow.choose(3) and flow.choose(0)  # yes/no is 1/0


def test_listeners_hear_every_change(flow: FeedbackFlow, clock: Clock) -> None:
    heard: list[tuple[Screen, int, int | None]] = []
    flow.subscribe(lambda f: heard.append((f.screen, f.index, f.chosen)))
    flow.choose(4)
    settle(flow, clock)
    assert heard == [(Screen.QUESTION, 0, 4), (Screen.QUESTION, 1, None)]
