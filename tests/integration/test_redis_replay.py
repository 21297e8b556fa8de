"""Replay protection shared by two app instances through a real Redis server (REDIS_URL).

The tests start `redis-server` on a free loopback port (`.ci/run` installs it). A token accepted
by one instance is refused by the other; Redis holds only a hash of issuer and `jti`, expiring
with the token; an unreachable Redis refuses calls rather than skipping the check.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from service import create_app
from service.auth import RedisReplayCache
from tests.conftest import FIXTURES
from tests.conftest import ISSUER
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed


URL = "/cds-services/b12-patient-view"
BODY = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(name="redis_url", scope="module")
def _redis_url() -> Iterator[str]:
    """Start a throw-away redis-server on loopback; CI must have it (it installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; .ci/run installs it")
        pytest.skip("redis-server is not installed here (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(name="two_instances")
def _two_instances(redis_url: str) -> Iterator[tuple[object, object]]:
    redis.Redis.from_url(redis_url).flushdb()
    first = create_app(base_config(REDIS_URL=redis_url)).test_client()
    second = create_app(base_config(REDIS_URL=redis_url)).test_client()
    yield first, second


def test_token_used_on_one_instance_is_refused_on_the_other(two_instances):
    """The same jti is good for one call across every instance sharing the Redis server."""
    first, second = two_instances
    headers = signed(URL)
    assert 200 == first.post(URL, json=BODY, headers=headers).status_code
    assert 401 == second.post(URL, json=BODY, headers=headers).status_code
    assert 401 == first.post(URL, json=BODY, headers=headers).status_code


def test_fresh_tokens_pass_on_both_instances(two_instances):
    """Different jti values are independent: each instance accepts its own fresh token."""
    first, second = two_instances
    assert 200 == first.post(URL, json=BODY, headers=signed(URL)).status_code
    assert 200 == second.post(URL, json=BODY, headers=signed(URL)).status_code


def test_redis_holds_a_hash_that_expires_with_the_token(two_instances, redis_url):
    """Only a hash of issuer and jti is stored, with a TTL of the token's remaining life."""
    first, _ = two_instances
    jti = "jti-under-test-1"
    headers = signed(URL, jti=jti, exp=int(time.time()) + 120)
    assert 200 == first.post(URL, json=BODY, headers=headers).status_code
    store = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in store.keys("*")]
    assert [RedisReplayCache.key(ISSUER, jti)] == keys
    assert jti not in keys[0] and headers["Authorization"][7:] not in keys[0]
    assert 120 < store.ttl(keys[0]) <= 120 + 60 + 2  # lifetime plus the clock-skew leeway


def test_unreachable_redis_refuses_calls_and_reports_degraded():
    """With Redis down the replay check cannot run, so calls get 401 and /healthz says so."""
    app = create_app(base_config(REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0"))
    client = app.test_client()
    assert 401 == client.post(URL, json=BODY, headers=signed(URL)).status_code
    health = client.get("/healthz").get_json()
    assert "degraded" == health["status"]
    assert "unavailable" == health["checks"]["replay_cache"]
