"""A real server process to attack on loopback (issue 14's proof), with its visitors' port.

``hardened`` starts it as the deployment would run under a small file limit: ``ulimit -n 1024``
(set in the child before it execs), so the connection caps are tested against the limit that
made 1,100 half-open connections deadly before.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nummerlapp.tests.server.serverproc import ROOT, free_port, run_cli, write_site

PASSWORD = "correct horse battery"


@dataclass
class Target:
    base: str  # the LAN port, http://127.0.0.1:N
    public: str  # the visitors' port
    port: int
    public_port: int
    db: Path
    site: Path
    log: Path
    admin: dict[str, str]
    proc: subprocess.Popen[bytes]

    def token(self, role: str, counter: str | None = None, name: str | None = None) -> str:
        args = ["token", "--config", str(self.site), "--db", str(self.db), "--role", role]
        args += ["--counter", counter] if counter else []
        args += ["--name", name] if name else []
        done = run_cli(*args, cwd=self.db.parent)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(
            *args, "--config", str(self.site), "--db", str(self.db), stdin=stdin, cwd=self.db.parent
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def start(tmp: Path, nofile_1024: bool = True, extra: tuple[str, ...] = (), mdns: bool = False) -> Target:
    """The server on 127.0.0.1; ``mdns``: it also announces itself there (and only there)."""
    site = write_site(tmp / "site.toml", kiosk_interval=0.0)
    db = tmp / "ledger.sqlite"
    users = () if db.exists() else (("desk1", "staff", "1"), ("boss", "admin", None))  # a restart
    for user, role, counter in users:
        more = ["--counter", counter] if counter else []
        done = run_cli(
            "user", "add", user, "--role", role, *more, "--password-stdin",
            "--config", str(site), "--db", str(db), stdin=PASSWORD + "\n", cwd=tmp,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    admin = run_cli(
        "token", "--config", str(site), "--db", str(db), "--role", "admin", cwd=tmp
    ).stdout.strip()
    port, public_port = free_port(), free_port()
    log = tmp / "server.log"
    args = [sys.executable, str(ROOT / "main.py"), "server", "--config", str(site), "--db", str(db)]
    args += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--public-port",
        str(public_port),
        *(() if mdns else ("--no-mdns",)),
        *extra,
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_limit_files if nofile_1024 else None,
        )
    scheme = "https" if "--tls-self-signed" in extra or "--tls-cert" in extra else "http"
    target = Target(
        f"{scheme}://127.0.0.1:{port}",
        f"http://127.0.0.1:{public_port}",
        port,
        public_port,
        db,
        site,
        log,
        {"Authorization": f"Bearer {admin}"},
        proc,
    )
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + target.log_text())
        try:
            if httpx.get(f"{target.public}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(target)
            raise RuntimeError("server did not start: " + target.log_text())
        time.sleep(0.1)
    httpx.post(f"{target.base}/api/v1/site/open", headers=target.admin, timeout=10, verify=False)
    return target


def stop(target: Target) -> None:
    if target.proc.poll() is None:
        target.proc.terminate()
        try:
            target.proc.wait(15)
        except subprocess.TimeoutExpired:
            target.proc.kill()
            target.proc.wait(5)


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    target = start(tmp_path_factory.mktemp("hardened"))
    try:
        yield target
    finally:
        stop(target)


@pytest.fixture
def signin_form() -> Any:
    """``(client, csrf)``: a fresh browser-like client holding the sign-in form's cookie and token."""
    import re  # noqa: PLC0415  # (test helper)

    def make(base: str) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        page = client.get("/desk/signin")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        return client, found.group(1)

    return make
