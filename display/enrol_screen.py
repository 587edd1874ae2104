"""The board's enrolment screen: the code, large, the site's name and a sentence for the technician.

Drawn from :class:`client.enrol.EnrolView` (the shared, Kivy-free enrolment logic); its lines
say what the kiosk's and the exit terminal's say (``skin.enrol_screen.sentences``, from the
board's catalogue). The look is the board's own: the code is as tall as a called number (a
technician reads it from the ladder), in the board's colours (docs/DISPLAY.md).
"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from nummerlapp.client.enrol import EnrolView
from nummerlapp.common.i18n import is_rtl
from nummerlapp.display.widgets import GREY, NAVY, WHITE, YELLOW, Panel, put, text
from nummerlapp.skin.enrol_screen import sentences


class EnrolScreen(FloatLayout):
    """Full screen; ``show(view)`` copies the view into the labels."""

    def __init__(self, width: int, height: int, lang: str) -> None:
        super().__init__()
        self.lang = lang
        u = min(width, height) / 1080
        back = Panel(bg=NAVY, orientation="vertical", padding=64 * u, spacing=24 * u)
        self.site = text(64 * u, WHITE, bold=True, halign="center", size_hint_y=0.14)
        self.ask = text(56 * u, WHITE, halign="center", size_hint_y=0.12)
        self.code = text(300 * u, YELLOW, bold=True, halign="center", size_hint_y=0.38)
        self.how = text(38 * u, GREY, halign="center", size_hint_y=0.1)
        self.device = text(38 * u, GREY, halign="center", size_hint_y=0.08)
        self.fingerprint = text(38 * u, GREY, halign="center", size_hint_y=0.08)
        self.labels = {
            "site": self.site,
            "ask": self.ask,
            "code": self.code,
            "how": self.how,
            "device": self.device,
            "fingerprint": self.fingerprint,
        }
        for label in self.labels.values():
            back.add_widget(label)
        self.add_widget(back)
        self._box: BoxLayout = back

    def show(self, view: EnrolView) -> None:
        """The lines the kiosk's and the exit terminal's enrolment screen say (skin/enrol_screen.py),
        in the board's catalogue; the code is digits, never mirrored."""
        rtl = is_rtl(self.lang)
        for name, words in sentences(view, self.lang, "display").items():
            put(self.labels[name], words, rtl and name != "code")

    def texts(self) -> dict[str, str]:
        """What the labels say (tests read it)."""
        return {name: label.text for name, label in self.labels.items()}
