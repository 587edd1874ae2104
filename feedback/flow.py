"""The exit terminal's visit, as a plain state machine (no Kivy, no network, no clock of its own).

The Kivy skin (``feedback.app``) draws :class:`FeedbackFlow`'s public fields and forwards touches
to its methods; every rule lives here and is tested without a window (tests/feedback/test_flow.py).

**A visit** begins with the first touch on the resting screen and ends at the thank-you screen
or at the idle reset, whichever comes first. Within one visit each question is answered at most
once: a touch on a face (or yes/no) *chooses* it, and the screen moves on ``settle_s`` after the
last such touch; touching again before that (the same face fifty times, or another face) only
changes the choice — the last touch before moving on wins. Touches in the first ``grace_s`` of a
new screen are ignored (the tail of a double tap must not answer the next question), and so are
touches on the thank-you screen. "Skip" moves on without an answer. A child pressing one face
fifty times therefore gives one answer to each question at most, once per visit.

When the visit ends, its answers (if any) go to the ``send`` port as one set — at the thank-you
screen, and also at an idle reset (a visitor who answered two questions and walked away still
counted). The port queues them on disk before it returns (feedback/outbox.py), so the
thank-you screen never thanks for answers that could be lost.

**The resting screen** is the first question in the site's first language at normal text size,
with nothing chosen: after the thank-you screen (``thanks_s``) or ``idle_timeout_s`` without a
touch, everything the last visitor did is forgotten, language and large text included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from nummerlapp.config.model import Question, Settings

SETTLE_S = 1.2  # a choice stands this long (and may change) before the next question shows
GRACE_S = 0.6  # touches this soon after a new screen are the tail of the last one


class Screen(StrEnum):
    QUESTION = "question"
    THANKS = "thanks"


@dataclass(frozen=True)
class Visit:
    """One finished visit's answers: question id → value, and the language it was given in."""

    answers: dict[str, int]
    lang: str


Send = Callable[[Visit], None]


class FeedbackFlow:
    """The terminal's state. Read the fields; change them only through the methods."""

    def __init__(
        self,
        settings: Settings,
        send: Send,
        *,
        clock: Callable[[], float] = time.monotonic,
        default_lang: str | None = None,
        settle_s: float = SETTLE_S,
        grace_s: float = GRACE_S,
    ) -> None:
        self.settings = settings
        self.questions: tuple[Question, ...] = settings.feedback.questions
        self._send = send
        self._clock = clock
        self.default_lang = default_lang or settings.site.default_language
        self.settle_s = settle_s
        self.grace_s = grace_s
        self.idle_timeout_s = float(settings.feedback.idle_timeout_s)
        self.thanks_s = float(settings.feedback.thanks_s)
        self._listeners: list[Callable[[FeedbackFlow], None]] = []
        self.visits = 0  # visits ended (with or without answers); for tests and the log
        self._start_fresh()

    # -- state ------------------------------------------------------------------------------------

    def _start_fresh(self) -> None:
        now = self._clock()
        self.screen = Screen.QUESTION
        self.index = 0
        self.lang = self.default_lang
        self.large_text = False
        self.answers: dict[str, int] = {}
        self.chosen: int | None = None  # the choice on this screen, not yet moved on from
        self.in_visit = False
        self._chosen_at = 0.0
        self._screen_since = now - self.grace_s  # the resting screen takes a touch at once
        self._last_touch = now

    @property
    def question(self) -> Question | None:
        """The question on screen (None on the thank-you screen or with no questions)."""
        if self.screen != Screen.QUESTION or self.index >= len(self.questions):
            return None
        return self.questions[self.index]

    @property
    def resting(self) -> bool:
        return not self.in_visit and self.screen == Screen.QUESTION and self.index == 0

    def subscribe(self, fn: Callable[[FeedbackFlow], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn(self)

    def _in_grace(self) -> bool:
        return self._clock() - self._screen_since < self.grace_s

    # -- touches ----------------------------------------------------------------------------------

    def touch(self) -> None:
        """Any touch anywhere: the visit is alive (the idle timer starts again)."""
        self._last_touch = self._clock()

    def _begin(self) -> None:
        self.touch()
        self.in_visit = True

    def choose(self, value: int) -> bool:
        """A face or yes/no touched; False when the touch was ignored."""
        question = self.question
        if question is None or self._in_grace() or value not in question.values:
            return False
        self._begin()
        self.chosen = value
        self._chosen_at = self._clock()
        self._changed()
        return True

    def skip(self) -> bool:
        """Move on without an answer to this question (a choice on screen is dropped)."""
        if self.question is None or self._in_grace():
            return False
        self._begin()
        self.chosen = None
        self._next()
        return True

    def set_language(self, lang: str) -> None:
        if lang not in self.settings.site.languages or lang == self.lang:
            return
        self._begin()
        self.lang = lang
        self._changed()

    def toggle_large_text(self) -> None:
        self._begin()
        self.large_text = not self.large_text
        self._changed()

    # -- time -------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Call a few times a second: settles a choice, ends the thank-you screen, resets when idle."""
        now = self._clock()
        if self.screen == Screen.THANKS:
            if now - self._screen_since >= self.thanks_s:
                self._reset()
            return
        if self.chosen is not None and now - self._chosen_at >= self.settle_s:
            question = self.question
            assert question is not None
            self.answers[question.id] = self.chosen
            self.chosen = None
            self._next()
            return
        if self.in_visit and now - self._last_touch >= self.idle_timeout_s:
            self._end_visit()
            self._reset()

    def _next(self) -> None:
        self.index += 1
        self._screen_since = self._clock()
        if self.index >= len(self.questions):
            self.screen = Screen.THANKS
            self._end_visit()
        self._changed()

    def _end_visit(self) -> None:
        """The visit is over: its answers go out once, as one set."""
        if not self.in_visit:
            return
        self.in_visit = False
        self.visits += 1
        if self.answers:
            self._send(Visit(dict(self.answers), self.lang))
        self.answers = {}

    def _reset(self) -> None:
        self._start_fresh()
        self._changed()

    # -- a changed configuration (config.changed) -----------------------------------------------

    def use_settings(self, settings: Settings) -> None:
        """New settings from the service, applied now without a restart: questions, languages,
        texts and times. A visit under way ends first (its answers go out as one set, as at an
        idle reset), then the resting screen shows the new first question."""
        self._end_visit()
        self.settings = settings
        self.questions = settings.feedback.questions
        if self.default_lang not in settings.site.languages:
            self.default_lang = settings.site.default_language
        self.idle_timeout_s = float(settings.feedback.idle_timeout_s)
        self.thanks_s = float(settings.feedback.thanks_s)
        self._reset()
