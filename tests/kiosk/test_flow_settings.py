"""A changed configuration (``config.changed``) applied to a running kiosk flow, without a window."""

from __future__ import annotations

import dataclasses

from nummerlapp.common import protocol as P
from nummerlapp.config.model import Site
from nummerlapp.kiosk.flow import KioskFlow, Screen
from nummerlapp.tests.kiosk.flowfakes import FakePrinter, World, snapshot


def on(flow: KioskFlow) -> Screen:
    """The screen now (a call, so the type checker does not narrow it between steps)."""
    return flow.screen


async def test_departments_come_and_go_and_keep_their_open_flags() -> None:
    w = World()
    f = w.flow
    w.api.state = snapshot(w.settings, closed=("bolig",))
    assert await f.refresh_state()
    assert [d.id for d in f.departments] == ["nav", "byggesak", "bolig", "tolk"]
    renamed = dataclasses.replace(
        w.settings.departments[0], name={"nb": "NAV-kontoret", "sv": "NAV", "en": "NAV office"}
    )
    fewer = dataclasses.replace(
        w.settings, departments=(renamed, *w.settings.departments[2:])
    )  # byggesak gone
    f.use_settings(fewer, pin_check=w.flow._pin_check)
    assert [d.id for d in f.departments] == ["nav", "bolig", "tolk"]
    assert f.department("nav").label("nb") == "NAV-kontoret"  # type: ignore[union-attr]
    assert f.department("bolig").open is False  # type: ignore[union-attr]  # still closed until the next snapshot
    assert on(f) == Screen.HOME
    assert f.press_department("byggesak") is None  # its button is gone
    w.settle()
    task = f.press_department("nav")
    assert task is not None
    await task
    assert on(f) == Screen.TICKET


async def test_languages_texts_and_the_visitors_language() -> None:
    w = World()
    f = w.flow
    f.set_language("sv")
    site: Site = dataclasses.replace(
        w.settings.site, languages=("nb", "en"), message={"nb": "Stengt fredag", "en": "Closed Friday"}
    )
    f.use_settings(dataclasses.replace(w.settings, site=site))
    assert f.lang == "nb" and f.default_lang == "nb"  # Swedish is gone: back to the default
    assert f.settings.site.message["nb"] == "Stengt fredag"
    f.set_language("sv")
    assert f.lang == "nb"
    f.set_language("en")
    assert f.lang == "en"


async def test_the_technician_pin_follows_the_configuration() -> None:
    w = World()
    f = w.flow
    check = f._pin_check
    assert f.open_technician() and on(f) == Screen.TECH_PIN
    no_pin = dataclasses.replace(
        w.settings, kiosk=dataclasses.replace(w.settings.kiosk, technician_pin_hash="")
    )
    f.use_settings(no_pin, pin_check=check)
    assert on(f) == Screen.HOME  # the PIN screen closed: no PIN any more
    assert not f.open_technician()
    f.use_settings(w.settings, pin_check=check)
    assert f.open_technician()


async def test_a_new_printer_is_polled_and_a_visitor_mid_way_keeps_the_screen() -> None:
    w = World()
    f = w.flow
    assert await f.refresh_state()
    w.settle()
    task = f.press_department("nav")
    assert task is not None
    await task
    assert on(f) == Screen.TICKET
    out = FakePrinter()
    out.state = P.PrinterReport(state="paper_end")
    f.use_settings(w.settings, printer=out)
    assert f.printer is out and on(f) == Screen.TICKET  # the number stays on screen
    f.dismiss()
    await f.check_printer()
    assert on(f) == Screen.PRINTER_FAULT
