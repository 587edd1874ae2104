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

No Kivy here: the app converts the RGB tuples itself, so the rules stay testable.
"""

from __future__ import annotations

from dataclasses import dataclass

Rgb = tuple[int, int, int]

NAVY: Rgb = (0x0B, 0x22, 0x39)  # ground
NAVY_LIGHT: Rgb = (0x16, 0x35, 0x54)  # top bar, secondary panels
WHITE: Rgb = (0xFF, 0xFF, 0xFF)
INK: Rgb = (0x0B, 0x22, 0x39)  # text on white cards
INK_SOFT: Rgb = (0x33, 0x47, 0x5B)  # description lines on white
MIST: Rgb = (0xD4, 0xDF, 0xEA)  # secondary text on navy
YELLOW: Rgb = (0xFF, 0xD2, 0x3F)  # the number, the chosen language, focus
CLOSED_BG: Rgb = (0x2E, 0x42, 0x57)  # a closed department's card
CLOSED_TEXT: Rgb = (0xE8, 0xEE, 0xF4)
CLOSED_REASON: Rgb = (0xFF, 0xDD, 0x80)
ALERT_BG: Rgb = (0x7A, 0x12, 0x12)  # fault banner
ALERT_TEXT: Rgb = (0xFF, 0xFF, 0xFF)
PRESSED: Rgb = (0xFF, 0xE9, 0x9A)  # a card under the finger

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

AA_BODY = 4.5
MIN_TARGET_PX = 95  # 15 mm at 160 dpi
LARGE_TEXT_SCALE = 1.3


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: Rgb) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Rgb, b: Rgb) -> float:
    """WCAG 2.x contrast ratio between two colours (1.0 to 21.0)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def rgba(rgb: Rgb, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """Kivy's colour form."""
    return (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, alpha)


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one window size and text mode."""

    width: int
    height: int
    large_text: bool = False

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def unit(self) -> float:
        return min(self.width, self.height) / 100

    def font(self, size: float) -> float:
        """A font size in units, scaled for large-text mode."""
        return size * self.unit * (LARGE_TEXT_SCALE if self.large_text else 1.0)

    def px(self, size: float) -> float:
        return size * self.unit

    def target(self, size: float) -> float:
        """A touch target's size: ``size`` units, never under ``MIN_TARGET_PX``."""
        return max(MIN_TARGET_PX, size * self.unit)
