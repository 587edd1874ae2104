"""One real server process per test module (see serverproc.ServerProcess)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from nummerlapp.tests.server.serverproc import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from running_server(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('admin', name='test-admin')}"}


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client
