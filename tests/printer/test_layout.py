"""The ticket's bytes: golden files per width and language, and the commands that matter."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from escpos.capabilities import get_profile
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer.layout import (
    Line,
    QrCode,
    TicketView,
    choose_codepage,
    layout,
    printable,
    render,
    to_escpos,
)
from nummerlapp.printer.logo import nv_store_commands
from nummerlapp.printer.sample import sample_view
from nummerlapp.tests.printer.goldens import GOLDEN, LANGS, PROFILES, golden_settings

ESC_INIT = b"\x1b@"
TZ = dt.timezone(dt.timedelta(hours=1))


def view(**changes: object) -> TicketView:
    base = TicketView(
        site_name="Servicetorget i Askim",
        department_name="Byggesak",
        number="B012",
        issued_at=dt.datetime(2026, 11, 23, 9, 14, tzinfo=TZ),
        ahead=4,
        estimated_wait_s=540,
        qr_url="http://127.0.0.1:8420/t/t_8f3c2a9d41b7e6c05a1f09d2",
        footer="Takk for besøket",
        lang="nb",
        logo=True,
        ticket_id="t_8f3c2a9d41b7e6c05a1f09d2",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


T20 = PrinterSettings(id="p", type="dummy", profile="TM-T20II", logo="nv", qr=True)


@pytest.mark.parametrize("dots", sorted(PROFILES))
@pytest.mark.parametrize("lang", LANGS)
def test_golden_bytes(dots: int, lang: str) -> None:
    settings = golden_settings(dots)
    expected = (GOLDEN / f"{dots}-{lang}.bin").read_bytes()
    assert render(sample_view(lang), settings) == expected


def test_nordic_letters_encode_in_cp865_with_esc_t_5() -> None:
    # CP865 (Nordic), per the IBM/Microsoft code page table — not computed by the code under test.
    cp865 = {"æ": 0x91, "Æ": 0x92, "ø": 0x9B, "Ø": 0x9D, "å": 0x86, "Å": 0x8F,
             "ä": 0x84, "Ä": 0x8E, "ö": 0x94, "Ö": 0x99, "é": 0x82, "É": 0x90}  # fmt: skip
    letters = "".join(cp865)
    data = render(view(department_name=letters, footer="", qr_url=None), T20)
    assert data.startswith(ESC_INIT + b"\x1bt\x05")  # ESC @, then ESC t 5 = PC865 on Epson
    assert data.count(b"\x1bt") == 1  # one code page for the whole ticket, no switching
    # Department is printed double size; wrapping at 24 columns keeps the 12 letters on one line.
    assert bytes(cp865.values()) + b"\n" in data


def test_profile_code_page_number_is_used() -> None:
    # The cheap ZJ-5870 has CP865 in another slot of its table than Epson: the number follows the profile.
    settings = dataclasses.replace(T20, profile="POS-5890", dots=384)
    slot = int(get_profile("POS-5890").get_code_pages()["CP865"])
    assert slot == 58
    assert render(view(), settings).startswith(ESC_INIT + b"\x1bt" + bytes([58]))


def test_codepage_falls_back_when_cp865_cannot_print_a_letter() -> None:
    ops = layout(view(department_name="Zażółć"), T20)  # Polish: not in CP865; CP852 is not preferred
    cp = choose_codepage(ops, T20)
    assert cp == "CP865"  # no preferred Latin page has ż: keep CP865 and print "?" for it
    assert printable("Zażółć", cp) == "Za?ó??"


def test_codepage_override_and_bad_codepage() -> None:
    settings = dataclasses.replace(T20, options={"codepage": "CP1252"})
    data = render(view(department_name="Øst"), settings)
    assert data.startswith(ESC_INIT + b"\x1bt\x10") and b"\xd8st" in data  # CP1252 Ø = 0xD8
    bad = dataclasses.replace(T20, options={"codepage": "KLINGON"})
    with pytest.raises(ConfigError, match=r"printers\.p\.options\.codepage"):
        render(view(), bad)


def test_dashes_and_quotes_become_ascii() -> None:
    data = render(view(footer="Takk – «velkommen» … ’"), T20)
    assert b'Takk - "velkommen" ... \'\n' in data


@pytest.mark.parametrize(("dots", "mag"), [(576, 8), (512, 8), (384, 7)])
def test_number_is_native_text_at_max_magnification(dots: int, mag: int) -> None:
    settings = dataclasses.replace(T20, dots=dots)
    data = render(view(), settings)
    size = bytes([(mag - 1) << 4 | (mag - 1)])
    assert b"\x1d!" + size + b"B012\n" in data  # GS ! n, then the number as text
    assert b"\x1dv0" not in data and b"\x1b*" not in data  # no raster image anywhere


def test_five_digit_number_shrinks_to_fit() -> None:
    data = render(view(number="A1234"), dataclasses.replace(T20, dots=384))
    assert b"\x1d!\x44A1234\n" in data  # 5x: 5 * 12 * 5 = 300 dots; 6x (360) would pass 90 % of 384


def test_native_qr_command() -> None:
    url = b"http://127.0.0.1:8420/t/t_8f3c2a9d41b7e6c05a1f09d2"
    data = render(view(), T20)
    store = b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url
    assert store in data
    assert b"\x1d(k\x03\x001Q0" in data  # print the symbol
    assert b"\x1d(k\x03\x001C\x06" in data  # 6 dots per module on 80 mm


def test_qr_left_out_when_disabled_or_not_native() -> None:
    assert b"\x1d(k" not in render(view(), dataclasses.replace(T20, qr=False))
    assert b"\x1d(k" not in render(view(qr_url=None), T20)
    zj = PrinterSettings(id="z", type="dummy", dots=384, paper_width_mm=58, profile="ZJ-5870", logo="none")
    assert b"\x1d(k" not in render(view(), zj) and b"\x1dv0" not in render(view(), zj)
    raster = dataclasses.replace(zj, options={"raster_qr": True})
    data = render(view(), raster)
    assert b"\x1dv0\x00\x30\x00" in data  # GS v 0, 48 bytes (384 dots) per row


def test_nv_logo_reference() -> None:
    data = render(view(), T20)
    assert b"\x1ba\x01\x1d(L\x06\x000ENL\x01\x01" in data  # centred GS ( L fn 69, key "NL"
    legacy = render(view(), dataclasses.replace(T20, profile="POS-5890", dots=384))
    assert b"\x1cp\x01\x00" in legacy  # FS p 1 0 where the profile has no GS ( L graphics
    assert b"\x1d(L" not in render(view(), dataclasses.replace(T20, logo="none"))
    assert b"\x1d(L" not in render(view(logo=False), T20)


def test_cut_and_no_cutter() -> None:
    assert render(view(), T20).endswith(b"\x1dVB\x00")  # feed to cutter + partial cut
    zj = PrinterSettings(id="z", type="dummy", dots=384, paper_width_mm=58, profile="ZJ-5870")
    assert render(view(), zj).endswith(b"\x1bd\x04")


def test_text_lines_fit_the_paper() -> None:
    long = "Avdeling for tekniske tjenester og byggesaksbehandling"
    for dots in (576, 512, 384):
        settings = dataclasses.replace(T20, dots=dots)
        for op in layout(view(department_name=long, site_name=long * 2, footer=long * 2), settings):
            if isinstance(op, Line):
                assert len(op.text) * 12 * op.width <= dots, (dots, op)


def test_next_in_line_and_wait_rounding() -> None:
    nxt = [op.text for op in layout(view(ahead=0, estimated_wait_s=0), T20) if isinstance(op, Line)]
    assert "Du er nestemann" in nxt and not any("ventetid" in t for t in nxt)
    en = [op.text for op in layout(view(lang="en", estimated_wait_s=61), T20) if isinstance(op, Line)]
    assert "Estimated wait: about 2 min" in en and "People ahead of you: 4" in en
    assert "23 Nov 2026, 09:14" in en  # printed in the ticket's own offset


def test_unknown_language_falls_back_to_english() -> None:
    lines = [op.text for op in layout(view(lang="xx"), T20) if isinstance(op, Line)]
    assert "People ahead of you: 4" in lines


@pytest.mark.parametrize(
    "changes",
    [
        {"number": ""},
        {"number": "A\n12"},
        {"issued_at": dt.datetime(2026, 11, 23, 9, 14)},
        {"ahead": -1},
        {"estimated_wait_s": -5},
    ],
)
def test_bad_view_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        view(**changes)


def test_no_personal_data_fields() -> None:
    fields = {f.name for f in dataclasses.fields(TicketView)}
    assert not fields & {"name", "visitor", "phone", "email", "personnummer", "ssn", "birth"}


def test_ops_render_the_same_every_time() -> None:
    ops = layout(view(), T20)
    assert to_escpos(ops, T20) == to_escpos(ops, T20)
    assert any(isinstance(op, QrCode) for op in ops)


def test_raster_logo_only_when_asked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logo = tmp_path / "logo.png"
    img = Image.new("L", (16, 8), 255)
    img.putpixel((0, 0), 0)  # one black dot, top left
    img.save(logo)
    raster = dataclasses.replace(T20, logo="raster")
    data = render(view(), raster, str(logo))
    # padded to 576 dots (72 bytes) and centred: the dot lands at x = (576 - 16) // 2 = 280
    header = b"\x1dv0\x00" + (72).to_bytes(2, "little") + (8).to_bytes(2, "little")
    start = data.index(header) + len(header)
    rows = data[start : start + 72 * 8]
    assert rows[280 // 8] == 0x80 >> (280 % 8) and sum(rows) == rows[280 // 8]
    assert b"\x1dv0" not in render(view(), raster)  # raster mode without an image: no logo at all


def test_legacy_nv_store_is_column_format() -> None:
    img = Image.new("1", (8, 16), 1)
    img.putpixel((0, 0), 0)  # column 0, top dot → first byte's MSB
    img.putpixel((1, 15), 0)  # column 1, bottom dot → 4th byte's LSB
    legacy = PrinterSettings(id="z", type="dummy", dots=384, profile="POS-5890")
    data = nv_store_commands(img, legacy, "NL")
    assert data[:7] == b"\x1cq\x01\x01\x00\x02\x00"  # FS q, 1 image, 1 x 8 dots wide, 2 x 8 high
    body = data[7:]
    assert len(body) == 16 and body[0] == 0x80 and body[3] == 0x01 and sum(body) == 0x81


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_prints_as_text_only(text: str) -> None:
    """Whatever a site file or catalogue holds, a line is text bytes and one newline: no control
    byte (ESC, GS, DLE EOT, a cut) can reach the printer from a name."""
    data = to_escpos([Line(text)], T20)
    assert data[:4] == ESC_INIT + b"\x1bt"  # ESC @, ESC t n
    body = data[5:]
    assert body.endswith(b"\n") and all(b >= 0x20 for b in body[:-1])


@settings(max_examples=60, deadline=None)
@given(
    site=st.text(max_size=120),
    department=st.text(max_size=60),
    footer=st.text(max_size=200),
    dots=st.sampled_from([576, 512, 384]),
)
def test_any_view_fits_the_paper(site: str, department: str, footer: str, dots: int) -> None:
    settings_ = dataclasses.replace(T20, dots=dots)
    for op in layout(view(site_name=site, department_name=department, footer=footer), settings_):
        if isinstance(op, Line):
            assert len(op.text) * 12 * op.width <= dots


def test_unknown_profile_names_the_key_and_close_names() -> None:
    with pytest.raises(ConfigError, match=r"printers\.p\.profile: 'TM-T20IIX' .*did you mean TM-T20II"):
        render(view(), dataclasses.replace(T20, profile="TM-T20IIX"))
