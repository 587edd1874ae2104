"""``main.py kiosk --store-logo FILE`` on a kiosk that joined the site by itself (no site file): the
printer's settings come from the service with the kiosk's kept token, and the logo goes into that
printer's NV memory. A real service on 127.0.0.1, a real enrolment (asked, approved, token fetched
as the kiosk does it, kept in its state folder), the example site's file printer in the kiosk's
folder, and the command run as a technician would."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from PIL import Image

from nummerlapp.client.enrol import StateDir
from nummerlapp.config.loader import EMBEDDED
from nummerlapp.tests.server.serverproc import ServerProcess, run_cli


def _joined(server: ServerProcess, state: Path) -> None:
    """Ask to join as the kiosk does, approve it as the technician does, keep the token."""
    admin = {"Authorization": f"Bearer {server.token('admin')}"}
    with httpx.Client(base_url=server.url, timeout=10) as api:
        asked = api.post("/enrolments", json={"device": "kiosk-entrance", "role": "kiosk", "name": "Inngang"})
        assert asked.status_code == 201, asked.text
        enrolment = asked.json()["enrolment"]
        approved = api.post(f"/enrolments/{enrolment['code']}/approve", headers=admin)
        assert approved.status_code == 200, approved.text
        token = api.get(f"/enrolments/{enrolment['id']}").json()["enrolment"]["token"]
    StateDir(state).keep(token, None)


def _logo(path: Path) -> Path:
    image = Image.new("L", (400, 120), 255)
    image.paste(0, (20, 20, 380, 100))  # a black bar: the municipality's logo stands in
    image.save(path)
    return path


def test_an_enrolled_kiosk_stores_the_logo_with_the_services_printer_settings(tmp_path: Path) -> None:
    site, db = tmp_path / "site.toml", tmp_path / "ledger.db"
    shutil.copyfile(EMBEDDED, site)
    server = ServerProcess(site, db)
    server.start()
    kiosk = tmp_path / "kiosk"  # the kiosk's own folder: no site file in it
    kiosk.mkdir()
    base = server.url.removesuffix("/api/v1")
    store = ["kiosk", "--store-logo", str(_logo(kiosk / "kommune.png")), "--server", base, "--no-mdns"]
    try:
        # not joined yet: one line, exit 2, nothing sent
        done = run_cli(*store, "--state-dir", str(kiosk / "state"), cwd=kiosk)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().startswith("error:") and "not joined a site" in done.stderr
        assert "Traceback" not in done.stderr and not (kiosk / "var").exists()

        _joined(server, kiosk / "state")
        done = run_cli(*store, "--state-dir", str(kiosk / "state"), cwd=kiosk)
        assert done.returncode == 0, done.stderr
        assert "logo stored in printer kiosk-1" in done.stdout
        tickets = kiosk / "var" / "tickets"  # the example site's file printer, as the service gave it
        assert (tickets / "logo.png").is_file()
        sent = b"".join(p.read_bytes() for p in tickets.glob("*.bin"))
        assert b"\x1d(L" in sent or b"\x1cq" in sent  # the NV store command (graphics or legacy)

        # removed from the site: its token is refused, and the command says so without a traceback
        admin = {"Authorization": f"Bearer {server.token('admin')}"}
        assert httpx.delete(f"{server.url}/devices/kiosk-entrance", headers=admin).status_code == 200
        done = run_cli(*store, "--state-dir", str(kiosk / "state"), cwd=kiosk)
        assert done.returncode == 1 and done.stderr.startswith("error:"), done.stderr
        assert "removed from the site" in done.stderr and "Traceback" not in done.stderr
    finally:
        server.stop()


def test_a_kiosk_with_a_site_file_stores_it_with_that_files_printer(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    shutil.copyfile(EMBEDDED, site)
    done = run_cli(
        "kiosk", "--config", str(site), "--store-logo", str(_logo(tmp_path / "k.png")), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "logo stored in printer kiosk-1" in done.stdout and (tmp_path / "var/tickets/logo.png").is_file()
    # an image that is not one: one line, exit 2, nothing sent
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "var/tickets/logo.png").unlink()
    done = run_cli("kiosk", "--config", str(site), "--store-logo", str(tmp_path / "broken.png"), cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error:") and "Traceback" not in done.stderr
    assert not (tmp_path / "var/tickets/logo.png").exists()
