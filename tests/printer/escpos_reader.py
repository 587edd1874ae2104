"""A small, independent ESC/POS reader for tests: bytes → what a printer would do.

It knows only the commands our tickets use and fails loudly on anything else, so a test can
check that ``to_escpos`` says exactly what the layout ops say (and so what the preview draws),
without trusting python-escpos or our own encoder. Code pages are decoded with Python's codecs
from the ESC t numbers of Epson's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EPSON_CODEPAGES = {0: "cp437", 2: "cp850", 5: "cp865", 16: "cp1252", 19: "cp858"}


@dataclass
class Printed:
    """One thing the printer does, in order."""

    kind: str  # text | feed | qr | nv_logo | raster | cut
    text: str = ""
    width: int = 1
    height: int = 1
    align: str = "left"
    bold: bool = False
    data: bytes = b""
    lines: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def read(data: bytes, codepages: dict[int, str] = EPSON_CODEPAGES) -> list[Printed]:
    out: list[Printed] = []
    i = 0
    align, width, height, bold = "left", 1, 1, False
    codec = "cp437"
    text = bytearray()
    qr_module = 0

    def need(n: int) -> bytes:
        if i + n > len(data):
            raise ValueError(f"truncated command at {i}")
        return data[i : i + n]

    while i < len(data):
        b = data[i]
        if b == 0x0A:
            out.append(
                Printed("text", text.decode(codec), width, height, align, bold)
                if text
                else Printed("feed", lines=1)
            )
            text.clear()
            i += 1
        elif b >= 0x20:
            text.append(b)
            i += 1
        elif data.startswith(b"\x1b@", i):
            align, width, height, bold, codec = "left", 1, 1, False, "cp437"
            i += 2
        elif data.startswith(b"\x1bt", i):
            codec = codepages[need(3)[2]]
            i += 3
        elif data.startswith(b"\x1ba", i):
            align = {0: "left", 1: "center", 2: "right"}[need(3)[2]]
            i += 3
        elif data.startswith(b"\x1bE", i):
            bold = bool(need(3)[2])
            i += 3
        elif data.startswith(b"\x1d!", i):
            n = need(3)[2]
            width, height = (n >> 4) + 1, (n & 0x0F) + 1
            i += 3
        elif data.startswith(b"\x1bd", i):
            out.append(Printed("feed", lines=need(3)[2]))
            i += 3
        elif data.startswith(b"\x1d(k", i):
            size = int.from_bytes(need(5)[3:5], "little")
            body = need(5 + size)[5:]
            cn, fn = body[0], body[1]
            if (cn, fn) == (0x31, 0x43):
                qr_module = body[2]
            elif (cn, fn) == (0x31, 0x50):
                out.append(Printed("qr", data=body[3:], align=align, extra={"module": qr_module}))
            i += 5 + size
        elif data.startswith(b"\x1d(L", i):
            size = int.from_bytes(need(5)[3:5], "little")
            body = need(5 + size)[5:]
            if body[:2] == b"0E":
                out.append(Printed("nv_logo", data=body[2:4], align=align))
            i += 5 + size
        elif data.startswith(b"\x1cp", i):
            out.append(Printed("nv_logo", data=b"FS p", align=align))
            i += 4
        elif data.startswith(b"\x1dv0", i):
            head = need(8)
            w, h = int.from_bytes(head[4:6], "little"), int.from_bytes(head[6:8], "little")
            out.append(Printed("raster", data=need(8 + w * h)[8:], extra={"width_bytes": w, "height": h}))
            i += 8 + w * h
        elif data.startswith(b"\x1dV", i):
            m = need(3)[2]
            i += 4 if m in (65, 66) else 3
            out.append(Printed("cut"))
        else:
            raise ValueError(f"unexpected byte 0x{b:02x} at {i}: {data[i : i + 8]!r}")
    if text:
        raise ValueError(f"text without a line feed at the end: {bytes(text)!r}")
    return out
