"""The ticket ledger: every ticket, counter and event of the site in one SQLite file.

- ``operations.py``: :class:`Ledger`, the ticket operations (issue, next, recall, done, transfer, …);
- ``tx.py``: transactions, group commit (``batch()``), events and listeners;
- ``site.py``: site override, opening-hour ticks, device reports;
- ``reads.py``: the reads shared with :class:`LedgerReader` (read-only, any thread or process);
- ``schema.py``: connections, pragmas, migrations; ``models.py``: ``Ticket``, ``Event``,
  ``CounterState``; ``estimate.py``: wait estimate. Opening hours and service days are
  ``config.hours`` (pure rules over the site file, which the kiosk reads too).

Import the public names from here (``from server.ledger import Ledger, BatchAborted``). They are
loaded on first use, so importing the package does not pull in the SQLite machinery.
docs/LEDGER.md describes states, numbering, ordering and durability.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nummerlapp.server.ledger.models import CounterState, Event, Ticket
    from nummerlapp.server.ledger.operations import Ledger
    from nummerlapp.server.ledger.reads import InvalidArgument, LedgerReader
    from nummerlapp.server.ledger.site import DEVICE_ROLES, MAX_ID_LEN, MAX_STATUS_BYTES
    from nummerlapp.server.ledger.tx import BatchAborted, Clock, Listener

_EXPORTS = {
    "BatchAborted": "tx",
    "Clock": "tx",
    "CounterState": "models",
    "DEVICE_ROLES": "site",
    "Event": "models",
    "InvalidArgument": "reads",
    "Ledger": "operations",
    "LedgerReader": "reads",
    "Listener": "tx",
    "MAX_ID_LEN": "site",
    "MAX_STATUS_BYTES": "site",
    "Ticket": "models",
}

__all__ = [
    "DEVICE_ROLES",
    "MAX_ID_LEN",
    "MAX_STATUS_BYTES",
    "BatchAborted",
    "Clock",
    "CounterState",
    "Event",
    "InvalidArgument",
    "Ledger",
    "LedgerReader",
    "Listener",
    "Ticket",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
