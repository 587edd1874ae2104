"""The boards' "you said, we did" lines as the ledger keeps them (``site_state`` key ``board_messages``).

Plain functions over a connection, shared by the reads (the snapshot's ``site.messages``:
server/ledger/reads.py) and the operation that replaces them (server/ledger/feedback.py).
The lines are stored as ``PUT /site/messages`` took them (:class:`~nummerlapp.common.protocol.BoardMessage`,
``until`` included); the snapshot carries only those in force on the service day, text only.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from nummerlapp.common import protocol as P

KEY = "board_messages"


def stored(conn: sqlite3.Connection) -> list[P.BoardMessage]:
    """Every stored line, in order, expired ones included."""
    row = conn.execute("SELECT value FROM site_state WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return []
    return [P.BoardMessage.model_validate(m) for m in json.loads(row[0])]


def store(conn: sqlite3.Connection, messages: list[P.BoardMessage]) -> None:
    """Replace the lines (inside the caller's transaction)."""
    if not messages:
        conn.execute("DELETE FROM site_state WHERE key = ?", (KEY,))
        return
    value = json.dumps([m.root for m in messages], ensure_ascii=False, separators=(",", ":"))
    conn.execute("INSERT OR REPLACE INTO site_state (key, value) VALUES (?, ?)", (KEY, value))


def in_force(messages: list[P.BoardMessage], day: dt.date) -> list[P.LocalizedText]:
    """The texts a board shows on ``day``: lines whose ``until`` has not passed."""
    return [m.text for m in messages if m.in_force(day)]
