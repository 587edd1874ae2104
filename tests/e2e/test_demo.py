"""``python main.py demo`` as a newcomer runs it: everything comes up, works, and goes away again.

The demo runs offscreen in a temp folder on a free port; the test reads its ready file (desk
address, staff login, admin token), checks the service, the desk sign-in, that the kiosk and the
board are connected (the kiosk reports its virtual printer as ok), issues a ticket with the
kiosk's token, prints a test page through the demo site's virtual (file) printer, then stops the
demo with SIGTERM and checks that every process it started is gone within 10 s.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nummerlapp.tests.server.serverproc import ROOT, free_port

pytestmark = [pytest.mark.render, pytest.mark.timeout(120)]


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (tells a PID from a later reuse of it), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def descendants(pid: int) -> dict[int, tuple[str | None, str]]:
    """Every living descendant of ``pid``: start time and command line."""
    found: dict[int, tuple[str | None, str]] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    try:
                        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                    except OSError:
                        continue
                    found[child] = (start_time(child), cmd)
                    todo.append(child)
    return found


def alive(pids: dict[int, tuple[str | None, str]]) -> list[str]:
    """The command lines of those still running (same PID and start time; zombies count as gone)."""
    left = []
    for pid, (started, cmd) in pids.items():
        if start_time(pid) == started and started is not None:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                left.append(f"{pid} {cmd}")
    return left


def sign_in(base: str, username: str, password: str) -> httpx.Response:
    """The desk's sign-in form over plain HTTP, as a browser posts it (CSRF token included)."""
    with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as http:
        form = http.get("/desk/signin?lang=en")
        assert form.status_code == 200
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.text))
        assert "csrf" in fields, form.text[:500]
        return http.post("/desk/signin", data={**fields, "username": username, "password": password})


def wait_devices(base: str, admin: str, timeout: float = 40.0) -> list[dict[str, Any]]:
    """Poll the admin device list until a kiosk reports an ok printer and a board is seen."""
    deadline = time.monotonic() + timeout
    devices: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        res = httpx.get(f"{base}/api/v1/devices", headers={"Authorization": f"Bearer {admin}"}, timeout=5)
        devices = res.json()["devices"]
        kiosk_ok = any(
            d["role"] == "kiosk" and (d.get("printer") or {}).get("state") == "ok" for d in devices
        )
        if kiosk_ok and any(d["role"] == "board" for d in devices):
            return devices
        time.sleep(0.3)
    raise AssertionError(f"kiosk and board never showed up: {devices}")


def test_demo_runs_everything_and_stops_everything(tmp_path: Path) -> None:
    port, data, ready = free_port(), tmp_path / "data", tmp_path / "ready"
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(tmp_path / "kivy"),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "demo.log"
    args = [sys.executable, str(ROOT / "main.py"), "demo", "--port", str(port)]
    args += ["--data", str(data), "--ready-file", str(ready)]
    with log.open("wb") as out:
        demo = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    children: dict[int, tuple[str | None, str]] = {}
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or len(ready.read_text().splitlines()) < 4:
            assert demo.poll() is None, f"demo exited with {demo.returncode}: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"demo never got ready: {log.read_text()[-3000:]}"
            time.sleep(0.1)
        base, username, password, admin = ready.read_text().splitlines()[:4]
        assert base == f"http://127.0.0.1:{port}"

        # the service, and who it serves
        health = httpx.get(f"{base}/api/v1/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        devices = wait_devices(base, admin)
        children = descendants(demo.pid)  # after the windows are up: every process it started
        roles = " ".join(cmd for _, cmd in children.values())
        for role in ("main.py server", "main.py kiosk", "main.py display"):
            assert role in roles, f"{role} not among the demo's children: {children}"
        kiosk = next(d for d in devices if d["role"] == "kiosk")
        assert "virtual printer" in kiosk["printer"].get("detail", "")

        # the login it printed signs in at the desk
        page = sign_in(base, username, password)
        assert page.status_code == 200
        assert page.url.path in ("/desk", "/desk/counter"), page.url
        assert sign_in(base, username, password + "x").url.path == "/desk/signin"

        # a ticket with the kiosk's token
        token = (data / "kiosk.token").read_text().strip()
        department = httpx.get(f"{base}/api/v1/state", timeout=5).json()["departments"][0]["id"]
        res = httpx.post(
            f"{base}/api/v1/tickets",
            json={"department": department},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert res.status_code == 201, res.text
        ticket = httpx.get(
            f"{base}/api/v1/tickets/{res.json()['id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert ticket["status"] == "waiting" and ticket["number"] == res.json()["number"]

        # the demo site's virtual printer, through the same site file and folder as its kiosk
        printed = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "printer", "test", "--db", str(data / "ledger.db")],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert printed.returncode == 0, printed.stderr
        tickets = tmp_path / "var" / "tickets"
        assert (tickets / "test-page.bin").stat().st_size > 100
        assert (tickets / "test-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # closing it stops everything it started
        demo.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while (demo.poll() is None or alive(children)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert demo.poll() == 0, f"demo: {demo.returncode}\n{log.read_text()[-3000:]}"
        assert not alive(children), f"still running 10 s after SIGTERM: {alive(children)}"
    finally:
        # on any failure: nothing the demo started outlives the test (by PID, checked start time)
        for line in alive(children or descendants(demo.pid)):
            os.kill(int(line.split()[0]), signal.SIGKILL)
        if demo.poll() is None:
            os.kill(demo.pid, signal.SIGKILL)
            demo.wait(5)
