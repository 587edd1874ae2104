"""A fake ESC/POS printer on a real pty pair (socat) or a real TCP socket on 127.0.0.1.

Reusable by every part's tests (kiosk, end-to-end): the code under test opens ``printer.port``
through pyserial exactly as it would open ``/dev/ttyUSB0``; the fake reads the other end,
records every byte, and answers ``DLE EOT n`` like a printer in the chosen ``state``:

    ok, near_end, paper_end, cover_open, offline, error, silent (no answer), garbage (bad bytes)

and can misbehave the way printers do: ``stall()`` stops reading (buffers fill, writes block),
``xoff_on_data = True`` sends XOFF when a job arrives and stops reading (a full printer buffer
under XON/XOFF flow control; ``xoff_after_queries = 3`` does it right after the first status round), ``unplug()`` / ``replug()`` make the port vanish and come back
under the same path (a USB-serial adapter pulled out).

    with PtyFakePrinter() as fake:
        settings = PrinterSettings(id="p", type="serial", options={"port": fake.port})
        ...
        fake.wait_for(b"\\x1dVB\\x00")      # the cut: the job arrived
        fake.job_bytes()                   # what was sent, without the status queries

Every process started here is killed by PID in ``stop()``; temp dirs are removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import Self

from nummerlapp.config.model import PrinterSettings

XON = b"\x11"
XOFF = b"\x13"

# Answers to DLE EOT n=1, 2, 4 (bits 1 and 4 always set).
ANSWERS: dict[str, tuple[int, int, int]] = {
    "ok": (0x12, 0x12, 0x12),
    "near_end": (0x12, 0x12, 0x1E),
    "paper_end": (0x1A, 0x32, 0x72),
    "cover_open": (0x1A, 0x16, 0x12),
    "offline": (0x1A, 0x12, 0x12),
    "error": (0x1A, 0x52, 0x12),
    "garbage": (0x00, 0x00, 0x00),
}
STATES = (*ANSWERS, "silent")
_QUERY = re.compile(rb"\x10\x04([\x01-\x04])")


class PrinterCore:
    """The printer's brain, medium-independent: bytes in → answers out, and a record of all bytes."""

    def __init__(self, state: str = "ok") -> None:
        self.state = state
        self.received = bytearray()
        self.queries: list[int] = []
        self._scan = 0
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATES:
            raise ValueError(f"unknown fake printer state {value!r}; use {STATES}")
        self._state = value

    def feed(self, data: bytes) -> bytes:
        """Take received bytes; return what the printer answers."""
        out = bytearray()
        with self._lock:
            self.received += data
            while True:
                m = _QUERY.search(self.received, self._scan)
                if m is None:
                    # keep a possible half query (DLE, or DLE EOT) for the next read
                    self._scan = max(self._scan, len(self.received) - 2)
                    break
                n = m.group(1)[0]
                self.queries.append(n)
                self._scan = m.end()
                if self.state != "silent":
                    table = ANSWERS[self.state]
                    out.append({1: table[0], 2: table[1], 3: 0x12, 4: table[2]}[n])
            self.changed.notify_all()
        return bytes(out)

    def job_bytes(self) -> bytes:
        """Everything received except the DLE EOT status queries."""
        with self._lock:
            return _QUERY.sub(b"", bytes(self.received))

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.queries.clear()
            self._scan = 0

    def wait_for(self, needle: bytes, timeout: float = 5.0) -> bytes:
        """Block until ``needle`` was received (outside status queries); return the job bytes."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while needle not in _QUERY.sub(b"", bytes(self.received)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake printer did not receive {needle!r} in {timeout} s")
                self.changed.wait(left)
            return _QUERY.sub(b"", bytes(self.received))


class _FakeFront:
    """What both fakes share: the printer behind the link, its state, and start/stop as a context."""

    def __init__(self, state: str) -> None:
        self.core = PrinterCore(state)
        self.reading = threading.Event()  # cleared: the fake stops reading (see ``stall``)
        self.reading.set()
        self._stop = threading.Event()

    @property
    def state(self) -> str:
        return self.core.state

    @state.setter
    def state(self, value: str) -> None:
        self.core.state = value

    def job_bytes(self) -> bytes:
        return self.core.job_bytes()

    def wait_for(self, needle: bytes, timeout: float = 5.0) -> bytes:
        return self.core.wait_for(needle, timeout)

    def stall(self) -> None:
        """Stop reading: the buffers on the way fill and the writer blocks."""
        self.reading.clear()

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PtyFakePrinter(_FakeFront):
    """The fake on a socat pty pair. ``port`` is a stable symlink the code under test opens."""

    def __init__(self, state: str = "ok") -> None:
        super().__init__(state)
        self._dir = Path(tempfile.mkdtemp(prefix="nummerlapp-fakeprinter-"))
        self.port = str(self._dir / "printer")  # what the printer code opens
        self._far = str(self._dir / "fake")  # what the fake reads
        self.socat: subprocess.Popen[bytes] | None = None
        self.pty_paths: tuple[str, str] = ("", "")
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        self.bytes_per_s: float | None = None  # e.g. 960 to read like a 9600-baud line
        self.xoff_on_data = False  # XOFF + stop reading when job bytes arrive
        self.xoff_after_queries: int | None = None  # ... or once this many status queries were answered

    # -- lifecycle
    def start(self) -> Self:
        self._start_socat()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fake-printer", daemon=True)
        self._thread.start()
        return self

    def _start_socat(self) -> None:
        cmd = [
            "socat",
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.port}",
            f"pty,raw,echo=0,link={self._far}",
        ]
        self.socat = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.socat.stderr is not None
        paths: list[str] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            line = self.socat.stderr.readline().decode(errors="replace")
            if not line:
                break
            m = re.search(r"PTY is (/dev/pts/\d+)", line)
            if m:
                paths.append(m.group(1))
            if "starting data transfer loop" in line:
                break
        if len(paths) != 2:
            self._kill_socat()
            raise RuntimeError(f"socat did not report two ptys (got {paths})")
        self.pty_paths = (paths[0], paths[1])
        # Keep draining socat's stderr so it never blocks on a full pipe.
        threading.Thread(target=self._drain_stderr, args=(self.socat,), daemon=True).start()
        fd = os.open(self._far, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        self._fd = fd

    @staticmethod
    def _drain_stderr(proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        with contextlib.suppress(Exception):
            for _ in proc.stderr:
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._fd
            if fd is None or not self.reading.is_set():
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.02)
                if not ready:
                    continue
                if self.bytes_per_s:  # a slow serial line: take bytes at the baud rate
                    time.sleep(0.01)
                    data = os.read(fd, max(1, int(self.bytes_per_s * 0.01)))
                else:
                    data = os.read(fd, 4096)
            except OSError:
                time.sleep(0.01)  # the pty went away (unplug); wait for replug or stop
                continue
            if not data:
                time.sleep(0.01)
                continue
            answer = self.core.feed(data)
            if (self.xoff_on_data and self.core.job_bytes()) or (
                self.xoff_after_queries is not None and len(self.core.queries) >= self.xoff_after_queries
            ):
                self.reading.clear()
                answer += XOFF
            if answer:
                with contextlib.suppress(OSError):
                    os.write(fd, answer)

    # -- misbehaviour (and ``stall``: the pty and socat buffers fill)
    def resume(self, send_xon: bool = False) -> None:
        if send_xon and self._fd is not None:
            os.write(self._fd, XON)
        self.reading.set()

    def unplug(self) -> None:
        """The port vanishes: socat is killed, its ptys hang up, the symlinks are removed."""
        self._close_fd()
        self._kill_socat()

    def replug(self) -> None:
        """The port comes back under the same path (new ptys behind the symlink)."""
        self._start_socat()

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _kill_socat(self) -> None:
        proc, self.socat = self.socat, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=3)
        if proc.stderr is not None:
            with contextlib.suppress(Exception):
                proc.stderr.close()
        for link in (self.port, self._far):  # socat removes them on SIGTERM; be sure
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_fd()
        self._kill_socat()
        shutil.rmtree(self._dir, ignore_errors=True)


class TcpFakePrinter(_FakeFront):
    """The fake on a TCP port of 127.0.0.1 (a network printer's raw port 9100)."""

    def __init__(self, state: str = "ok", rcvbuf: int | None = None) -> None:
        super().__init__(state)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf is not None:  # small, so a stalled printer blocks the sender soon
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self.host, self.port = self._server.getsockname()
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    def start(self) -> Self:
        t = threading.Thread(target=self._accept, name="fake-tcp-printer", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept(self) -> None:
        self._server.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                if not self.reading.is_set():
                    time.sleep(0.01)
                    continue
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                answer = self.core.feed(data)
                if answer:
                    with contextlib.suppress(OSError):
                        conn.sendall(answer)

    def stop(self) -> None:
        self._stop.set()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        with contextlib.suppress(OSError):
            self._server.close()
        for t in self._threads:
            t.join(timeout=2)


def serial_settings(port: str, **options: object) -> PrinterSettings:
    """Printer settings for a serial printer on ``port`` (the pty the fake printer answers on)."""
    return PrinterSettings(
        id="kiosk-1",
        type="serial",
        options={"port": port, "baudrate": 19200, **options},
        profile="TM-T20II",
        logo="nv",
    )
