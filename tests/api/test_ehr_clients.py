"""Tokens shaped like the real CDS clients' are accepted; an http FHIR server needs its own entry.

- The CDS Hooks Sandbox signs every call with ES384, a `kid` and a `jku` pointing at its
  well-known JWKS, `iss` https://sandbox.cds-hooks.org and `aud` the exact URL called.
- Epic signs with RS384, `kid` and `jku`, and sends `sub` (its client id) and `nbf`.
- An Oracle Health-style issuer configured with a static JWKS (no `jku` in the token header).

Each test key is made at run time; the issuer's JWKS is served by the `responses` mock at the
allowlisted URL, as the real issuer would serve it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import PUBLIC_BASE_URL
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import make_token
from tests.conftest import post_hook
from tests.conftest import signed


URL = "/cds-services/b12-patient-view"
BODY = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")

SANDBOX = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/oauth2"
EPIC_JKU = (
    "https://fhir.epic.example/interconnect-fhir-oauth/api/epic/2019/Security/Open/PublicKeys"
)
ORACLE = "https://authorization.cerner.example/tenants/ec2458f2/oauth2/profiles/smart-v1"

_SANDBOX_KEY = ec.generate_private_key(ec.SECP384R1())
_EPIC_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_ORACLE_KEY = ec.generate_private_key(ec.SECP384R1())


def _jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.ECAlgorithm if alg.startswith("ES") else jwt.algorithms.RSAAlgorithm
    key = json.loads(algorithm.to_jwk(private.public_key()))
    key.update({"kid": kid, "alg": alg, "use": "sig"})
    return key


SANDBOX_JWKS = {"keys": [_jwk(_SANDBOX_KEY, "sandbox-es384", "ES384")]}
EPIC_JWKS = {"keys": [_jwk(_EPIC_KEY, "epic-rs384-2026", "RS384")]}
ORACLE_JWKS = {"keys": [_jwk(_ORACLE_KEY, "oracle-es384", "ES384")]}
ISSUERS = {
    SANDBOX: {"jku": SANDBOX_JKU},
    EPIC: {"jku": EPIC_JKU},
    ORACLE: {"jwks": ORACLE_JWKS, "tenant": "ec2458f2"},
}


def sandbox_token(path: str) -> str:
    """Return a token as the CDS Hooks Sandbox makes it (ES384, kid, jku; iss/aud/exp/iat/jti)."""
    headers = {"kid": "sandbox-es384", "jku": SANDBOX_JKU, "typ": "JWT"}
    return make_token(path, key=_SANDBOX_KEY, headers=headers, iss=SANDBOX)


def epic_token(path: str) -> str:
    """Return a token shaped like Epic's (RS384, kid, jku; sub and nbf among the claims)."""
    now = int(time.time())
    claims = {
        "iss": EPIC,
        "sub": "a1b2c3d4-epic-client-id",
        "aud": PUBLIC_BASE_URL + path,
        "exp": now + 300,
        "nbf": now - 5,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    headers = {"kid": "epic-rs384-2026", "jku": EPIC_JKU, "typ": "JWT"}
    return jwt.encode(claims, _EPIC_KEY, algorithm="RS384", headers=headers)


def oracle_token(path: str, tenant: str = "ec2458f2") -> str:
    """Return a token from an issuer configured with a static JWKS and a tenant."""
    now = int(time.time())
    claims = {
        "iss": ORACLE,
        "sub": "oracle-cds-client",
        "aud": PUBLIC_BASE_URL + path,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "tenant": tenant,
    }
    return jwt.encode(claims, _ORACLE_KEY, algorithm="ES384", headers={"kid": "oracle-es384"})


@pytest.fixture(name="client")
def _client() -> Any:
    return create_app(base_config(TRUSTED_ISSUERS=ISSUERS)).test_client()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sandbox_shaped_token_is_accepted(client, fhir):
    """The Sandbox's token verifies with the JWKS at its allowlisted jku, fetched once."""
    fhir.add(responses.GET, SANDBOX_JKU, json=SANDBOX_JWKS)
    for _ in range(2):
        rv = client.post(URL, json=BODY, headers=_bearer(sandbox_token(URL)))
        assert 200 == rv.status_code
        assert rv.get_json()["cards"]
    assert 1 == len(fhir.calls)


def test_sandbox_discovery_call_is_accepted(client, fhir):
    """The Sandbox signs discovery too, with `aud` the discovery URL."""
    fhir.add(responses.GET, SANDBOX_JKU, json=SANDBOX_JWKS)
    rv = client.get("/cds-services", headers=_bearer(sandbox_token("/cds-services")))
    assert 200 == rv.status_code


def test_epic_shaped_token_is_accepted(client, fhir):
    """Epic's RS384 token with `sub` and `nbf` verifies with the JWKS at its jku."""
    fhir.add(responses.GET, EPIC_JKU, json=EPIC_JWKS)
    assert 200 == client.post(URL, json=BODY, headers=_bearer(epic_token(URL))).status_code


def test_oracle_style_static_jwks_and_tenant(client):
    """A static JWKS needs no fetch; the issuer's tenant must match the token's."""
    assert 200 == client.post(URL, json=BODY, headers=_bearer(oracle_token(URL))).status_code
    other = _bearer(oracle_token(URL, tenant="someone-else"))
    assert 401 == client.post(URL, json=BODY, headers=other).status_code


def test_sandbox_key_cannot_sign_for_epic(client, fhir):
    """A token claiming Epic's issuer but signed with another key is refused."""
    fhir.add(responses.GET, EPIC_JKU, json=EPIC_JWKS)
    forged = jwt.decode(epic_token(URL), options={"verify_signature": False})
    token = jwt.encode(
        forged, _SANDBOX_KEY, algorithm="ES384", headers={"kid": "epic-rs384-2026", "jku": EPIC_JKU}
    )
    assert 401 == client.post(URL, json=BODY, headers=_bearer(token)).status_code


def _hook(server: str) -> dict[str, Any]:
    body = json.loads(json.dumps(BODY))
    body["fhirServer"] = server
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    del body["prefetch"]["observations"]
    return body


def test_http_fhir_server_is_not_fetched_unless_allowlisted_as_http(fhir):
    """https is required: an http FHIR server is fetched only with its own http allowlist entry."""
    https_only = base_config(FHIR_SERVER_ALLOWLIST=["https://fhir.dev.example/r4"])
    app = create_app(https_only)
    rv = post_hook(app.test_client(), "b12-patient-view", _hook("http://fhir.dev.example/r4"))
    assert 412 == rv.status_code
    assert [] == [c.request.url for c in fhir.calls]
    local = create_app(base_config(FHIR_SERVER_ALLOWLIST=["http://localhost:8090/fhir"]))
    fhir.add(
        responses.GET,
        "http://localhost:8090/fhir/Observation",
        json={"resourceType": "Bundle", "type": "searchset", "entry": []},
    )
    url = "/cds-services/b12-patient-view"
    rv = local.test_client().post(
        url, json=_hook("http://localhost:8090/fhir"), headers=signed(url)
    )
    assert 200 == rv.status_code
    assert ["http://localhost:8090/fhir/Observation"] == [
        c.request.url.split("?")[0] for c in fhir.calls
    ]
