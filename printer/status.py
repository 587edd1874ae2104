"""Printer status from ``DLE EOT n`` real-time queries, with a short deadline.

Why our own and not python-escpos' ``paper_status()``: that one reports "paper OK" when the
printer does not answer at all, and its reads wait the whole serial timeout. Here "no answer"
is ``unknown`` (never ``ok``), and every query has a deadline of a few hundred milliseconds.

``DLE EOT n`` (``10 04 n``) is answered even when the printer is offline. Each answer is one
byte whose bits 0, 1, 4 and 7 are fixed (``xxx1 xx10``); a byte that does not match is not a
status answer and makes the result ``unknown``.

- n=1 printer status: bit 3 offline.
- n=2 offline cause: bit 2 cover open, bit 5 stopped at paper end, bit 6 error.
- n=4 roll paper sensor: bits 2-3 paper near end, bits 5-6 paper end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from nummerlapp.common.protocol import PrinterState

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"
QUERY_PAPER = DLE_EOT + b"\x04"
QUERIES = (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_PAPER)

DEFAULT_QUERY_TIMEOUT_S = 0.25
NOT_CONNECTED = "not connected: "


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself. ``ok`` means: it answered, and a ticket can print now.

    ``paper_near_end`` does not clear ``ok`` (the roll still has paper) but is reported so staff
    change the roll in time. ``unknown`` means the printer did not answer (or answered nonsense):
    it is never ``ok``.
    """

    ok: bool = False
    paper_near_end: bool = False
    paper_end: bool = False
    cover_open: bool = False
    offline: bool = False
    unknown: bool = True
    detail: str = ""

    @classmethod
    def unknown_status(cls, detail: str) -> PrinterStatus:
        return cls(ok=False, unknown=True, detail=detail)

    @classmethod
    def not_connected(cls, detail: str) -> PrinterStatus:
        """The device is not there at all (unplugged, wrong port, host down): offline, and known to be."""
        return cls(ok=False, offline=True, unknown=False, detail=NOT_CONNECTED + detail)

    @property
    def not_found(self) -> bool:
        """True for :meth:`not_connected` statuses (the device itself is missing)."""
        return self.offline and self.detail.startswith(NOT_CONNECTED)

    @classmethod
    def fine(cls, detail: str = "") -> PrinterStatus:
        return cls(ok=True, unknown=False, detail=detail)

    @property
    def summary(self) -> PrinterState:
        """One of the protocol's printer-state words for logs and the device status: the most
        serious condition."""
        order: tuple[PrinterState, ...] = ("unknown", "paper_end", "cover_open", "offline", "paper_near_end")
        for name in order:
            if getattr(self, name):
                return name
        return "ok"

    def to_dict(self) -> dict[str, object]:
        """For ``ledger.report_device`` / the ``device.status`` event."""
        data: dict[str, object] = asdict(self)
        data["summary"] = self.summary
        return data

    def __str__(self) -> str:
        return f"{self.summary}" + (f" ({self.detail})" if self.detail else "")


def _valid(byte: int) -> bool:
    return (byte & 0b1001_0011) == 0b0001_0010


def decode(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """Turn the three answer bytes (n=1, 2, 4) into a status; invalid bytes give ``unknown``."""
    for name, byte in (("n=1", printer), ("n=2", offline_cause), ("n=4", paper)):
        if not _valid(byte):
            return PrinterStatus.unknown_status(f"not a status answer to DLE EOT {name}: 0x{byte:02x}")
    offline = bool(printer & 0x08)
    cover_open = bool(offline_cause & 0x04)
    error = bool(offline_cause & 0x40)
    paper_end = bool(paper & 0x60) or bool(offline_cause & 0x20)
    near_end = bool(paper & 0x0C)
    details = []
    if error:
        details.append("printer error")
    if offline and not (cover_open or paper_end or error):
        details.append("offline")
    return PrinterStatus(
        ok=not (offline or cover_open or paper_end or error),
        paper_near_end=near_end,
        paper_end=paper_end,
        cover_open=cover_open,
        offline=offline or error,
        unknown=False,
        detail=", ".join(details),
    )


ReadByte = Callable[[float], "int | None"]  # deadline (time.monotonic) -> byte or None
Send = Callable[[bytes, float], None]  # data, deadline
Drain = Callable[[], None]  # throw away bytes already received (stale answers, ASB)


def query(
    send: Send,
    read_byte: ReadByte,
    drain: Drain,
    timeout_s: float = DEFAULT_QUERY_TIMEOUT_S,
    first_extra_s: float = 0.0,
) -> PrinterStatus:
    """Ask n=1, 2 and 4 in turn; each answer must arrive within ``timeout_s``.

    ``first_extra_s`` is the time the bytes still queued before the first query need on the
    wire (a ticket just written at 9600 baud): the answer cannot come sooner.

    The first missing answer stops the round (a printer that does not answer n=1 will not answer
    n=2 either) and gives ``unknown``: a printer without a return line costs one timeout, not three.
    """
    drain()
    answers: list[int] = []
    for i, q in enumerate(QUERIES):
        # The first query may queue behind a ticket still on the wire (``first_extra_s``).
        deadline = time.monotonic() + timeout_s + (first_extra_s if i == 0 else 0.0)
        send(q, deadline)
        byte = read_byte(deadline)
        if byte is None:
            return PrinterStatus.unknown_status(
                f"no answer to DLE EOT {q[2]} within {timeout_s * 1000:.0f} ms"
            )
        answers.append(byte)
    return decode(*answers)
