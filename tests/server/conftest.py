"""One real server process per test module (see serverproc.ServerProcess)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nummerlapp.tests.server.serverproc import ServerProcess, write_site


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("server")
    proc = ServerProcess(write_site(tmp / "site.toml"), tmp / "ledger.db")
    # Ledger file and schema first, so tokens can be made before the server starts, too.
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('admin', name='test-admin')}"}


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client
