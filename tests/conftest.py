"""Shared fixtures: a fresh app per test, a signing key made at run time, fixture loaders."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from service import create_app


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fhir_fixtures"
CONFORMANCE = Path(__file__).resolve().parent / "conformance"
TODAY = "2026-11-29"  # the fixtures' T (fhir_fixtures/README.md)
ISSUER = "https://ehr.test.example/"
PUBLIC_BASE_URL = "https://cds.test.example"
FHIR = "https://fhir.example.org/r4"
# The contract's prefetch keys and the resource type each returns (docs/contract.md).
PREFETCH_KEYS = {
    "patient": "Patient",
    "observations": "Observation",
    "conditions": "Condition",
    "medicationRequests": "MedicationRequest",
    "medicationAdministrations": "MedicationAdministration",
    "medicationStatements": "MedicationStatement",
    "procedures": "Procedure",
}

_KEY = ec.generate_private_key(ec.SECP384R1())  # made at run time, never committed
_PUBLIC_JWK = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_KEY.public_key()))
_PUBLIC_JWK.update({"kid": "test-key", "alg": "ES384", "use": "sig"})
JWKS = {"keys": [_PUBLIC_JWK]}


def load(path: Path | str) -> Any:
    """Return the JSON content of a file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def make_token(
    path: str,
    *,
    base_url: str = PUBLIC_BASE_URL,
    key: Any = _KEY,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """Return an ES384 token for the exact URL of `path` (the test issuer and key by default).

    `base_url` is the service's public base URL (a live server's own URL, say); `headers` the
    JOSE header (default `{"kid": "test-key"}`); `claims` add to or replace the usual ones.
    """
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": base_url + path,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="ES384", headers=headers or {"kid": "test-key"})


def signed(path: str, *, base_url: str = PUBLIC_BASE_URL, **claims: Any) -> dict[str, str]:
    """Return an Authorization header with an ES384 token for the exact URL of `path`."""
    return {"Authorization": f"Bearer {make_token(path, base_url=base_url, **claims)}"}


def base_config(**overrides: Any) -> dict[str, Any]:
    """Return the test configuration: JWT on, a static JWKS, the fixtures' date."""
    config: dict[str, Any] = {
        "TESTING": True,
        "REQUIRE_JWT": True,
        "TRUSTED_ISSUERS": {ISSUER: {"jwks": JWKS, "fhir_servers": [FHIR]}},
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TODAY": TODAY,
        "FHIR_TIMEOUT_S": 1.0,
    }
    config.update(overrides)
    return config


@pytest.fixture(name="_database", scope="session", autouse=True)
def _session_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point every in-process app at a database file and an audit key file of this run, not
    the repository's instance folder (a test that needs its own sets DATABASE_URL; live
    servers always do)."""
    folder = tmp_path_factory.mktemp("database")
    url = f"sqlite:///{folder / 'b12cds.sqlite'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("B12CDS_DATABASE_URL", url)
        patch.setenv("B12CDS_AUDIT_KEY_FILE", str(folder / "audit.key"))  # not the repository's
        yield


@pytest.fixture(name="app")
def _app() -> Flask:
    return create_app(base_config())


@pytest.fixture(name="client")
def _client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(name="fhir")
def _fhir() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def post_hook(client: FlaskClient, service_id: str, body: Any) -> Any:
    """POST a hook request, signed for its exact URL, and return the response."""
    url = f"/cds-services/{service_id}"
    return client.post(url, json=body, headers=signed(url))
