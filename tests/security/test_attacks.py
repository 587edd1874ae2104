"""Issue 14's attacks against a real server process on loopback, each asserting the fix.

The server runs with ``ulimit -n 1024`` (conftest.py), the file limit under which 1,100
half-open connections used to make every desk's ``next`` fail.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from nummerlapp.tests.security.conftest import PASSWORD, Target

HALF_OPEN = 1100


def _raise_own_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


def _half_open(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that each send half a request and then hold it (one process, raw)."""
    held = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex(("127.0.0.1", port))
            held.append(s)
        except OSError:
            s.close()
    time.sleep(0.3)
    for s in held:
        with contextlib.suppress(OSError):
            s.send(b"GET /api/v1/state HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return held


def test_desk_next_answers_while_1100_half_open_connections_are_held(hardened: Target) -> None:
    _raise_own_file_limit(HALF_OPEN + 200)
    staff = {"Authorization": f"Bearer {hardened.token('staff', '1')}"}
    with httpx.Client(base_url=hardened.base + "/api/v1", timeout=10) as http:
        for _ in range(3):
            assert (
                http.post("/tickets", json={"department": "nav"}, headers=hardened.admin).status_code == 201
            )
    held = _half_open(hardened.port, HALF_OPEN)
    try:
        time.sleep(0.5)  # the server has accepted (and capped) them
        for _ in range(3):
            started = time.monotonic()
            with httpx.Client(base_url=hardened.base + "/api/v1", timeout=5) as fresh:  # a new connection
                answer = fresh.post("/counters/1/next", headers=staff)
            took = time.monotonic() - started
            assert answer.status_code == 200, answer.text
            assert took < 1.0, f"next took {took:.2f} s"
        assert hardened.proc.poll() is None
    finally:
        for s in held:
            s.close()
    assert "idle closed to make room" in hardened.log_text()  # said once, not per connection


def test_a_half_sent_request_is_cut_off(hardened: Target) -> None:
    s = socket.create_connection(("127.0.0.1", hardened.public_port))
    try:
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        s.settimeout(15)
        started = time.monotonic()
        assert s.recv(100) == b""  # closed by the server (the visitors' port allows 5 s)
        assert time.monotonic() - started < 8
    finally:
        s.close()


def test_a_5_mb_body_answers_413_without_being_read(hardened: Target) -> None:
    kiosk = hardened.token("kiosk")
    s = socket.create_connection(("127.0.0.1", hardened.port))
    try:
        head = (
            "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {kiosk}\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n"
        )
        s.sendall(head.encode())  # the headers only: the answer comes before any of the body
        s.settimeout(5)
        raw = b""
        while chunk := s.recv(4096):  # the server closes after answering
            raw += chunk
        answer = raw.decode()
        assert answer.startswith("HTTP/1.1 413"), answer
        assert '"too_large"' in answer and "connection: close" in answer.lower()
    finally:
        s.close()
    big = b'{"department": "nav", "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    for path in ("/api/v1/tickets", "/desk/api/tickets", "/tech/api/tokens", "/desk/signin"):
        with httpx.Client(timeout=20) as http:
            try:
                res = http.post(
                    hardened.base + path, content=big, headers={"Authorization": f"Bearer {kiosk}"}
                )
            except httpx.TransportError:  # closed while we were still sending: also "not read"
                continue
            assert res.status_code == 413, (path, res.text)

    def chunks() -> Any:  # no Content-Length: counted as it comes
        for _ in range(100):
            yield b"a" * 1024

    res = httpx.post(
        hardened.base + "/api/v1/tickets", content=chunks(), headers={"Authorization": f"Bearer {kiosk}"}
    )
    assert res.status_code == 413


def _page_csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path, follow_redirects=True).text
    for marker in ('name="csrf-token" content="', 'name="csrf" value="'):
        if marker in page:
            return page.split(marker, 1)[1].split('"', 1)[0]
    raise AssertionError(f"no CSRF token on {path}")


def _sign_in(target: Target, signin_form: Any, username: str, password: str) -> httpx.Client:
    client: httpx.Client
    client, csrf = signin_form(target.base)
    res = client.post(
        "/desk/signin", data={"csrf": csrf, "username": username, "password": password, "next": "/desk"}
    )
    assert res.status_code == 303, res.text[:300]
    return client


def test_200_parallel_wrong_passwords_get_at_most_10_checks(hardened: Target, signin_form: Any) -> None:
    before = hardened.log_text().count("sign-in check #")
    client, csrf = signin_form(hardened.base)
    cookies = dict(client.cookies)

    def attempt(i: int) -> int:
        password = PASSWORD if i == 150 else f"wrong-{i}"  # the right one in the same burst
        with httpx.Client(base_url=hardened.base, cookies=cookies, timeout=60) as c:
            return c.post(
                "/desk/signin", data={"csrf": csrf, "username": "desk1", "password": password}
            ).status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(attempt, range(200)))
    time.sleep(0.5)
    checks = hardened.log_text().count("sign-in check #") - before
    assert checks <= 10, checks  # docs/WEB.md: 10 per address per minute, parallel or not
    assert statuses.count(429) >= 190 and 303 not in statuses
    assert set(statuses) <= {401, 429}


def test_an_old_cookie_is_refused_after_sign_out(
    tmp_path_factory: pytest.TempPathFactory, signin_form: Any
) -> None:
    from nummerlapp.tests.security.conftest import start, stop  # noqa: PLC0415  # a server of its own: fresh limits

    target = start(tmp_path_factory.mktemp("signout"), nofile_1024=False)
    try:
        client = _sign_in(target, signin_form, "desk1", PASSWORD)
        saved = dict(client.cookies)
        assert client.get("/desk/counter").status_code in (200, 303)
        csrf = _page_csrf(client, "/desk/counter")
        assert client.post("/desk/signout", data={"csrf": csrf}).status_code == 303
        with httpx.Client(base_url=target.base, cookies=saved, timeout=10) as thief:
            res = thief.get("/desk")
            assert res.status_code == 303 and "/desk/signin" in res.headers["location"]
            refused = thief.post(
                "/desk/api/counters/1/pause", json={"key": "k" * 16}, headers={"X-CSRF-Token": csrf}
            )
            assert refused.status_code == 401

        # a password change ends every session of that user
        again = _sign_in(target, signin_form, "desk1", PASSWORD)
        assert again.get("/desk/counter").status_code in (200, 303)
        done = target.cli("user", "passwd", "desk1", "--password-stdin", stdin="another good password\n")
        assert done.returncode == 0, done.stderr
        res = again.get("/desk/counter")
        assert res.status_code == 303 and "/desk/signin" in res.headers["location"]
    finally:
        stop(target)


def test_bad_bodies_on_page_apis_are_4xx(hardened: Target, signin_form: Any) -> None:
    client = _sign_in(hardened, signin_form, "boss", PASSWORD)
    csrf = _page_csrf(client, "/tech")
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    deep = b"[" * 2000 + b"]" * 2000
    surrogate_name = b'{"role": "kiosk", "name": "\\ud800"}'
    surrogate_password = b'{"username": "desk9", "password": "abcdefghij\\udfff", "role": "staff"}'
    bodies = [
        ("/desk/api/tickets", deep),
        ("/tech/api/tokens", deep),
        ("/tech/api/tokens", b'{"a":' * 2000 + b"1" + b"}" * 2000),
        ("/tech/api/tokens", surrogate_name),
        ("/tech/api/users", surrogate_password),
        ("/desk/api/counters/1/next", deep),
    ]
    for path, body in bodies:
        res = client.post(path, content=body, headers=headers)
        assert 400 <= res.status_code < 500, (path, res.status_code, res.text[:200])
    api = {**hardened.admin, "Content-Type": "application/json"}
    for path, body in (
        ("/api/v1/tickets", deep),
        ("/api/v1/devices/k1/status", b'{"role": "kiosk", "name": "\\ud800"}'),
    ):
        res = httpx.post(hardened.base + path, content=body, headers=api)
        assert 400 <= res.status_code < 500, (path, res.status_code, res.text[:200])
    res = client.post(
        "/desk/signin",
        content=b"csrf=x&username=desk1&password=%ED%A0%80",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= res.status_code < 500

    # {"counter": 5} is refused, never read as "no counter" (a token valid at every counter)
    wrong: tuple[object, ...] = (5, True, [], {"id": "1"})
    for counter in wrong:
        res = client.post("/tech/api/tokens", json={"role": "staff", "counter": counter}, headers=headers)
        assert res.status_code == 422, (counter, res.text)
    assert "server error" not in hardened.log_text().lower() and "Traceback" not in hardened.log_text()


def test_device_reports_cannot_flood_the_desks(hardened: Target) -> None:
    kiosk = {"Authorization": f"Bearer {hardened.token('kiosk', name='flood')}"}
    report = {"role": "kiosk", "printer": {"state": "paper_end"}}
    with httpx.Client(base_url=hardened.base + "/api/v1", timeout=10) as http:
        seq = http.get("/state").json()["seq"]
        codes = [
            http.post(f"/devices/fake-{i}/status", json=report, headers=kiosk).status_code for i in range(300)
        ]
        assert codes[:4] == [200] * 4 and set(codes[4:]) == {403}
        same = [
            http.post("/devices/fake-0/status", json=report, headers=kiosk).status_code for _ in range(50)
        ]
        assert set(same) == {200}  # a heartbeat saying the same: answered, not written
        assert http.get("/state").json()["seq"] - seq <= 4  # four device.status events at most
        devices = http.get("/devices", headers=hardened.admin).json()["devices"]
        assert len([d for d in devices if d["id"].startswith("fake-")]) == 4


def test_ledger_files_are_owner_only(hardened: Target) -> None:
    httpx.post(hardened.base + "/api/v1/tickets", json={"department": "nav"}, headers=hardened.admin)
    found = [p for p in hardened.db.parent.iterdir() if p.name.startswith(hardened.db.name)]
    names = {p.name for p in found}
    assert {hardened.db.name, hardened.db.name + "-wal", hardened.db.name + "-shm"} <= names, names
    for path in found:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_file():
            assert mode & 0o077 == 0, f"{path.name} is {oct(mode)}"


def test_docs_are_served_from_the_appliance(hardened: Target) -> None:
    page = httpx.get(hardened.base + "/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert httpx.get(f"{hardened.base}/static/docs/{asset}").status_code == 200
    assert httpx.get(hardened.base + "/redoc").status_code == 200


def test_health_and_state_stay_small(hardened: Target) -> None:
    health = httpx.get(hardened.public + "/api/v1/health").json()
    assert health["status"] == "ok" and "tls_sha256" not in health  # plain HTTP here
    assert set(health) == {"status", "version", "site"}
