"""A device's enrolment screen (kiosk, exit terminal): the code, large, the site's name and a
sentence for the technician.

Drawn from :class:`client.enrol.EnrolView` (the shared, Kivy-free enrolment logic), in the
skins' colours and units (common/theme.py). Import only after the skin's ``configure_window()``.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout

from nummerlapp.client.enrol import EnrolView, Phase
from nummerlapp.common import theme
from nummerlapp.common.i18n import translator
from nummerlapp.skin.widgets import Text, paint


def sentences(view: EnrolView, lang: str, domain: str = "kiosk") -> dict[str, str]:
    """What each line says for this view (the words, from the skin's catalogue ``domain``)."""
    _ = translator(domain, lang)
    ask = {
        Phase.FINDING: _("Looking for the queue service …"),
        Phase.WAITING: _("Ask a technician to approve this code"),
        Phase.REFUSED: _("The code was refused. Asking for a new one …"),
        Phase.EXPIRED: _("Nobody approved the code in 10 minutes. Asking for a new one …"),
        Phase.APPROVED: _("Approved – starting"),
    }[view.phase]
    waiting = view.phase == Phase.WAITING
    fingerprint = view.fingerprint_text
    return {
        "site": view.site,
        "ask": ask,
        "code": view.code_text if waiting else "",
        "how": _("Technician page › Devices, or: main.py device approve {code}").format(code=view.code)
        if waiting
        else "",
        "device": _("This device: {name}").format(name=view.device_name),
        "fingerprint": _("Certificate: {fingerprint}").format(fingerprint=fingerprint) if fingerprint else "",
    }


def _fit(label: Any, height: float) -> None:
    label.text_size = (label.width, height)


SIZES = {"site": 6.0, "ask": 5.0, "code": 20.0, "how": 3.4, "device": 3.4, "fingerprint": 3.4}
SHARES = {"site": 0.13, "ask": 0.13, "code": 0.36, "how": 0.14, "device": 0.12, "fingerprint": 0.12}


class EnrolScreen(BoxLayout):
    """Fills the skin's content area; ``show(view)`` draws the view (labels rebuilt, RTL-shaped).
    ``domain``: the skin's catalogue ("kiosk", "feedback"), which holds the sentences."""

    def __init__(self, m: theme.Metrics, lang: str, domain: str = "kiosk") -> None:
        super().__init__(orientation="vertical", padding=m.px(6), spacing=m.px(2))
        paint(self, theme.NAVY)
        self.m = m
        self.lang = lang
        self.domain = domain
        self.lines: dict[str, str] = {}
        self.show(EnrolView())

    def show(self, view: EnrolView) -> None:
        self.lines = sentences(view, self.lang, self.domain)
        self.clear_widgets()
        for name, words in self.lines.items():
            rgb = theme.YELLOW if name == "code" else theme.WHITE if name in ("site", "ask") else theme.MIST
            label = Text(
                words,
                self.m.px(SIZES[name]),
                rgb,
                bold=name in ("site", "code"),
                halign="center",
                fixed=True,
                size_hint_y=SHARES[name],
                name=f"enrol-{name}",
            )
            label.bind(height=_fit)  # a fixed Text wraps to its width only; the code needs its height
            self.add_widget(label)

    def texts(self) -> dict[str, str]:
        """What the labels say (tests read it)."""
        return dict(self.lines)
