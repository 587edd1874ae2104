"""The terminal's words in every shipped language, and its colours' contrast (no window)."""

from __future__ import annotations

import pytest

from nummerlapp.common import i18n, theme
from nummerlapp.config import load_settings
from nummerlapp.feedback import words

SETTINGS = load_settings(None)
LANGS = sorted(p.name for p in i18n.LOCALE_DIR.iterdir() if p.is_dir())


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_folder_has_the_feedback_catalogue(lang: str) -> None:
    assert i18n.catalogue_path("feedback", lang) is not None, f"common/locale/{lang}/feedback.po"
    q = SETTINGS.feedback.questions[0]
    w = words.question_words(q, 0, 4, lang, large_text=False)
    assert "1" in w.progress and "4" in w.progress
    assert len({c.label for c in w.choices}) == 5
    if lang != "en":  # translated, not English words under another language's label
        english = words.question_words(q, 0, 4, "en", large_text=False)
        assert w.skip != english.skip and w.choices[0].label != english.choices[0].label
    assert words.thanks_words(lang).thanks


def test_yes_no_is_no_then_yes() -> None:
    solved = SETTINGS.feedback.question("solved")
    assert solved is not None
    assert [(c.value, c.label) for c in words.choices(solved, "sv")] == [(0, "Nej"), (1, "Ja")]


def test_arabic_is_right_to_left() -> None:
    assert words.question_words(SETTINGS.feedback.questions[0], 0, 4, "ar", False).rtl


def test_contrast() -> None:
    from nummerlapp.feedback.widgets import FACE_COLOURS, NO, YES  # noqa: PLC0415  # Kivy only for this test

    for ground in (*FACE_COLOURS, YES, NO):  # the faces' dark features and marks
        assert theme.contrast(theme.INK, ground) >= theme.AA_BODY
    for fg, bg in ((theme.INK, theme.WHITE), (theme.INK, theme.PRESSED), (theme.WHITE, theme.NAVY),
                   (theme.MIST, theme.NAVY), (theme.YELLOW, theme.NAVY), (theme.INK, theme.YELLOW)):  # fmt: skip
        assert theme.contrast(fg, bg) >= theme.AA_BODY
