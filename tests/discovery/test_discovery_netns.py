"""Discovery across "machines": network namespaces on a bridge (needs root, as the test command runs).

Host 0 runs the real server (``main.py server --mdns-interface <its address>``); host 1 finds it
with common.discovery and then talks HTTP to what it found; host 2 runs Debian's avahi-daemon (with
a private D-Bus) and ``avahi-browse -rpt _nummerlapp._tcp`` must list it with the protocol's TXT
keys. After SIGTERM the advertisement is withdrawn and avahi forgets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nummerlapp.tests.discovery.netns import Lan, start_avahi
from nummerlapp.tests.server.serverproc import ROOT, write_site

pytestmark = [pytest.mark.netns, pytest.mark.timeout(180)]

FINDER = """
import asyncio, json, sys, httpx
sys.path.insert(0, {root!r})
from nummerlapp.common.discovery import find_server
async def main():
    found = await find_server({site!r}, [{addr!r}], timeout=20)
    if found is None:
        print(json.dumps(None)); return
    host, port = found
    health = httpx.get(f"http://{{host}}:{{port}}/api/v1/health", timeout=5).json()
    print(json.dumps({{"host": host, "port": port, "health": health}}))
asyncio.run(main())
"""


@pytest.fixture
def lan() -> Iterator[Lan]:
    if os.geteuid() != 0:
        pytest.fail("the netns discovery test needs root (the project's test command runs as root)")
    avahi_run = Path("/run/avahi-daemon")
    existed = avahi_run.exists()
    net = Lan(3)
    try:
        yield net
    finally:
        net.close()
        if not existed and avahi_run.is_dir() and not any(avahi_run.iterdir()):
            avahi_run.rmdir()  # the pid directory our avahi-daemon made
        leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert net.bridge not in leftover


def avahi_lines(lan: Lan, env: dict[str, str]) -> list[list[str]]:
    r = lan.run(2, ["avahi-browse", "-rpt", "_nummerlapp._tcp"], env=env, timeout=20)
    return [line.split(";") for line in r.stdout.splitlines() if line.startswith("=")]


def test_server_found_from_other_namespaces(lan: Lan, tmp_path: Path) -> None:
    env = start_avahi(lan, 2, tmp_path)
    server_addr = lan.address(0)
    server = lan.popen(
        0,
        [
            sys.executable,
            str(ROOT / "main.py"),
            "server",
            "--config",
            str(write_site(tmp_path / "site.toml")),
            "--db",
            str(tmp_path / "ledger.db"),
            "--host",
            server_addr,
            "--port",
            "8420",
            "--mdns-interface",
            server_addr,
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "wb"),  # noqa: SIM115
    )
    finder = FINDER.format(root=str(ROOT), site="testsite", addr=lan.address(1))
    r = lan.run(1, [sys.executable, "-c", finder], timeout=60)
    assert r.returncode == 0, r.stderr + (tmp_path / "server.log").read_text()
    found = json.loads(r.stdout)
    assert found == {"host": server_addr, "port": 8420, "health": found["health"]}
    assert found["health"]["site"] == "testsite" and found["health"]["status"] == "ok"

    # Debian's avahi, an independent mDNS implementation, sees the same service and TXT keys
    deadline = time.monotonic() + 30
    lines: list[list[str]] = []
    while time.monotonic() < deadline:
        lines = [ln for ln in avahi_lines(lan, env) if "server" in ln[3]]
        if lines:
            break
        time.sleep(0.5)
    assert lines, (tmp_path / "avahi.log").read_text()
    fields = lines[0]  # =;eth0;IPv4;name;type;domain;host;address;port;txt
    assert fields[4] == "_nummerlapp._tcp" and fields[7] == server_addr and fields[8] == "8420"
    txt = fields[9]
    for key in ('"role=server"', '"site=testsite"', '"v=1"', '"path=/api/v1"'):
        assert key in txt, txt

    # SIGTERM: graceful stop, goodbye packets; avahi drops the service
    server.terminate()
    assert server.wait(20) in (0, -15)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any("server" in ln[3] for ln in avahi_lines(lan, env)):
        time.sleep(0.5)
    assert not any("server" in ln[3] for ln in avahi_lines(lan, env))
    assert "Traceback" not in (tmp_path / "server.log").read_text()
