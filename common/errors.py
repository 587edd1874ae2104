"""The project's exception tree.

    NummerlappError
    ├── ConfigError          a site file (or setting) is wrong: names file, key and value
    ├── LedgerError          a ledger operation was refused; carries a protocol error code
    │   ├── NotFound         unknown department, counter, ticket or token
    │   ├── Conflict         closed, queue_full, no_current_ticket, counter_paused, ...
    │   └── Forbidden        a token may not do this
    ├── PrinterError         the ticket printer failed (see printer.errors for the subtree)
    └── ServiceUnavailable   a client could not reach the site service

UI code maps these to visitor-facing words at its own edge; nothing below the UI formats
messages for people other than technicians.
"""

from __future__ import annotations


class NummerlappError(Exception):
    """Root of every error Nummerlapp raises on purpose."""


class ConfigError(NummerlappError):
    """A configuration value is wrong. ``str()`` is one line: ``FILE: KEY: problem``."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class LedgerError(NummerlappError):
    """A refused ledger operation. ``code`` is the snake_case code of PROTOCOL.md."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(LedgerError):
    status = 404
    code = "not_found"


class Conflict(LedgerError):
    status = 409
    code = "conflict"


class Forbidden(LedgerError):
    status = 403
    code = "forbidden"


class PrinterError(NummerlappError):
    """The ticket printer failed. printer.errors refines this."""


class ServiceUnavailable(NummerlappError):
    """The site service could not be reached."""
