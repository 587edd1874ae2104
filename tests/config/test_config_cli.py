"""``main.py config …`` through a real subprocess: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nummerlapp.config import load_settings, verify_pin
from nummerlapp.tests.config.sitefixtures import EXAMPLE_TEXT

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "config", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_good_file(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(EXAMPLE_TEXT, encoding="utf-8")
    done = run("check", "site.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "site.toml: OK — site askim, 4 departments, 4 counters\n"


def test_check_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(EXAMPLE_TEXT.replace('prefix = "B"', 'prefix = "A"'), encoding="utf-8")
    done = run("check", "bad.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        done.stderr == 'error: bad.toml: departments[1].prefix: "A" is already used by departments[0] (nav)\n'
    )
    assert "Traceback" not in done.stderr


def test_check_asks_the_printer_part_about_the_printer_profile(tmp_path: Path) -> None:
    text = EXAMPLE_TEXT.replace('profile = "TM-T20II"', 'profile = "TM-T20X-typo"')
    (tmp_path / "printer.toml").write_text(text, encoding="utf-8")
    done = run("check", "printer.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: printer.toml: printers.kiosk-1.profile: 'TM-T20X-typo' is not a python-escpos printer profile"
    )
    assert done.stderr.count("\n") == 1


def test_the_technicians_example_file_passes_check(tmp_path: Path) -> None:
    done = run("check", str(ROOT / "examples" / "site.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(": OK — site eksempel, 3 departments, 2 counters\n")


def test_check_missing_file(tmp_path: Path) -> None:
    done = run("check", "nowhere.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: nowhere.toml: cannot read the site file: no such file\n"


def test_show_prints_settings_in_force(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(EXAMPLE_TEXT.replace('id = "askim"', 'id = "moss"'), encoding="utf-8")
    shown = json.loads(run("show", "--config", "site.toml", cwd=tmp_path).stdout)
    assert shown["site"]["id"] == "moss" and shown["source"] == "site.toml"
    assert shown["kiosk"]["technician_pin_hash"] == "(set)"
    embedded = json.loads(run("show", cwd=tmp_path).stdout)
    assert embedded["site"]["id"] == "askim" and len(embedded["counters"]) == 4


def test_hash_pin_from_stdin(tmp_path: Path) -> None:
    done = run("hash-pin", "--stdin", cwd=tmp_path, stdin="73915\n")
    assert done.returncode == 0, done.stderr
    pin_hash = done.stdout.strip()
    assert pin_hash.startswith("$argon2id$") and "73915" not in pin_hash
    assert verify_pin(pin_hash, "73915") and not verify_pin(pin_hash, "73916")
    # the hash is accepted by the site file
    site = tmp_path / "site.toml"
    demo_hash = load_settings(None).kiosk.technician_pin_hash
    assert demo_hash in EXAMPLE_TEXT
    site.write_text(EXAMPLE_TEXT.replace(demo_hash, pin_hash), encoding="utf-8")
    assert run("check", "site.toml", cwd=tmp_path).returncode == 0


def test_hash_pin_refuses_a_non_pin(tmp_path: Path) -> None:
    done = run("hash-pin", "--stdin", cwd=tmp_path, stdin="12a4\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: hash-pin: a technician PIN is 4 to 12 digits; nothing was hashed\n"
