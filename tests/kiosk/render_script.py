"""Drive the real kiosk window offscreen with real touches; run in its own process.

    python tests/kiosk/render_script.py '<json job>'

The job names the service URL and token, the site file, the pty end of the printer, the window
size and language, the scenario and where screenshots go. The printer is a FakeThermalPrinter on
a real pty (the test made the socat pair); the service is a real ``main.py server`` process. The
last stdout line is a JSON object of facts the test asserts on. Kivy's global state stays in
this process, which exits when done (the calling test has a timeout).

Scenario ``control`` is driven step by step (tests/e2e): one JSON command per stdin line
(``{"cmd": "ready" | "take" | "wait" | "screen" | "shot" | "quit", ...}``), one JSON answer per stdout line
(``{"cmd": ..., ...}`` or ``{"cmd": ..., "error": ...}``). Without ``pty_device`` in the job the
calling test owns the fake printer; without ``pty_host`` the site file's own kiosk printer is used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1") if "KIOSK_DEBUG" not in os.environ else None
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-"))

JOB: dict[str, Any] = json.loads(sys.argv[1])
T0 = time.monotonic()

from nummerlapp.kiosk.window import configure_window  # noqa: E402

configure_window(*JOB["size"])

import httpx  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402

from nummerlapp.client.api import ApiClient  # noqa: E402
from nummerlapp.common.errors import Conflict  # noqa: E402
from nummerlapp.config import load_settings  # noqa: E402
from nummerlapp.kiosk.app import KioskApp, run_app  # noqa: E402
from nummerlapp.kiosk.flow import KioskFlow, Screen  # noqa: E402
from nummerlapp.kiosk.ports import DeviceInfo  # noqa: E402
from nummerlapp.kiosk.printing import KioskPrinter  # noqa: E402
from nummerlapp.kiosk.runner import pin_checker  # noqa: E402
from nummerlapp.kiosk.technician import CORNER_UNITS, LogTail  # noqa: E402
from nummerlapp.tests.kiosk.ptyprinter import FakeThermalPrinter, on_pty  # noqa: E402
from nummerlapp.tests.kivyclock import frames, until  # noqa: E402

facts: dict[str, Any] = {"shots": []}


class Driver:
    def __init__(self, app: KioskApp, flow: KioskFlow, shots: Path | None) -> None:
        self.app, self.flow, self.shots = app, flow, shots

    def find(self, name: str) -> Any:
        for w in self.app.root.walk():
            if getattr(w, "name", None) == name or getattr(w, "dep_id", None) == name:
                return w
        raise AssertionError(f"no widget {name!r} on {self.flow.screen}")

    async def tap(self, name: str, hold: float = 0.0) -> float:
        """A real touch (down, then up) at the widget's centre; returns the touch-down time."""
        w = self.find(name)
        x, y = w.to_window(*w.center)
        return await self.tap_at(x, y, hold)

    async def tap_at(self, x: float, y: float, hold: float = 0.0) -> float:
        touch = UnitTestTouch(x, y)
        t = time.monotonic()
        touch.touch_down()
        if hold:
            await asyncio.sleep(hold)
        await frames(1)
        touch.touch_up()
        return t

    async def settled(self) -> None:
        """The run loop's first service refresh and printer poll are done."""
        await until(lambda: self.flow.printer_state.state != "unknown", what="first printer poll")
        await until(lambda: self.flow.service_ok is not None, what="first refresh")

    async def screen(self, screen: Screen, timeout: float = 8.0) -> None:
        await until(lambda: self.flow.screen == screen, timeout, f"screen {screen} (on {self.flow.screen})")
        await frames(3)

    async def shot(self, name: str) -> None:
        await frames(3)
        if self.shots is not None:
            path = self.app.screenshot(self.shots / f"kiosk-{name}.png")
            facts["shots"].append(str(path))

    def guard(self) -> None:
        """Let the one-touch guard pass without sleeping (the flow's own clock is real)."""
        self.flow._t.last_issue = float("-inf")
        self.flow._t.home_since = float("-inf")


async def admin_post(path: str) -> None:
    async with httpx.AsyncClient(base_url=JOB["server"] + "/api/v1", timeout=10) as http:
        r = await http.post(path, headers={"Authorization": f"Bearer {JOB['admin']}"})
        r.raise_for_status()


async def fill_tiny() -> None:
    async with ApiClient(JOB["server"], JOB["admin"]) as admin:
        for _ in range(10):
            try:
                await admin.issue_ticket("tiny")
            except Conflict:
                return


async def waiting(dep: str) -> int:
    async with ApiClient(JOB["server"]) as api:
        state = await api.get_state()
    return next(d.waiting for d in state.departments if d.id == dep)


async def scenario_visit(d: Driver, fake: FakeThermalPrinter) -> None:
    flow, tag = d.flow, JOB.get("tag", "")
    await d.screen(Screen.HOME)
    facts["first_frame_s"] = time.monotonic() - T0
    facts["first_frame_wall"] = time.time()
    await d.settled()
    await d.shot(f"home{tag}")
    dep = JOB["department"]
    d.guard()
    card = d.find(dep)
    x, y = card.to_window(*card.center)
    touched = await d.tap_at(x, y)
    await d.tap_at(x, y)  # a double tap: must not give a second ticket
    await d.screen(Screen.TICKET)
    assert flow.ticket is not None
    number = flow.ticket.number
    facts["number"] = number
    facts["lang_sent"] = flow.ticket.lang
    assert fake.wait_for(number.encode()), "the number never reached the printer"
    facts["touch_to_first_byte_ms"] = (fake.first_byte_at - touched) * 1000 if fake.first_byte_at else None
    facts["shown_number"] = d.find("number").text
    await d.shot(f"ticket{tag}")
    facts["tickets_in_bytes"] = fake.data.count(number.encode())
    await d.screen(Screen.HOME, timeout=flow.settings.kiosk.ticket_screen_s + 5)
    facts["back_home"] = True


async def scenario_faults(d: Driver, fake: FakeThermalPrinter) -> None:
    flow, tag = d.flow, JOB.get("tag", "")
    await d.screen(Screen.HOME)
    await d.settled()
    # large text and another language, chosen by touch
    await d.tap("large-text")
    await d.tap(f"lang:{JOB['lang2']}")
    await until(lambda: flow.large_text and flow.lang == JOB["lang2"], what="large text + language")
    await d.shot(f"home-large{tag}")
    # printer out of paper: no number is taken, the fault is reported
    before = await waiting("nav")
    fake.condition = "paper_end"
    d.guard()
    await d.tap("nav")
    await d.screen(Screen.PRINTER_FAULT)
    facts["printer_fault_waiting_same"] = (await waiting("nav")) == before
    await d.shot(f"printer-fault{tag}")
    await until(lambda: flow._reported is not None and flow._reported.state == "paper_end", what="report")
    facts["reported"] = flow._reported.state if flow._reported else None
    fake.condition = "ok"
    await flow.check_printer()  # what the background poll does (its interval is long here)
    await d.screen(Screen.HOME, timeout=6)
    # paper runs out while printing: the number stays on screen
    fake.condition = "runs_out"
    d.guard()
    await d.tap("nav")
    await d.screen(Screen.PRINT_FAILED)
    facts["failed_number"] = d.find("number").text
    await d.shot(f"print-failed{tag}")
    fake.condition = "ok"
    fake.data.clear()
    await flow.check_printer()
    await d.tap("ok")
    await d.screen(Screen.HOME, timeout=6)
    # every number of a department in use (staff took the other ones)
    if flow.department("tiny") is not None:
        await fill_tiny()
        d.guard()
        await d.tap("tiny")
        await d.screen(Screen.ASK_RECEPTION)
        facts["ask_reason"] = str(flow.ask_reason)
        await d.shot(f"ask-reception{tag}")
        await d.tap("ok")
        await d.screen(Screen.HOME)
    # the hidden corner, held 3 s, then the PIN by touch
    m = d.app.metrics()
    await d.tap_at(m.px(CORNER_UNITS) / 2, m.height - m.px(CORNER_UNITS) / 2, hold=3.2)
    await d.screen(Screen.TECH_PIN)
    await d.shot(f"technician-pin{tag}")
    for key in JOB.get("pin", "2468"):
        await d.tap(f"key:{key}")
    await d.tap("pin-ok")
    await d.screen(Screen.TECHNICIAN, timeout=10)
    await d.tap("test-print")
    await until(lambda: flow.tech_message is not None, what="test print")
    facts["test_print"] = flow.tech_message
    await d.shot(f"technician{tag}")
    await d.tap("back")
    await d.screen(Screen.HOME)
    # the site closes for an emergency: the kiosk shows it closed, departments still listed
    await admin_post("/site/close")
    try:
        await d.screen(Screen.CLOSED, timeout=6)
        facts["closed_departments"] = [dep.id for dep in flow.departments if not dep.open]
        await d.shot(f"closed{tag}")
    finally:
        await admin_post("/site/open")
    await d.screen(Screen.HOME, timeout=6)


async def scenario_unreachable(d: Driver, fake: FakeThermalPrinter) -> None:
    tag = JOB.get("tag", "")
    await d.screen(Screen.UNREACHABLE)
    await d.shot(f"unreachable{tag}")
    await d.screen(Screen.ASK_RECEPTION, timeout=8)
    facts["ask_reason"] = str(d.flow.ask_reason)
    await d.shot(f"ask-reception-unreachable{tag}")


async def book(minutes: float, cancel: bool = False) -> str:
    """A booked visit in ``bygg`` starting ``minutes`` from now (the booking system's side)."""
    import datetime as dt  # noqa: PLC0415  # only this scenario

    from nummerlapp.common import protocol as P  # noqa: PLC0415  # only this scenario

    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    body = P.AppointmentCreate(department="bygg", start=start).encode()
    headers = {"Authorization": f"Bearer {JOB['admin']}"}
    async with httpx.AsyncClient(base_url=JOB["server"] + "/api/v1", timeout=10) as http:
        made = await http.post("/appointments", json=body, headers=headers)
        made.raise_for_status()
        reference = str(made.json()["appointment"]["reference"])
        if cancel:
            (await http.delete(f"/appointments/{reference}", headers=headers)).raise_for_status()
    return reference


async def scenario_checkin(d: Driver, fake: FakeThermalPrinter) -> None:
    """Booked visits: the keypad by touch (with a correction), a USB scanner typing into the
    window, a serial scanner on a pty; the booked, too-late and ask-the-reception screens."""
    from kivy.core.window import Window  # noqa: PLC0415  # after configure_window

    from nummerlapp.kiosk.scanner import SerialScanner  # noqa: PLC0415  # only this scenario
    from nummerlapp.tests.kiosk.ptyprinter import PtyPair  # noqa: PLC0415  # only this scenario

    flow, tag = d.flow, JOB.get("tag", "")
    facts["lang"] = flow.lang
    early, due, late, gone = await book(25), await book(-2), await book(-15), await book(30, cancel=True)
    await d.screen(Screen.HOME)
    await d.settled()
    await d.shot(f"home-appointment{tag}")
    # 1. the keypad by touch: a wrong last key, corrected
    await d.tap("appointment")
    await d.screen(Screen.APPOINTMENT)
    await d.shot(f"appointment-empty{tag}")
    for char in early[:5]:
        await d.tap(f"ref:{char}")
    await d.shot(f"appointment-typing{tag}")
    for char in early[5:-1]:
        await d.tap(f"ref:{char}")
    await d.tap("ref:" + ("A" if early[-1] != "A" else "B"))
    await d.tap("erase")
    await d.tap(f"ref:{early[-1]}")
    facts["typed"] = d.find("reference").logical
    assert flow.reference == early, (flow.reference, early)
    await d.tap("check-in")
    await d.screen(Screen.BOOKED, timeout=10)
    assert flow.ticket is not None and flow.ticket.appointment is not None
    facts["early_number"] = flow.ticket.number
    facts["early_reference"] = flow.ticket.appointment.reference
    facts["early_call_text"] = d.find("call-time").logical
    facts["early_printed"] = fake.wait_for(flow.ticket.number.encode())
    await d.shot(f"booked{tag}")
    await d.tap("ok")
    await d.screen(Screen.HOME)
    # 2. a USB scanner: keystrokes into the window, then Enter
    for char in due.lower():
        Window.dispatch("on_textinput", char)
        await frames(1)
    Window.dispatch("on_key_down", 13, 40, None, [])
    await d.screen(Screen.BOOKED, timeout=10)
    assert flow.ticket is not None and flow.ticket.appointment is not None
    facts["due_reference"] = flow.ticket.appointment.reference
    facts["due_call_text"] = d.find("call-time").logical
    await d.shot(f"booked-due{tag}")
    await d.tap("ok")
    await d.screen(Screen.HOME)
    # 3. a serial scanner on a pty: the code and CR written into the far end
    with PtyPair(Path(tempfile.mkdtemp(prefix="scanner-"))) as pair:
        scanner = SerialScanner(str(pair.host), flow.scanned, asyncio.get_running_loop())
        scanner.start()
        try:
            import serial  # noqa: PLC0415  # only this scenario

            with serial.Serial(str(pair.device), 9600, timeout=1) as far:
                await asyncio.sleep(0.3)
                far.write(late.encode() + b"\r")
                far.flush()
                await d.screen(Screen.APPT_LATE, timeout=10)
                facts["late_screen"] = True
                await d.shot(f"appointment-late{tag}")
                await d.tap("ordinary")
                await d.screen(Screen.HOME)
                far.write(gone.encode() + b"\r\n")
                far.flush()
                await d.screen(Screen.APPT_PROBLEM, timeout=10)
                facts["cancelled_problem"] = str(flow.check_in_problem)
                await d.shot(f"appointment-cancelled{tag}")
        finally:
            scanner.stop()
        facts["serial_codes"] = scanner.codes
    await d.tap("again")
    await d.screen(Screen.APPOINTMENT)
    for char in "ABCDEFGH":
        await d.tap(f"ref:{char}")
    await d.tap("check-in")
    await d.screen(Screen.APPT_PROBLEM, timeout=10)
    facts["unknown_problem"] = str(flow.check_in_problem)
    await d.shot(f"appointment-unknown{tag}")
    await d.tap("ok")
    await d.screen(Screen.HOME)


def stdin_lines() -> asyncio.Queue[str]:
    """Lines from stdin, read by a daemon thread (a blocked read never holds up the exit)."""

    loop, queue = asyncio.get_running_loop(), asyncio.Queue[str]()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return queue


async def control_take(d: Driver, cmd: dict[str, Any]) -> dict[str, Any]:
    """From the resting screen, a real touch on a department; the number screen's facts."""
    flow = d.flow
    await d.screen(Screen.HOME, timeout=cmd.get("timeout", 15))
    await d.settled()
    d.guard()
    await d.tap(cmd["department"])
    await d.screen(Screen.TICKET, timeout=cmd.get("timeout", 15))
    assert flow.ticket is not None
    return {"id": flow.ticket.id, "number": flow.ticket.number, "shown_number": d.find("number").text}


async def scenario_control(d: Driver, fake: FakeThermalPrinter | None) -> None:
    commands = stdin_lines()
    while True:
        line = (await commands.get()).strip()
        if not line:
            return  # stdin closed
        cmd = json.loads(line)
        answer: dict[str, Any] = {"cmd": cmd["cmd"]}
        try:
            if cmd["cmd"] == "quit":
                return
            if cmd["cmd"] == "ready":
                await d.screen(Screen.HOME, timeout=cmd.get("timeout", 15))
                await d.settled()
            elif cmd["cmd"] == "wait":  # until the flow is on one of the named screens
                wanted = {Screen(name) for name in cmd["screens"]}
                await until(lambda w=wanted: d.flow.screen in w, cmd.get("timeout", 15), f"screens {wanted}")
            elif cmd["cmd"] == "take":
                answer |= await control_take(d, cmd)
            elif cmd["cmd"] == "shot":
                await d.shot(cmd["name"])
            elif cmd["cmd"] != "screen":
                raise ValueError(f"unknown command {cmd['cmd']!r}")
        except Exception as exc:
            answer["error"] = repr(exc)
        answer["screen"] = str(d.flow.screen.value)
        print(json.dumps(answer), flush=True)


async def main() -> None:
    if "KIOSK_DEBUG" in os.environ:
        logging.basicConfig(level=logging.INFO, stream=sys.__stderr__)
    settings = load_settings(Path(JOB["config"]))
    fake = (
        FakeThermalPrinter(Path(JOB["pty_device"]), JOB.get("condition", "ok"))
        if "pty_device" in JOB
        else None
    )
    if "pty_host" in JOB:
        serial_printer = on_pty(settings, JOB["pty_host"])
    else:
        site_printer = settings.printer(settings.kiosk.printer)
        assert site_printer is not None, "the site file names no kiosk printer"
        serial_printer = site_printer
    printer = KioskPrinter(settings, serial_printer)  # the real TicketPrinter on the pty
    shots = Path(JOB["shots"]) if JOB.get("shots") else None
    try:
        async with ApiClient(JOB["server"], JOB.get("token")) as api:
            flow = KioskFlow(
                settings,
                api,
                printer,
                DeviceInfo(
                    JOB.get("device", "kiosk-render"),
                    JOB.get("device_name", "Render test"),
                    JOB.get("version", "test"),
                    {"printer": "pty"},
                ),
                pin_check=pin_checker(settings),
                unreachable_grace_s=JOB.get("grace", 2.0),
                default_lang=JOB["lang"],
            )
            tail = LogTail()
            logging.getLogger().addHandler(tail)
            logging.getLogger().setLevel(logging.INFO)
            # "now": a fixed clock for the top bar (screenshots within opening hours)
            fixed = JOB.get("now")
            clock = (lambda: __import__("datetime").datetime.fromisoformat(fixed)) if fixed else None
            app = KioskApp(
                flow, version=JOB.get("version", "test"), size=tuple(JOB["size"]), log_tail=tail, now=clock
            )
            runner = asyncio.get_running_loop().create_task(
                run_app(app, flow, refresh_s=0.5, printer_s=JOB.get("printer_s", 1.5))
            )
            await app.first_frame.wait()
            try:
                d = Driver(app, flow, shots)
                await globals()[f"scenario_{JOB['scenario']}"](d, fake)
                facts["renders"] = app.renders

                facts["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            finally:
                app.stop()
                await asyncio.wait_for(runner, 10)
    finally:
        if fake is not None:
            fake.close()
        printer.close()
    print(json.dumps(facts))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException:  # Kivy's logger hides tracebacks: write it where the test reads it
        import traceback

        os.write(2, traceback.format_exc().encode())
        raise SystemExit(1) from None
