"""Right-to-left text at the skin's edge: shaped, reordered line by line, in a font that has it.

Kivy's text provider draws code points left to right in their isolated forms; common/textshape.py
turns a string into its visual form first. The pure part is tested here directly; the kiosk's and
the board's Kivy labels in a subprocess (a real Kivy, offscreen), reading back what they draw.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

from PIL import ImageFont

from nummerlapp.common import textshape

ROOT = Path(__file__).resolve().parents[2]
TAKE = "خذ تذكرتك من الطابعة في الأسفل"  # "take your ticket from the printer below"


def forms(text: str) -> set[str]:
    return {
        unicodedata.name(ch).split(" FORM")[0].split()[-1]
        for ch in text
        if "FORM" in unicodedata.name(ch, "")
    }


def test_latin_and_cyrillic_pass_through() -> None:
    for text in ("Ota vuoronumero", "Ваш номер у черзі", "A012"):
        assert textshape.visual(text) == text
        assert textshape.font_for(text) is None


def test_arabic_is_shaped_into_joined_forms() -> None:
    shaped = textshape.shaped("رقمك")  # "your number": ra, qaf, mim, kaf
    assert all(0xFE70 <= ord(ch) <= 0xFEFF for ch in shaped)  # presentation forms B
    assert forms(shaped) == {"ISOLATED", "INITIAL", "MEDIAL", "FINAL"}
    assert textshape.shaped("لا") == "\ufefb"  # lam-alef ligature


def test_visual_order_is_right_to_left_with_numbers_left_to_right() -> None:
    visual = textshape.visual("الرقم A012، الشباك 3")
    assert visual.startswith("3 ")  # the end of the sentence is leftmost
    assert "A012" in visual  # a Latin/number run keeps its own order
    assert visual.endswith(textshape.visual("الرقم"))  # the first word is rightmost


def test_wrapping_keeps_the_first_words_on_the_first_line() -> None:
    lines = textshape.wrap_visual(TAKE, 12, len)
    logical_first = textshape.shaped("خذ تذكرتك من")
    assert lines[0] == logical_first[::-1]  # the first words, each line reversed on its own
    assert len(lines) == 3
    assert textshape.shaped("الأسفل")[::-1] == lines[-1]


def test_font_for_arabic_has_the_glyphs() -> None:
    path = textshape.font_for(TAKE, bold=True)
    assert path is not None and path.is_file()
    font = ImageFont.truetype(str(path), 24, layout_engine=ImageFont.Layout.BASIC)
    notdef = font.getmask("\uffff").getbbox()
    for ch in textshape.shaped(TAKE).replace(" ", ""):
        assert font.getmask(ch).getbbox() != notdef, hex(ord(ch))


KIVY_SCRIPT = r"""
import json, sys
from nummerlapp.kiosk.widgets import PillButton, Step, Text
from nummerlapp.kiosk import theme
from nummerlapp.display.widgets import BoardScreen
from nummerlapp.display.view import BoardText, DepartmentText

t = Text(sys.argv[1], 40)
t.width = 320
t._wrap()
b = PillButton("حسنًا", 40, lambda: None)
latin = Text("Ota vuoronumero", 40)
step = Step(1, "اختر سبب زيارتك", theme.Metrics(1080, 1920, False))
screen = BoardScreen(1920, 1080)
words = dict(site_name="Espoo", status="", latest_number="A012", latest_counter="الشباك 2",
             latest_note="", previous=(("A011", "الشباك 1"),), message="", heading_number="الرقم",
             heading_counter="الشباك", heading_previous="الأرقام السابقة", heading_waiting="في الانتظار",
             heading_wait="مدة الانتظار", go_to="تفضّل إلى",
             departments=(DepartmentText("الإسكان", "3", "ينتظرون", "حوالي 10 دقيقة", True),))
screen.show(BoardText(**words, lang="ar", rtl=True))
ar_go_to = (screen.go_to.text, screen.go_to.halign, screen.go_to.font_name, screen.counter.text)
ar_count, ar_texts = screen.cards[0].count.text, screen.texts()["departments"]
screen.show(BoardText(**dict(words, go_to="Please go to", latest_counter="Counter 2", heading_number="Number"),
                      lang="en", rtl=False))
print(json.dumps({
    "lines": t.text.split("\n"), "font": t.font_name, "halign": t.halign,
    "button": b.text, "button_font": b.font_name,
    "latin_font": latin.font_name, "latin_halign": latin.halign,
    "step_order": [type(w).__name__ for w in reversed(step.children)],
    "board_ar": ar_go_to, "board_count": ar_count,
    "board_en": (screen.go_to.text, screen.go_to.halign, screen.go_to.font_name),
    "board_texts": ar_texts,
}))
"""


def test_kivy_labels_draw_the_visual_form() -> None:
    done = subprocess.run(
        [sys.executable, "-c", KIVY_SCRIPT, TAKE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    # kiosk: wrapped in logical order, each line in visual order, right-aligned, DejaVu Sans
    assert got["lines"][0] == textshape.visual("خذ تذكرتك من")
    assert len(got["lines"]) >= 2
    assert got["font"] == "NummerlappRtl" and got["halign"] == "right"
    assert got["button"] == textshape.visual("حسنًا") and got["button_font"] == "NummerlappRtl"
    assert got["latin_font"] == "Roboto" and got["latin_halign"] == "left"
    assert got["step_order"] == ["Text", "Label"]  # the number disc at the right
    # board: mirrored headings, shaped words, and back to Roboto, left-aligned in English
    go_to, halign, font, counter = got["board_ar"]
    assert go_to == textshape.visual("تفضّل إلى") and halign == "right" and font == "NummerlappRtl"
    assert counter == textshape.visual("الشباك 2")
    assert got["board_count"].endswith(" 3")  # the count at the right of its word
    assert got["board_en"] == ["Please go to", "left", "Roboto"]
    assert got["board_texts"] == [[textshape.visual("الإسكان"), "3", textshape.visual("حوالي 10 دقيقة")]]
