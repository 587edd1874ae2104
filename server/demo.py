"""``python main.py demo``: the whole appliance on one machine.

Starts, as child processes, the site service on the embedded example site, a kiosk window and a
board window, with the example site's virtual (file) printer writing each ticket's ESC/POS bytes
and a PNG preview. Everything binds to 127.0.0.1, mDNS included: the board finds the service by
mDNS on the loopback interface, exactly as it would on a LAN. Closing any window, Ctrl-C or SIGTERM
stops every process the demo started (by PID, nothing else).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nummerlapp.common.cli import DEFAULT_PORT
from nummerlapp.common.errors import NummerlappError, ServiceUnavailable
from nummerlapp.config import settings_from_args
from nummerlapp.config.loader import EMBEDDED

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo",
        help="run the whole appliance on this machine (service, kiosk, board, virtual printer)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", type=Path, default=None, metavar="PATH", help="site file (default: embedded example)"
    )
    p.add_argument(
        "--data", type=Path, default=Path("var") / "demo", help="folder for the demo's ledger and tokens"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="service port on 127.0.0.1 (default 8420)")
    p.add_argument(
        "--public-port",
        type=int,
        default=None,
        help="visitors' port on 127.0.0.1, printed in the tickets' QR codes (default: --port + 1)",
    )
    p.add_argument("--no-kiosk", action="store_true", help="don't open the kiosk window")
    p.add_argument("--no-board", action="store_true", help="don't open the board window")
    p.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the desk address and login here once everything runs (for scripts and tests)",
    )
    p.set_defaults(func=run)


@dataclass
class Children:
    """The processes the demo started; it stops exactly these."""

    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], env=env, cwd=os.getcwd())
        self.procs[name] = proc
        return proc

    def first_exited(self) -> str | None:
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)

    def stop_all(self, grace_s: float = 8.0) -> None:
        # Clients first, so the service sees clean disconnects, then the service.
        for name in sorted(self.procs, key=lambda n: n == "server"):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _cli(args: list[str], stdin: str | None = None) -> str:
    """Run one of our own commands to completion and return its stdout (tokens, users)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise NummerlappError(f"demo: `main.py {' '.join(args[:2])}` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def wait_healthy(
    base: str, server: subprocess.Popen[bytes], timeout_s: float = 30.0, poll_s: float = 0.1
) -> None:
    """Return once the service process ``server`` answers ``/api/v1/health`` at ``base``.

    ServiceUnavailable when it exits first or stays silent for ``timeout_s``. The demo starts its
    service with it, and so do the tests and benchmarks (tests/server/serverproc.py).
    """
    import httpx  # noqa: PLC0415  # start-up: httpx (70 ms) loads when the demo runs

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServiceUnavailable(f"the service exited with code {server.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll_s)
    raise ServiceUnavailable(f"the service did not answer at {base} within {timeout_s:.0f} s")


def _free_near(port: int) -> int:
    """``port`` if nobody listens on it, else a free one the system picks."""
    import socket  # noqa: PLC0415  # start-up: only when the demo runs

    for wanted in (port, 0):
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, wanted))
            except OSError:
                continue
            return int(s.getsockname()[1])
    return port


def _site_for_demo(config: Path | None, current: str, public_url: str, data: Path) -> Path | None:
    """The site file the demo runs on: the given one (or the embedded example), with
    ``site.public_url`` pointing at this machine's visitors' port, so a ticket's QR code opens
    its page from the demo machine itself. None: the file as it is already says so."""
    if current.rstrip("/") == public_url and config is None:
        return None
    if current.rstrip("/") == public_url:
        return config
    text = (config if config is not None else EMBEDDED).read_text(encoding="utf-8")
    line = f"public_url = \"{public_url}\"  # the demo's visitors' port (main.py demo)"
    text, found = re.subn(r"(?m)^public_url\s*=.*$", line, text, count=1)
    if not found:
        text = re.sub(r"(?m)^\[site\]\s*$", "[site]\n" + line, text, count=1)
    path = data / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    import httpx  # noqa: PLC0415  # start-up: httpx (70 ms) loads when the demo runs

    settings = settings_from_args(args)  # a broken site file stops here with one line, exit 2
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    db = data / "ledger.db"
    public_port = args.public_port or _free_near(args.port + 1)
    public_url = f"http://{LOOPBACK}:{public_port}"
    site_file = _site_for_demo(args.config, settings.site.public_url, public_url, data)
    site_opts = ["--db", str(db)] + (["--config", str(site_file)] if site_file else [])
    base = f"http://{LOOPBACK}:{args.port}"

    # Credentials for this run: tokens are shown once and stored hashed, so make fresh ones.
    kiosk_token = _cli(["token", *site_opts, "--role", "kiosk", "--name", "demo kiosk"])
    display_token = _cli(["token", *site_opts, "--role", "display", "--name", "demo board"])
    admin_token = _cli(["token", *site_opts, "--role", "admin", "--name", "demo technician"])
    password = secrets.token_urlsafe(9)
    username = f"demo{secrets.randbelow(9000) + 1000}"
    _cli(["user", "add", *site_opts, "--role", "admin", "--password-stdin", username], stdin=password)
    for name, value in (("kiosk.token", kiosk_token), ("display.token", display_token)):
        path = data / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)

    children = Children()
    stop = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        server = children.start(
            "server",
            [
                "server",
                *site_opts,
                "--host",
                LOOPBACK,
                "--port",
                str(args.port),
                "--public-port",
                str(public_port),
                "--mdns-interface",
                LOOPBACK,
            ],
        )
        wait_healthy(base, server)
        # The demo runs at any hour: open the site for the rest of today (an admin override).
        httpx.post(f"{base}/api/v1/site/open", headers={"Authorization": f"Bearer {admin_token}"}, timeout=5)
        # devices given a site file use it (no enrolment: docs/KIOSK.md, "Enrolment")
        cfg = ["--config", str(site_file or EMBEDDED)]
        if not args.no_board:
            children.start(
                "board",
                ["display", *cfg, "--mdns-interface", LOOPBACK, "--server", base, "--size", "1280x720"],
            )
        if not args.no_kiosk:
            children.start(
                "kiosk",
                [
                    "kiosk",
                    *cfg,
                    "--server",
                    base,
                    "--token-file",
                    str(data / "kiosk.token"),
                    "--mdns-interface",
                    LOOPBACK,
                    "--size",
                    "800x1000",
                ],
            )
        printer = settings.printer(settings.kiosk.printer)
        tickets = printer.options.get("directory", "") if printer is not None else ""
        banner = (
            f"\nNummerlapp demo — {settings.site.name}\n"
            f"  desk page:      {base}/desk\n"
            f"  technician:     {base}/tech\n"
            f"  phones (QR):    {public_url}/t/<follow> (the visitors' port)\n"
            f"  sign in as:     {username} / {password}\n"
            f"  tickets (PNG):  {Path(str(tickets)).resolve() if tickets else '(no file printer)'}\n"
            f"  admin token:    {admin_token}\n"
            "Close a window or press Ctrl-C to stop everything.\n"
        )
        print(banner, flush=True)
        if args.ready_file:
            args.ready_file.write_text(f"{base}\n{username}\n{password}\n{admin_token}\n", encoding="utf-8")
        while not stop:
            exited = children.first_exited()
            if exited:
                print(f"demo: the {exited} stopped; stopping the rest.", file=sys.stderr)
                break
            time.sleep(0.2)
    finally:
        children.stop_all()
    return 0
