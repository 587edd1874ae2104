"""Schemathesis against /openapi.json of a real server: no 5xx, answers match the schema, and
refused (4xx) requests leave the ledger unchanged (same snapshot seq).

Each operation is fuzzed with positive and negative cases (a bounded number each, so the test
takes about a minute), once with an admin token and once without one. The schema is loaded from
the running server; schemathesis' ``from_fixture`` loader does not work with this pytest, so the
test drives each operation's hypothesis strategy itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from nummerlapp.tests.server.serverproc import ServerProcess, running_server

EXAMPLES = 30  # per operation and generation mode


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # kiosk interval 0: no 429 noise; every other rule as in production
    yield from running_server(tmp_path_factory.mktemp("fuzz"), kiosk_interval=0.0)


def _operations(server: ServerProcess) -> list[Any]:
    root = server.url.rsplit("/api/v1", 1)[0]
    schema = schemathesis.openapi.from_url(f"{root}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return operations


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_openapi_fuzz(fuzz_server: ServerProcess, mode: GenerationMode) -> None:
    root = fuzz_server.url.rsplit("/api/v1", 1)[0]
    admin = {"Authorization": f"Bearer {fuzz_server.token('admin', name='fuzz')}"}
    operations = _operations(fuzz_server)
    assert len(operations) >= 15  # the whole table plus extensions is in the schema
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=fuzz_server.url, timeout=10) as http:

        def seq() -> int:
            return int(http.get("/state").json()["seq"])

        for operation in operations:
            variants = [admin, None] if "security" in operation.definition.raw else [None]

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def run(case: schemathesis.Case[Any]) -> None:
                for headers in variants:  # noqa: B023 (run() is called in this iteration)
                    before = seq()
                    response = case.call_and_validate(base_url=root, headers=headers, timeout=10)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    assert response.status_code < 500, response.text
                    if 400 <= response.status_code < 500:
                        body = response.json()
                        assert set(body) == {"error"} and body["error"]["code"], body
                        assert seq() == before, (
                            f"{case.method} {case.path} -> {response.status_code} changed state"
                        )

            try:
                run()
            except Unsatisfiable:
                # negative mode has nothing to break in an operation without inputs (health, state)
                assert mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters")
                assert "requestBody" not in operation.definition.raw
    assert statuses, "nothing was sent"
    assert any(400 <= s < 500 for s in statuses)  # the refusals were exercised
