"""A child process driven by JSON lines: commands on its stdin, answers on its stdout.

The kiosk and board scripts (tests/kiosk/render_script.py ``control``, tests/display/
board_scenario.py ``control``) answer each command with one JSON line echoing ``cmd``; other
stdout lines are ignored. A reader thread keeps the answers; ``ask`` writes a command and waits
for its answer with a deadline. ``stop`` asks the process to quit and kills it by PID if it does
not, so nothing outlives the test.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any


class ProcessFailed(AssertionError):
    """The child answered with an error, died, or did not answer in time (its log attached)."""


class JsonLineProcess:
    def __init__(self, name: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._err = log.open("wb")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=env,
            text=True,
            bufsize=1,
        )
        self.other: list[str] = []  # stdout lines that were not answers (the scripts' final facts)
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                data = None
            if isinstance(data, dict) and "cmd" in data:
                self._answers.put(data)
            else:
                self.other.append(line.rstrip("\n"))
        self._answers.put(None)  # end of output

    def tail(self, chars: int = 3000) -> str:
        self._err.flush()
        return self.log.read_text(errors="replace")[-chars:]

    def ask(self, cmd: str, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
        """Send one command and return its answer; raise with the child's log on any failure."""
        if self.proc.poll() is not None:
            raise ProcessFailed(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, "timeout": timeout, **fields}) + "\n")
        self.proc.stdin.flush()
        try:
            answer = self._answers.get(timeout=timeout + 10)  # the child has its own deadline
        except queue.Empty:
            raise ProcessFailed(f"{self.name} did not answer {cmd!r} in time:\n{self.tail()}") from None
        if answer is None:
            raise ProcessFailed(f"{self.name} exited during {cmd!r}:\n{self.tail()}")
        if answer["cmd"] != cmd:
            raise ProcessFailed(f"{self.name} answered {answer['cmd']!r} to {cmd!r}")
        if "error" in answer:
            raise ProcessFailed(f"{self.name}: {cmd!r} failed: {answer['error']}\n{answer}\n{self.tail()}")
        return answer

    def stop(self, timeout: float = 10.0) -> int:
        """Ask it to quit (stdin closed), then SIGTERM, then SIGKILL: by PID only."""
        proc = self.proc
        if proc.poll() is None and proc.stdin is not None:
            try:
                proc.stdin.write('{"cmd": "quit"}\n')
                proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and proc.poll() is None:
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(2)
        self._err.close()
        return proc.returncode
