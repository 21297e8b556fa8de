"""Pydantic v2 models of the incoming CDS Hooks 2.0 request, validated per hook.

Unknown members (`extension`, extra `fhirAuthorization` members, unknown context keys) are
ignored, as the spec requires. Validation errors become a 400 built from
`errors(include_input=False)`: the input may be patient data.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator

from cards.facts import Hook
from cards.services import Service
from service.errors import BadRequest
from service.errors import UnsupportedMediaType


HOOK_INSTANCE_PATTERN = r"^[\x21-\x7E]+$"


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FhirAuthorization(_Lenient):
    """The access token the EHR grants for FHIR calls."""

    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


def _is_bundle(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise ValueError("draftOrders must be a FHIR Bundle")
    entries = value.get("entry", [])
    if not isinstance(entries, list):
        raise ValueError("draftOrders.entry must be a list")
    return value


class PatientViewContext(_Lenient):
    """patient-view context: userId, patientId, optional encounterId."""

    userId: str = Field(min_length=1)  # noqa: N815 - the spec's field name
    patientId: str = Field(min_length=1)  # noqa: N815
    encounterId: str | None = None  # noqa: N815


class OrderSignContext(PatientViewContext):
    """order-sign context: adds draftOrders (a Bundle)."""

    draftOrders: dict[str, Any]  # noqa: N815

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: Any) -> dict[str, Any]:
        return _is_bundle(value)


class OrderSelectContext(OrderSignContext):
    """order-select context: adds selections (references into draftOrders)."""

    # Required, but may be empty: the CDS Hooks Sandbox fires order-select once before any
    # medication is chosen. Nothing selected means nothing to check: 200 {"cards": []}.
    selections: tuple[str, ...]


_CONTEXTS: dict[Hook, type[PatientViewContext]] = {
    Hook.PATIENT_VIEW: PatientViewContext,
    Hook.ORDER_SELECT: OrderSelectContext,
    Hook.ORDER_SIGN: OrderSignContext,
}


class HookRequest(_Lenient):
    """A CDS Hooks 2.0 request; `context` is validated for the service's hook."""

    hook: str = Field(min_length=1)
    # Logged with every call, so bounded: 1-128 visible ASCII characters, no spaces. The spec's
    # UUIDs and every EHR's ids fit; a value that could carry a name or a body does not.
    hookInstance: str = Field(min_length=1, max_length=128, pattern=HOOK_INSTANCE_PATTERN)  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("fhirServer must be an absolute http(s) URL")
        return value.rstrip("/") if value else value

    def typed_context(self, hook: Hook) -> PatientViewContext:
        """Return the context validated for the hook."""
        return _CONTEXTS[hook].model_validate(self.context)

    @property
    def draft_entries(self) -> list[dict[str, Any]]:
        """Return the resources of context.draftOrders (empty for patient-view)."""
        bundle = self.context.get("draftOrders")
        entries = bundle.get("entry") if isinstance(bundle, dict) else None
        return [
            e["resource"]
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]


def _errors(exc: ValidationError, prefix: str) -> tuple[str, list[str]]:
    """Return a readable message and FHIRPath-like locations, never echoing input values."""
    problems = []
    where = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        where.append(loc)
        problems.append(f"{loc}: {err['msg']}")
    return "Invalid hook request: " + "; ".join(problems), where


def parse_json_body(request: Request) -> Any:
    """Return the JSON body, or raise 415 (not JSON) / 400 (malformed)."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            "The request body must be JSON (Content-Type: application/json)."
        )
    try:
        return json.loads(request.get_data(cache=True) or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("The request body is not valid JSON.") from exc


def from_request(request: Request, service: Service) -> tuple[HookRequest, PatientViewContext]:
    """Return the hook request and its typed context, or raise 400 / 415."""
    body = parse_json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object (a CDS Hooks request).")
    try:
        hook = HookRequest.model_validate(body)
    except ValidationError as exc:
        message, where = _errors(exc, "")
        raise BadRequest(message, where) from exc
    if hook.hook != service.hook.value:
        raise BadRequest(  # the value sent is not echoed: input may be patient data
            f"Service {service.id} answers only the {service.hook.value} hook.", ["hook"]
        )
    try:
        context = hook.typed_context(service.hook)
    except ValidationError as exc:
        message, where = _errors(exc, "context")
        raise BadRequest(message, where) from exc
    return hook, context
