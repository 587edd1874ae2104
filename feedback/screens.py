"""One builder per screen of the exit terminal: the flow's state in, a Kivy widget tree out.

Layout rules for the people at the exit:
- One question per screen, its text as large as the screen allows; the answers are the largest
  touch targets (landscape: five faces in a row, worst to best, mirrored for right-to-left
  languages; portrait: five wide cards stacked, best at the top), each far above the 15 mm
  minimum.
- "Skip" is on every question, as a plain button below the answers; the language switch and the
  large-text switch are at the bottom (reachable from a wheelchair), each language named in
  itself, the chosen one in yellow.
- The thank-you screen takes no touches and goes back to the start by itself.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from nummerlapp.common import theme
from nummerlapp.feedback import words
from nummerlapp.feedback.flow import FeedbackFlow
from nummerlapp.feedback.widgets import AnswerCard, Face, Pill, Text, paint
from nummerlapp.skin.widgets import language_pill, switch_pill


def top_bar(flow: FeedbackFlow, m: theme.Metrics, title: str) -> BoxLayout:
    bar = BoxLayout(size_hint_y=None, height=m.px(10), padding=(m.px(4), 0), spacing=m.px(2))
    paint(bar, theme.NAVY_LIGHT)
    bar.add_widget(Text(title, m.px(4.2), theme.WHITE, bold=True, fixed=True, name="title"))
    bar.add_widget(
        Text(flow.settings.site.name, m.px(3.2), theme.MIST, halign="right", fixed=True, size_hint_x=0.8)
    )
    return bar


def language_bar(flow: FeedbackFlow, m: theme.Metrics, larger: str) -> BoxLayout:
    """Each language in its own name (the chosen one in yellow), then the large-text switch."""
    langs = flow.settings.site.languages
    bar = BoxLayout(size_hint_y=None, height=m.target(10), spacing=m.px(1.6))
    shrink = 1.0 if len(langs) <= 3 else (0.8 if len(langs) == 4 else 0.66)
    font = m.px(3.4) * shrink  # the switch keeps its size in large-text mode: it must stay on one row
    if len(langs) > 1:
        for lang in langs:
            bar.add_widget(language_pill(lang, font, flow.set_language, lang == flow.lang))
    bar.add_widget(
        switch_pill(larger, font, flow.toggle_large_text, flow.large_text, name="large-text", size_hint_x=1.3)
    )
    return bar


def _answers(flow: FeedbackFlow, m: theme.Metrics, w: words.QuestionWords, scale: str) -> BoxLayout:
    choices = list(w.choices)
    stacked = m.portrait and scale == "faces"
    if stacked:
        choices.reverse()  # best at the top
    elif w.rtl:
        choices.reverse()  # read from the right: the first answer stands at the right
    row = BoxLayout(orientation="vertical" if stacked else "horizontal", spacing=m.px(2))
    for choice in choices:
        card = AnswerCard(
            choice.value,
            choice.label,
            scale,
            flow.chosen == choice.value,
            m,
            flow.choose,
            across=stacked,
            rtl=w.rtl,
        )
        row.add_widget(card)
    if not stacked and scale != "faces":
        row.padding = (m.px(8), m.px(12) if m.portrait else 0)  # two answers: no towering cards
        row.spacing = m.px(6)
    return row


def question(flow: FeedbackFlow, m: theme.Metrics) -> Widget:
    """The question on screen, its answers, skip, and the switches."""
    q = flow.question
    assert q is not None
    w = words.question_words(q, flow.index, len(flow.questions), flow.lang, flow.large_text)
    align = "right" if w.rtl else "left"
    root = BoxLayout(orientation="vertical")
    root.add_widget(top_bar(flow, m, w.title))
    body = BoxLayout(orientation="vertical", padding=(m.px(4), m.px(2.4)), spacing=m.px(2))
    body.add_widget(Text(w.progress, m.font(3.2), theme.MIST, halign=align, name="progress"))
    body.add_widget(
        Text(
            w.text, m.font(6.2 if m.portrait else 5.6), theme.WHITE, bold=True, halign=align, name="question"
        )
    )
    body.add_widget(Text(w.hint, m.font(3.2), theme.MIST, halign=align))
    answers = _answers(flow, m, w, q.scale)
    answers.size_hint_y = 1
    body.add_widget(answers)
    skip_row = BoxLayout(size_hint_y=None, height=m.target(9.5))
    skip_row.add_widget(Widget())
    skip_row.add_widget(Pill(w.skip, m.font(3.8), flow.skip, name="skip", size_hint_x=1.2))
    skip_row.add_widget(Widget())
    body.add_widget(skip_row)
    body.add_widget(language_bar(flow, m, w.larger))
    body.add_widget(Text(w.anonymous, m.font(2.6), theme.MIST, halign="center", name="anonymous"))
    root.add_widget(body)
    return root


def thanks(flow: FeedbackFlow, m: theme.Metrics) -> Widget:
    w = words.thanks_words(flow.lang)
    root = BoxLayout(orientation="vertical")
    root.add_widget(top_bar(flow, m, words.title(flow.lang)))
    body = BoxLayout(orientation="vertical", padding=(m.px(6), m.px(6)), spacing=m.px(3))
    body.add_widget(Widget(size_hint_y=0.3))
    face_row = BoxLayout(size_hint_y=None, height=m.px(26))
    face_row.add_widget(Widget())
    face_row.add_widget(Face(5, size_hint_x=None, width=m.px(26)))
    face_row.add_widget(Widget())
    body.add_widget(face_row)
    body.add_widget(Text(w.thanks, m.font(11), theme.YELLOW, bold=True, halign="center", name="thanks"))
    body.add_widget(Text(w.line, m.font(4.6), theme.WHITE, halign="center"))
    body.add_widget(Widget())
    root.add_widget(body)
    return root


def empty(flow: FeedbackFlow, m: theme.Metrics) -> Widget:
    """A site file without questions: say so (a technician's matter), take no touches."""
    root = BoxLayout(orientation="vertical", padding=m.px(6))
    root.add_widget(Text(words.no_questions(flow.lang), m.font(5), theme.WHITE, halign="center", fixed=True))
    return root


def build(flow: FeedbackFlow, m: theme.Metrics) -> Any:
    """The screen for the flow's state at the window's size ``m``."""
    if not flow.questions:
        return empty(flow, m)
    return question(flow, m) if flow.question is not None else thanks(flow, m)
