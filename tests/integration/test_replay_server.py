"""Replay protection on a real `b12-cds serve` with its default workers and no REDIS_URL.

The jti replay store is the embedded database (DATABASE_URL, a SQLite file in `tmp_path` here):
a token accepted by one worker is refused by every other, and still refused after a restart on
the same database. Each request goes over a fresh connection, so the workers share the calls.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from tests.conftest import ISSUER
from tests.conftest import JWKS
from tests.conftest import signed
from tests.servers import free_port
from tests.servers import live_server


PATH = "/cds-services"  # discovery: signed like every call, and cheap
TOKENS = 30


def _status(url: str, headers: dict[str, str]) -> int:
    """Return the HTTP status of a GET over a fresh connection."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def _variables(base_url: str) -> dict[str, object]:
    return {
        "TRUSTED_ISSUERS": {ISSUER: {"jwks": JWKS}},
        "PUBLIC_BASE_URL": base_url,
    }


def test_every_replay_is_refused_across_workers_and_restarts(tmp_path):
    """30 tokens each sent twice: every first use is accepted, every replay refused; after a
    restart on the same database every old token is still refused."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    tokens = [signed(PATH, base_url=base_url) for _ in range(TOKENS)]
    with live_server(tmp_path, port=port, **_variables(base_url)) as server:
        first = [_status(server.url + PATH, headers) for headers in tokens]
        replayed = [_status(server.url + PATH, headers) for headers in tokens]
        fresh = _status(server.url + PATH, signed(PATH, base_url=base_url))
    assert [200] * TOKENS == first
    assert [401] * TOKENS == replayed, f"{replayed.count(200)} of {TOKENS} replays accepted"
    assert 200 == fresh
    with live_server(tmp_path, name="restarted", port=port, **_variables(base_url)) as server:
        after_restart = [_status(server.url + PATH, headers) for headers in tokens]
        fresh = _status(server.url + PATH, signed(PATH, base_url=base_url))
    assert [401] * TOKENS == after_restart
    assert 200 == fresh
