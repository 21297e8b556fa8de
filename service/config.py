"""Configuration: defaults, `B12CDS_` environment variables, then an explicit mapping.

Keys (contract.md): REQUIRE_JWT, TRUSTED_ISSUERS, PUBLIC_BASE_URL, FEEDBACK_DATABASE_URL,
SITE_PROFILE, FHIR_TIMEOUT_S, CORS_ORIGINS, FHIR_SERVER_ALLOWLIST. DATABASE_URL names the embedded
database (SQLAlchemy URL; a SQLite file in the instance folder when unset; FEEDBACK_DATABASE_URL
is its alias and DATABASE_URL wins when both are set): it holds the jti replay store, shared by
every worker and kept across restarts, and will hold the feedback store. REDIS_URL (the jti
replay cache shared by several machines; the database when unset). JWKS_TIMEOUT_S (timeout of
one JWKS fetch from an issuer's `jku`: short, as callers can trigger it). Also: FHIR_MAX_PAGES
(bound on `next` links followed per key), FHIR_MAX_RESOURCES (entries per key, within one page
too), FHIR_MAX_BYTES (bytes read from the FHIR server per hook call, all keys and pages together;
a larger answer is a failed fetch), MAX_CONTENT_LENGTH (413 above it, however the body is
sent), MAX_HEADER_BYTES (431 above it), CLIENT_HEADER_TIMEOUT_S and CLIENT_BODY_TIMEOUT_S (`serve`
drops a client that has not sent its headers, or its body, within them), CLINICAL_SETTINGS
(overrides of cards.settings.Settings by name), TODAY (ISO date that freezes the clock: fixtures
and demos only).
AUDIT_KEY (key of the card audit's patient hash; a key file in the instance folder, or
AUDIT_KEY_FILE, when unset), AUDIT_TIMEOUT_S (bound on each audit step of a hook call),
AUDIT_MAX_PENDING (audit steps that may wait at once), SNOOZE (rule id -> days; service.audit).
The value-set extension folder is process-wide and read from the environment only
(`B12CDS_VALUE_SET_DIR`, see `cards.terminology.site_directory`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cards.settings import Settings


DEFAULTS: Mapping[str, Any] = {
    "REQUIRE_JWT": True,
    "TRUSTED_ISSUERS": {},
    "PUBLIC_BASE_URL": None,
    "DATABASE_URL": None,
    "FEEDBACK_DATABASE_URL": None,
    "SITE_PROFILE": "uk",
    "FHIR_TIMEOUT_S": 3.0,
    "JWKS_TIMEOUT_S": 2.0,
    "FHIR_MAX_PAGES": 5,
    "FHIR_MAX_RESOURCES": 5000,
    "FHIR_MAX_BYTES": 20 * 1024 * 1024,
    "CORS_ORIGINS": None,
    "FHIR_SERVER_ALLOWLIST": None,
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "MAX_HEADER_BYTES": 32 * 1024,
    "CLIENT_HEADER_TIMEOUT_S": 10.0,
    "CLIENT_BODY_TIMEOUT_S": 15.0,
    "CLINICAL_SETTINGS": {},
    "TODAY": None,
    "REDIS_URL": None,
    "AUDIT_KEY": None,
    "AUDIT_KEY_FILE": None,
    "AUDIT_TIMEOUT_S": 0.5,
    "AUDIT_MAX_PENDING": 8,
    "SNOOZE": {},
}


def as_bool(value: Any) -> bool:
    """Return a boolean from a config value that may come from the environment as text."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def as_mapping(value: Any) -> dict[str, Any]:
    """Return a mapping from a config value that may be JSON text."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    return dict(value or {})


def as_list(value: Any) -> list[str]:
    """Return a list of strings from a list, JSON text or comma-separated text."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        return [v.strip() for v in text.split(",") if v.strip()]
    return [str(v) for v in value]


def clinical_settings(config: Mapping[str, Any]) -> Settings:
    """Return the clinical settings for this deployment (profile plus overrides)."""
    overrides = as_mapping(config.get("CLINICAL_SETTINGS"))
    overrides.setdefault("profile", str(config.get("SITE_PROFILE") or "uk"))
    return Settings.from_mapping(overrides)
