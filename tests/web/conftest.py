"""The real site service in its own process, real accounts made with the CLI, and Debian's Chromium.

One server and one browser per test module (the machine is small): each module gets a fresh
ledger in a temp dir, a site file open around the clock, three staff users (``desk1`` bound to
counter 1, ``desk2`` bound to counter 2, ``boss`` an admin) and an admin API token, and tests
create a new browser context (cookies, storage) each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from nummerlapp.tests.server.serverproc import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORDS = {"desk1": "desk-one-password", "desk2": "desk-two-password", "boss": "technician-password"}
# Screenshots go to a scratch folder; `NUMMERLAPP_SCREENSHOTS=docs/img` refreshes the ones in the
# docs (a test run must not rewrite tracked files).
IMG = Path(os.environ.get("NUMMERLAPP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "nummerlapp-screenshots")

pytestmark = pytest.mark.browser


def always_open_site(tmp: Path) -> Path:
    """The embedded example site, open every day around the clock (tests run at any hour)."""
    text = (ROOT / "config" / "example_site.toml").read_text(encoding="utf-8")
    week = "".join(f'{d} = ["00:00-23:59"]\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    text = re.sub(
        r"\[site\.hours\].*?(?=\[\[departments\]\])", "[site.hours]\n" + week + "\n", text, flags=re.S
    )
    text = re.sub(r"\[departments\.hours\].*?(?=\[\[counters\]\])", "", text, flags=re.S)
    text = text.replace("last_ticket_min = 10", "last_ticket_min = 0")
    text = text.replace('directory = "var/tickets"', f'directory = "{tmp / "tickets"}"')
    path = tmp / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cli(*args: str, stdin: str | None = None, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"main.py {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class Server:
    base: str
    site: Path
    db: Path
    admin_token: str
    log: Path
    public: str = ""  # the visitors' port (ticket page and follow stream only)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=10
        )

    def issue(self, department: str, lang: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"department": department}
        if lang:
            body["lang"] = lang
        with self.api() as client:
            res = client.post("/api/v1/tickets", json=body)
            assert res.status_code == 201, res.text
            ticket: dict[str, Any] = res.json()
            return ticket

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(self.base + "/api/v1/state", timeout=10).json()
        return data

    def counter(self, counter_id: str) -> dict[str, Any]:
        return next(c for c in self.state()["counters"] if c["id"] == counter_id)

    def waiting(self, department: str) -> int:
        return int(next(d for d in self.state()["departments"] if d["id"] == department)["waiting"])

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return _cli(*args, "--config", str(self.site), "--db", str(self.db), stdin=stdin, cwd=self.db.parent)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web")
    site = always_open_site(tmp)
    db = tmp / "ledger.sqlite"
    common = ("--config", str(site), "--db", str(db))
    for name, role, counter in (("desk1", "staff", "1"), ("desk2", "staff", "2"), ("boss", "admin", None)):
        extra = ("--counter", counter) if counter else ()
        _cli(
            "user",
            "add",
            name,
            "--role",
            role,
            *extra,
            "--password-stdin",
            *common,
            stdin=PASSWORDS[name] + "\n",
            cwd=tmp,
        )
    token = _cli("token", "--role", "admin", "--name", "web-tests", *common, cwd=tmp)
    proc = ServerProcess(site, db)
    proc.start()
    try:
        yield Server(f"http://127.0.0.1:{proc.port}", site, db, token, proc.log, public=proc.public)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Any]:
    """Make browser contexts (1366x768, English unless told); all closed after the test."""
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        options: dict[str, Any] = {"viewport": {"width": 1366, "height": 768}, "locale": "en-GB"}
        options.update(kwargs)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(page: Any, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the form, as a person does."""
    page.goto(base + "/desk/signin?lang=en")
    page.fill("#username", username)
    page.fill("#password", password if password is not None else PASSWORDS[username])
    page.click("form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def wait_live(page: Any) -> None:
    page.wait_for_selector("#live[data-state=live]")


def open_desk(new_context: Any, server: Server, user: str) -> Any:
    """A new browser context signed in as ``user``, on the live desk page."""
    page = new_context().new_page()
    sign_in(page, server.base, user)
    expect(page).to_have_url(server.base + "/desk")
    wait_live(page)
    return page


def clear_counter(server: Server, counter: str) -> None:
    """Finish whatever the counter is serving and open it (tests share one ledger)."""
    with server.api() as api:
        api.post(f"/api/v1/counters/{counter}/open")
        api.post(f"/api/v1/counters/{counter}/done")


def drain_counter(server: Server, counter: str) -> None:
    """Call and finish every waiting ticket of the departments ``counter`` serves."""
    clear_counter(server, counter)
    with server.api() as api:
        while api.post(f"/api/v1/counters/{counter}/next").json()["ticket"] is not None:
            pass
        api.post(f"/api/v1/counters/{counter}/done")


def csrf_of(page: Any) -> str:
    token: str = page.get_attribute('meta[name="csrf-token"]', "content")
    return token
