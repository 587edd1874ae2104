"""A real site-service process for tests: start, wait until healthy, stop by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from nummerlapp.common.errors import ServiceUnavailable
from nummerlapp.server.api import auth
from nummerlapp.server.demo import wait_healthy
from nummerlapp.server.ledger import schema

ROOT = Path(__file__).resolve().parents[2]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# (id, prefix, max_number, Norwegian name, English name) and (id, name, departments)
Department = tuple[str, str, int, str, str]
Counter = tuple[str, str, tuple[str, ...]]


def site_head(site_id: str, name: str, kiosk_interval: float | str) -> str:
    """The ``[site]`` table of a site open around the clock (23:59 is the loader's latest end), so
    tests and benchmarks do not depend on the hour; in Norwegian and English."""
    text = f"""
[site]
id = "{site_id}"
name = "{name}"
timezone = "Europe/Oslo"
languages = ["nb", "en"]
last_ticket_min = 0
kiosk_interval_s = {kiosk_interval}

[site.hours]
"""
    return text + "".join(f'{day} = ["00:00-23:59"]\n' for day in DAYS)


def site_body(departments: Sequence[Department], counters: Sequence[Counter]) -> str:
    """The ``[[departments]]`` and ``[[counters]]`` tables that follow :func:`site_head`."""
    text = ""
    for dep, prefix, max_number, nb, en in departments:
        text += f'\n[[departments]]\nid = "{dep}"\nprefix = "{prefix}"\nmax_number = {max_number}\n'
        text += f'name = {{ nb = "{nb}", en = "{en}" }}\n'
    for counter, label, deps in counters:
        listed = ", ".join(f'"{d}"' for d in deps)
        text += f'\n[[counters]]\nid = "{counter}"\nname = "{label}"\ndepartments = [{listed}]\n'
    return text


TEST_DEPARTMENTS: list[Department] = [
    ("nav", "A", 999, "NAV", "NAV"),
    ("bygg", "B", 999, "Byggesak", "Building"),
    ("tiny", "T", 3, "Liten", "Tiny"),
]
TEST_COUNTERS: list[Counter] = [
    ("1", "Skranke 1", ("nav",)),
    ("2", "Skranke 2", ("nav", "bygg")),
    ("3", "Skranke 3", ("bygg",)),
    ("4", "Skranke 4", ("tiny",)),
]
# The test site as a ``str.format`` template (``SITE_TOML.format(kiosk_interval=…)``): the braces of
# the departments' inline name tables doubled.
SITE_TOML = site_head("testsite", "Test site", "{kiosk_interval}") + site_body(
    TEST_DEPARTMENTS, TEST_COUNTERS
).replace("{", "{{").replace("}", "}}")


def write_site(path: Path, kiosk_interval: float = 2.0) -> Path:
    path.write_text(SITE_TOML.format(kiosk_interval=kiosk_interval), encoding="utf-8")
    return path


def running_server(tmp: Path, kiosk_interval: float = 2.0) -> Iterator[ServerProcess]:
    """The body of a module's ``server`` fixture: a server on the test site in ``tmp``, started,
    and stopped when the fixture ends (``yield from running_server(tmp)``)."""
    proc = ServerProcess(write_site(tmp / "site.toml", kiosk_interval), tmp / "ledger.db")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd or ROOT,
        timeout=60,
    )


class ServerProcess:
    """``python main.py server ... --host 127.0.0.1 --port N --no-mdns`` as a child process."""

    def __init__(self, config: Path, db: Path, port: int | None = None, extra: tuple[str, ...] = ()) -> None:
        self.config = config
        self.db = db
        self.port = port or free_port()
        # the visitors' port (ticket page and follow stream): a free one unless the test names it
        self.public_port = 0 if "--public-port" in extra else free_port()
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(f".{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def public(self) -> str:
        """The visitors' port's base address (``http://127.0.0.1:N``)."""
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/events"

    def start(self, timeout: float = 30.0) -> None:
        args = [
            sys.executable,
            str(ROOT / "main.py"),
            "server",
            "--config",
            str(self.config),
            "--db",
            str(self.db),
        ]
        args += ["--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        if self.public_port:
            args += ["--public-port", str(self.public_port)]
        if "--mdns-interface" not in self.extra:
            args.append("--no-mdns")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the log is whole while the server runs
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=self.db.parent, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        try:
            wait_healthy(f"http://127.0.0.1:{self.port}", self.proc, timeout, poll_s=0.05)
        except ServiceUnavailable as exc:
            self.stop()
            raise RuntimeError(f"{exc}: {self.log.read_text(errors='replace')}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        os.kill(proc.pid, sig)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
            raise

    def token(self, role: str, counter: str | None = None, name: str | None = None) -> str:
        """A token made in-process on the same ledger file (the CLI path has its own tests)."""

        conn = schema.connect(self.db)
        try:
            secret, _ = auth.create_token(conn, role, counter, name)
        finally:
            conn.close()
        return secret
