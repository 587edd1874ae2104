"""The visitor's path through the kiosk, as a plain state machine (no Kivy).

The Kivy skin (``kiosk.app``) only draws ``KioskFlow``'s public fields and forwards touches to its
methods; every rule lives here, tested without a window (tests/kiosk/test_flow.py):

- **One touch, one ticket.** ``press_department`` decides synchronously, before any await: a press
  while a ticket is being issued, or within the guard time after the last one (or right after the
  screen came back home, so a double tap on "OK" does not fall through to a department), is
  ignored. Kivy never repeats a held finger, so "held" needs nothing more.
- **No number without paper.** The printer's status is read before asking the service; a printer
  that cannot print means no number is taken, the visitor is told, and the fault is reported to the
  service (``device.status``) so staff see it.
- **A number taken is never lost.** When printing fails after the service issued the number, the
  number stays on screen, large, for the whole idle timeout, and the fault is reported.
- **Never a second ticket by accident.** An issue request that could not connect is safe to ask
  again (the visitor touches again once the service is back); one whose answer was lost may have
  issued a number, so the kiosk sends the visitor to the reception instead of retrying.
- **Resting screens follow the facts.** Home, closed, printer fault, "retrying" and "ask at the
  reception" are what the kiosk shows when nobody is mid-way; they are recomputed from the
  service state, the printer state and the connection whenever one changes.
- **The idle timeout** returns home from any screen (not mid-issue) and resets language and text
  size for the next visitor.

Blocking work (printer IO, argon2) goes to threads through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from nummerlapp.client.api import ApiUnavailable, RateLimited, Unauthorized
from nummerlapp.common import protocol as P
from nummerlapp.common.errors import (
    Conflict,
    Forbidden,
    LedgerError,
    NotFound,
    PrinterError,
    ServiceUnavailable,
)
from nummerlapp.config.model import Department, Settings
from nummerlapp.kiosk.hours import Closure, explain_closed
from nummerlapp.kiosk.ports import (
    ApiPort,
    DepartmentView,
    DeviceInfo,
    PrinterPort,
    state_from_error,
)

log = logging.getLogger(__name__)

GRACE_AFTER_HOME_S = 0.8  # touches this soon after coming home are the tail of a double tap
UNREACHABLE_GRACE_S = 10.0  # "retrying" this long, then "please ask at the reception"
PIN_LOCKOUT_AFTER = 5
PIN_LOCKOUT_S = 60.0


class Screen(StrEnum):
    HOME = "home"
    CLOSED = "closed"
    ISSUING = "issuing"
    TICKET = "ticket"
    PRINT_FAILED = "print_failed"
    PRINTER_FAULT = "printer_fault"
    UNREACHABLE = "unreachable"
    ASK_RECEPTION = "ask_reception"
    TECH_PIN = "tech_pin"
    TECHNICIAN = "technician"
    # booked visits (issue 15)
    APPOINTMENT = "appointment"  # the keypad for the reference
    BOOKED = "booked"  # checked in: the number and when it will be called
    APPT_LATE = "appt_late"  # too late for the booking: an ordinary ticket is offered
    APPT_PROBLEM = "appt_problem"  # unknown, cancelled, another day, already checked in


RESTING = frozenset({Screen.HOME, Screen.CLOSED, Screen.PRINTER_FAULT, Screen.UNREACHABLE})
# "I have an appointment" works from these (a booked visit is met even when issuing has closed)
CHECK_IN_FROM = frozenset({Screen.HOME, Screen.CLOSED})
DISMISSABLE = frozenset(
    {
        Screen.TICKET,
        Screen.BOOKED,
        Screen.PRINT_FAILED,
        Screen.PRINTER_FAULT,
        Screen.ASK_RECEPTION,
        Screen.APPT_LATE,
        Screen.APPT_PROBLEM,
        Screen.APPOINTMENT,
    }
)


class CheckInProblem(StrEnum):
    """Why a reference did not check a visit in (the UI picks the words and points to the reception)."""

    UNKNOWN = "unknown_appointment"
    CANCELLED = "cancelled"
    NOT_TODAY = "not_today"
    ALREADY = "already_checked_in"


class AskReason(StrEnum):
    """Why the visitor is sent to the reception (the UI picks the words)."""

    UNREACHABLE = "unreachable"  # the service stayed out of reach
    QUEUE_FULL = "queue_full"  # every number of the department is in use
    UNCERTAIN = "uncertain"  # the answer was lost: a number may have been issued
    REFUSED = "refused"  # the service refused this kiosk (token) or answered with an error


def _department_view(
    settings: Settings,
    dep: Department,
    is_open: bool,
    now: dt.datetime,
    waiting: int | None,
    wait_s: int | None,
) -> DepartmentView:
    """A department's button: its names, whether it is open (and if not, why) and its figures."""
    closure = None if is_open else explain_closed(settings, dep.id, now)
    return DepartmentView(dep.id, dict(dep.name), dict(dep.description), is_open, closure, waiting, wait_s)


@dataclass
class _Timers:
    last_touch: float = 0.0
    screen_since: float = 0.0
    home_since: float = 0.0
    last_issue: float = float("-inf")
    down_since: float | None = None
    pin_locked_until: float = 0.0


class KioskFlow:
    """The kiosk's state. Read the fields; change them only through the methods."""

    def __init__(
        self,
        settings: Settings,
        api: ApiPort,
        printer: PrinterPort,
        device: DeviceInfo,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] | None = None,
        pin_check: Callable[[str], bool] | None = None,
        unreachable_grace_s: float = UNREACHABLE_GRACE_S,
        default_lang: str | None = None,
    ) -> None:
        self.settings = settings
        self.api = api
        self.printer = printer
        self.device = device
        self._clock = clock
        self._now = now or (lambda: dt.datetime.now(settings.site.tz))
        self._now_given = now is not None
        self._pin_check = pin_check
        self.unreachable_grace_s = unreachable_grace_s
        languages = settings.site.languages
        self.default_lang = default_lang if default_lang in languages else settings.site.default_language
        self.guard_s = max(1.0, settings.site.kiosk_interval_s)
        self._listeners: list[Callable[[KioskFlow], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        t = clock()
        self._t = _Timers(last_touch=t, screen_since=t, home_since=t)
        # what the UI draws
        self.screen = Screen.HOME
        self.lang = self.default_lang
        self.large_text = False
        self.site_open = True
        self.site_closure: Closure | None = None
        self.departments: tuple[DepartmentView, ...] = tuple(
            DepartmentView(d.id, dict(d.name), dict(d.description), True) for d in settings.departments
        )
        self.ticket: P.IssuedTicket | None = None
        self.reference = ""  # typed or scanned so far (the keypad's line)
        self.check_in_problem: CheckInProblem | None = None
        self.ticket_department: DepartmentView | None = None
        self.printer_state = P.PrinterReport(state="unknown")
        self.print_fault: P.PrinterReport | None = None  # why the last print failed / was refused
        self.ask_reason: AskReason | None = None
        self.notice: str | None = None  # a department id that turned out closed when touched
        self.service_ok: bool | None = None  # None until the first answer
        self.pin_failed = False
        self.pin_attempts = 0
        self.tech_message: str | None = None
        self._reported: P.PrinterReport | None = None

    # -- observation ----------------------------------------------------------------------------

    def subscribe(self, fn: Callable[[KioskFlow], None]) -> None:
        """``fn(flow)`` runs after every change (in the loop's thread)."""
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn(self)

    def _go(self, screen: Screen) -> None:
        now = self._clock()
        if screen == Screen.HOME and self.screen != Screen.HOME:
            self._t.home_since = now
        if screen != self.screen:
            log.info("screen %s -> %s", self.screen, screen)
        self.screen = screen
        self._t.screen_since = now
        self._changed()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def department(self, department_id: str) -> DepartmentView | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def resting_screen(self) -> Screen:
        """What to show when nobody is mid-way, from the facts known now."""
        if self.service_ok is False:
            down = self._t.down_since
            if down is not None and self._clock() - down >= self.unreachable_grace_s:
                return Screen.ASK_RECEPTION
            return Screen.UNREACHABLE
        if not self.site_open:
            return Screen.CLOSED
        if not self.printer_state.can_print:
            return Screen.PRINTER_FAULT
        return Screen.HOME

    def _rest(self) -> None:
        screen = self.resting_screen()
        if screen == Screen.ASK_RECEPTION:
            self.ask_reason = AskReason.UNREACHABLE
        elif screen == Screen.PRINTER_FAULT:
            self.print_fault = self.printer_state
        self._go(screen)

    def is_resting(self) -> bool:
        """Whether the screen is one the kiosk rests on (no visitor mid-way)."""
        if self.screen in RESTING:
            return True
        return self.screen == Screen.ASK_RECEPTION and self.ask_reason == AskReason.UNREACHABLE

    # -- visitor actions ------------------------------------------------------------------------

    def touch(self) -> None:
        """Any touch anywhere: the visitor is still here."""
        self._t.last_touch = self._clock()

    def set_language(self, lang: str) -> None:
        if lang in self.settings.site.languages and lang != self.lang:
            self.lang = lang
            self._changed()

    def toggle_large_text(self) -> None:
        self.large_text = not self.large_text
        self._changed()

    def press_department(self, department_id: str) -> asyncio.Task[None] | None:
        """A department button went down. Returns the issuing task, or None if the press is ignored."""
        now = self._clock()
        self.touch()
        if self.screen != Screen.HOME:
            return None  # issuing already, or a fault screen under the finger
        if now - self._t.last_issue < self.guard_s or now - self._t.home_since < GRACE_AFTER_HOME_S:
            log.info("press on %s ignored (guard time)", department_id)
            return None
        dep = self.department(department_id)
        if dep is None or not dep.open:
            return None  # a closed department shows why; its button does nothing
        self._t.last_issue = now
        self.ticket = None
        self.ticket_department = dep
        self.notice = None
        self._go(Screen.ISSUING)
        return self._spawn(self._issue(dep, self.lang))

    async def _issue(self, dep: DepartmentView, lang: str) -> None:
        if not await self._printer_ready():
            return
        try:
            ticket = await self._ask_for_ticket(dep.id, lang)
        except ApiUnavailable as exc:
            log.warning("issue %s: %s", dep.id, exc)
            if exc.request_sent:
                self._ask(AskReason.UNCERTAIN)
            else:
                self._mark_down()
                self._go(Screen.UNREACHABLE)
            return
        except ServiceUnavailable as exc:  # 5xx or a malformed answer
            log.warning("issue %s: %s", dep.id, exc)
            self._ask(AskReason.UNCERTAIN)
            return
        except Conflict as exc:
            await self._refused(dep, exc)
            return
        except (Unauthorized, Forbidden, NotFound, LedgerError) as exc:
            log.error("issue %s refused: %s (%s)", dep.id, exc, getattr(exc, "code", ""))
            self._ask(AskReason.REFUSED)
            return
        await self._print(ticket, lang, Screen.TICKET)

    async def _print(self, ticket: P.IssuedTicket, lang: str, shown: Screen) -> None:
        """The number is taken: keep it, print it, then show ``shown`` (or keep it on screen)."""
        self._mark_up()
        self.ticket = ticket
        self._changed()
        try:
            await asyncio.to_thread(self.printer.print_ticket, ticket, lang)
        except PrinterError as exc:
            log.error("printing %s failed: %s", ticket.number, exc)
            status = getattr(exc, "status", None)
            state = state_from_error(exc, status)
            self.printer_state = state
            self.print_fault = state
            self._go(Screen.PRINT_FAILED)
            self._spawn(self._report(force=True))
            return
        self._go(shown)

    async def _ask_for_ticket(self, department_id: str, lang: str) -> P.IssuedTicket:
        try:
            return await self.api.issue_ticket(department_id, lang)
        except RateLimited as exc:  # nothing was issued: wait the interval out once
            await asyncio.sleep(min(exc.retry_after_s, 3.0))
            return await self.api.issue_ticket(department_id, lang)

    async def _refused(self, dep: DepartmentView, exc: Conflict) -> None:
        log.info("issue %s refused: %s", dep.id, exc.code)
        if exc.code == "queue_full":
            self._ask(AskReason.QUEUE_FULL)
            return
        await self.refresh_state()
        if exc.code == "site_closed":
            self.site_open = False
            self.site_closure = explain_closed(self.settings, None, self._now())
        elif exc.code == "department_closed":
            self._close_department(dep.id)
            self.notice = dep.id
        else:
            self._ask(AskReason.REFUSED)
            return
        self._rest()

    def _close_department(self, department_id: str) -> None:
        now = self._now()
        self.departments = tuple(
            replace(d, open=False, closure=explain_closed(self.settings, d.id, now))
            if d.id == department_id
            else d
            for d in self.departments
        )

    def _ask(self, reason: AskReason) -> None:
        self.ask_reason = reason
        self._go(Screen.ASK_RECEPTION)

    def dismiss(self) -> None:
        """ "OK" on a ticket, fault or notice screen: back to the resting screen now."""
        self.touch()
        if self.screen in DISMISSABLE:
            self._rest()

    # -- booked visits (issue 15) ---------------------------------------------------------------

    def open_appointment(self) -> bool:
        """ "I have an appointment": the keypad, from a screen the kiosk rests on."""
        self.touch()
        if self.screen not in CHECK_IN_FROM and self.screen not in (Screen.APPT_PROBLEM, Screen.APPOINTMENT):
            return False
        self.reference = ""
        self.check_in_problem = None
        self._go(Screen.APPOINTMENT)
        return True

    def type_key(self, key: str) -> None:
        """One key of the reference, from the keypad or a scanner that types like a keyboard.

        A scanner needs no button first: its first character opens the keypad on a resting
        screen. Keys outside the alphabet (a scanner's prefix, a look-alike) are ignored."""
        char = key.upper()
        if len(char) != 1 or char not in P.REFERENCE_ALPHABET:
            return
        if self.screen != Screen.APPOINTMENT and not self.open_appointment():
            return
        self.touch()
        if len(self.reference) < P.REFERENCE_LEN:
            self.reference += char
            self._changed()

    def erase(self) -> None:
        """The correction key: the last character goes."""
        self.touch()
        if self.screen == Screen.APPOINTMENT and self.reference:
            self.reference = self.reference[:-1]
            self._changed()

    def clear_reference(self) -> None:
        self.touch()
        if self.screen == Screen.APPOINTMENT and self.reference:
            self.reference = ""
            self._changed()

    def submit_reference(self) -> asyncio.Task[None] | None:
        """ "Check in" (or a scanner's Enter): only with a whole reference on the line."""
        self.touch()
        if self.screen != Screen.APPOINTMENT or len(self.reference) != P.REFERENCE_LEN:
            return None
        self.ticket = None
        self.ticket_department = None
        self._go(Screen.ISSUING)
        return self._spawn(self._check_in(self.reference, self.lang))

    def scanned(self, text: str) -> asyncio.Task[None] | None:
        """A whole code from a scanner (a serial one sends it at once): check in at once."""
        reference = P.normalize_reference(text)
        if reference is None:
            log.info("scanned code is not a reference (%d characters)", len(text))
            if self.screen in CHECK_IN_FROM or self.screen == Screen.APPOINTMENT:
                self.check_in_problem = CheckInProblem.UNKNOWN
                self._go(Screen.APPT_PROBLEM)
            return None
        if self.screen != Screen.APPOINTMENT and not self.open_appointment():
            return None
        self.reference = reference
        return self.submit_reference()

    async def _check_in(self, reference: str, lang: str) -> None:
        if not await self._printer_ready():
            return
        try:
            ticket = await self.api.check_in(reference, lang)
        except ApiUnavailable as exc:
            log.warning("check-in: %s", exc)
            self._ask(AskReason.UNCERTAIN if exc.request_sent else AskReason.UNREACHABLE)
            return
        except ServiceUnavailable as exc:
            log.warning("check-in: %s", exc)
            self._ask(AskReason.UNCERTAIN)
            return
        except (NotFound, Conflict) as exc:
            log.info("check-in refused: %s", exc.code)
            self._check_in_refused(exc.code)
            return
        except LedgerError as exc:
            log.error("check-in refused: %s (%s)", exc, exc.code)
            self._ask(AskReason.REFUSED)
            return
        self.ticket_department = self.department(ticket.department)
        await self._print(ticket, lang, Screen.BOOKED)

    def _check_in_refused(self, code: str) -> None:
        if code == "too_late":
            self._go(Screen.APPT_LATE)
            return
        try:
            self.check_in_problem = CheckInProblem(code)
        except ValueError:
            self.check_in_problem = CheckInProblem.UNKNOWN
        self._go(Screen.APPT_PROBLEM)

    def ordinary_ticket(self) -> None:
        """On the "too late" screen: choose a service for an ordinary ticket instead."""
        self.touch()
        if self.screen in (Screen.APPT_LATE, Screen.APPT_PROBLEM, Screen.APPOINTMENT):
            self.reference = ""
            self._rest()

    # -- time -----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second: timeouts and the retrying → ask-reception step."""
        now = self._clock()
        on_screen = now - self._t.screen_since
        idle = now - self._t.last_touch
        kiosk = self.settings.kiosk
        if self.screen in (Screen.TICKET, Screen.BOOKED) and on_screen >= kiosk.ticket_screen_s:
            self._reset_visitor()
            self._rest()
        elif self.screen == Screen.ISSUING:
            return
        elif self.screen == Screen.UNREACHABLE and self.resting_screen() == Screen.ASK_RECEPTION:
            self._rest()
        elif idle >= kiosk.idle_timeout_s and on_screen >= kiosk.idle_timeout_s:
            changed = self.lang != self.default_lang or self.large_text
            self._reset_visitor()
            if not self.is_resting() or self.screen != self.resting_screen():
                self._rest()
            elif changed:
                self._changed()

    def _reset_visitor(self) -> None:
        self.lang = self.default_lang
        self.large_text = False
        self.reference = ""
        self.check_in_problem = None
        self.notice = None
        self.pin_failed = False
        self.tech_message = None

    # -- the service ----------------------------------------------------------------------------

    def _mark_down(self) -> None:
        if self.service_ok is not False or self._t.down_since is None:
            self._t.down_since = self._clock()
        self.service_ok = False

    def _mark_up(self) -> None:
        self.service_ok = True
        self._t.down_since = None

    async def refresh_state(self) -> bool:
        """Fetch the snapshot; update open flags and the connection. True when the service answered."""
        try:
            snapshot = await self.api.get_state()
        except ServiceUnavailable as exc:
            if self.service_ok is not False:
                log.warning("service unreachable: %s", exc)
            self._mark_down()
            if self.is_resting():
                self._rest()
            return False
        if self.service_ok is False:
            log.info("service reachable again")
        self._mark_up()
        self.apply_snapshot(snapshot)
        return True

    def apply_snapshot(self, snapshot: P.Snapshot) -> None:
        """Merge the service's open flags and queue figures into the department buttons."""
        now = self._now()
        self.site_open = snapshot.site.open
        self.site_closure = None if self.site_open else explain_closed(self.settings, None, now)
        live = {d.id: d for d in snapshot.departments}
        views = []
        for dep in self.settings.departments:
            info = live.get(dep.id)
            if info is None:
                continue  # the service no longer knows it: no button
            views.append(
                _department_view(
                    self.settings, dep, info.open and self.site_open, now, info.waiting, info.estimated_wait_s
                )
            )
        self.departments = tuple(views)
        if self.is_resting():
            self._rest()
        else:
            self._changed()

    # -- a changed configuration (config.changed) -----------------------------------------------

    def use_settings(
        self,
        settings: Settings,
        *,
        printer: PrinterPort | None = None,
        pin_check: Callable[[str], bool] | None = None,
    ) -> None:
        """New settings from the service, applied now without a restart (docs/KIOSK.md, "Enrolment").

        Departments (added, gone, renamed), languages and texts, opening hours and the idle
        times take effect at once; the open flags are kept for departments the kiosk knew and
        refreshed with the next snapshot. ``printer`` replaces the printer (its id or connection
        changed); ``pin_check`` is the checker for the new technician PIN hash (None: no PIN, the
        hidden corner does nothing and a technician screen that is open closes). A visitor
        mid-way keeps the screen they are on; a resting screen is recomputed."""
        self.settings = settings
        if not self._now_given:  # the site's time zone may have changed
            self._now = lambda: dt.datetime.now(settings.site.tz)
        languages = settings.site.languages
        if self.default_lang not in languages:
            self.default_lang = settings.site.default_language
        if self.lang not in languages:
            self.lang = self.default_lang
        self.guard_s = max(1.0, settings.site.kiosk_interval_s)
        if printer is not None:
            self.printer = printer
            self.printer_state = P.PrinterReport(state="unknown")
            self._spawn(self.check_printer())
        self._pin_check = pin_check if settings.kiosk.technician_pin_hash else None
        now = self._now()
        known = {d.id: d for d in self.departments}
        views = []
        for dep in settings.departments:
            was = known.get(dep.id)
            is_open = (was.open if was is not None else True) and self.site_open
            waiting, wait_s = (was.waiting, was.estimated_wait_s) if was is not None else (None, None)
            views.append(_department_view(settings, dep, is_open, now, waiting, wait_s))
        self.departments = tuple(views)
        if self._pin_check is None and self.screen in (Screen.TECH_PIN, Screen.TECHNICIAN):
            self.leave_technician()
        elif self.is_resting():
            self._rest()
        else:
            self._changed()

    # -- the printer ----------------------------------------------------------------------------

    async def _printer_status(self) -> P.PrinterReport:
        try:
            state = await asyncio.to_thread(self.printer.status)
        except PrinterError as exc:
            state = state_from_error(exc, getattr(exc, "status", None))
        if state != self.printer_state:
            self.printer_state = state
            self._spawn(self._report())
        return state

    async def _printer_ready(self) -> bool:
        """Read the printer before asking for a number; one that cannot print shows why."""
        state = await self._printer_status()
        if not state.can_print:
            self.print_fault = state
            self._go(Screen.PRINTER_FAULT)
            return False
        return True

    async def check_printer(self) -> P.PrinterReport:
        """Poll the printer (background loop); the resting screen follows a fault or its repair."""
        state = await self._printer_status()
        if self.is_resting():
            self._rest()
        return state

    async def _report(self, force: bool = False) -> None:
        """Send the printer state to the service as ``device.status`` (changes only, unless forced)."""
        state = self.printer_state
        if state == self._reported and not force:
            return
        try:
            await self.api.report_device_status(
                self.device.id,
                role="kiosk",
                name=self.device.name,
                version=self.device.version,
                printer=state,
            )
        except (ServiceUnavailable, LedgerError) as exc:
            log.warning("device status not reported: %s", exc)
            return
        self._reported = state

    async def report_now(self) -> None:
        await self._report(force=True)

    # -- technician -----------------------------------------------------------------------------

    def open_technician(self) -> bool:
        """The hidden gesture. Only from a resting screen, and only with a PIN configured."""
        if not self.settings.kiosk.technician_pin_hash or self._pin_check is None:
            return False
        if not self.is_resting():
            return False
        self.touch()
        self.pin_failed = False
        self._go(Screen.TECH_PIN)
        return True

    def pin_locked(self) -> bool:
        return self._clock() < self._t.pin_locked_until

    def submit_pin(self, pin: str) -> asyncio.Task[bool] | None:
        self.touch()
        if self.screen != Screen.TECH_PIN or self._pin_check is None or self.pin_locked():
            return None
        return self._spawn(self._verify(pin))

    async def _verify(self, pin: str) -> bool:
        check = self._pin_check
        assert check is not None
        ok = await asyncio.to_thread(check, pin)
        if self.screen != Screen.TECH_PIN:
            return False
        if ok:
            self.pin_attempts = 0
            self.pin_failed = False
            log.info("technician screen opened")
            self._go(Screen.TECHNICIAN)
            return True
        self.pin_attempts += 1
        self.pin_failed = True
        if self.pin_attempts >= PIN_LOCKOUT_AFTER:
            self._t.pin_locked_until = self._clock() + PIN_LOCKOUT_S
            self.pin_attempts = 0
            log.warning("technician PIN wrong %d times: locked for %ds", PIN_LOCKOUT_AFTER, PIN_LOCKOUT_S)
        self._changed()
        return False

    def leave_technician(self) -> None:
        if self.screen in (Screen.TECH_PIN, Screen.TECHNICIAN):
            self.tech_message = None
            self._rest()

    def test_print(self) -> asyncio.Task[None] | None:
        if self.screen != Screen.TECHNICIAN:
            return None
        self.touch()
        return self._spawn(self._test_print())

    async def _test_print(self) -> None:
        try:
            await asyncio.to_thread(self.printer.test_print)
        except PrinterError as exc:
            self.tech_message = f"test print failed: {exc}"
        else:
            self.tech_message = "test print sent"
        await self._printer_status()
        self._changed()

    # -- running --------------------------------------------------------------------------------

    async def run(self, *, tick_s: float = 0.25, refresh_s: float = 5.0, printer_s: float = 15.0) -> None:
        """Timers, state refresh and printer polling until cancelled. Faster refresh while down."""
        next_refresh = next_printer = 0.0
        await self._report(force=True)
        while True:
            now = self._clock()
            if now >= next_refresh and self.screen != Screen.ISSUING:
                ok = await self.refresh_state()
                next_refresh = self._clock() + (refresh_s if ok else min(2.0, refresh_s))
                if ok and self._reported != self.printer_state:
                    self._spawn(self._report())
            if now >= next_printer and self.screen not in (Screen.ISSUING, Screen.TICKET):
                await self.check_printer()
                next_printer = self._clock() + printer_s
            self.tick()
            await asyncio.sleep(tick_s)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
