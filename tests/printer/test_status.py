"""DLE EOT answers decoded bit by bit (Epson's ESC/POS reference, real-time status)."""

from __future__ import annotations

import pytest

from nummerlapp.printer.status import PrinterStatus, decode, query


@pytest.mark.parametrize(
    ("n1", "n2", "n4", "expected"),
    [
        (0x12, 0x12, 0x12, "ok"),
        (0x12, 0x12, 0x1E, "paper_near_end"),  # bits 2-3: near end
        (0x12, 0x12, 0x16, "paper_near_end"),  # one near-end sensor bit is enough
        (0x1A, 0x32, 0x72, "paper_end"),  # offline, stopped at paper end, sensor says end
        (0x12, 0x12, 0x72, "paper_end"),  # sensor alone
        (0x1A, 0x16, 0x12, "cover_open"),
        (0x1A, 0x12, 0x12, "offline"),
        (0x1A, 0x52, 0x12, "offline"),  # error: offline with detail
    ],
)
def test_decode(n1: int, n2: int, n4: int, expected: str) -> None:
    status = decode(n1, n2, n4)
    assert status.summary == expected
    assert not status.unknown
    assert status.ok == (expected in ("ok", "paper_near_end"))


def test_error_bit_is_named() -> None:
    assert decode(0x1A, 0x52, 0x12).detail == "printer error"


@pytest.mark.parametrize("bad", [0x00, 0xFF, 0x13, 0x92, 0x10])
def test_bytes_that_are_not_status_answers_are_unknown(bad: int) -> None:
    status = decode(0x12, bad, 0x12)
    assert status.unknown and not status.ok
    assert "n=2" in status.detail


def test_query_stops_at_first_silence_and_never_says_ok() -> None:
    sent: list[bytes] = []
    answers = iter([0x12])

    status = query(
        lambda q, deadline: sent.append(q),
        lambda deadline: next(answers, None),
        lambda: None,
        timeout_s=0.01,
    )
    assert sent == [b"\x10\x04\x01", b"\x10\x04\x02"]  # n=4 never asked after n=2 went unanswered
    assert status.unknown and not status.ok and status.summary == "unknown"


def test_status_dict_for_device_reports() -> None:
    d = PrinterStatus(ok=True, paper_near_end=True, unknown=False).to_dict()
    assert d["summary"] == "paper_near_end" and d["ok"] is True and d["paper_end"] is False
