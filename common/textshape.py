"""Right-to-left text for renderers that draw glyphs in the order they are given (Kivy, Pillow).

Kivy's SDL2 text provider and Pillow without libraqm neither join Arabic letters nor reorder a
right-to-left line: they draw code points left to right, each in its isolated form. So before a
string reaches such a renderer it is turned into its *visual* form here, at the skin's edge:

1. **Shaping** (``arabic_reshaper``): each Arabic letter becomes the presentation form for its
   place in the word (initial, medial, final, isolated) and lam-alef ligatures are made.
2. **Direction** (``python-bidi``, the Unicode bidirectional algorithm): the line is reordered
   for display, right-to-left runs reversed, numbers and Latin runs ("A012") kept left to right.

Wrapping must happen *between* the two steps: a paragraph is split into lines in logical order
(the first words on the first line), then each line is reordered on its own. Reordering the
whole paragraph and letting the renderer wrap it would put the end of the sentence on the first
line. :func:`wrap_visual` does that with a measuring function the caller supplies (a Kivy core
label's extents, a Pillow font's length), so this module imports no UI toolkit.

Strings without right-to-left letters pass through untouched (and cost one scan), so the skins
can route every string through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

# Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic supplement/extended and the
# presentation forms: the strong right-to-left letters a site's texts may hold.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# DejaVu Sans (Debian's fonts-dejavu-core, already needed for ticket previews) has Arabic,
# its presentation forms, Hebrew and Cyrillic; Kivy's bundled Roboto has no Arabic at all.
RTL_FONT = FONT_DIR / "DejaVuSans.ttf"
RTL_FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
RTL_FONT_NAME = "NummerlappRtl"  # the name the Kivy skins know DejaVu Sans by

Measure = Callable[[str], float]


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds a right-to-left letter (Arabic, Hebrew, …)."""
    return bool(_RTL.search(text))


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def shaped(text: str) -> str:
    """Arabic letters in their contextual presentation forms (logical order kept)."""
    if not has_arabic(text):
        return text
    import arabic_reshaper  # noqa: PLC0415  # start-up: the shaping libraries load only for right-to-left text

    return str(arabic_reshaper.reshape(text))


@lru_cache(maxsize=1024)
def visual(text: str, rtl: bool | None = None) -> str:
    """``text`` shaped and reordered for a left-to-right glyph renderer, line by line.

    ``rtl``: the paragraph direction (``None``: from the first strong letter, as HTML's
    ``dir="auto"``). Strings without right-to-left letters are returned as they are.
    """
    if not has_rtl(text):
        return text
    from bidi.algorithm import get_display  # noqa: PLC0415  # start-up: the shaping libraries load only for right-to-left text

    base = None if rtl is None else ("R" if rtl else "L")
    return "\n".join(str(get_display(shaped(line), base_dir=base)) for line in text.split("\n"))


def wrap_logical(text: str, width: float, measure: Measure) -> list[str]:
    """Greedy word wrap of ``text`` (logical order, already shaped) into lines no wider than
    ``width`` as ``measure`` sees them; a word wider than the line stands alone."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and measure(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def wrap_visual(text: str, width: float, measure: Measure, rtl: bool | None = None) -> list[str]:
    """``text`` wrapped to ``width`` in logical order, each line then in visual form.

    ``measure`` gets shaped text in logical order; reordering does not change a line's width.
    """
    if not has_rtl(text):
        return wrap_logical(text, width, measure)
    from bidi.algorithm import get_display  # noqa: PLC0415  # start-up: the shaping libraries load only for right-to-left text

    base = None if rtl is None else ("R" if rtl else "L")
    if base is None:  # one direction for the whole paragraph, from its first strong letter
        first = re.search(r"[^\W\d_]", text)
        base = "R" if first is not None and has_rtl(first.group(0)) else "L"
    return [str(get_display(line, base_dir=base)) for line in wrap_logical(shaped(text), width, measure)]


def font_for(text: str, bold: bool = False) -> Path | None:
    """A font file that has the glyphs of ``text`` when the toolkit's default may not
    (``None``: the default will do)."""
    if has_rtl(text):
        return RTL_FONT_BOLD if bold else RTL_FONT
    return None


def kivy_rtl_font(label_base: Any) -> str | None:
    """The font name for right-to-left text in a Kivy skin (kiosk, board, feedback terminal),
    registered once with ``label_base``, Kivy's ``LabelBase``: handed in, so that this module
    imports no Kivy. ``None`` if the font is not installed."""
    if RTL_FONT_NAME not in label_base._fonts:
        if not RTL_FONT.is_file():
            return None
        label_base.register(RTL_FONT_NAME, str(RTL_FONT), fn_bold=str(RTL_FONT_BOLD))
    return RTL_FONT_NAME
