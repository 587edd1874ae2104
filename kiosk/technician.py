"""The hidden technician screen: PIN pad, then service address, printer, test print, version, log.

Reached by holding the top-left corner for ``HOLD_S`` seconds (``kiosk.app`` watches for it) and a
PIN checked against the argon2 hash in the site file (in a thread: argon2 is deliberately slow).
It is for the municipality's IT technician: it speaks the site's first language (the
``technician`` catalogue; English where a language has none) with technical terms kept as they
are (addresses, ids, the command line, log lines); it never shows anything about visitors.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from nummerlapp.common.i18n import Translate, translator
from nummerlapp.kiosk import theme
from nummerlapp.kiosk.flow import Screen
from nummerlapp.kiosk.screens import Ctx
from nummerlapp.kiosk.widgets import PillButton, Text, paint

HOLD_S = 3.0
CORNER_UNITS = 12  # the hidden corner is this many units square
PIN_MAX = 12


class LogTail(logging.Handler):
    """The last ``size`` log lines, for the technician screen (no file needed)."""

    def __init__(self, size: int = 200) -> None:
        super().__init__(level=logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a broken log line must never break the kiosk
            self.handleError(record)

    def tail(self, n: int) -> list[str]:
        return list(self.lines)[-n:]


def words(c: Ctx) -> Translate:
    """The technician's words: the site's first language, not the visitor's last choice."""
    return translator("technician", c.flow.settings.site.default_language)


def tech_message(_: Translate, message: str | None) -> str:
    """The flow's note after a test print, in the technician's language."""
    if not message:
        return ""
    if message == "test print sent":
        return _("Test print sent.")
    failed = "test print failed: "
    if message.startswith(failed):
        return _("Test print failed: {error}").format(error=message[len(failed) :])
    return message


class PinEntry:
    """Digits typed so far; kept outside the widgets so a rebuild does not lose them."""

    def __init__(self) -> None:
        self.digits = ""

    def press(self, key: str) -> None:
        if key == "C":
            self.digits = ""
        elif len(self.digits) < PIN_MAX:
            self.digits += key


def pin_screen(c: Ctx, entry: PinEntry, refresh: Any) -> Widget:
    m, flow, _ = c.m, c.flow, words(c)
    col = BoxLayout(orientation="vertical", padding=(m.px(8), m.px(3)), spacing=m.px(2))
    col.add_widget(Text(_("Technician"), m.font(6), theme.WHITE, bold=True, halign="center"))
    if flow.pin_locked():
        note = _("Too many wrong PINs. Wait a minute.")
    elif flow.pin_failed:
        note = _("Wrong PIN. Try again.")
    else:
        note = _("Enter the technician PIN.")
    col.add_widget(
        Text(note, m.font(3.8), theme.CLOSED_REASON if flow.pin_failed else theme.MIST, halign="center")
    )
    col.add_widget(Text("●" * len(entry.digits) or " ", m.font(6), theme.YELLOW, halign="center", name="pin"))
    pad = GridLayout(cols=3, spacing=m.px(2), size_hint_y=None, height=4 * m.target(13) + 3 * m.px(2))

    def key(k: str) -> None:
        entry.press(k)
        flow.touch()
        refresh()

    def submit() -> None:
        pin, entry.digits = entry.digits, ""
        flow.submit_pin(pin)
        refresh()

    for k in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0"):
        pad.add_widget(PillButton(k, m.font(6), functools.partial(key, k), name=f"key:{k}"))
    pad.add_widget(
        PillButton(_("OK"), m.font(5), submit, fill=theme.YELLOW, ink=theme.INK, border=None, name="pin-ok")
    )
    col.add_widget(Widget())
    col.add_widget(pad)
    col.add_widget(
        PillButton(
            _("Cancel"),
            m.font(4),
            flow.leave_technician,
            name="cancel",
            size_hint_y=None,
            height=m.target(10),
        )
    )
    return col


def technician_screen(c: Ctx, tail: LogTail | None, version: str) -> Widget:
    m, flow, _ = c.m, c.flow, words(c)
    col = BoxLayout(orientation="vertical", padding=(m.px(4), m.px(2)), spacing=m.px(1.4))
    col.add_widget(Text(_("Technician"), m.font(5.5), theme.WHITE, bold=True))
    service = (
        _("reachable")
        if flow.service_ok
        else (_("unreachable") if flow.service_ok is False else _("not asked yet"))
    )
    printer = flow.printer_state
    facts = [
        (_("Service"), f"{flow.api.base_url}  ({service})"),
        (_("Site"), f"{flow.settings.site.id} — {flow.settings.site.name}"),
        (_("Kiosk"), f"{flow.device.id} — {flow.device.name}"),
        (
            _("Printer"),
            f"{flow.device.extra.get('printer', '?')}: {printer.state}"
            + (f" ({printer.detail})" if printer.detail else ""),
        ),
        (_("Version"), version),
        (
            _("Logo"),
            _("{command}  (stores it in the printer's memory)").format(
                command="python main.py printer logo FILE.png"
            ),
        ),
    ]
    for label, value in facts:
        row = BoxLayout(size_hint_y=None, spacing=m.px(2))
        row.add_widget(Text(label, m.font(2.8), theme.MIST, bold=True, size_hint_x=0.22))
        value_text = Text(value, m.font(2.8), theme.WHITE, size_hint_x=0.78)
        row.add_widget(value_text)
        value_text.bind(height=lambda _w, h, row=row: setattr(row, "height", h))
        col.add_widget(row)
    if flow.tech_message:
        col.add_widget(Text(tech_message(_, flow.tech_message), m.font(3.2), theme.YELLOW, bold=True))
    buttons = BoxLayout(size_hint_y=None, height=m.target(10), spacing=m.px(2))
    buttons.add_widget(PillButton(_("Test print"), m.font(3.4), flow.test_print, name="test-print"))
    buttons.add_widget(PillButton(_("Report status"), m.font(3.4), _report(flow), name="report"))
    buttons.add_widget(
        PillButton(
            _("Back"),
            m.font(3.4),
            flow.leave_technician,
            fill=theme.YELLOW,
            ink=theme.INK,
            border=None,
            name="back",
        )
    )
    col.add_widget(buttons)
    log_box = BoxLayout(orientation="vertical", padding=m.px(1.5))
    paint(log_box, theme.NAVY_LIGHT, m.px(1))
    lines = tail.tail(16 if m.portrait else 8) if tail is not None else []
    log_box.add_widget(
        Text(
            "\n".join(lines) or _("(no log lines yet)"),
            m.font(2.1),
            theme.MIST,
            font_name="RobotoMono-Regular",
            fixed=True,
            valign="top",
        )
    )
    col.add_widget(log_box)
    return col


def _report(flow: Any) -> Any:
    def go() -> None:
        flow.touch()
        asyncio.get_running_loop().create_task(flow.report_now())

    return go


def in_corner(m: theme.Metrics, x: float, y: float) -> bool:
    """Whether a touch at window coordinates (origin bottom-left) is in the hidden top-left corner."""
    size = m.px(CORNER_UNITS)
    return x <= size and y >= m.height - size


SCREENS = (Screen.TECH_PIN, Screen.TECHNICIAN)
