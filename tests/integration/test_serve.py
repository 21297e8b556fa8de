"""`b12-cds serve` itself, as a client meets it: slow clients, limits, start-up (issue 9).

Each test starts the real command on a free loopback port (tests/servers.py) and talks raw
HTTP/1.1 to it, so what is checked is what the server does, not what the Flask test client does.
The timeouts are shortened by setting (`CLIENT_HEADER_TIMEOUT_S`, `CLIENT_BODY_TIMEOUT_S`); the
waits below are bounds on correctness (the server answered, the connection was dropped), never
performance assertions.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.conftest import ISSUER
from tests.conftest import JWKS
from tests.conftest import TODAY
from tests.conftest import load
from tests.conftest import make_token
from tests.servers import environment
from tests.servers import free_port
from tests.servers import live_server


pytestmark = pytest.mark.integration

PATH = "/cds-services/b12-patient-view"
BODY = json.dumps(
    load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
).encode()
SLOW = 64  # connections of each kind: half-sent headers, stalled bodies
TIMEOUT_S = 2  # the header and body timeouts the servers here run with
CORS_ORIGIN = "https://ehr.example"


def _issuer_settings(url: str) -> dict[str, Any]:
    return {
        "TRUSTED_ISSUERS": {ISSUER: {"jwks": JWKS}},
        "PUBLIC_BASE_URL": url,
        "TODAY": TODAY,
        "CLIENT_HEADER_TIMEOUT_S": TIMEOUT_S,
        "CLIENT_BODY_TIMEOUT_S": TIMEOUT_S,
        "CORS_ORIGINS": [CORS_ORIGIN],
    }


def _token(url: str, path: str = PATH, **claims: Any) -> str:
    """Return a token (the test key) for the exact URL of the live server called."""
    return make_token(path, base_url=url, **claims)


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One `b12-cds serve` with its defaults (2 workers), JWT on, a static-JWKS issuer."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    with live_server(tmp, port=port, **_issuer_settings(f"http://127.0.0.1:{port}")) as running:
        yield running


def raw(port: int, data: bytes, timeout_s: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send bytes on a fresh connection; return the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(body) >= length[0]:
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def post(port: int, body: bytes, headers: dict[str, str], path: str = PATH) -> bytes:
    """Return the bytes of a POST with `Connection: close` (and a Content-Length, unless the
    headers give the framing)."""
    if not {"Content-Length", "Transfer-Encoding"} & set(headers):
        headers = {**headers, "Content-Length": str(len(body))}
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


def chunked(body: bytes, size: int = 65536) -> bytes:
    """Return a body in chunked transfer coding."""
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def assert_outcome(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    """The answer is the service's JSON OperationOutcome with the expected status."""
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json"), headers
    assert json.loads(body)["resourceType"] == "OperationOutcome"


# --- item 5: slow clients ---------------------------------------------------------------------


def _open_slow(port: int) -> list[tuple[str, socket.socket]]:
    slow = []
    for kind in ("header", "body"):
        for _ in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            start = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            if kind == "body":
                start += "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            sock.sendall(start.encode())
            slow.append((kind, sock))
    return slow


def test_other_clients_are_answered_while_128_connections_stall(server):
    """64 half-sent header blocks and 64 stalled bodies hold no thread: others get answers."""
    slow = _open_slow(server.port)
    try:
        time.sleep(0.5)
        for _ in range(10):
            with urllib.request.urlopen(server.url + "/healthz", timeout=5) as answer:
                assert 200 == answer.status
            token = _token(server.url)
            status, _, body = raw(
                server.port,
                post(
                    server.port,
                    BODY,
                    {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                ),
                timeout_s=5,
            )
            assert 200 == status, body[:300]
            assert json.loads(body)["cards"]
    finally:
        for _, sock in slow:
            sock.close()


def test_slow_connections_are_dropped_after_the_timeouts(server):
    """A stalled header block is cut at the header timeout, a stalled body gets 408 JSON."""
    slow = _open_slow(server.port)
    try:
        deadline = time.monotonic() + TIMEOUT_S * 4
        for kind, sock in slow:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            answer = b""
            while chunk := sock.recv(65536):  # a timeout here fails the test: not dropped
                answer += chunk
            if kind == "body":
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 408"), answer[:200]
                assert json.loads(body)["resourceType"] == "OperationOutcome"
    finally:
        for _, sock in slow:
            sock.close()


def test_healthz_answers_while_every_thread_waits_on_a_hanging_fhir_server(tmp_path):
    """12 hook calls that wait on a FHIR server that never answers (up to FHIR_TIMEOUT_S each)
    hold every worker thread; /healthz has its own and answers at once."""
    from tests.faultserver import fault_server

    body = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
    del body["prefetch"]["observations"]
    with fault_server() as fault:
        fault.route("/fhir/", "hang", for_s=30)
        body["fhirServer"] = fault.url("/fhir")
        body["fhirAuthorization"] = {"access_token": "t0ken", "token_type": "Bearer"}
        data = json.dumps(body).encode()
        settings = {"TODAY": TODAY, "FHIR_TIMEOUT_S": 4}
        with live_server(tmp_path, "--dev", **settings) as running:
            headers = {"Content-Type": "application/json"}
            pool = ThreadPoolExecutor(max_workers=12)
            calls = [
                pool.submit(raw, running.port, post(running.port, data, headers), 15)
                for _ in range(12)
            ]
            time.sleep(1.0)  # every call is waiting on the FHIR server now
            assert not any(call.done() for call in calls)
            started = time.monotonic()
            with urllib.request.urlopen(running.url + "/healthz", timeout=10) as answer:
                assert 200 == answer.status
            assert time.monotonic() - started < 1.5, "healthz queued behind the hook calls"
            assert all(412 == call.result()[0] for call in calls)
            pool.shutdown()


# --- item 9: limits answer in the right shape ---------------------------------------------------


def test_a_16_kib_token_is_accepted(server):
    """A valid token of 16 KiB (an EHR's claims can be large) reaches the service: 200."""
    token = _token(server.url, pad="x" * 11_500)
    assert 15_000 < len(token) <= 16 * 1024
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, _, body = raw(server.port, post(server.port, BODY, headers))
    assert 200 == status, body[:300]


def test_a_header_block_over_the_limit_is_a_json_431(server):
    """Headers past MAX_HEADER_BYTES (32 KiB by default) get a JSON OperationOutcome."""
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + "a" * 40_000}
    assert_outcome(*raw(server.port, post(server.port, BODY, headers)), 431)


def test_a_header_block_past_the_read_buffer_is_refused(server):
    """Past twice MAX_HEADER_BYTES granian itself refuses (431, bare): a connection's header
    block cannot take more memory than that."""
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + "a" * 200_000}
    status, _, _ = raw(server.port, post(server.port, BODY, headers))
    assert 431 == status


def test_a_chunked_body_over_the_limit_is_a_json_413(server):
    """6 MiB sent chunked (no Content-Length) is refused as too large, not as bad JSON."""
    big = b'{"hook": "patient-view", "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    headers = {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "Authorization": f"Bearer {_token(server.url)}",
    }
    assert_outcome(*raw(server.port, post(server.port, chunked(big), headers)), 413)


def test_a_declared_length_over_the_limit_is_a_json_413_before_the_body(server):
    """A Content-Length over MAX_CONTENT_LENGTH is refused at once: no byte of it is sent."""
    headers = {"Content-Type": "application/json", "Content-Length": str(6 * 1024 * 1024)}
    assert_outcome(*raw(server.port, post(server.port, b"", headers)), 413)


def test_a_chunked_body_under_the_limit_is_read(server):
    """A hook request sent chunked gets its cards, like one with a Content-Length."""
    headers = {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "Authorization": f"Bearer {_token(server.url)}",
    }
    status, _, body = raw(server.port, post(server.port, chunked(BODY, 1000), headers))
    assert 200 == status, body[:300]
    assert json.loads(body)["cards"]


@pytest.mark.parametrize(
    ("payload", "expected"), [(BODY, 200), (b'{"hook": ', 400)], ids=["valid", "malformed"]
)
def test_chunked_with_a_content_length_is_read_as_chunked(server, payload, expected):
    """Both framings: Transfer-Encoding wins (RFC 9112 section 6.3); the answer is JSON."""
    headers = {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "Content-Length": "5",
        "Authorization": f"Bearer {_token(server.url)}",
    }
    status, answer_headers, body = raw(server.port, post(server.port, chunked(payload), headers))
    assert status == expected, body[:300]
    assert answer_headers["content-type"].startswith("application/json")
    if expected == 400:
        assert_outcome(status, answer_headers, body, 400)


@pytest.mark.parametrize(
    "framing",
    [{"Content-Length": "12abc"}, {"Content-Length": "5, 6"}],
    ids=["not-a-number", "two-lengths"],
)
def test_a_request_with_unreadable_framing_is_400_and_reaches_nothing(server, framing):
    """granian refuses framing it cannot parse itself (a bare 400), before any Python runs."""
    headers = {"Content-Type": "application/json", **framing}
    status, _, _ = raw(server.port, post(server.port, b"12345", headers))
    assert 400 == status


def test_a_refusal_by_the_server_carries_the_cors_grant(server):
    """A browser client (the Sandbox) reads a 413 from the server, not a CORS error."""
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(6 * 1024 * 1024),
        "Origin": CORS_ORIGIN,
    }
    status, answer_headers, body = raw(server.port, post(server.port, b"", headers))
    assert_outcome(status, answer_headers, body, 413)
    assert CORS_ORIGIN == answer_headers["access-control-allow-origin"]
    other = {**headers, "Origin": "https://elsewhere.example"}
    _, other_headers, _ = raw(server.port, post(server.port, b"", other))
    assert "access-control-allow-origin" not in other_headers


# --- item 10: start-up ----------------------------------------------------------------------------


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_start_up_warnings_once_per_server_and_fields_as_json(tmp_path):
    """With 2 workers, each warning is printed once; `app created` carries a JSON object."""
    with live_server(tmp_path, "--dev", "--today", TODAY, "--workers", "2") as running:
        time.sleep(1.0)  # both workers are up (healthz answered) and have logged what they log
        text = running.log()
    lines = _json_lines(text)
    messages = [line["message"] for line in lines]
    assert 1 == sum(m.startswith("REQUIRE_JWT is false") for m in messages), text
    assert 1 == sum(m.startswith("TODAY is set") for m in messages), text
    created = [line for line in lines if line["message"] == "app created"]
    assert 1 == len(created), text
    assert isinstance(created[0]["auth"], dict)
    assert created[0]["auth"]["require_jwt"] is False


def test_two_instances_share_no_path(tmp_path):
    """Two servers on one machine create no file outside their database; stopping one leaves
    the other answering."""
    home = tmp_path / "home"
    home.mkdir()
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    with live_server(first_dir, "--dev", env={"HOME": str(home)}) as first:
        with live_server(second_dir, "--dev", env={"HOME": str(home)}) as second:
            first.stop()
            with urllib.request.urlopen(second.url + "/healthz", timeout=5) as answer:
                assert 200 == answer.status
    assert [] == sorted(p.name for p in home.rglob("*"))


def test_serve_without_trusted_issuers_refuses_to_start(tmp_path):
    """JWT on and no issuer would refuse every call: `serve` says so in one line and stops."""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(free_port())],
        cwd=Path(__file__).resolve().parents[2],
        env=environment({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 2 == result.returncode
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert lines[0].startswith("b12-cds: cannot start: B12CDS_TRUSTED_ISSUERS")
    assert "--dev" in lines[0]
