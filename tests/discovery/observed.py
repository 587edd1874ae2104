"""A device process that records what its window shows, as the tests see it (tests only).

The board's and the kiosk's processes (tests/discovery/test_board_netns.py's board,
tests/enrolment/devices.py) write one JSON line per change to WORKDIR/status.jsonl, each with its
monotonic time ``t``; a test waits for the first record that says what it expects, and fails with
the process's log when the process exits or the record never comes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def kivy_env(workdir: Path) -> dict[str, str]:
    """The environment of a device process: Kivy offscreen, with its own home under ``workdir``."""
    return {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_NO_CONSOLELOG": "1",
        "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": str(workdir / "kivy"),
    }


class Observed:
    """The process (``proc``, started by the subclass) and its status file in ``workdir``."""

    name = "device"  # what a failure calls it
    timeout_s = 30.0  # how long :meth:`wait_for` waits by default
    poll_s = 0.05
    shown_on_failure = 2  # the last records a failure shows

    proc: subprocess.Popen[bytes]

    def __init__(self, workdir: Path, log: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.dir, self.status = workdir, workdir / "status.jsonl"
        self.log = workdir / log

    def records(self) -> list[dict[str, Any]]:
        if not self.status.exists():
            return []
        lines = self.status.read_text(encoding="utf-8").splitlines(keepends=True)
        return [json.loads(line) for line in lines if line.endswith("\n")]

    def wait_for(
        self, what: str, ok: Callable[[dict[str, Any]], bool], after: float = 0, timeout: float | None = None
    ) -> dict[str, Any]:
        """The first record after ``after`` (its ``t``) that is ``ok``."""
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while True:
            for record in self.records():
                if record["t"] > after and ok(record):
                    return record
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the {self.name} exited ({self.proc.returncode}) waiting for {what}: {self.tail()}"
                )
            if time.monotonic() > deadline:
                last = self.records()[-self.shown_on_failure :]
                pytest.fail(f"the {self.name} never showed {what}; last: {last}\n{self.tail()}")
            time.sleep(self.poll_s)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
