"""A small, independent ESC/POS reader for tests: bytes → what a printer would do.

It knows only the commands our tickets use and fails loudly on anything else, so a test can
check that ``to_escpos`` says exactly what the layout ops say (and so what the preview draws),
without trusting python-escpos or our own encoder. Code pages are decoded with Python's codecs
from the ESC t numbers of Epson's table.
"""

from __future__ import annotations

from collections.abc import Callable
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


class _Reader:
    """The printer's state while reading; one method per command, each returning its length."""

    def __init__(self, data: bytes, codepages: dict[int, str]) -> None:
        self.data, self.codepages = data, codepages
        self.out: list[Printed] = []
        self.i = 0
        self.align, self.width, self.height, self.bold = "left", 1, 1, False
        self.codec = "cp437"
        self.text = bytearray()
        self.qr_module = 0
        self.commands: list[tuple[bytes, Callable[[], int]]] = [
            (b"\x1b@", self.init),
            (b"\x1bt", self.codepage),
            (b"\x1ba", self.justify),
            (b"\x1bE", self.emphasis),
            (b"\x1d!", self.size),
            (b"\x1bd", self.feed),
            (b"\x1d(k", self.qr),
            (b"\x1d(L", self.graphics),
            (b"\x1cp", self.legacy_logo),
            (b"\x1dv0", self.raster),
            (b"\x1dV", self.cut),
        ]

    def need(self, n: int) -> bytes:
        if self.i + n > len(self.data):
            raise ValueError(f"truncated command at {self.i}")
        return self.data[self.i : self.i + n]

    def line_feed(self) -> int:
        if self.text:
            self.out.append(
                Printed("text", self.text.decode(self.codec), self.width, self.height, self.align, self.bold)
            )
        else:
            self.out.append(Printed("feed", lines=1))
        self.text.clear()
        return 1

    def init(self) -> int:
        self.align, self.width, self.height, self.bold, self.codec = "left", 1, 1, False, "cp437"
        return 2

    def codepage(self) -> int:
        self.codec = self.codepages[self.need(3)[2]]
        return 3

    def justify(self) -> int:
        self.align = {0: "left", 1: "center", 2: "right"}[self.need(3)[2]]
        return 3

    def emphasis(self) -> int:
        self.bold = bool(self.need(3)[2])
        return 3

    def size(self) -> int:
        n = self.need(3)[2]
        self.width, self.height = (n >> 4) + 1, (n & 0x0F) + 1
        return 3

    def feed(self) -> int:
        self.out.append(Printed("feed", lines=self.need(3)[2]))
        return 3

    def _body(self) -> bytes:
        size = int.from_bytes(self.need(5)[3:5], "little")
        return self.need(5 + size)[5:]

    def qr(self) -> int:
        body = self._body()
        cn, fn = body[0], body[1]
        if (cn, fn) == (0x31, 0x43):
            self.qr_module = body[2]
        elif (cn, fn) == (0x31, 0x50):
            self.out.append(Printed("qr", data=body[3:], align=self.align, extra={"module": self.qr_module}))
        return 5 + len(body)

    def graphics(self) -> int:
        body = self._body()
        if body[:2] == b"0E":
            self.out.append(Printed("nv_logo", data=body[2:4], align=self.align))
        return 5 + len(body)

    def legacy_logo(self) -> int:
        self.out.append(Printed("nv_logo", data=b"FS p", align=self.align))
        return 4

    def raster(self) -> int:
        head = self.need(8)
        w, h = int.from_bytes(head[4:6], "little"), int.from_bytes(head[6:8], "little")
        self.out.append(
            Printed("raster", data=self.need(8 + w * h)[8:], extra={"width_bytes": w, "height": h})
        )
        return 8 + w * h

    def cut(self) -> int:
        m = self.need(3)[2]
        self.out.append(Printed("cut"))
        return 4 if m in (65, 66) else 3

    def step(self) -> int:
        b = self.data[self.i]
        if b == 0x0A:
            return self.line_feed()
        if b >= 0x20:
            self.text.append(b)
            return 1
        for prefix, command in self.commands:
            if self.data.startswith(prefix, self.i):
                return command()
        raise ValueError(f"unexpected byte 0x{b:02x} at {self.i}: {self.data[self.i : self.i + 8]!r}")


def read(data: bytes, codepages: dict[int, str] = EPSON_CODEPAGES) -> list[Printed]:
    reader = _Reader(data, codepages)
    while reader.i < len(data):
        reader.i += reader.step()
    if reader.text:
        raise ValueError(f"text without a line feed at the end: {bytes(reader.text)!r}")
    return reader.out
