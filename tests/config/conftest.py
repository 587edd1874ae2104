"""Fixtures for site-file tests: write a site file in a temp working directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def site_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Write text to ``site.toml`` in a temp working directory; return the relative path.

    Relative, so error messages start with exactly ``site.toml:`` as a technician would see them.
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> Path:
        path = Path("site.toml")
        path.write_text(text, encoding="utf-8")
        return path

    return write
