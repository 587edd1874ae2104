"""Visitor feedback and the boards' "you said, we did" lines (PROTOCOL.md v1.1, "Visitor feedback").

- :class:`BoardMessage`: one line as ``PUT /site/messages`` takes it and the manager's page reads
  it back: the text per language (``{"nb": "…", "en": "…"}``) and optionally ``"until":
  "YYYY-MM-DD"``, the last day it is shown. The snapshot's ``site.messages`` carries only the
  lines in force today, without ``until`` (:meth:`BoardMessage.text`).
- :class:`BoardMessagesAnswer`: the answer to ``PUT`` and ``GET /site/messages``.
- :class:`FeedbackAnswer`: the answer to ``POST /feedback`` and ``POST /follow/{follow}/feedback``.
- :class:`FeedbackReport` and its rows: ``GET /stats/feedback``.

Answers are integers: a five-face question takes 1 (worst) to 5 (best), a yes/no question 1
(yes) or 0 (no). The request body is :class:`~.bodies.FeedbackBody`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, RootModel, model_validator

from nummerlapp.common.protocol.base import LocalizedText, Wire

UNTIL = "until"  # the one key of a board message that is not a language
_LANG = re.compile(r"[a-z]{2,3}")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
MAX_MESSAGES = 20
MAX_MESSAGE_CHARS = 300

Scale = Literal["faces", "yes_no"]
WaitBand = Literal["under_5", "5_15", "over_15"]
WAIT_BANDS: tuple[WaitBand, ...] = ("under_5", "5_15", "over_15")
FeedbackSource = Literal["terminal", "phone"]


_TEXT_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS}
_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a text per language (2-3 lowercase letters, the site's languages), and "
    "optionally `until`: the last day shown (YYYY-MM-DD)",
    "properties": {UNTIL: {"type": "string", "format": "date"}},
    "patternProperties": {"^[a-z]{2,3}$": _TEXT_SCHEMA},
    "additionalProperties": False,
    "minProperties": 1,
    "not": {"required": [UNTIL], "maxProperties": 1},  # a date alone is not a message
}


class BoardMessage(RootModel[dict[str, str]]):
    """``{"nb": "…", "sv": "…", "en": "…", "until"?: "YYYY-MM-DD"}``: one "you said, we did" line.

    Every key but ``until`` is a language code (2–3 lowercase letters) with a non-empty text of
    at most 300 characters; at least one text is given. (/openapi.json says the same.)
    """

    model_config = ConfigDict(frozen=True, json_schema_extra=lambda schema: _replace(schema, _MESSAGE_SCHEMA))

    @model_validator(mode="after")
    def _check(self) -> BoardMessage:
        texts = 0
        for key, value in self.root.items():
            if key == UNTIL:
                if not _DAY.fullmatch(value):
                    raise ValueError(f"until must be a date like 2026-12-31, not {value!r}")
                dt.date.fromisoformat(value)  # a ValueError for 2026-02-30
                continue
            if not _LANG.fullmatch(key):
                raise ValueError(f"{key!r} is not a language code (2-3 lowercase letters) nor 'until'")
            if not value:
                raise ValueError(f"the {key} text is empty")
            if len(value) > MAX_MESSAGE_CHARS:
                raise ValueError(f"the {key} text is longer than {MAX_MESSAGE_CHARS} characters")
            texts += 1
        if not texts:
            raise ValueError("a message needs a text in at least one language")
        return self

    @property
    def text(self) -> LocalizedText:
        """The text per language (``until`` left out): what a board shows."""
        return {k: v for k, v in self.root.items() if k != UNTIL}

    @property
    def until(self) -> dt.date | None:
        """The last day the line is shown (None: until it is taken away)."""
        value = self.root.get(UNTIL)
        return None if value is None else dt.date.fromisoformat(value)

    def in_force(self, day: dt.date) -> bool:
        until = self.until
        return until is None or day <= until


def _replace(schema: dict[str, Any], new: dict[str, Any]) -> None:
    schema.clear()
    schema.update(new)


class BoardMessagesAnswer(Wire):
    """``PUT`` / ``GET /site/messages``: every stored line, expired ones included (the page shows them)."""

    messages: list[BoardMessage]


class FeedbackAnswer(Wire):
    """``POST /feedback`` and ``POST /follow/{follow}/feedback`` → 201: how many answers were stored."""

    stored: int


class FeedbackQuestion(Wire):
    """A question as the report names it."""

    id: str
    scale: Scale
    text: LocalizedText


class FeedbackRow(Wire):
    """Answers to one question in one period (and department, when split by department).

    ``mean`` is the average answer (faces 1–5; yes/no: the share of "yes", 0–1); ``counts`` the
    number of each answer (``"1"`` … ``"5"``, or ``"0"``/``"1"``); ``department`` is null for the
    exit terminal's answers (they have none) and in site-wide rows.
    """

    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset({"department"})
    period: str
    start: str
    question: str
    department: str | None = None
    answers: int
    mean: float | None
    counts: dict[str, int]


class WaitBandRow(Wire):
    """Phone answers to one question by the visit's wait band: do long waits give worse answers?"""

    question: str
    band: WaitBand
    answers: int
    mean: float | None


class FeedbackReport(Wire):
    """``GET /api/v1/stats/feedback``."""

    site: str
    from_: str = Field(alias="from")
    to: str
    by: str
    per: str
    timezone: str
    questions: list[FeedbackQuestion]
    rows: list[FeedbackRow]
    totals: list[FeedbackRow] = Field(description="per question over the whole period, every source")
    by_wait: list[WaitBandRow]
