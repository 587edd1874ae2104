"""The ledger's site and device operations: opening-hour overrides, hour changes, device reports.

Owns: ``set_site_open`` (the manual override for the rest of the service day), ``tick`` (events
when the opening hours, not an operation, opened or closed something), the open flags it compares,
and the devices table (``report_device``, ``identify``). Each is one transaction of
:mod:`server.ledger.tx`; :class:`server.ledger.Ledger` inherits them unchanged.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import NotFound
from nummerlapp.config.model import Settings
from nummerlapp.server.ledger.models import Event
from nummerlapp.server.ledger.reads import InvalidArgument, db_time
from nummerlapp.server.ledger.tx import Clock, Transactions, Tx

DEVICE_ROLES = ("kiosk", "board", "display", "server", "desk", "printer", "feedback")
MAX_ID_LEN = 64
MAX_STATUS_BYTES = 4096


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
        raise InvalidArgument(f"{what} must be a non-empty string of at most {MAX_ID_LEN} characters")
    return value


class SiteOps(Transactions):
    """Site-wide and device operations of the ledger (see module docstring)."""

    def __init__(self, path: str | Path, settings: Settings, clock: Clock | None = None) -> None:
        super().__init__(path, settings, clock)
        self._all_deps = tuple(d.id for d in settings.departments)

    def set_site_open(self, open: bool | None) -> None:
        """Override the hours for the rest of this service day (None: back to the hours)."""
        if open is not None and not isinstance(open, bool):
            raise InvalidArgument("open must be true, false or null")
        with self._tx() as tx:
            if open is None:
                self._conn.execute("DELETE FROM site_state WHERE key = 'override'")
            else:
                self._conn.execute(
                    "INSERT OR REPLACE INTO site_state (key, value) VALUES ('override', ?)",
                    (json.dumps({"day": tx.day, "open": open}),),
                )
            self._cache.pop(("override", tx.day), None)
            site, deps = self._site(tx.now), self._department_states(self._all_deps, tx.now)
            self._emit(tx, partial(P.SiteChanged, site=site, departments=deps))
            self._open_flags = self._current_open_flags(tx)

    def report_device(
        self,
        device_id: str,
        role: str,
        status: P.DeviceReport | dict[str, Any],
        name: str | None = None,
    ) -> P.Device:
        """A device's heartbeat / status: upserts ``devices`` and emits ``device.status``.

        ``status`` is the protocol's device report (a dict is read as one: version, printer)."""
        _check_id(device_id, "device id")
        if role not in DEVICE_ROLES:
            raise InvalidArgument(f"role must be one of {', '.join(DEVICE_ROLES)}")
        if isinstance(status, dict):
            unknown = set(status) - set(P.DeviceReport.model_fields)
            if unknown:
                raise InvalidArgument(f"unknown status keys: {', '.join(sorted(map(str, unknown)))}")
            try:
                status = P.DeviceReport.model_validate(status)
            except ValidationError as exc:
                raise InvalidArgument(f"status is not a device report: {exc.errors()[0]['msg']}") from None
        if not isinstance(status, P.DeviceReport):
            raise InvalidArgument("status must be an object")
        if name is not None and (not isinstance(name, str) or len(name) > 100):
            raise InvalidArgument("name must be a string of at most 100 characters")
        status_json = status.encode_json()
        if len(status_json.encode()) > MAX_STATUS_BYTES:
            raise InvalidArgument(f"status is larger than {MAX_STATUS_BYTES} bytes")
        with self._tx() as tx:
            self._conn.execute(
                """INSERT INTO devices (id, role, name, status, last_seen) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                       name = COALESCE(excluded.name, devices.name), status = excluded.status,
                       last_seen = excluded.last_seen""",
                (device_id, role, name, status_json, db_time(tx.now)),
            )
            device = self._device_row(device_id)
            assert device is not None
            self._emit(tx, partial(P.DeviceStatus, device=device))
        return device

    def identify(self, device_id: str) -> None:
        """Ask a device to make itself known (blink, show its id): a ``device.identify`` event."""
        _check_id(device_id, "device id")
        with self._tx() as tx:
            if self._device_row(device_id) is None:
                raise NotFound(f"unknown device {device_id!r}", code="unknown_device")
            target = P.DeviceRef(id=device_id)
            self._emit(tx, partial(P.DeviceIdentify, device=target))

    identify_device = identify

    def use_settings(self, settings: Settings, version: str = "") -> None:
        """A reloaded site file (issue 13): reads, hours and counters follow it from now on; the
        boards get ``site.changed`` (open flags, figures) and every device ``config.changed``."""
        with self._tx() as tx:
            self._derive(settings)
            self._all_deps = tuple(d.id for d in settings.departments)
            self._conn.executemany(
                "INSERT OR IGNORE INTO counters (id, state) VALUES (?, 'open')",
                [(c.id,) for c in settings.counters],
            )
            site, deps = self._site(tx.now), self._department_states(self._all_deps, tx.now)
            self._emit(tx, partial(P.SiteChanged, site=site, departments=deps))
            self._emit(tx, partial(P.ConfigChanged, version=version))
            self._open_flags = self._current_open_flags(tx)

    def announce_config(self, version: str) -> None:
        """``config.changed``: a device's own settings changed (renamed, another zone)."""
        with self._tx() as tx:
            self._emit(tx, partial(P.ConfigChanged, version=version))

    def tick(self) -> list[Event]:
        """Call about once a minute: rolls the day over and emits ``site.changed`` /
        ``department.changed`` when opening hours (not an operation) opened or closed something."""
        with self._tx() as tx:
            flags = self._current_open_flags(tx)
            if flags != self._open_flags:
                if flags.get("") != self._open_flags.get(""):
                    site = self._site(tx.now)
                    self._emit(tx, partial(P.SiteChanged, site=site))
                for dep in self.settings.departments:
                    if flags.get(dep.id) != self._open_flags.get(dep.id):
                        changed = self._department_wire(dep, tx.now)
                        self._emit(tx, partial(P.DepartmentChanged, department=changed))
                self._open_flags = flags
            events = list(tx.events)
        return events

    def _current_open_flags(self, tx: Tx) -> dict[str, bool]:
        override = self._override(tx.day)
        flags = {"": self._hours.site_open(tx.now, override)}
        for dep in self.settings.departments:
            flags[dep.id] = self._hours.department_open(
                dep.id, tx.now, override, self._department_override(tx.day, dep.id)
            )
        return flags
