"""``printer sample | test | logo | status`` as a technician runs them (real files, a real pty)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from nummerlapp import main
from nummerlapp.common.errors import ConfigError
from nummerlapp.config import load_settings
from nummerlapp.printer import cli
from nummerlapp.printer.layout import render
from nummerlapp.printer.logo import load_logo, nv_store_commands
from nummerlapp.printer.sample import sample_view
from nummerlapp.tests.printer.fakeprinter import PtyFakePrinter

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example_site.toml"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    args = parser.parse_args(["printer", *argv])
    return int(args.func(args))


def site_with_printer(tmp_path: Path, printer_toml: str) -> Path:
    """The example site with its [[printers]] table replaced."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("[[printers]]")
    end = text.index("[[zones]]")
    path = tmp_path / "site.toml"
    path.write_text(text[:start] + printer_toml + "\n" + text[end:], encoding="utf-8")
    return path


def logo_file(tmp_path: Path) -> Path:
    img = Image.new("RGBA", (800, 300), (0, 0, 0, 0))  # transparent background → paper
    ImageDraw.Draw(img).rectangle((50, 50, 750, 250), fill=(0, 60, 120, 255))
    path = tmp_path / "logo.png"
    img.save(path)
    return path


def test_sample_writes_the_bytes_of_the_layout_and_a_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, png = tmp_path / "s.bin", tmp_path / "s.png"
    assert run("sample", "--out", str(out), "--png", str(png), "--lang", "sv", "--width", "384") == 0
    settings = load_settings(None)
    ps = dataclasses.replace(settings.printers[0], dots=384, paper_width_mm=58)
    assert out.read_bytes() == render(sample_view("sv", settings), ps)
    assert "F\x94re dig i k\x94n: 4".encode("latin-1") in out.read_bytes()
    with Image.open(png) as img:
        assert img.width == 384 + 48
    assert f"{out}: {len(out.read_bytes())} bytes" in capsys.readouterr().out


def test_sample_through_main(tmp_path: Path) -> None:
    out = tmp_path / "t.bin"
    assert main.main(["printer", "sample", "--out", str(out), "--lang", "en"]) == 0
    assert b"Building permits" in out.read_bytes()


def test_sample_slip_writes_a_booked_visits_slip(tmp_path: Path) -> None:
    """``printer sample --slip``: the triage slip a kiosk prints, for a technician's check."""
    out, png = tmp_path / "s.bin", tmp_path / "s.png"
    assert (
        main.main(["printer", "sample", "--slip", "--out", str(out), "--png", str(png), "--lang", "sv"]) == 0
    )
    data = out.read_bytes()
    assert b"K7QX 2M4P" in data and b"K7QX2M4P" in data  # the code large, and in the QR code's data
    assert b"Bokad tid" in data and b"10:40" in data
    assert data != render(sample_view("sv", load_settings(None)), load_settings(None).printers[0])
    with Image.open(png) as img:
        assert img.height > img.width  # a whole slip, not an empty page


def test_sample_refuses_a_language_the_site_lacks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'de' is not a site language"):
        run("sample", "--out", str(tmp_path / "x.bin"), "--lang", "de")
    assert not (tmp_path / "x.bin").exists()
    assert main.main(["printer", "sample", "--out", str(tmp_path / "x.bin"), "--printer", "nope"]) == 2


def test_test_page_and_status_on_the_file_printer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the example site's virtual printer writes to var/tickets
    assert run("test") == 0
    data = (tmp_path / "var" / "tickets" / "test-page.bin").read_bytes()
    assert bytes([0x91, 0x9B, 0x86, 0x84, 0x94, 0x82]) in data  # æøåäöé in CP865
    assert (tmp_path / "var" / "tickets" / "test-page.png").is_file()
    capsys.readouterr()
    assert run("status", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["printer"] == "kiosk-1" and report["summary"] == "ok"
    (tmp_path / "var" / "tickets" / "status").write_text("cover_open")
    assert run("status") == 1
    assert "cover_open" in capsys.readouterr().out


def test_logo_is_stored_once_over_serial(tmp_path: Path, pty_printer: PtyFakePrinter) -> None:
    site = site_with_printer(
        tmp_path,
        f'[[printers]]\nid = "kiosk-1"\ntype = "serial"\nprofile = "TM-T20II"\n[printers.options]\nport = "{pty_printer.port}"\n',
    )
    image = logo_file(tmp_path)
    assert run("logo", str(image), "--config", str(site)) == 0
    ps = load_settings(site).printers[0]
    expected = nv_store_commands(load_logo(image, 576), ps, "NL")
    assert pty_printer.wait_for(expected[-16:], timeout=10) == expected
    assert expected.startswith(b"\x1d(L\x04\x000BNL")  # delete the old logo first
    # then GS ( L fn 67: define NV graphics "NL", 1 colour, 576 dots wide, raster data to the end
    assert expected[9:12] == b"\x1d(L" and int.from_bytes(expected[12:14], "little") == len(expected) - 14
    assert expected[14:20] == b"0C0NL\x01" and expected[20:22] == (576).to_bytes(2, "little")


def test_logo_refuses_a_file_that_is_not_an_image(tmp_path: Path, pty_printer: PtyFakePrinter) -> None:
    site = site_with_printer(
        tmp_path,
        f'[[printers]]\nid = "kiosk-1"\ntype = "serial"\n[printers.options]\nport = "{pty_printer.port}"\n',
    )
    bad = tmp_path / "logo.png"
    bad.write_text("this is not a PNG")
    assert run("logo", str(bad), "--config", str(site)) == 2
    assert pty_printer.job_bytes() == b"" and pty_printer.core.queries == []


def test_logo_on_the_file_printer_shows_in_previews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("logo", str(logo_file(tmp_path))) == 0
    stored = tmp_path / "var" / "tickets" / "logo.png"
    with Image.open(stored) as img:
        assert img.mode == "1" and img.width == 576 and img.height % 8 == 0 and img.height <= 240
