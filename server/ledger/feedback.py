"""Visitors' feedback answers and the boards' "you said, we did" lines: the ledger's side.

:class:`FeedbackOps` is a part of :class:`server.ledger.Ledger` (one of its bases), so every
write runs through the ledger's own transaction (``_tx``: ``BEGIN IMMEDIATE``, or a savepoint of
the writer thread's group commit) like any ticket operation:

- :meth:`FeedbackOps.record_feedback`: the exit terminal's answers (no department, no wait);
  with a :class:`FeedbackKey` (the request's ``Idempotency-Key``) a visit sent again is stored
  once: the key's hash goes into ``feedback_keys`` in the same transaction as the answers;
- :meth:`FeedbackOps.record_follow_feedback`: a phone's answers for the ticket it follows, once
  per ticket and only after the ticket is done; stored with the ticket's department, the hour
  and the wait band, never with its id, number or follow secret (the ticket row only gets
  ``feedback_given = 1``);
- :meth:`FeedbackOps.set_board_messages`: replaces the lines and sends ``site.changed``; and
  :meth:`FeedbackOps.tick` sends one more when a line's end date has passed at the day's turn.

docs/FEEDBACK.md says what a visit is and how answers are counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Conflict, NotFound
from nummerlapp.config.hours import service_day
from nummerlapp.config.model import Settings
from nummerlapp.server.ledger import messages as board_messages
from nummerlapp.server.ledger.models import Event
from nummerlapp.server.ledger.reads import InvalidArgument, follow_hash, looks_like_follow
from nummerlapp.server.ledger.site import SiteOps
from nummerlapp.server.ledger.tx import Clock, Tx

SHORT_WAIT_S = 5 * 60
LONG_WAIT_S = 15 * 60
# An idempotency key is remembered this many service days, then may be deleted (at the next
# keyed write). A terminal resends every 30 s while it reaches the service, so only one switched
# off right after a lost answer, and kept off longer than this (a summer closure), could count
# one visit twice. A row is about 100 bytes: a month of a busy site is a megabyte or two.
KEY_DAYS = 30


@dataclass(frozen=True)
class FeedbackKey:
    """A request's ``Idempotency-Key`` and who sent it (the authenticated token or user).

    The key belongs to its sender: the same key from another sender is another visit. A token of
    an enrolled device stands for the device, so a terminal that joined again (a new token, the
    same device id) still finds the keys it used before."""

    key: str
    sender: Literal["token", "user"]
    sender_id: int


def wait_band(seconds: float) -> P.WaitBand:
    """Under 5 minutes, 5 to 15 minutes (both included), over 15 minutes."""
    if seconds < SHORT_WAIT_S:
        return "under_5"
    return "5_15" if seconds <= LONG_WAIT_S else "over_15"


def check_answers(settings: Settings, answers: Mapping[str, int]) -> dict[str, int]:
    """The answers if every question is the site's and every value on its scale; else 422
    ``unknown_question`` / ``invalid_answer`` (and ``no_answers`` for an empty set)."""
    if not answers:
        raise InvalidArgument("no answers given", code="no_answers")
    for question_id, value in answers.items():
        question = settings.feedback.question(question_id)
        if question is None:
            known = ", ".join(q.id for q in settings.feedback.questions) or "none"
            raise InvalidArgument(
                f"unknown question {question_id!r} (known: {known})", code="unknown_question"
            )
        if not question.accepts(value):
            allowed = "1 to 5" if question.scale == "faces" else "1 (yes) or 0 (no)"
            raise InvalidArgument(
                f"{value!r} is not an answer to {question_id!r} ({allowed})", code="invalid_answer"
            )
    return dict(answers)


class FeedbackOps(SiteOps):
    """Feedback answers and board messages (see the module docstring)."""

    def __init__(self, path: str | Path, settings: Settings, clock: Clock | None = None) -> None:
        super().__init__(path, settings, clock)
        self._messages_shown: list[P.LocalizedText] | None = None  # what the last site.changed carried

    # ----------------------------------------------------------------- answers

    def _hour(self, tx: Tx) -> str:
        """The start of the answer's local hour, stored as UTC (the statistics' hour key)."""
        local = tx.now.astimezone(self.tz).replace(minute=0, second=0, microsecond=0)
        return local.astimezone(dt.UTC).isoformat(timespec="microseconds")

    def _insert(
        self,
        tx: Tx,
        answers: Mapping[str, int],
        lang: str | None,
        source: P.FeedbackSource,
        department: str | None = None,
        band: P.WaitBand | None = None,
    ) -> int:
        rows = [
            (self._hour(tx), tx.day, source, department, band, lang, question, value)
            for question, value in answers.items()
        ]
        self._conn.executemany(
            """INSERT INTO feedback (hour_utc, service_day, source, department, wait_band, lang, question, answer)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        return len(rows)

    def _lang(self, lang: str | None) -> str | None:
        return lang if lang in self.settings.site.languages else None

    def record_feedback(
        self, answers: Mapping[str, int], lang: str | None = None, *, once: FeedbackKey | None = None
    ) -> int:
        """The exit terminal's answers of one visit; returns how many were stored.

        ``once``: the request's idempotency key. A key its sender used before stores nothing and
        returns what the first request stored; the key names the visit, so the repeat is not
        checked against the first body (none is kept: a fingerprint of a visit's answers would
        join them). Otherwise the answers and the key's hash are stored in one transaction, and
        keys older than :data:`KEY_DAYS` are deleted (an index range, usually empty)."""
        if once is None:
            answers = check_answers(self.settings, answers)
            with self._tx() as tx:
                return self._insert(tx, answers, self._lang(lang), "terminal")
        with self._tx() as tx:
            key_hash = self._key_hash(once)
            row = self._conn.execute(
                "SELECT stored FROM feedback_keys WHERE key_hash = ?", (key_hash,)
            ).fetchone()
            if row is not None:
                return int(row[0])
            answers = check_answers(self.settings, answers)
            stored = self._insert(tx, answers, self._lang(lang), "terminal")
            self._conn.execute(
                "INSERT INTO feedback_keys (key_hash, service_day, stored) VALUES (?, ?, ?)",
                (key_hash, tx.day, stored),
            )
            oldest = dt.date.fromisoformat(tx.day) - dt.timedelta(days=KEY_DAYS)
            self._conn.execute("DELETE FROM feedback_keys WHERE service_day < ?", (oldest.isoformat(),))
            return stored

    def _key_hash(self, once: FeedbackKey) -> str:
        """SHA-256 of the sender (its enrolled device, else itself) and the key."""
        sender = f"{once.sender}:{once.sender_id}"
        if once.sender == "token":
            row = self._conn.execute(
                "SELECT id FROM devices WHERE token_id = ? AND enrolled_at IS NOT NULL", (once.sender_id,)
            ).fetchone()
            if row is not None:
                sender = f"device:{row[0]}"
        return hashlib.sha256(json.dumps([sender, once.key]).encode()).hexdigest()

    def record_follow_feedback(self, follow: str, answers: Mapping[str, int], lang: str | None = None) -> int:
        """A phone's answers for the ticket it follows: once (409 ``already_answered``), only
        when done (409 ``not_done``); 404 ``unknown_ticket`` for a secret that opens nothing.
        The ticket is looked at first: a secret that opens nothing is 404 whatever the body."""
        if not looks_like_follow(follow):
            raise _unknown()
        key = follow_hash(follow)
        with self._tx() as tx:
            row = self._conn.execute(
                "SELECT department, status, issued_at, first_called_at, feedback_given, lang FROM tickets "
                "WHERE follow_hash = ?",
                (key,),
            ).fetchone()
            if row is None:
                raise _unknown()
            department, status, issued, first_called, given, ticket_lang = row
            if given:
                raise Conflict("this ticket's feedback was given already", code="already_answered")
            if status != "done":
                raise Conflict("feedback is taken once the visit is done", code="not_done")
            answers = check_answers(self.settings, answers)
            band: P.WaitBand | None = None
            if first_called is not None:
                waited = dt.datetime.fromisoformat(first_called) - dt.datetime.fromisoformat(issued)
                band = wait_band(waited.total_seconds())
            self._conn.execute("UPDATE tickets SET feedback_given = 1 WHERE follow_hash = ?", (key,))
            lang = self._lang(lang) or self._lang(ticket_lang)
            return self._insert(tx, answers, lang, "phone", department, band)

    def feedback_given(self, follow: str) -> bool:
        """Whether the phone of this follow secret answered already (False for an unknown one)."""
        if not looks_like_follow(follow):
            return False
        with self._read():
            row = self._conn.execute(
                "SELECT feedback_given FROM tickets WHERE follow_hash = ?", (follow_hash(follow),)
            ).fetchone()
        return bool(row and row[0])

    # ----------------------------------------------------------------- board messages

    def board_messages(self) -> list[P.BoardMessage]:
        """Every stored line, expired ones included (the managers' page shows them)."""
        with self._read():
            return board_messages.stored(self._conn)

    def set_board_messages(self, messages: list[P.BoardMessage]) -> list[P.BoardMessage]:
        """Replace the lines; ``site.changed`` carries the ones in force today."""
        languages = self.settings.site.languages
        for i, message in enumerate(messages):
            for lang in message.text:
                if lang not in languages:
                    raise InvalidArgument(
                        f"messages[{i}]: {lang!r} is not one of the site's languages ({', '.join(languages)})",
                        code="unknown_language",
                    )
        with self._tx() as tx:
            board_messages.store(self._conn, messages)
            self._cache.pop(("messages", tx.day), None)
            site = self._site(tx.now)
            self._emit(tx, partial(P.SiteChanged, site=site))
            self._messages_shown = list(site.messages or [])
        return list(messages)

    def tick(self) -> list[Event]:
        """The ledger's tick, and a ``site.changed`` when a line's end date passed."""
        events = super().tick()
        day = service_day(self._now(), self.tz)
        with self._read():
            shown = self._board_messages(day)
        if self._messages_shown is None:
            self._messages_shown = list(shown)
        elif shown != self._messages_shown:
            with self._tx() as tx:
                site = self._site(tx.now)
                self._emit(tx, partial(P.SiteChanged, site=site))
                self._messages_shown = list(site.messages or [])
                events.extend(tx.events)
        return events


def _unknown() -> NotFound:
    return NotFound("no such ticket", code="unknown_ticket")
