"""Drive the real exit terminal window offscreen with real touches; run in its own process.

    python tests/feedback/render_script.py '<json job>'

The job names the service URL and feedback token, the site file, the outbox folder, the window
size, the scenario and where screenshots go. The service is a real ``main.py server`` process;
answers travel through the real outbox and ``ApiClient``. The last stdout line is a JSON object
of facts the test asserts on. Kivy's global state stays in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="feedback-kivy-"))

JOB: dict[str, Any] = json.loads(sys.argv[1])

from nummerlapp.feedback.window import configure_window  # noqa: E402

configure_window(*JOB["size"])

from kivy.clock import Clock  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402

from nummerlapp.client.api import ApiClient  # noqa: E402
from nummerlapp.config import load_settings  # noqa: E402
from nummerlapp.feedback.app import FeedbackApp, run_app  # noqa: E402
from nummerlapp.feedback.flow import FeedbackFlow, Screen  # noqa: E402
from nummerlapp.feedback.outbox import Outbox, Sender  # noqa: E402

facts: dict[str, Any] = {"shots": [], "screens": []}


async def frames(n: int = 2) -> None:
    for _ in range(n):
        fut = asyncio.get_running_loop().create_future()
        Clock.schedule_once(lambda _dt, f=fut: f.done() or f.set_result(None), 0)
        await fut


async def until(predicate: Any, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await frames(1)


class Driver:
    def __init__(self, app: FeedbackApp, flow: FeedbackFlow, sender: Sender, shots: Path | None) -> None:
        self.app, self.flow, self.sender, self.shots = app, flow, sender, shots

    def find(self, name: str) -> Any:
        for w in self.app.root.walk():
            if getattr(w, "name", None) == name:
                return w
        raise AssertionError(f"no widget {name!r} on {self.flow.screen} #{self.flow.index}")

    def text(self, name: str) -> str:
        w = self.find(name)
        return str(getattr(w, "logical", w.text))

    async def tap(self, name: str) -> None:
        """A real touch (down, a frame, up) at the widget's centre."""
        w = self.find(name)
        x, y = w.to_window(*w.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        await frames(1)
        touch.touch_up()
        await frames(1)

    async def question(self, qid: str, timeout: float = 8.0) -> None:
        await until(
            lambda: (
                self.flow.question is not None and self.flow.question.id == qid and not self.flow._in_grace()
            ),
            timeout,
            f"question {qid}",
        )
        await frames(3)
        facts["screens"].append(qid)

    async def shot(self, name: str) -> None:
        await frames(3)
        if self.shots is not None:
            path = self.app.screenshot(self.shots / f"feedback-{name}.png")
            facts["shots"].append(str(path))

    async def sent(self, count: int) -> None:
        await until(lambda: self.sender.sent >= count, 15, f"{count} visits sent")


async def visit(d: Driver) -> None:
    """A whole visit with real touches: a face hammered, a changed mind, yes; then thanks."""
    tag = JOB.get("tag", "")
    await d.question("overall")
    facts["resting_text"] = d.text("question")
    await d.shot(f"question-{tag}")
    for _ in range(12):  # a child hammering one face: it stays chosen, answered once
        await d.tap("answer:5")
    facts["after_hammer"] = [d.flow.screen.value, d.flow.index, d.flow.chosen]
    await d.question("wait")
    await d.tap("answer:2")
    await d.shot(f"chosen-{tag}")
    await d.tap("answer:3")  # changed its mind: the last touch wins
    await d.question("staff")
    await d.tap("large-text")
    await d.shot(f"large-text-{tag}")
    await d.tap("answer:4")
    await d.question("solved")
    await d.shot(f"yes-no-{tag}")
    await d.tap("answer:1")
    await until(lambda: d.flow.screen == Screen.THANKS, 5, "thanks")
    facts["thanks_text"] = d.text("thanks")
    await d.shot(f"thanks-{tag}")
    await d.tap("thanks")  # touches on the thank-you screen change nothing
    await d.sent(1)
    await until(lambda: d.flow.resting, 10, "back to the start")
    await frames(3)
    facts["reset_text"] = d.text("question")
    facts["reset_large_text"] = d.flow.large_text


async def idle(d: Driver) -> None:
    """One answer, then the visitor walks away: the idle reset sends it and forgets everything."""
    await d.question("overall")
    await d.tap("lang:en")
    facts["english"] = d.text("question")
    await d.tap("answer:4")
    await d.question("wait")
    await d.tap("answer:1")  # chosen, settles, then nobody touches again
    t0 = time.monotonic()  # the idle time runs from the last touch
    await d.question("staff")
    await until(lambda: d.flow.resting, 20, "idle reset")
    facts["idle_after_s"] = round(time.monotonic() - t0, 1)
    await d.sent(1)
    await frames(3)
    facts["reset_text"] = d.text("question")
    facts["reset_lang"] = d.flow.lang


async def skip(d: Driver) -> None:
    """Skip every question: a thank-you, nothing sent."""
    await d.question("overall")
    await d.tap("lang:sv")
    facts["swedish"] = d.text("question")
    facts["swedish_skip"] = d.text("skip")
    for qid in ("overall", "wait", "staff", "solved"):
        await d.question(qid)
        await d.tap("skip")
    await until(lambda: d.flow.screen == Screen.THANKS, 5, "thanks")
    facts["thanks_text"] = d.text("thanks")
    await until(lambda: d.flow.resting, 10, "back to the start")
    await asyncio.sleep(0.5)
    facts["pending"] = len(d.sender.outbox.pending())


async def shots(d: Driver) -> None:
    """Every screen in one language, for the docs."""
    tag = JOB.get("tag", "")
    await d.question("overall")
    await d.shot(f"question-{tag}")
    await d.tap("answer:4")
    await d.shot(f"chosen-{tag}")
    await d.question("wait")
    await d.tap("skip")
    await d.question("staff")
    await d.tap("skip")
    await d.question("solved")
    await d.shot(f"yes-no-{tag}")
    await d.tap("answer:1")
    await until(lambda: d.flow.screen == Screen.THANKS, 5, "thanks")
    await d.shot(f"thanks-{tag}")
    await d.sent(1)


SCENARIOS = {"visit": visit, "idle": idle, "skip": skip, "shots": shots}


async def main() -> None:
    settings = load_settings(Path(JOB["site"]))
    shots_dir = Path(JOB["shots"]) if JOB.get("shots") else None
    async with ApiClient(JOB["server"], JOB["token"]) as api:
        sender = Sender(Outbox(Path(JOB["outbox"])), api.give_feedback, retry_s=1.0)
        flow = FeedbackFlow(settings, sender.queue, default_lang=JOB.get("lang"))
        app = FeedbackApp(flow, size=tuple(JOB["size"]))
        driver = Driver(app, flow, sender, shots_dir)

        async def drive() -> None:
            try:
                await until(lambda: app.root is not None, 10, "window")
                await frames(5)
                facts["window"] = list(app.root.get_root_window().size)
                await SCENARIOS[JOB["scenario"]](driver)
                facts["sent"] = sender.sent
                facts["visits"] = flow.visits
            finally:
                app.stop()

        await run_app(app, (sender.run, drive))
    print(json.dumps(facts))


if __name__ == "__main__":
    asyncio.run(main())
