"""A visit whose 201 was lost on the way back is sent again and counted once: real parts only.

A real ``main.py server`` process, the exit terminal's real outbox, sender and HTTP client, and
between them a real TCP proxy on 127.0.0.1 that passes every request on and, when told to, reads
the service's whole answer and closes the terminal's connection without it: the service has
committed the visit, the terminal never hears so. The visit is counted through the report the
managers read (``GET /api/v1/stats/feedback``). A file from an older version (no key) through the
same proxy still counts twice, which shows the proxy really loses answers.

The same server is fuzzed on ``POST /feedback`` with a feedback token (tests/server's fuzz uses
an admin token, which that route refuses with 403 before it reads a header): random
``Idempotency-Key`` values get 201 or a clean 4xx, and a 4xx stores nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from nummerlapp.client.api import ApiClient
from nummerlapp.feedback.flow import Visit
from nummerlapp.feedback.outbox import Outbox, Sender
from nummerlapp.server.api.feedback import KEY_RE
from nummerlapp.tests.server.serverproc import SITE_TOML, ServerProcess

QUESTIONS = """
[feedback]

[[feedback.questions]]
id = "overall"
text = { nb = "Hvor fornøyd er du med besøket i dag?", en = "How satisfied are you with your visit today?" }

[[feedback.questions]]
id = "solved"
scale = "yes_no"
text = { nb = "Fikk du hjelp med det du kom for?", en = "Did you get help with what you came for?" }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("feedback-resend")
    site = tmp / "site.toml"
    site.write_text(SITE_TOML.format(kiosk_interval=0.0) + QUESTIONS, encoding="utf-8")
    proc = ServerProcess(site, tmp / "ledger.db")
    proc.start()
    yield proc
    proc.stop()


async def _message(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 request or response (head and Content-Length body); None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


class LossyProxy:
    """A TCP proxy to the service that loses the next ``lose`` answers to ``POST /feedback``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.lose = 0
        self.lost: list[bytes] = []  # the status lines of the answers it lost
        self.posts: list[bytes] = []  # every POST /feedback it passed on, as sent
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        upstream, to_upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            while (request := await _message(client)) is not None:
                to_upstream.write(request)
                await to_upstream.drain()
                answer = await _message(upstream)
                if answer is None:
                    break
                if request.startswith(b"POST /api/v1/feedback "):
                    self.posts.append(request)
                    if self.lose:
                        self.lose -= 1
                        self.lost.append(answer.split(b"\r\n", 1)[0])
                        break  # the service answered; the terminal's connection closes without it
                to_client.write(answer)
                await to_client.drain()
        finally:
            for writer in (to_client, to_upstream):
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


def _key_of(request: bytes) -> str | None:
    for line in request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"idempotency-key":
            return value.strip().decode("ascii")
    return None


def _answers(server: ServerProcess, manager: str) -> dict[str, int]:
    """Answers per question today, as the managers' report counts them."""
    r = httpx.get(
        f"{server.url}/stats/feedback",
        params={"per": "site"},
        headers={"Authorization": f"Bearer {manager}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {t["question"]: t["answers"] for t in r.json()["totals"]}


@pytest.mark.timeout(120)
def test_a_lost_201_is_sent_again_and_counted_once(server: ServerProcess, tmp_path: Path) -> None:
    token = server.token("feedback", name="exit")
    manager = server.token("manager")
    before = _answers(server, manager)

    async def scenario() -> LossyProxy:
        proxy = LossyProxy(server.port)
        port = await proxy.start()
        try:
            async with ApiClient(f"http://127.0.0.1:{port}", token) as api:
                sender = Sender(Outbox(tmp_path / "outbox"), api.give_feedback)
                sender.queue(Visit({"overall": 2, "solved": 0}, "nb"))
                proxy.lose = 1
                assert await sender.flush() == 0  # stored by the service, unheard by the terminal
                assert proxy.lost == [b"HTTP/1.1 201 Created"]
                assert len(sender.outbox.pending()) == 1 and sender.online is False
                assert await sender.flush() == 1  # sent again: 201, the file goes
                assert sender.outbox.pending() == [] and sender.online is True
        finally:
            await proxy.close()
        return proxy

    proxy = asyncio.run(scenario())
    first, again = (_key_of(p) for p in proxy.posts)
    assert first is not None and first == again and KEY_RE.fullmatch(first)
    after = _answers(server, manager)
    assert after.get("overall", 0) == before.get("overall", 0) + 1
    assert after.get("solved", 0) == before.get("solved", 0) + 1


@pytest.mark.timeout(120)
def test_a_keyless_file_through_the_same_loss_still_counts_twice(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The control: an older version's file has no key, so the proxy's lost 201 doubles it."""
    token = server.token("feedback", name="old-exit")
    manager = server.token("manager")
    before = _answers(server, manager)
    box = Outbox(tmp_path / "outbox")
    (box.folder / "00000000000000000001-0badf00d.json").write_text(
        '{"answers":{"overall":5},"lang":"nb"}', encoding="utf-8"
    )

    async def scenario() -> LossyProxy:
        proxy = LossyProxy(server.port)
        port = await proxy.start()
        try:
            async with ApiClient(f"http://127.0.0.1:{port}", token) as api:
                sender = Sender(box, api.give_feedback)
                proxy.lose = 1
                assert await sender.flush() == 0
                assert await sender.flush() == 1
        finally:
            await proxy.close()
        return proxy

    proxy = asyncio.run(scenario())
    assert [_key_of(p) for p in proxy.posts] == [None, None]
    assert _answers(server, manager).get("overall", 0) == before.get("overall", 0) + 2


def _feedback_rows(server: ServerProcess) -> int:
    conn = sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_the_idempotency_key_with_a_feedback_token(server: ServerProcess, mode: GenerationMode) -> None:
    root = server.url.rsplit("/api/v1", 1)[0]
    schema = schemathesis.openapi.from_url(f"{root}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    (operation,) = [o for o in operations if o.method.upper() == "POST" and o.path == "/api/v1/feedback"]
    assert any(p["name"] == "Idempotency-Key" for p in operation.definition.raw["parameters"])
    feedback = {"Authorization": f"Bearer {server.token('feedback', name='fuzz')}"}
    codes: dict[str, int] = {}
    keys: list[Any] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case[Any]) -> None:
        before = _feedback_rows(server)
        # the body's schema cannot say which question is yes/no: {"solved": 3} is schema-valid
        # and refused (422), so "valid data is accepted" is not a check here; the others are
        response = case.call_and_validate(
            base_url=root, headers=feedback, timeout=10, excluded_checks=[positive_data_acceptance]
        )
        keys.append(case.headers.get("Idempotency-Key") if case.headers else None)
        assert response.status_code == 201 or 400 <= response.status_code < 500, response.text
        if response.status_code != 201:  # 401 for a broken token, 422 for a key or a body
            body = response.json()
            assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
            codes[body["error"]["code"]] = codes.get(body["error"]["code"], 0) + 1
            assert _feedback_rows(server) == before, "a refused request stored answers"

    run()
    assert any(k is not None for k in keys), "the header was never fuzzed"


# What a client's HTTP library sends as a header value (h11: no CR, LF, NUL or DEL, nothing
# around the value), as bytes: printable ASCII, tabs, spaces and Latin-1's upper half.
_SENDABLE = st.text(
    alphabet=st.sampled_from(["\t", *map(chr, range(0x20, 0x7F)), *map(chr, range(0x80, 0x100))]),
    max_size=110,
).filter(lambda v: v == v.strip(" \t"))


@pytest.mark.timeout(300)
def test_any_key_over_http_is_201_once_or_a_clean_422(server: ServerProcess) -> None:
    """The header rule itself, over real HTTP with a valid body: a key of the rule stores the
    visit once (201 every time), any other value is 422 ``invalid_idempotency_key`` and stores
    nothing."""
    secret = server.token("feedback", name="keys")
    seen: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=10) as http:

        @given(key=st.one_of(st.from_regex(KEY_RE, fullmatch=True), _SENDABLE))
        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(key: str) -> None:
            before = _feedback_rows(server)
            headers = [
                (b"Authorization", f"Bearer {secret}".encode()),
                (b"Idempotency-Key", key.encode("latin-1")),
            ]
            r = http.post("/feedback", json={"answers": {"overall": 4}}, headers=headers)
            if KEY_RE.fullmatch(key):
                assert r.status_code == 201 and r.json() == {"stored": 1}, (key, r.text)
                assert _feedback_rows(server) == before + (key not in seen)
                seen.add(key)
            else:
                assert r.status_code == 422, (key, r.text)
                assert r.json()["error"]["code"] == "invalid_idempotency_key"
                assert _feedback_rows(server) == before

        run()
    assert seen, "no valid key was tried"
