"""CDS client JWTs (CDS Hooks 2.0 "Trusting CDS Clients"): who gets in, who gets a bare 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from service import auth
from service import create_app
from service.errors import Unauthorized
from tests.conftest import CONFORMANCE
from tests.conftest import FIXTURES
from tests.conftest import ISSUER
from tests.conftest import PUBLIC_BASE_URL
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed


URL = "/cds-services/b12-patient-view"
FEEDBACK_URL = "/cds-services/b12-patient-view/feedback"
BODY = load(FIXTURES / "hooks" / "b12-patient-view" / "ex04-normal-pmol.json")
FEEDBACK = load(CONFORMANCE / "ahrq" / "feedback.json")
SPEC_JWT = CONFORMANCE / "jwt"
JKU = "https://ehr.test.example/jwks"

_KEY = ec.generate_private_key(ec.SECP384R1())  # this module's own signer, made at run time
_JWK = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_KEY.public_key()))
_JWK.update({"kid": "auth-test-key", "alg": "ES384", "use": "sig"})
LOCAL_JWKS = {"keys": [_JWK]}


def b64url(data: bytes) -> str:
    """Return unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims(path: str, **changes: Any) -> dict[str, Any]:
    """Return valid claims for the exact URL of `path`; a change to None drops that claim."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": PUBLIC_BASE_URL + path,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def local_token(path: str, headers: dict[str, Any] | None = None, **changes: Any) -> str:
    """Return an ES384 token signed with this module's key (kid `auth-test-key` by default)."""
    header = {"kid": "auth-test-key"} | (headers or {})
    return jwt.encode(claims(path, **changes), _KEY, algorithm="ES384", headers=header)


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header carrying a token."""
    return {"Authorization": f"Bearer {token}"}


def unsigned_token(path: str) -> str:
    """Return a token with `alg: none` and an empty signature, built by hand."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims(path)).encode())
    return f"{header}.{payload}."


def hmac_token(path: str, secret: bytes) -> str:
    """Return an HS256 token signed by hand with a shared secret (PyJWT refuses PEM secrets)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-key"}).encode())
    payload = b64url(json.dumps(claims(path)).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def tampered(header: dict[str, str]) -> dict[str, str]:
    """Return the Authorization header with one character of the signature changed."""
    token = header["Authorization"].removeprefix("Bearer ")
    body, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return bearer(f"{body}.{signature[:middle]}{flipped}{signature[middle + 1 :]}")


def public_pem() -> bytes:
    """Return the PEM of this module's public key (what an HS256 key-confusion attack uses)."""
    return _KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


REFUSED = [
    pytest.param(lambda: {}, id="no-authorization-header"),
    pytest.param(lambda: {"Authorization": "Bearer"}, id="bearer-without-token"),
    pytest.param(lambda: {"Authorization": "Bearer garbage"}, id="bearer-garbage"),
    pytest.param(lambda: {"Authorization": "Bearer a.b.c"}, id="bearer-three-garbage-parts"),
    pytest.param(
        lambda: {"Authorization": signed(URL)["Authorization"].replace("Bearer", "Basic")},
        id="basic-scheme",
    ),
    pytest.param(lambda: signed("/cds-services/b12-order-sign"), id="aud-other-service"),
    pytest.param(lambda: signed(FEEDBACK_URL), id="aud-feedback-path"),
    pytest.param(lambda: signed(URL, aud="https://other.example" + URL), id="aud-other-host"),
    pytest.param(lambda: signed(URL, iss="https://evil.example/"), id="iss-untrusted"),
    pytest.param(
        lambda: signed(URL, exp=int(time.time()) - 3600, iat=int(time.time()) - 3900),
        id="expired",
    ),
    pytest.param(lambda: signed(URL, iat=int(time.time()) + 3600), id="issued-in-the-future"),
    pytest.param(lambda: signed(URL, nbf=int(time.time()) + 3600), id="not-yet-valid"),
    pytest.param(lambda: signed(URL, jti=None), id="jti-null"),
    pytest.param(lambda: bearer(unsigned_token(URL)), id="alg-none"),
    pytest.param(lambda: bearer(hmac_token(URL, secrets.token_bytes(64))), id="hs256-random"),
    pytest.param(lambda: bearer(hmac_token(URL, public_pem())), id="hs256-public-key-pem"),
    pytest.param(lambda: tampered(signed(URL)), id="tampered-signature"),
    pytest.param(lambda: bearer(local_token(URL)), id="key-not-in-jwks"),
    pytest.param(lambda: bearer(local_token(URL, {"kid": "test-key"})), id="other-key-same-kid"),
]


@pytest.mark.parametrize("make_headers", REFUSED)
def test_call_without_a_valid_token_is_401(client, make_headers):
    """A service call without a valid client JWT is a 401 OperationOutcome."""
    rv = client.post(URL, json=BODY, headers=make_headers())
    assert 401 == rv.status_code
    assert "application/json" == rv.mimetype
    body = rv.get_json()
    assert "OperationOutcome" == body["resourceType"]
    assert "login" == body["issue"][0]["code"]


def test_every_401_has_the_same_body(client):
    """The 401 answer is the same whatever the reason, so it tells an attacker nothing."""
    bodies = {client.post(URL, json=BODY, headers=p.values[0]()).get_data() for p in REFUSED}
    assert 1 == len(bodies)


def test_401_names_the_bearer_scheme(client):
    """A 401 carries `WWW-Authenticate: Bearer`, as HTTP requires and openapi.yaml documents."""
    rv = client.post(URL, json=BODY)
    assert 401 == rv.status_code
    assert rv.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_valid_token_is_accepted(client):
    """A fresh token for the exact URL, signed by the trusted issuer's key, gets the cards."""
    rv = client.post(URL, json=BODY, headers=signed(URL))
    assert 200 == rv.status_code


def test_replayed_token_is_refused(client):
    """A token is good for one call: the same jti again is a 401."""
    headers = signed(URL)
    assert 200 == client.post(URL, json=BODY, headers=headers).status_code
    assert 401 == client.post(URL, json=BODY, headers=headers).status_code


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("get", "/cds-services", None), ("post", FEEDBACK_URL, FEEDBACK)],
    ids=["discovery", "feedback"],
)
def test_discovery_and_feedback_need_a_token(client, method, url, body):
    """Discovery and feedback are 401 without a token and 200 with one for their URL."""
    assert 401 == getattr(client, method)(url, json=body).status_code
    assert 200 == getattr(client, method)(url, json=body, headers=signed(url)).status_code


@pytest.mark.parametrize("url", ["/cds-services", URL, FEEDBACK_URL, "/healthz"])
def test_preflight_needs_no_token(client, url):
    """An OPTIONS request is answered without a token."""
    rv = client.options(url)
    assert 200 == rv.status_code


def test_health_needs_no_token(client):
    """/healthz answers without a token."""
    assert 200 == client.get("/healthz").status_code


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("get", "/cds-services", None), ("post", URL, BODY), ("post", FEEDBACK_URL, FEEDBACK)],
    ids=["discovery", "call", "feedback"],
)
def test_calls_need_no_token_when_jwt_is_off(method, url, body):
    """With REQUIRE_JWT false every endpoint answers without a token."""
    client = create_app(base_config(REQUIRE_JWT=False)).test_client()
    assert 200 == getattr(client, method)(url, json=body).status_code


# ---- key lookup ---------------------------------------------------------------------------------


@pytest.fixture(name="local_app")
def _local_app() -> Flask:
    return create_app(base_config(TRUSTED_ISSUERS={ISSUER: {"jwks": LOCAL_JWKS}}))


def test_kid_not_in_the_jwks_is_refused(local_app):
    """A token signed by the issuer's key but naming a kid the JWKS lacks is a 401."""
    client = local_app.test_client()
    assert 200 == client.post(URL, json=BODY, headers=bearer(local_token(URL))).status_code
    unknown = bearer(local_token(URL, {"kid": "rotated-away"}))
    assert 401 == client.post(URL, json=BODY, headers=unknown).status_code


@pytest.fixture(name="jku_client")
def _jku_client() -> FlaskClient:
    return create_app(base_config(TRUSTED_ISSUERS={ISSUER: {"jku": JKU}})).test_client()


def test_jku_issuer_keys_are_fetched_once_and_cached(jku_client, fhir):
    """An issuer's JWKS at its allowlisted jku is fetched on first use and cached after."""
    fhir.add(responses.GET, JKU, json=LOCAL_JWKS)
    for _ in range(2):
        token = local_token("/cds-services", {"jku": JKU})
        assert 200 == jku_client.get("/cds-services", headers=bearer(token)).status_code
    assert 1 == len(fhir.calls)


def test_jku_header_off_the_allowlist_is_refused_without_a_fetch(jku_client, fhir):
    """A token whose jku is not the issuer's allowlisted one is a 401, and nothing is fetched."""
    token = local_token("/cds-services", {"jku": "https://attacker.example/jwks"})
    assert 401 == jku_client.get("/cds-services", headers=bearer(token)).status_code
    assert 0 == len(fhir.calls)


def test_untrusted_issuer_causes_no_fetch(jku_client, fhir):
    """A token from an issuer not in TRUSTED_ISSUERS is a 401 before any key is fetched."""
    token = local_token("/cds-services", {"jku": JKU}, iss="https://evil.example/")
    assert 401 == jku_client.get("/cds-services", headers=bearer(token)).status_code
    assert 0 == len(fhir.calls)


# ---- the CDS Hooks specification's test vector --------------------------------------------------


def test_spec_vector_signature_verifies_with_the_spec_jwks():
    """The spec's ES384 token verifies against its public JWKS once exp and aud are set aside."""
    token = load(SPEC_JWT / "spec-jwt-token.json")["token"]
    key = jwt.PyJWK(load(SPEC_JWT / "spec-jwks-public.json")["keys"][0]).key
    decoded = jwt.decode(
        token, key, algorithms=["ES384"], options={"verify_exp": False, "verify_aud": False}
    )
    assert load(SPEC_JWT / "spec-jwt-payload.json") == decoded
    assert load(SPEC_JWT / "spec-jwt-header.json") == jwt.get_unverified_header(token)


def test_spec_vector_is_refused_as_expired():
    """`auth.verify` finds the spec token's key and signature good but refuses it as expired."""
    token = load(SPEC_JWT / "spec-jwt-token.json")["token"]
    payload = load(SPEC_JWT / "spec-jwt-payload.json")
    issuers = {
        payload["iss"]: {
            "jwks": load(SPEC_JWT / "spec-jwks-public.json"),
            "tenant": payload["tenant"],
        }
    }
    keys = auth.KeyStore(requests.Session(), 1.0)
    with pytest.raises(Unauthorized) as refused:
        auth.verify(token, payload["aud"], issuers, keys)
    assert "ExpiredSignatureError" in refused.value.reason


def test_spec_vector_keys_are_fetched_from_its_jku(fhir):
    """With the spec issuer's jku allowlisted, its JWKS is fetched and the token still expires."""
    token = load(SPEC_JWT / "spec-jwt-token.json")["token"]
    payload = load(SPEC_JWT / "spec-jwt-payload.json")
    jku = load(SPEC_JWT / "spec-jwt-header.json")["jku"]
    fhir.add(responses.GET, jku, json=load(SPEC_JWT / "spec-jwks-public.json"))
    keys = auth.KeyStore(requests.Session(), 1.0)
    with pytest.raises(Unauthorized) as refused:
        auth.verify(token, payload["aud"], {payload["iss"]: {"jku": jku}}, keys)
    assert "ExpiredSignatureError" in refused.value.reason
    assert 1 == len(fhir.calls)
