"""Settings every test shares. Area fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from nummerlapp.config import load_settings

ROOT = Path(__file__).resolve().parent.parent

# Kivy: no screen, no argument parsing, its own home so no user config leaks in.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="nummerlapp-kivy-"))
# Servers started by tests open no visitors' port unless a test asks (--public-port N): many
# servers run at once here, and the default port (8421) can be had only once.
os.environ.setdefault("NUMMERLAPP_PUBLIC_PORT", "0")


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def example_settings():  # type: ignore[no-untyped-def]
    return load_settings(None)
