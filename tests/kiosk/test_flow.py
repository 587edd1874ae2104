"""Every transition and fault of the kiosk's visitor flow, without a window."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import pytest

from nummerlapp.client.api import ApiUnavailable, RateLimited, ServiceError, Unauthorized
from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict
from nummerlapp.kiosk.flow import GRACE_AFTER_HOME_S, AskReason, Screen
from nummerlapp.kiosk.hours import ClosedReason
from nummerlapp.printer.errors import PaperOut
from nummerlapp.tests.kiosk.flowfakes import OSLO, THURSDAY_10, World, snapshot


async def test_starts_home_with_live_figures(world: World) -> None:
    f = world.flow
    assert f.screen == Screen.HOME
    assert [d.id for d in f.departments] == ["nav", "byggesak", "bolig", "tolk"]
    nav = f.department("nav")
    assert nav is not None and nav.open and nav.waiting == 3 and nav.estimated_wait_s == 420
    assert nav.line("sv") == "Arbete, försäkring och socialtjänst"


async def test_touch_issues_prints_and_shows_number(world: World) -> None:
    f = world.flow
    task = f.press_department("byggesak")
    assert f.screen == Screen.ISSUING  # decided before any await
    assert task is not None
    await task
    assert f.screen == Screen.TICKET
    assert f.ticket is not None and f.ticket.number == "B001"
    assert world.api.issued == [("byggesak", "nb")]
    assert world.printer.printed == [("B001", "nb")]


async def test_language_flows_to_request_and_print(world: World) -> None:
    world.flow.set_language("sv")
    await world.take("bolig")
    assert world.api.issued == [("bolig", "sv")]
    assert world.printer.printed == [("C001", "sv")]
    world.flow.set_language("xx")  # not a site language: ignored
    assert world.flow.lang == "sv"


async def test_second_touch_while_issuing_is_ignored(world: World) -> None:
    f = world.flow
    first = f.press_department("nav")
    assert f.press_department("nav") is None
    assert f.press_department("bolig") is None  # a second finger elsewhere
    assert first is not None
    await first
    assert len(world.api.issued) == 1 and len(world.printer.printed) == 1


async def test_guard_time_after_ticket_and_after_coming_home(world: World) -> None:
    f = world.flow
    await world.take()
    f.dismiss()  # "OK" on the number screen
    assert f.screen == Screen.HOME
    assert f.press_department("nav") is None  # the double tap's second half
    world.clock.advance(GRACE_AFTER_HOME_S)
    assert f.press_department("nav") is None  # still within the kiosk interval of the last issue
    world.clock.advance(f.guard_s)
    task = f.press_department("nav")
    assert task is not None
    await task
    assert len(world.api.issued) == 2


async def test_ticket_screen_times_out_and_resets_visitor(world: World) -> None:
    f = world.flow
    f.set_language("en")
    f.toggle_large_text()
    await world.take()
    world.clock.advance(world.settings.kiosk.ticket_screen_s - 0.5)
    f.tick()
    assert f.screen == Screen.TICKET
    world.clock.advance(1.0)
    f.tick()
    assert f.screen == Screen.HOME
    assert f.lang == "nb" and f.large_text is False


async def test_idle_timeout_resets_language_at_home(world: World) -> None:
    f = world.flow
    f.set_language("en")
    f.toggle_large_text()
    f.touch()
    world.clock.advance(world.settings.kiosk.idle_timeout_s - 1)
    f.tick()
    assert f.lang == "en"
    world.clock.advance(2)
    f.tick()
    assert (f.screen, f.lang, f.large_text) == (Screen.HOME, "nb", False)


async def test_printer_fault_takes_no_number_and_reports(world: World) -> None:
    world.printer.state = P.PrinterReport(state="paper_end", detail="roll empty")
    await world.take()
    f = world.flow
    assert f.screen == Screen.PRINTER_FAULT
    assert f.print_fault is not None and f.print_fault.state == "paper_end"
    assert world.api.issued == []
    assert world.api.reports[-1].printer == P.PrinterReportBody(state="paper_end", detail="roll empty")
    assert world.api.reports[-1].role == "kiosk"
    # the fault screen is now the resting screen: the idle timeout keeps it
    world.clock.advance(world.settings.kiosk.idle_timeout_s + 1)
    f.tick()
    assert f.screen == Screen.PRINTER_FAULT
    assert f.press_department("nav") is None
    # paper changed: the next poll brings the kiosk home and reports the repair
    world.printer.state = P.PrinterReport(state="ok")
    await f.check_printer()
    await asyncio.sleep(0)
    assert f.screen == Screen.HOME
    assert world.api.reports[-1].printer is not None and world.api.reports[-1].printer.state == "ok"


@pytest.mark.parametrize("state", ["cover_open", "offline"])
async def test_other_printer_faults(world: World, state: P.PrinterState) -> None:
    world.printer.state = P.PrinterReport(state=state)
    await world.take()
    assert world.flow.screen == Screen.PRINTER_FAULT and world.api.issued == []


async def test_print_failure_keeps_number_on_screen(world: World) -> None:
    f = world.flow
    world.printer.print_error = PaperOut("paper ran out mid-ticket", printed=True)
    await world.take("tolk")
    assert f.screen == Screen.PRINT_FAILED
    assert f.ticket is not None and f.ticket.number == "D001"
    assert world.api.reports[-1].printer is not None and world.api.reports[-1].printer.state == "paper_end"
    world.clock.advance(world.settings.kiosk.ticket_screen_s + 1)
    f.tick()
    assert f.screen == Screen.PRINT_FAILED  # longer than a normal ticket screen
    world.clock.advance(world.settings.kiosk.idle_timeout_s)
    f.tick()
    assert f.screen == Screen.PRINTER_FAULT  # the printer still has no paper


async def test_unreachable_on_issue_then_ask_reception_then_recovers(world: World) -> None:
    f = world.flow
    world.api.issue_errors.append(ApiUnavailable("refused", request_sent=False))
    await world.take()
    assert f.screen == Screen.UNREACHABLE and f.service_ok is False
    world.api.state_errors.append(ApiUnavailable("still down", request_sent=False))
    assert not await f.refresh_state()
    world.clock.advance(9)
    f.tick()
    assert f.screen == Screen.UNREACHABLE
    world.clock.advance(2)
    f.tick()
    assert f.screen == Screen.ASK_RECEPTION and f.ask_reason == AskReason.UNREACHABLE
    assert await f.refresh_state()
    assert f.screen == Screen.HOME and f.service_ok is True
    assert world.api.issued == []  # nothing was retried behind the visitor's back


async def test_lost_answer_is_not_retried(world: World) -> None:
    world.api.issue_errors.append(ApiUnavailable("read timeout", request_sent=True))
    await world.take()
    assert world.flow.screen == Screen.ASK_RECEPTION
    assert world.flow.ask_reason == AskReason.UNCERTAIN
    assert world.api.issued == []
    world.flow.dismiss()
    assert world.flow.screen == Screen.HOME


async def test_server_error_sends_to_reception(world: World) -> None:
    world.api.issue_errors.append(ServiceError("500"))
    await world.take()
    assert world.flow.ask_reason == AskReason.UNCERTAIN


async def test_rate_limit_waits_once_and_issues(world: World) -> None:
    world.api.issue_errors.append(RateLimited("too soon", "rate_limited", retry_after_s=0.01))
    await world.take()
    assert world.flow.screen == Screen.TICKET and len(world.api.issued) == 1


async def test_queue_full(world: World) -> None:
    world.api.issue_errors.append(Conflict("all numbers live", "queue_full"))
    await world.take()
    assert world.flow.screen == Screen.ASK_RECEPTION and world.flow.ask_reason == AskReason.QUEUE_FULL
    world.clock.advance(world.settings.kiosk.idle_timeout_s + 1)
    world.flow.tick()
    assert world.flow.screen == Screen.HOME


async def test_token_refused(world: World) -> None:
    world.api.issue_errors.append(Unauthorized("revoked", "unauthorized"))
    await world.take()
    assert world.flow.ask_reason == AskReason.REFUSED


async def test_department_closed_on_touch_shows_it_closed(world: World) -> None:
    world.api.issue_errors.append(Conflict("closed", "department_closed"))
    world.api.state = snapshot(world.settings, closed=("tolk",))
    await world.take("tolk")
    f = world.flow
    assert f.screen == Screen.HOME and f.notice == "tolk"
    tolk = f.department("tolk")
    assert tolk is not None and not tolk.open and tolk.closure is not None


async def test_site_closed_on_touch(world: World) -> None:
    world.api.issue_errors.append(Conflict("closed", "site_closed"))
    world.api.state = snapshot(world.settings, site_open=False)
    await world.take()
    assert world.flow.screen == Screen.CLOSED


async def test_closed_site_shows_next_opening() -> None:
    saturday = dt.datetime(2026, 11, 28, 12, 0, tzinfo=OSLO)
    w = World(when=saturday)
    w.api.state = snapshot(w.settings, site_open=False)
    await w.flow.refresh_state()
    f = w.flow
    assert f.screen == Screen.CLOSED
    assert f.site_closure is not None and f.site_closure.reason == ClosedReason.OPENS_LATER
    assert f.site_closure.next_open == dt.datetime(2026, 11, 30, 8, 0, tzinfo=OSLO)
    assert all(not d.open for d in f.departments)  # shown, not hidden
    w.settle()
    assert f.press_department("nav") is None
    w.api.state = snapshot(w.settings)  # an administrator opened the site
    await f.refresh_state()
    assert f.screen == Screen.HOME


async def test_department_closure_reasons() -> None:
    afternoon = dt.datetime(2026, 11, 26, 15, 0, tzinfo=OSLO)
    w = World(when=afternoon)
    w.api.state = snapshot(w.settings, closed=("tolk",))
    await w.flow.refresh_state()
    tolk = w.flow.department("tolk")
    assert tolk is not None and tolk.closure is not None
    assert tolk.closure.reason == ClosedReason.OPENS_LATER
    assert tolk.closure.next_open == dt.datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
    w.when = dt.datetime(2026, 11, 26, 13, 55, tzinfo=OSLO)  # tolk closes 14:00, last ticket 13:50
    await w.flow.refresh_state()
    tolk = w.flow.department("tolk")
    assert tolk is not None and tolk.closure is not None
    assert tolk.closure.reason == ClosedReason.LAST_TICKET
    w.when = THURSDAY_10  # inside the hours, yet the service says closed: an override
    await w.flow.refresh_state()
    tolk = w.flow.department("tolk")
    assert tolk is not None and tolk.closure is not None
    assert tolk.closure.reason == ClosedReason.CLOSED_NOW and tolk.closure.next_open is None
    w.settle()
    assert w.flow.press_department("tolk") is None


async def test_refresh_failure_at_home(world: World) -> None:
    f = world.flow
    world.api.state_errors.extend([ApiUnavailable("down", request_sent=False)] * 2)
    assert not await f.refresh_state()
    assert f.screen == Screen.UNREACHABLE
    world.clock.advance(11)
    assert not await f.refresh_state()
    assert f.screen == Screen.ASK_RECEPTION
    assert await f.refresh_state()
    assert f.screen == Screen.HOME


async def test_printer_poll_fault_makes_fault_resting_screen(world: World) -> None:
    world.printer.state = P.PrinterReport(state="cover_open")
    await world.flow.check_printer()
    assert world.flow.screen == Screen.PRINTER_FAULT


async def test_technician_pin_and_screen() -> None:
    w = World()
    f = w.flow
    assert f.open_technician()
    assert f.screen == Screen.TECH_PIN
    task = f.submit_pin("1111")
    assert task is not None and await task is False
    assert f.pin_failed and f.screen == Screen.TECH_PIN
    task = f.submit_pin("2468")  # the example site's PIN
    assert task is not None and await task is True
    assert f.screen == Screen.TECHNICIAN
    task2 = f.test_print()
    assert task2 is not None
    await task2
    assert w.printer.tests == 1 and f.tech_message == "test print sent"
    w.clock.advance(w.settings.kiosk.idle_timeout_s + 1)
    f.tick()
    assert f.screen == Screen.HOME


async def test_technician_lockout_and_leave() -> None:
    w = World()
    f = w.flow
    f.open_technician()
    for _ in range(5):
        task = f.submit_pin("0000")
        assert task is not None
        await task
    assert f.pin_locked()
    assert f.submit_pin("2468") is None
    f.leave_technician()
    assert f.screen == Screen.HOME


async def test_no_technician_without_pin_hash() -> None:
    w = World(pin_hash="")
    assert not w.flow.open_technician()
    assert w.flow.screen == Screen.HOME


async def test_technician_not_from_mid_issue(world: World) -> None:
    task = world.flow.press_department("nav")
    assert not world.flow.open_technician()
    assert task is not None
    await task


async def test_run_loop_refreshes_ticks_and_reports() -> None:
    w = World()
    w.api.state = snapshot(w.settings, site_open=False)
    runner = asyncio.create_task(w.flow.run(tick_s=0.01, refresh_s=0.05, printer_s=0.05))
    try:
        async with asyncio.timeout(3):
            while w.flow.screen != Screen.CLOSED or not w.api.reports:
                await asyncio.sleep(0.01)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await w.flow.aclose()
    assert w.api.reports[0].printer is not None and w.api.reports[0].printer.state in ("ok", "unknown")
