"""The protocol's building blocks: the two model bases, shared words, times and names.

Two bases, one per direction of trust (shared/PROTOCOL.md, "Clients ignore keys … they do not know"):

- :class:`Wire` for what the service sends: frozen, unknown keys ignored (a newer service may add
  some), every known key checked. ``encode()`` gives the JSON-able dict, ``encode_json()`` the text.
  Keys named in ``OMIT_UNSET`` are optional on the wire: left out unless they were given (so
  ``next_open`` is absent while a site is open, ``follow`` absent outside the issue answer).
- :class:`Body` for what the service accepts: unknown keys refused, strings bounded, so bad
  input is a 422 before any work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

API_PREFIX = "/api/v1"  # every path of the contract lives under it
EVENTS_PATH = API_PREFIX + "/events"
PROTOCOL_VERSION = "1.1"
DEFAULT_PORT = 8420

TicketStatus = Literal["waiting", "called", "serving", "parked", "done", "no_show", "void"]
CounterStateWord = Literal["open", "paused"]
# The printer-state words, for printer/, the kiosk, the server and the desk pages alike.
PrinterState = Literal["ok", "paper_near_end", "paper_end", "cover_open", "offline", "unknown"]
PRINTER_STATES: tuple[PrinterState, ...] = get_args(PrinterState)
# states in which no ticket can be printed (``unknown`` may print: many printers never answer)
PRINTER_FAULTS: frozenset[PrinterState] = frozenset({"paper_end", "cover_open", "offline"})
DeviceRole = Literal["kiosk", "board", "display", "feedback"]  # what a device may call itself
DeviceSource = Literal["report", "socket", "mdns", "enrolment"]

Id = Annotated[str, Field(min_length=1, max_length=64)]
Instant = Annotated[str, Field(description="ISO 8601 with the site's UTC offset, to the second")]
LocalizedText = dict[str, str]  # language code -> text


def iso(value: dt.datetime | None) -> str | None:
    """An instant as the wire writes it: ISO 8601 to the second with the value's own offset."""
    return None if value is None else value.isoformat(timespec="seconds")


def label(names: Mapping[str, str], lang: str, fallback: str = "en", default: str = "") -> str:
    """A name in the visitor's language, else in ``fallback``, else any, else ``default``."""
    return names.get(lang) or names.get(fallback) or next(iter(names.values()), default)


class Wire(BaseModel):
    """What the service sends (see the module docstring)."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True, defer_build=True
    )
    OMIT_UNSET: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self.OMIT_UNSET and isinstance(data, dict):
            for key in self.OMIT_UNSET - self.model_fields_set:
                data.pop(key, None)
        return data

    def encode(self) -> dict[str, Any]:
        """The JSON-able dict of this shape, exactly as it goes on the wire."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data

    def encode_json(self) -> str:
        """The JSON text (compact, UTF-8 characters kept)."""
        return self.model_dump_json(by_alias=True)


class Body(BaseModel):
    """A request body the service accepts: unknown keys refused, strings bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def encode(self) -> dict[str, Any]:
        """The JSON-able dict a client sends (unset optional keys left out)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return data
