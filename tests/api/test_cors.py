"""CORS for browser CDS clients such as the CDS Hooks Sandbox, only for CORS_ORIGINS."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed


SANDBOX = "https://sandbox.cds-hooks.org"
OTHER = "https://evil.example"
URL = "/cds-services/b12-patient-view"
BODY = load(FIXTURES / "hooks" / "b12-patient-view" / "ex04-normal-pmol.json")
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.fixture(name="cors_client")
def _cors_client() -> FlaskClient:
    return create_app(base_config(CORS_ORIGINS=[SANDBOX])).test_client()


def allowed_headers(value: str | None) -> set[str]:
    """Return the lower-cased names in an Access-Control-Allow-Headers value."""
    return {name.strip().lower() for name in (value or "").split(",") if name.strip()}


@pytest.mark.parametrize(
    "url", [URL, "/cds-services", "/cds-services/b12-order-sign/feedback", "/healthz"]
)
def test_preflight_from_an_allowed_origin_is_granted_without_a_token(cors_client, url):
    """A preflight from a configured origin is 200 and allows Authorization and Content-Type."""
    rv = cors_client.options(url, headers={"Origin": SANDBOX, **PREFLIGHT})
    assert 200 == rv.status_code
    assert SANDBOX == rv.headers.get("Access-Control-Allow-Origin")
    assert {"authorization", "content-type"} <= allowed_headers(
        rv.headers.get("Access-Control-Allow-Headers")
    )
    assert "POST" in rv.headers.get("Access-Control-Allow-Methods", "")


def test_call_from_an_allowed_origin_carries_the_origin(cors_client):
    """A signed call from a configured origin is answered with Access-Control-Allow-Origin."""
    headers = {"Origin": SANDBOX, **signed(URL)}
    rv = cors_client.post(URL, json=BODY, headers=headers)
    assert 200 == rv.status_code
    assert SANDBOX == rv.headers.get("Access-Control-Allow-Origin")


def test_error_to_an_allowed_origin_is_readable(cors_client):
    """A 401 to a configured origin carries Access-Control-Allow-Origin, so the page can read it."""
    rv = cors_client.post(URL, json=BODY, headers={"Origin": SANDBOX})
    assert 401 == rv.status_code
    assert SANDBOX == rv.headers.get("Access-Control-Allow-Origin")


def test_other_origin_gets_no_cors_grant(cors_client):
    """A call or preflight from an origin not configured gets no Access-Control-Allow-Origin."""
    preflight = cors_client.options(URL, headers={"Origin": OTHER, **PREFLIGHT})
    call = cors_client.post(URL, json=BODY, headers={"Origin": OTHER, **signed(URL)})
    assert 200 == call.status_code
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in call.headers


def test_no_cors_without_configured_origins(client):
    """With CORS_ORIGINS unset no answer carries Access-Control-Allow-Origin."""
    preflight = client.options(URL, headers={"Origin": SANDBOX, **PREFLIGHT})
    call = client.post(URL, json=BODY, headers={"Origin": SANDBOX, **signed(URL)})
    assert 200 == call.status_code
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in call.headers
