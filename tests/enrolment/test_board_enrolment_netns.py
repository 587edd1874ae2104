"""A board with no site file and no token joins the site on its own (real processes, real mDNS).

Network namespaces on a bridge (tests/discovery/netns.py; root): host 0 runs ``main.py server``
with the site file; host 1 runs ``main.py display`` with NO ``--config``, NO token and NO
``--server``: it finds the service by mDNS, shows its code (screenshot), is approved with
``main.py device approve`` and shows calls; a site-file change applied with ``main.py config
reload`` reaches it (a new message line, a department gone) with no restart, a broken file
changes nothing; Identify reaches it (it never posted a status); revoked, it shows its
enrolment screen again. The board process records what its window shows
(tests/enrolment/devices.py); the test believes those records and the screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from nummerlapp.tests.discovery.netns import Lan
from nummerlapp.tests.discovery.observed import Observed, kivy_env
from nummerlapp.tests.discovery.test_board_netns import Desk, make_token
from nummerlapp.tests.server.serverproc import write_site
from nummerlapp.tests.web.conftest import IMG

pytestmark = [pytest.mark.netns, pytest.mark.render, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
# docs/img only when asked (NUMMERLAPP_SCREENSHOTS=docs/img): a test run rewrites no tracked file
DOCS_IMG = IMG


class Board(Observed):
    name = "board"

    def __init__(self, lan: Lan, host: int, workdir: Path) -> None:
        super().__init__(workdir, "board.log")
        self.proc = lan.popen(
            host,
            [sys.executable, "-m", "nummerlapp.tests.enrolment.devices", "board", str(workdir),
             "display", "--mdns-interface", lan.address(host), "--state-dir", str(workdir / "state"),
             "--id", "board-lift", "--name", "Tavle ved heisen", "--mute", "--size", "1280x720",
             "--cache", str(workdir / "wav")],
            cwd=ROOT, env=kivy_env(workdir), stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),  # noqa: SIM115
        )  # fmt: skip


def cli(lan: Lan, host: int, *args: str) -> subprocess.CompletedProcess[str]:
    return lan.run(host, [sys.executable, str(ROOT / "main.py"), *args], timeout=60)


def start_service(lan: Lan, workdir: Path, opts: list[str]) -> str:
    """``main.py server`` in host 0 (``opts``: its site file and ledger; mDNS on its address, no
    visitors' port; its log in ``workdir``): the API's address."""
    addr = lan.address(0)
    lan.popen(
        0,
        [sys.executable, str(ROOT / "main.py"), "server", *opts, "--host", addr, "--port", "8420",
         "--mdns-interface", addr, "--public-port", "0"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=open(workdir / "server.log", "wb"),  # noqa: SIM115
    )  # fmt: skip
    return f"http://{addr}:8420/api/v1"


@pytest.fixture
def lan() -> Iterator[Lan]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for network namespaces")
    made = Lan(3)
    try:
        yield made
    finally:
        made.close()


def test_a_board_enrols_works_follows_the_site_file_and_is_revoked(lan: Lan, tmp_path: Path) -> None:
    site, db = write_site(tmp_path / "site.toml"), tmp_path / "ledger.db"
    opts = ["--config", str(site), "--db", str(db)]
    base = start_service(lan, tmp_path, opts)
    desk = Desk(lan, 2)
    try:
        desk.healthy(base)
        board = Board(lan, 1, tmp_path / "board")
        # 1. no site file, no token, no --server: it found the service by mDNS and shows a code
        shown = board.wait_for("its code", lambda r: r["screen"] == "enrolment" and r["texts"]["code"] != "")
        code = shown["texts"]["code"].replace(" ", "")
        assert shown["texts"]["site"] == "Test site" and len(code) == 6
        assert "main.py device approve " + code in shown["texts"]["how"]
        assert (
            _share(shown["png"], (0.25, 0.3, 0.75, 0.65), (0xFF, 0xD6, 0x0A)) > 0.05
        )  # the code, large, yellow
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shown["png"], DOCS_IMG / "board-enrolment.png")
        pending = cli(lan, 0, "device", "pending", *opts, "--json")
        assert pending.returncode == 0, pending.stderr
        assert [(p["code"], p["role"], p["device"], p["address"]) for p in json.loads(pending.stdout)] == [
            (code, "display", "board-lift", lan.address(1))
        ]
        # 2. approved on the command line: at work within two seconds
        approved = cli(lan, 0, "device", "approve", code, *opts, "--name", "Tavle ved heisen", "--zone", "")
        assert approved.returncode == 0, approved.stderr
        t_approved = time.monotonic()
        working = board.wait_for("the board screen", lambda r: r["screen"] == "board", after=shown["t"])
        assert working["t"] - t_approved < 2.0 + 0.6  # + the observer's sampling and frame wait
        token_file = tmp_path / "board" / "state" / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert (token_file.parent.stat().st_mode & 0o777) == 0o700
        # 3. it shows calls
        staff = make_token(db, "admin")
        desk.post(f"{base}/tickets", staff, {"department": "nav"})
        desk.post(f"{base}/counters/1/next", staff)
        called = board.wait_for(
            "the call", lambda r: r["screen"] == "board" and r["texts"]["number"] == "A001"
        )
        # 4. a changed site file reaches it without a restart; a broken one changes nothing
        text = site.read_text(encoding="utf-8")
        changed = text.replace(
            "[site.hours]",
            '[site.message]\nnb = "Husk legitimasjon"\nen = "Bring your ID"\n\n[site.hours]',
            1,
        )
        changed = _without_department(changed, "tiny")
        site.write_text(changed, encoding="utf-8")
        reload = cli(lan, 0, "config", "reload", *opts)
        assert reload.returncode == 0 and "applied" in reload.stdout, reload.stderr
        fresh = board.wait_for(
            "the new message line and departments",
            lambda r: r["screen"] == "board" and r["texts"]["message"] == "Husk legitimasjon"
            and [d[0] for d in r["texts"]["departments"]] == ["NAV", "Byggesak"],
            after=called["t"],
        )  # fmt: skip
        site.write_text(
            changed.replace('timezone = "Europe/Oslo"', 'timezone = "Mars/Base"'), encoding="utf-8"
        )
        broken = cli(lan, 0, "config", "reload", *opts)
        assert broken.returncode == 2 and "site.timezone" in broken.stderr and str(site) in broken.stderr
        time.sleep(1.0)
        assert board.records()[-1]["texts"]["message"] == "Husk legitimasjon"
        # 5. Identify reaches a board that never posted a status
        asked = desk.ask(op="post", url=f"{base}/devices/board-lift/identify", token=staff, json=None)
        assert asked["status"] == 202, asked
        board.wait_for(
            "its name", lambda r: "Tavle ved heisen" in str(r["texts"].get("identify")), after=fresh["t"]
        )
        # 6. revoked: it shows its enrolment screen again
        t_revoke = time.monotonic()
        revoked = cli(lan, 0, "device", "revoke", "board-lift", *opts)
        assert revoked.returncode == 0, revoked.stderr
        again = board.wait_for(
            "its enrolment screen",
            lambda r: r["screen"] == "enrolment" and r["texts"]["code"] != "",
            after=t_revoke,
        )
        assert again["texts"]["code"].replace(" ", "") != code and not token_file.exists()
    finally:
        desk.close()


def _without_department(text: str, department: str) -> str:
    """The site file without one department (its counter serves none then: drop that too)."""
    blocks = text.split("\n[[")
    kept = [
        b for b in blocks if f'id = "{department}"' not in b and f'departments = ["{department}"]' not in b
    ]
    return "\n[[".join(kept)


def _share(
    png: str, box: tuple[float, float, float, float], rgb: tuple[int, int, int], tol: int = 30
) -> float:
    with Image.open(png) as img:
        w, h = img.size
        crop = img.convert("RGB").crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        pixels: list[Any] = [
            crop.getpixel((x, y)) for x in range(0, crop.width, 4) for y in range(0, crop.height, 4)
        ]
    near = sum(1 for p in pixels if all(abs(int(a) - b) <= tol for a, b in zip(p, rgb, strict=True)))
    return near / max(1, len(pixels))
