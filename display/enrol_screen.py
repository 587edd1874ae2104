"""The board's enrolment screen: the code, large, the site's name and a sentence for the technician.

Drawn from :class:`client.enrol.EnrolView` (the shared, Kivy-free enrolment logic). The code
is as tall as a called number (a technician reads it from the ladder); the colours are the
board's own (docs/DISPLAY.md).
"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from nummerlapp.client.enrol import EnrolView, Phase
from nummerlapp.common.i18n import is_rtl, translator
from nummerlapp.display.widgets import GREY, NAVY, WHITE, YELLOW, Panel, put, text


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
        for label in (self.site, self.ask, self.code, self.how, self.device, self.fingerprint):
            back.add_widget(label)
        self.add_widget(back)
        self._box: BoxLayout = back

    def show(self, view: EnrolView) -> None:
        _ = translator("display", self.lang)
        rtl = is_rtl(self.lang)
        sentence = {
            Phase.FINDING: _("Looking for the queue service …"),
            Phase.WAITING: _("Ask a technician to approve this code"),
            Phase.REFUSED: _("The code was refused. Asking for a new one …"),
            Phase.EXPIRED: _("Nobody approved the code in 10 minutes. Asking for a new one …"),
            Phase.APPROVED: _("Approved – starting"),
        }[view.phase]
        waiting = view.phase == Phase.WAITING
        put(self.site, view.site, rtl)
        put(self.ask, sentence, rtl)
        put(self.code, view.code_text if waiting else "", False)
        how = _("Technician page › Devices, or: main.py device approve {code}").format(code=view.code)
        put(self.how, how if waiting else "", rtl)
        put(self.device, _("This device: {name}").format(name=view.device_name), rtl)
        fingerprint = view.fingerprint_text
        put(
            self.fingerprint,
            _("Certificate: {fingerprint}").format(fingerprint=fingerprint) if fingerprint else "",
            rtl,
        )

    def texts(self) -> dict[str, str]:
        """What the labels say (tests read it)."""
        return {
            "site": self.site.text,
            "ask": self.ask.text,
            "code": self.code.text,
            "how": self.how.text,
            "device": self.device.text,
            "fingerprint": self.fingerprint.text,
        }
