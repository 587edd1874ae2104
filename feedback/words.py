"""What the exit terminal says, in the visitor's language (``common/locale/<lang>/feedback.po``).

The flow knows questions and values; this module turns them into words: the question's own text
from the site file, the progress line, the name under each face, yes and no. No Kivy here, so
the words are tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from nummerlapp.common.i18n import is_rtl, translator
from nummerlapp.config.model import Question

# The five faces, worst first; the names stay beside the faces so colour never says it alone.
FACE_WORDS = ("Very bad", "Bad", "OK", "Good", "Very good")


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


@dataclass(frozen=True)
class QuestionWords:
    title: str
    progress: str
    text: str
    hint: str
    choices: tuple[Choice, ...]
    skip: str
    anonymous: str
    larger: str  # the text-size switch's label
    rtl: bool


@dataclass(frozen=True)
class ThanksWords:
    thanks: str
    line: str
    rtl: bool


def choices(question: Question, lang: str) -> tuple[Choice, ...]:
    """The answers in the order shown: five faces worst to best, or no then yes."""
    _ = translator("feedback", lang)
    if question.scale == "faces":
        return tuple(Choice(v, _(FACE_WORDS[v - 1])) for v in question.values)
    return (Choice(0, _("No")), Choice(1, _("Yes")))


def question_words(question: Question, index: int, total: int, lang: str, large_text: bool) -> QuestionWords:
    _ = translator("feedback", lang)
    return QuestionWords(
        title=_("Tell us how it went"),
        progress=_("Question {n} of {total}").format(n=index + 1, total=total),
        text=question.label(lang),
        hint=_("Touch your answer"),
        choices=choices(question, lang),
        skip=_("Skip"),
        anonymous=_("Anonymous: we never know who answered."),
        larger=_("Normal text") if large_text else _("Larger text"),
        rtl=is_rtl(lang),
    )


def thanks_words(lang: str) -> ThanksWords:
    _ = translator("feedback", lang)
    return ThanksWords(_("Thank you!"), _("Your answers help us make our service better."), is_rtl(lang))


def title(lang: str) -> str:
    return translator("feedback", lang)("Tell us how it went")


def no_questions(lang: str) -> str:
    return translator("feedback", lang)("No questions are set up.")
