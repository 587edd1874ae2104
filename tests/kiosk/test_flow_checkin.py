"""Check-in of a booked visit at the kiosk, without a window: keypad, scanners, every answer."""

from __future__ import annotations

import pytest

from nummerlapp.client.api import ApiUnavailable
from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.kiosk.flow import AskReason, CheckInProblem, KioskFlow, Screen
from nummerlapp.printer.errors import PaperOut
from nummerlapp.tests.kiosk.flowfakes import World


def on(flow: KioskFlow) -> Screen:
    """The flow's screen, read afresh (a method call does not let mypy narrow it for good)."""
    return flow.screen


async def test_keypad_with_correction_checks_in_and_prints(world: World) -> None:
    flow = world.flow
    assert flow.open_appointment() and on(flow) == Screen.APPOINTMENT
    for key in "K7QX2M4Z":
        flow.type_key(key)
    assert flow.reference == "K7QX2M4Z"
    flow.type_key("A")  # a ninth key does nothing
    flow.erase()
    for key in ("0", "O", "1", "I", "L", "!"):  # look-alikes are not on the keypad
        flow.type_key(key)
    assert flow.reference == "K7QX2M4"
    assert flow.submit_reference() is None  # not whole yet
    flow.type_key("p")  # a keyboard's lower case
    task = flow.submit_reference()
    assert task is not None and on(flow) == Screen.ISSUING
    await task
    assert on(flow) == Screen.BOOKED
    assert world.api.checked_in == [("K7QX2M4P", "nb")]
    assert flow.ticket is not None and flow.ticket.appointment is not None
    assert world.printer.printed == [(flow.ticket.number, "nb")]
    world.clock.advance(world.settings.kiosk.ticket_screen_s + 1)
    flow.tick()
    assert on(flow) == Screen.HOME and flow.reference == ""


async def test_usb_scanner_types_from_the_home_screen(world: World) -> None:
    flow = world.flow
    for char in "k7qx2m4p":  # the scanner's keystrokes, no button touched first
        flow.type_key(char)
    assert on(flow) == Screen.APPOINTMENT and flow.reference == "K7QX2M4P"
    task = flow.submit_reference()  # its Enter
    assert task is not None
    await task
    assert on(flow) == Screen.BOOKED


async def test_serial_scanner_sends_a_whole_code(world: World) -> None:
    flow = world.flow
    task = flow.scanned("https://askim.example/a/K7QX-2M4P\r\n")
    assert task is not None
    await task
    assert world.api.checked_in[-1][0] == "K7QX2M4P" and on(flow) == Screen.BOOKED
    flow.dismiss()
    assert flow.scanned("hello") is None and on(flow) == Screen.APPT_PROBLEM
    assert flow.check_in_problem == CheckInProblem.UNKNOWN


@pytest.mark.parametrize(
    ("error", "screen", "problem"),
    [
        (NotFound("no", "unknown_appointment"), Screen.APPT_PROBLEM, CheckInProblem.UNKNOWN),
        (Conflict("no", "cancelled"), Screen.APPT_PROBLEM, CheckInProblem.CANCELLED),
        (Conflict("no", "not_today"), Screen.APPT_PROBLEM, CheckInProblem.NOT_TODAY),
        (Conflict("no", "already_checked_in"), Screen.APPT_PROBLEM, CheckInProblem.ALREADY),
        (Conflict("no", "too_late"), Screen.APPT_LATE, None),
    ],
)
async def test_refusals_have_their_screens(
    world: World, error: Exception, screen: Screen, problem: CheckInProblem | None
) -> None:
    flow = world.flow
    world.api.check_in_errors.append(error)
    task = flow.scanned("K7QX2M4P")
    assert task is not None
    await task
    assert on(flow) == screen and flow.check_in_problem == problem
    assert world.printer.printed == []
    if screen == Screen.APPT_LATE:  # kindly: an ordinary ticket instead
        flow.ordinary_ticket()
        assert on(flow) == Screen.HOME
        world.settle()
        await world.take("nav")
        assert on(flow) == Screen.TICKET
    else:  # try again, or OK back home
        assert flow.open_appointment() and flow.reference == ""
        flow.dismiss()
        assert on(flow) == Screen.HOME


async def test_no_paper_no_check_in_and_lost_answers(world: World) -> None:
    flow = world.flow
    world.printer.state = world.printer.state.model_copy(update={"state": "paper_end"})
    task = flow.scanned("K7QX2M4P")
    assert task is not None
    await task
    assert on(flow) == Screen.PRINTER_FAULT and world.api.checked_in == []
    world.printer.state = world.printer.state.model_copy(update={"state": "ok"})
    await flow.check_printer()
    world.api.check_in_errors.append(ApiUnavailable("reset", request_sent=True))
    task = flow.scanned("K7QX2M4P")
    assert task is not None
    await task
    assert on(flow) == Screen.ASK_RECEPTION and flow.ask_reason == AskReason.UNCERTAIN
    flow.dismiss()
    world.printer.print_error = PaperOut("out")
    task = flow.scanned("K7QX2M4P")
    assert task is not None
    await task
    assert on(flow) == Screen.PRINT_FAILED and flow.ticket is not None  # the number stays on screen


async def test_keypad_times_out_and_needs_a_resting_screen(world: World) -> None:
    flow = world.flow
    flow.open_appointment()
    flow.type_key("A")
    world.clock.advance(world.settings.kiosk.idle_timeout_s + 1)
    flow.tick()
    assert on(flow) == Screen.HOME and flow.reference == ""
    world.settle()
    task = flow.press_department("nav")
    assert task is not None
    flow.type_key("A")  # mid-issue: a stray scanner key changes nothing
    assert on(flow) == Screen.ISSUING
    await task
