"""The visitor screens' shared look: colours, WCAG contrast, sizes and touch targets. No Kivy.

The kiosk (kiosk/theme.py) and the exit terminal (feedback/) draw with the same palette and the
same rules, so a visitor meets one appliance, not two:

- Colours: a dark navy ground with white cards and one warm yellow accent. Every text/ground pair
  a part draws is checked against WCAG 2.x AA (4.5:1 for body text) by that part's tests; most
  reach AAA (7:1) because visitors with poor sight stand a metre away from a glossy screen in a
  bright entrance hall.
- Sizes scale with the screen's short side (``Metrics.unit`` = 1 % of it), so one layout works
  on a 1080x1920 pillar, a 1280x800 wall tablet and an 800x1280 one. ``MIN_TARGET_PX`` is 15 mm
  at 160 dpi (the densest panel we expect): every touch target is at least that.
- Large-text mode multiplies every font by ``LARGE_TEXT_SCALE``; layouts wrap rather than clip.

Kivy's colour form is :func:`rgba`; the rest is plain arithmetic, so the rules stay testable.
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
PRESSED: Rgb = (0xFF, 0xE9, 0x9A)  # a card under the finger
ALERT_BG: Rgb = (0x7A, 0x12, 0x12)  # fault banner
ALERT_TEXT: Rgb = (0xFF, 0xFF, 0xFF)

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
