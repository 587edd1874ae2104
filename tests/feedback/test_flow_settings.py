"""A changed configuration (``config.changed``) applied to a running exit terminal, without a window."""

from __future__ import annotations

import dataclasses

from nummerlapp.feedback.flow import FeedbackFlow, Screen, Visit
from nummerlapp.tests.feedback.test_flow import SETTINGS, Clock, answer


def test_new_questions_and_languages_apply_at_once() -> None:
    sent: list[Visit] = []
    clock = Clock()
    flow = FeedbackFlow(SETTINGS, sent.append, clock=clock, default_lang="sv")
    seen: list[str] = []
    flow.subscribe(lambda f: seen.append(f.screen))
    fewer = SETTINGS.feedback.questions[1:3]  # "overall" and "solved" gone
    site = dataclasses.replace(SETTINGS.site, languages=("nb", "en"))
    feedback = dataclasses.replace(SETTINGS.feedback, questions=fewer, idle_timeout_s=45, thanks_s=3)
    flow.use_settings(dataclasses.replace(SETTINGS, site=site, feedback=feedback))
    assert seen  # the window redraws
    assert flow.resting and flow.question is not None and flow.question.id == fewer[0].id
    assert flow.lang == "nb" and flow.default_lang == "nb"  # Swedish is gone: the site's first
    assert flow.idle_timeout_s == 45 and flow.thanks_s == 3
    flow.set_language("sv")
    assert flow.lang == "nb"


def test_a_visit_under_way_is_sent_before_the_change() -> None:
    sent: list[Visit] = []
    clock = Clock()
    flow = FeedbackFlow(SETTINGS, sent.append, clock=clock)
    answer(flow, clock, 4)
    assert flow.question is not None and flow.question.id == "wait"
    flow.use_settings(SETTINGS)
    assert sent == [Visit({"overall": 4}, "nb")]  # the answer given is not lost
    assert flow.resting and flow.screen == Screen.QUESTION and flow.index == 0
