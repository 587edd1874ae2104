"""Colours and sizes of the kiosk, with the contrast and target-size rules they must keep.

Why these numbers:
- Colours: a dark navy ground with white department "cards" and one warm yellow accent for the
  number. Every text/ground pair in ``PAIRS`` is checked against WCAG 2.x AA (4.5:1 for body text)
  by tests/kiosk/test_theme.py; most reach AAA (7:1) because visitors with poor sight stand a metre
  away from a glossy screen in a bright entrance hall.
- Sizes scale with the screen's short side (``unit`` = 1 % of it), so the same layout works on a
  1080x1920 portrait pillar and on a 1280x800 wall tablet. ``MIN_TARGET_PX`` is 15 mm at 160 dpi
  (the densest kiosk panel we expect: a 10" 1280x800 screen is ~150 dpi): every touch target is at
  least that, and department buttons are several times bigger.
- Large-text mode multiplies every font by ``LARGE_TEXT_SCALE``; layouts wrap rather than clip.

No Kivy here: the app converts the RGB tuples itself, so the rules stay testable. The palette,
the contrast rule and ``Metrics`` are common/theme.py's (the exit terminal draws with them too).
"""

from __future__ import annotations

from nummerlapp.common.theme import AA_BODY as AA_BODY
from nummerlapp.common.theme import ALERT_BG as ALERT_BG
from nummerlapp.common.theme import ALERT_TEXT as ALERT_TEXT
from nummerlapp.common.theme import INK as INK
from nummerlapp.common.theme import INK_SOFT as INK_SOFT
from nummerlapp.common.theme import LARGE_TEXT_SCALE as LARGE_TEXT_SCALE
from nummerlapp.common.theme import MIN_TARGET_PX as MIN_TARGET_PX
from nummerlapp.common.theme import MIST as MIST
from nummerlapp.common.theme import NAVY as NAVY
from nummerlapp.common.theme import NAVY_LIGHT as NAVY_LIGHT
from nummerlapp.common.theme import PRESSED as PRESSED
from nummerlapp.common.theme import WHITE as WHITE
from nummerlapp.common.theme import YELLOW as YELLOW
from nummerlapp.common.theme import Metrics as Metrics
from nummerlapp.common.theme import Rgb as Rgb
from nummerlapp.common.theme import contrast as contrast
from nummerlapp.common.theme import luminance as luminance
from nummerlapp.common.theme import rgba as rgba

# The kiosk's own colours (the shared palette is common/theme.py, also the exit terminal's).
CLOSED_BG: Rgb = (0x2E, 0x42, 0x57)  # a closed department's card
CLOSED_TEXT: Rgb = (0xE8, 0xEE, 0xF4)
CLOSED_REASON: Rgb = (0xFF, 0xDD, 0x80)

# (name, foreground, background): every pair text is drawn in
PAIRS: tuple[tuple[str, Rgb, Rgb], ...] = (
    ("text on ground", WHITE, NAVY),
    ("secondary text on ground", MIST, NAVY),
    ("number on ground", YELLOW, NAVY),
    ("text on top bar", WHITE, NAVY_LIGHT),
    ("secondary on top bar", MIST, NAVY_LIGHT),
    ("department name on card", INK, WHITE),
    ("description on card", INK_SOFT, WHITE),
    ("card text when pressed", INK, PRESSED),
    ("closed name", CLOSED_TEXT, CLOSED_BG),
    ("closed reason", CLOSED_REASON, CLOSED_BG),
    ("chosen language", INK, YELLOW),
    ("fault banner", ALERT_TEXT, ALERT_BG),
)
