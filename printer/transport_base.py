"""What every printer connection shares: the ``Transport`` protocol, ``Job``, deadlines, options.

``deadline`` is an absolute ``time.monotonic()`` value: every call returns or raises a typed
error (printer.errors) by then, so a stalled printer never hangs the kiosk. (A serial status
query waits additionally for bytes still queued in the UART; ``wire_s(n)``, where a transport
has it, is the time ``n`` bytes need on its wire, which callers add to write deadlines.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.model import PrinterSettings
from nummerlapp.printer import status as st
from nummerlapp.printer.status import PrinterStatus

if TYPE_CHECKING:
    from nummerlapp.printer.layout import Op


@dataclass(frozen=True)
class Job:
    """What a write is: ``name`` (``<number>-<id>``) and the ops, for backends that keep a preview."""

    name: str
    ops: tuple[Op, ...] = ()


class Transport(Protocol):
    kind: str

    def write(self, data: bytes, deadline: float, job: Job | None = None) -> None: ...

    def status(self, deadline: float) -> PrinterStatus: ...

    def close(self) -> None: ...


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def query_timeout(deadline: float) -> float:
    """Split what is left of a status deadline over the three queries."""
    return max(0.02, min(st.DEFAULT_QUERY_TIMEOUT_S, remaining(deadline) / 3))


# ------------------------------------------------------------------------------------ options


def opt(settings: PrinterSettings, key: str, kind: type, default: Any = None, required: bool = False) -> Any:
    value = settings.options.get(key, default)
    where = f"printers.{settings.id}.options.{key}"
    if value is None:
        if required:
            raise ConfigError("site file", where, f"is required for a {settings.type} printer")
        return None
    if kind is int and isinstance(value, str):
        try:
            value = int(value, 0)  # "0x04b8" as well as "1208"
        except ValueError:
            raise ConfigError("site file", where, f"{value!r} is not a whole number") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError("site file", where, f"{value!r} is not a {kind.__name__}")
    return value
