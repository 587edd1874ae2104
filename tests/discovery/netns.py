"""Network namespaces joined by a bridge: several "machines" with real multicast between them.

``Lan(n)`` makes a bridge namespace and ``n`` host namespaces, each with one veth (``eth0``,
10.77.<k>.<i>/24) on the bridge; unique names with a random suffix; ``close()`` kills what it
started (by PID) and removes every namespace, also after a failure.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path
from typing import Any


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=20).stdout


class Lan:
    def __init__(self, hosts: int) -> None:
        tag = secrets.token_hex(3)
        self.subnet = f"10.77.{secrets.randbelow(200) + 20}"
        self.bridge = f"nlbr-{tag}"
        self.hosts = [f"nlh{i}-{tag}" for i in range(hosts)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self._made: list[str] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        sh("ip", "netns", "add", self.bridge)
        self._made.append(self.bridge)
        sh("ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", self.bridge, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            peer = f"p{i}"
            sh(
                "ip",
                "-n",
                ns,
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                peer,
                "netns",
                self.bridge,
            )
            sh("ip", "-n", self.bridge, "link", "set", peer, "master", "br0")
            sh("ip", "-n", self.bridge, "link", "set", peer, "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def address(self, i: int) -> str:
        return f"{self.subnet}.{i + 1}"

    def popen(self, i: int, args: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc: subprocess.Popen[bytes] = subprocess.Popen(["ip", "netns", "exec", self.hosts[i], *args], **kw)
        self.procs.append(proc)
        return proc

    def run(
        self, i: int, args: list[str], timeout: float = 30, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.hosts[i], *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        self.procs.clear()
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self._made.clear()


DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
ratelimit-interval-usec=0
[publish]
disable-publishing=yes
[reflector]
[rlimits]
"""


def start_avahi(lan: Lan, i: int, workdir: Path) -> dict[str, str]:
    """A private dbus-daemon and avahi-daemon in host ``i``; returns the env for avahi-browse."""
    bus_socket = workdir / "bus.sock"
    (workdir / "dbus.conf").write_text(DBUS_CONF.format(socket=bus_socket), encoding="utf-8")
    (workdir / "avahi.conf").write_text(AVAHI_CONF, encoding="utf-8")
    bus = lan.popen(
        i,
        ["dbus-daemon", "--nofork", "--print-address=1", "--config-file", str(workdir / "dbus.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert bus.stdout is not None
    bus.stdout.readline()  # printed once the bus listens: avahi-daemon may connect now
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={bus_socket}"}
    lan.popen(
        i,
        ["avahi-daemon", "--no-drop-root", "--no-chroot", "--no-rlimits", "-f", str(workdir / "avahi.conf")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "avahi.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    return env
