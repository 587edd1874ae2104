"""The site file in force on the server, and the one place it can change (server/api/config_api.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nummerlapp.common.errors import ConfigError
from nummerlapp.config.loader import EMBEDDED, EMBEDDED_LABEL, parse_settings
from nummerlapp.config.model import Settings


@dataclass(frozen=True)
class SiteFile:
    """A checked site file: settings, its tables, its version, where it came from."""

    settings: Settings
    data: dict[str, Any]
    version: str
    path: Path | None  # None: the embedded example site

    @classmethod
    def read(cls, path: Path | None) -> SiteFile:
        """Read and check in full; raises :class:`ConfigError` (file, key, problem)."""
        label = EMBEDDED_LABEL if path is None else str(path)
        try:
            raw = (EMBEDDED if path is None else path).read_bytes()
        except OSError as exc:
            raise ConfigError(label, "", f"cannot read the site file: {exc.strerror or exc}") from None
        settings = parse_settings(raw, label)
        data = tomllib.loads(raw.decode("utf-8"))
        return cls(settings, data, hashlib.sha256(raw).hexdigest()[:16], path)

    @classmethod
    def of(cls, settings: Settings) -> SiteFile:
        """The file the server started with (its tables read again; the settings kept as given)."""
        path = None if settings.source == EMBEDDED_LABEL else Path(settings.source)
        if path is not None and not path.is_file():
            path = None  # settings made in code (tests): serve the embedded site's tables
        try:
            found = cls.read(path)
        except ConfigError:
            found = cls.read(None)
        return dataclasses.replace(found, settings=settings)


@dataclass
class SiteHolder:
    """The one mutable place the settings in force live (``Services.site``)."""

    current: SiteFile
    restart: list[str] = field(default_factory=list)  # keys waiting for a restart
    problem: str | None = None  # the latest refused reload, for the technician page
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def settings(self) -> Settings:
        return self.current.settings

    @property
    def version(self) -> str:
        return self.current.version
