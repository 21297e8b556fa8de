"""JWKS fetches cannot be driven by unauthenticated callers (issue 9, item 6).

A local JWKS endpoint on 127.0.0.1 (a stdlib HTTP server in a thread) counts its requests and can
hang. An issuer configured with its `jku` gets at most one refetch per 5 minutes on unknown
`kid`s, one fetch in flight, a short timeout, and /healthz never waits on a fetch. The refetch
window is passed with an injected monotonic clock, not by waiting.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from service import create_app
from tests.conftest import ISSUER
from tests.conftest import PUBLIC_BASE_URL
from tests.conftest import base_config
from tests.conftest import make_token
from tests.servers import free_port
from tests.servers import live_server


PATH = "/cds-services"
_KEY = ec.generate_private_key(ec.SECP384R1())
_ROTATED = ec.generate_private_key(ec.SECP384R1())


def _jwk(private: Any, kid: str) -> dict[str, Any]:
    key = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    key.update({"kid": kid, "alg": "ES384", "use": "sig"})
    return key


def token(kid: str = "current", key: Any = _KEY, base_url: str = PUBLIC_BASE_URL) -> str:
    """Return an ES384 token for discovery at `base_url`, naming `kid`."""
    return make_token(PATH, base_url=base_url, key=key, headers={"kid": kid})


class JwksEndpoint:
    """A JWKS endpoint on loopback: counts requests; `hang_s` delays every answer."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": [_jwk(_KEY, "current")]}
        self.status = 200
        self.hang_s = 0.0
        self.requests = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with endpoint._lock:
                    endpoint.requests += 1
                endpoint.arrived.set()
                if endpoint.hang_s:
                    endpoint.release.wait(endpoint.hang_s)
                body = json.dumps(endpoint.jwks).encode()
                try:
                    self.send_response(endpoint.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Release hanging answers and stop the server."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="endpoint")
def _endpoint() -> Iterator[JwksEndpoint]:
    endpoint = JwksEndpoint()
    yield endpoint
    endpoint.close()


def _app(endpoint: JwksEndpoint, **overrides: Any) -> Flask:
    issuers = {ISSUER: {"jku": endpoint.url}}
    return create_app(base_config(TRUSTED_ISSUERS=issuers, **overrides))


def _status(app: Flask, kid: str = "current", key: Any = _KEY) -> int:
    headers = {"Authorization": f"Bearer {token(kid, key)}"}
    return int(app.test_client().get(PATH, headers=headers).status_code)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _clock(app: Flask) -> Clock:
    clock = Clock()
    app.extensions["b12cds.auth"]["keys"].clock = clock
    return clock


def test_unknown_kids_from_a_cold_cache_cause_one_fetch(endpoint):
    """20 calls naming unknown kids, no key cached yet: one fetch, 20 refusals."""
    app = _app(endpoint)
    assert [401] * 20 == [_status(app, kid=f"unknown-{i}") for i in range(20)]
    assert 1 == endpoint.requests


def test_unknown_kids_after_a_valid_call_cause_at_most_one_fetch(endpoint):
    """After the first fetch, 20 unknown kids cause at most one more (none within 5 minutes)."""
    app = _app(endpoint)
    assert 200 == _status(app)
    assert [401] * 20 == [_status(app, kid=f"unknown-{i}") for i in range(20)]
    assert endpoint.requests <= 2
    assert 200 == _status(app)  # the cached keys still serve


def test_concurrent_unknown_kids_share_one_fetch(endpoint):
    """20 unknown kids at once while the endpoint is slow: one fetch in flight, no other."""
    endpoint.hang_s = 0.5
    app = _app(endpoint)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda i: _status(app, kid=f"unknown-{i}"), range(20)))
    assert [401] * 20 == answers
    assert 1 == endpoint.requests


def test_calls_during_a_hanging_fetch_are_refused_at_once(endpoint):
    """While one fetch hangs (10 s, timeout 3 s), other calls are refused within 1 s each."""
    endpoint.hang_s = 10
    app = _app(endpoint, FHIR_TIMEOUT_S=3.0, JWKS_TIMEOUT_S=3.0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        hanging = pool.submit(_status, app)
        assert endpoint.arrived.wait(5)
        for i in range(5):
            started = time.monotonic()
            assert 401 == _status(app, kid=f"unknown-{i}")
            assert time.monotonic() - started < 1.0, "a call queued behind the hanging fetch"
        assert 401 == hanging.result(timeout=10)
    assert 1 == endpoint.requests


def test_key_rotation_is_picked_up_once_the_window_allows(endpoint):
    """A new kid at the jku is fetched when 5 minutes have passed since the last fetch."""
    app = _app(endpoint)
    clock = _clock(app)
    assert 200 == _status(app)
    endpoint.jwks = {"keys": [_jwk(_KEY, "current"), _jwk(_ROTATED, "next")]}
    clock.now += 60
    assert 401 == _status(app, kid="next", key=_ROTATED)
    assert 1 == endpoint.requests  # refused without a fetch within the window
    clock.now += 241  # 301 s after the first fetch
    assert 200 == _status(app, kid="next", key=_ROTATED)
    assert 2 == endpoint.requests
    assert 200 == _status(app)  # the old key, still published, still works
    assert 2 == endpoint.requests


def test_cached_keys_expire_after_an_hour(endpoint):
    """The key set is cached for an hour and fetched again after it."""
    app = _app(endpoint)
    clock = _clock(app)
    assert 200 == _status(app)
    clock.now += 3599
    assert 200 == _status(app)
    assert 1 == endpoint.requests
    clock.now += 2
    assert 200 == _status(app)
    assert 2 == endpoint.requests


def test_a_failed_fetch_is_not_retried_at_once(endpoint):
    """A JWKS that could not be fetched is asked again only after a short pause."""
    endpoint.status = 500
    app = _app(endpoint)
    clock = _clock(app)
    assert [401] * 5 == [_status(app) for _ in range(5)]
    assert 1 == endpoint.requests
    endpoint.status = 200
    clock.now += 11
    assert 200 == _status(app)
    assert 2 == endpoint.requests


# ---- a real server ------------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 20) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_healthz_answers_promptly_while_a_jwks_fetch_hangs(tmp_path, endpoint):
    """On a live serve (2 workers, 4 threads each), 16 unauthenticated calls with unknown kids
    while the JWKS endpoint hangs for 10 s: /healthz still answers within 1 s, at most one fetch
    per worker is made, and the other calls are refused at once."""
    endpoint.hang_s = 10
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    variables = {"TRUSTED_ISSUERS": {ISSUER: {"jku": endpoint.url}}, "PUBLIC_BASE_URL": base_url}
    with live_server(tmp_path, port=port, **variables) as server:

        def unknown_kid(i: int) -> tuple[int, float]:
            started = time.monotonic()
            headers = {"Authorization": f"Bearer {token(f'unknown-{i}', base_url=base_url)}"}
            return _get(server.url + PATH, headers), time.monotonic() - started

        with ThreadPoolExecutor(max_workers=16) as pool:
            calls = [pool.submit(unknown_kid, i) for i in range(16)]
            assert endpoint.arrived.wait(10)
            deadline = time.monotonic() + 3  # let the burst land: all but the fetching calls
            while sum(c.done() for c in calls) < 14 and time.monotonic() < deadline:
                time.sleep(0.05)
            started = time.monotonic()
            assert 200 == _get(server.url + "/healthz", timeout=5)
            healthz_s = time.monotonic() - started
            answers = [call.result(timeout=30) for call in calls]
    assert healthz_s < 1.0, f"/healthz took {healthz_s:.1f} s behind the hanging fetch"
    assert [401] * 16 == [status for status, _ in answers]
    assert endpoint.requests <= 2  # one per worker process
    quick = [elapsed for _, elapsed in answers if elapsed < 1.0]
    assert len(quick) >= 16 - endpoint.requests
