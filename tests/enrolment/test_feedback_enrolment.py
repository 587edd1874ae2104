"""An exit terminal with no site file and no token joins the site on its own (real processes).

``main.py server`` with the example site (its four feedback questions) on loopback; ``main.py
feedback`` (Kivy offscreen) with NO ``--config`` and NO token, only ``--server``: it shows its
code, is approved with ``main.py device approve``, asks the site's first question; a site-file
change applied with ``main.py config reload`` (the first question gone) reaches it with no
restart; revoked, it shows its enrolment screen again. The terminal records what its window shows
(tests/enrolment/devices.py); the test believes those records. (The kiosk's and the board's
tests do the same inside network namespaces with mDNS.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nummerlapp.tests.discovery.observed import Observed, kivy_env
from nummerlapp.tests.server.serverproc import ServerProcess, run_cli
from nummerlapp.tests.web.conftest import IMG

pytestmark = [pytest.mark.render, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


class Terminal(Observed):
    """The exit terminal's process, observed like the kiosk's (records, screenshots)."""

    name = "terminal"

    def __init__(self, base: str, workdir: Path) -> None:
        super().__init__(workdir, "terminal.log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nummerlapp.tests.enrolment.devices", "feedback", str(workdir),
             "feedback", "--server", base, "--no-mdns", "--state-dir", str(workdir / "state"),
             "--outbox", str(workdir / "outbox"), "--id", "feedback-exit", "--name", "Utgangen",
             "--size", "1280x800"],
            cwd=ROOT, env=kivy_env(workdir), stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"),  # noqa: SIM115
        )  # fmt: skip


def test_an_exit_terminal_enrols_asks_follows_the_site_file_and_is_revoked(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text((ROOT / "config" / "example_site.toml").read_text(encoding="utf-8"), encoding="utf-8")
    db = tmp_path / "ledger.db"
    opts = ["--config", str(site), "--db", str(db)]
    server = ServerProcess(site, db)
    server.start()
    terminal = None
    try:
        terminal = Terminal(server.url.removesuffix("/api/v1"), tmp_path / "terminal")
        shown = terminal.wait_for(
            "its code", lambda r: r["screen"] == "enrolment" and bool(r["texts"].get("code"))
        )
        code = shown["texts"]["code"].replace(" ", "")
        assert len(code) == 6 and "Utgangen" in shown["texts"]["device"]
        IMG.mkdir(parents=True, exist_ok=True)  # docs/img only with NUMMERLAPP_SCREENSHOTS=docs/img
        shutil.copyfile(shown["png"], IMG / "feedback-enrolment.png")
        approved = run_cli("device", "approve", code, *opts, "--name", "Utgangen", cwd=tmp_path)
        assert approved.returncode == 0, approved.stderr
        t_approved = time.monotonic()
        asking = terminal.wait_for(
            "the first question", lambda r: r["screen"] == "question", after=shown["t"]
        )
        assert asking["question"] == "overall" and asking["t"] - t_approved < 2.6
        assert (tmp_path / "terminal" / "state" / "token").stat().st_mode & 0o777 == 0o600
        # the first question gone from the site file: the terminal asks the new first one, no restart
        text = site.read_text(encoding="utf-8")
        site.write_text(re.sub(r'\[\[feedback\.questions\]\]\nid = "overall".*?(?=\[\[feedback)', "", text, flags=re.S),
                        encoding="utf-8")  # fmt: skip
        reload = run_cli("config", "reload", *opts, cwd=tmp_path)
        assert reload.returncode == 0 and "applied" in reload.stdout, reload.stderr
        fewer = terminal.wait_for(
            "the new first question", lambda r: r.get("question") == "wait", after=asking["t"]
        )
        # revoked: the enrolment screen again
        t_revoke = time.monotonic()
        revoked = run_cli("device", "revoke", "feedback-exit", *opts, cwd=tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        again = terminal.wait_for(
            "its enrolment screen",
            lambda r: r["screen"] == "enrolment" and bool(r["texts"].get("code")),
            after=max(t_revoke, fewer["t"]),
        )
        assert again["texts"]["code"].replace(" ", "") != code
    finally:
        if terminal is not None and terminal.proc.poll() is None:
            (terminal.dir / "stop").touch()
            try:
                terminal.proc.wait(10)
            except subprocess.TimeoutExpired:
                terminal.proc.kill()
        server.stop()
