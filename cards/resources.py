"""Parse the FHIR resources the rules use into fhir.resources R4B models, repairing known quirks.

Only the resource types the rules read are parsed (validating a whole chart costs about 0.1 ms per
resource). Real clients send shapes that R4 does not allow: `doseAndRate` or `category` as an object
instead of a list (CDS Hooks library, Inferno, Epic), `doseQuantity` directly on Dosage (the STU3
shape). Those are repaired; any other invalid element is dropped, and a resource that still does
not validate is skipped and counted, so one bad resource never costs the patient every card.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import BaseModel
from pydantic import ValidationError


MODELS: Mapping[str, type[BaseModel]] = {
    "Patient": Patient,
    "Observation": Observation,
    "Condition": Condition,
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "MedicationAdministration": MedicationAdministration,
    "Procedure": Procedure,
    "Medication": Medication,
    "ServiceRequest": ServiceRequest,
}
# The elements any rule reads, per type: everything else (narrative, extensions, identifiers of
# people, performers, notes) is left out before validation, which is both faster (a Synthea
# Patient validates in 0.9 ms whole, 0.05 ms projected) and one less way for an odd element
# elsewhere in the resource to cost the patient a card. Required elements stay, so the result is
# still a valid R4 resource.
_COMMON = ("resourceType", "id", "subject", "contained")
_READ: Mapping[str, frozenset[str]] = {
    name: frozenset((*_COMMON, *fields))
    for name, fields in {
        "Patient": ("gender", "birthDate", "deceasedBoolean", "deceasedDateTime"),
        "Observation": (
            "status", "code", "identifier", "effectiveDateTime", "effectivePeriod",
            "effectiveInstant", "issued", "dataAbsentReason", "valueQuantity",
            "valueCodeableConcept", "valueString", "interpretation", "referenceRange",
        ),
        "Condition": (
            "clinicalStatus", "verificationStatus", "code", "onsetDateTime", "onsetPeriod",
            "onsetAge", "onsetString", "abatementDateTime", "abatementPeriod", "abatementAge",
            "abatementString", "abatementRange", "recordedDate",
        ),
        "MedicationRequest": (
            "status", "intent", "medicationCodeableConcept", "medicationReference",
            "authoredOn", "dosageInstruction", "dispenseRequest",
        ),
        "MedicationStatement": (
            "status", "medicationCodeableConcept", "medicationReference", "effectiveDateTime",
            "effectivePeriod", "dosage",
        ),
        "MedicationAdministration": (
            "status", "medicationCodeableConcept", "medicationReference", "effectiveDateTime",
            "effectivePeriod", "dosage",
        ),
        "Procedure": ("status", "code", "performedDateTime", "performedPeriod"),
        "Medication": ("code", "form", "ingredient"),
        "ServiceRequest": ("status", "intent", "code"),
    }.items()
}  # fmt: skip
_MAX_REPAIRS = 12
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]+$")
# Ids real clients send that R4 does not allow (the spec's own examples use U+2011 hyphens) are
# carried through validation in a reversible ASCII form, so references and selections still match.
_RAW_ID_PREFIX = "b12cds-raw-id."
# A number no measurement, dose or range the rules read can have (a red cell count is about 5e12
# per litre): beyond it, or NaN/Infinity (which `json.loads` accepts, and `1e400` becomes), the
# value is unreadable (clinical-rules §11.3). The element is left out, the resource is counted
# as unreadable, and an Observation's value is marked so the result is kept as uninterpretable.
MAX_READABLE_NUMBER = 1e15
UNREADABLE_VALUE = "urn:b12cds:unreadable-value"


def parse(resource: Mapping[str, Any]) -> BaseModel | None:
    """Return the resource as an R4B model, repaired if possible; None if unused or unreadable."""
    return _parse(resource)[0]


def _parse(resource: Mapping[str, Any]) -> tuple[BaseModel | None, bool]:
    """Return the model (or None) and whether an unreadable number had to be left out."""
    model = MODELS.get(str(resource.get("resourceType")))
    if model is None:
        return None, False
    read = _READ[model.__name__]
    data: Any = {key: value for key, value in resource.items() if key in read}
    copied = False
    odd = _has_odd_number(data)
    if odd:
        data = _without_odd_numbers(copy.deepcopy(data))
        copied = True
    raw_id = resource.get("id")
    if isinstance(raw_id, str) and raw_id and not _FHIR_ID.match(raw_id):
        data["id"] = _RAW_ID_PREFIX + raw_id.encode("utf-8").hex()
    for _ in range(_MAX_REPAIRS):
        try:
            return model.model_validate(data), odd
        except ValidationError as exc:
            if not copied:
                data = copy.deepcopy(data)
                copied = True
            if not any(_repair(data, err) for err in exc.errors(include_input=False)):
                return None, odd
        except (TypeError, ValueError, OverflowError, RecursionError):
            return None, odd
    return None, odd


def readable_number(value: Any) -> bool:
    """Return False for a number that is NaN, infinite or beyond `MAX_READABLE_NUMBER`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True  # not a number at all: validation decides
    try:
        return math.isfinite(value) and abs(value) <= MAX_READABLE_NUMBER
    except OverflowError:  # an int too large for a float
        return False


def _has_odd_number(data: Any) -> bool:
    """Return whether any number inside the data is unreadable."""
    if isinstance(data, dict):
        return any(_has_odd_number(value) for value in data.values())
    if isinstance(data, list):
        return any(_has_odd_number(value) for value in data)
    return not readable_number(data)


def _without_odd_numbers(data: Any) -> Any:
    """Return the data without its unreadable numbers; an Observation's value is marked."""
    quantity = data.get("valueQuantity") if isinstance(data, dict) else None
    if isinstance(quantity, dict) and not readable_number(quantity.get("value")):
        del quantity["value"]
        extensions = quantity.get("extension")
        quantity["extension"] = [
            *(extensions if isinstance(extensions, list) else []),
            {"url": UNREADABLE_VALUE, "valueBoolean": True},
        ]
    return _strip(data)


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if readable_number(v)}
    if isinstance(data, list):
        return [_strip(v) for v in data if readable_number(v)]
    return data


def has_unreadable_value(quantity: Any) -> bool:
    """Return whether a parsed Quantity's value was left out as an unreadable number."""
    extensions = getattr(quantity, "extension", None) or ()
    return any(getattr(ext, "url", None) == UNREADABLE_VALUE for ext in extensions)


def _repair(data: Any, error: Mapping[str, Any]) -> bool:
    """Fix or drop the element an error points at; return whether anything changed."""
    loc = tuple(error.get("loc", ()))
    if not loc:
        return False
    parent = data
    for key in loc[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return False
    last = loc[-1]
    if not isinstance(parent, dict | list):
        return False
    try:
        value = parent[last]
    except (KeyError, IndexError, TypeError):
        # A required element is missing: drop the parent element instead.
        return _repair(data, {"loc": loc[:-1]}) if len(loc) > 1 else False
    if error.get("type") == "list_type" and isinstance(value, dict):
        parent[last] = [value]
        return True
    if last == "doseQuantity" and isinstance(parent, dict) and "doseAndRate" not in parent:
        parent["doseAndRate"] = [{"doseQuantity": parent.pop("doseQuantity")}]
        return True
    del parent[last]
    return True


def raw_codes(concept: Any) -> list[tuple[str, str]]:
    """Return (system, code) of every coding of a raw CodeableConcept dict, tolerating junk."""
    if not isinstance(concept, Mapping):
        return []
    found = []
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping):
            found.append((str(coding.get("system") or ""), str(coding.get("code") or "")))
    return found


def parse_all(
    resources: Iterable[Mapping[str, Any]],
    wanted: Callable[[Mapping[str, Any]], bool] | None = None,
) -> tuple[list[BaseModel], int]:
    """Return the parsed models of the used types and how many of the used types were unreadable.

    A resource that parses but held an unreadable number (NaN, Infinity, `1e400`) is returned
    without it and counted as unreadable too (clinical-rules §11.3). `wanted` is a cheap look at
    the raw dict (e.g. "is this Observation's LOINC code one the rules read?"), so that a chart's
    hundreds of vital signs are never validated.
    """
    models: list[BaseModel] = []
    unreadable = 0
    for resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
        if not isinstance(kind, str) or kind not in MODELS:  # a dict or list is unhashable
            continue
        if wanted is not None and not wanted(resource):
            continue
        model, odd = _parse(resource)
        if model is None or odd:
            unreadable += 1
        if model is not None:
            models.append(model)
    return models, unreadable


def as_date(value: Any) -> date | None:
    """Return a date from a FHIR date, dateTime or instant (its own calendar day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 4:
        try:
            parts = [int(p) for p in value[:10].split("-")]
            return date(
                parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
            )
        except (ValueError, IndexError):
            return None
    return None


def codings(concept: Any) -> list[tuple[str, str, str]]:
    """Return (system, code, display) for every coding of a CodeableConcept."""
    if concept is None:
        return []
    out = []
    for coding in getattr(concept, "coding", None) or ():
        out.append((coding.system or "", coding.code or "", coding.display or ""))
    return out


def texts(concept: Any) -> list[str]:
    """Return the text and every coding display of a CodeableConcept."""
    if concept is None:
        return []
    found = [concept.text] if getattr(concept, "text", None) else []
    found.extend(c.display for c in getattr(concept, "coding", None) or () if c.display)
    return found


def concept_name(concept: Any) -> str:
    """Return the best human name of a CodeableConcept."""
    if concept is None:
        return ""
    if getattr(concept, "text", None):
        return str(concept.text)
    for coding in getattr(concept, "coding", None) or ():
        if coding.display:
            return str(coding.display)
    for coding in getattr(concept, "coding", None) or ():
        if coding.code:
            return str(coding.code)
    return ""


def resource_id(model: Any) -> str:
    """Return the resource id exactly as the client sent it ('' if none)."""
    rid = getattr(model, "id", None)
    if not rid:
        return ""
    if rid.startswith(_RAW_ID_PREFIX):
        try:
            return bytes.fromhex(rid[len(_RAW_ID_PREFIX) :]).decode("utf-8")
        except ValueError:
            return str(rid)
    return str(rid)


def ref(model: Any) -> str:
    """Return 'Type/id' for a model with an id (as the client sent it), else ''."""
    rid = resource_id(model)
    return f"{model.get_resource_type()}/{rid}" if rid else ""


def status_code(concept: Any) -> str:
    """Return the first code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    for _system, code, _display in codings(concept):
        if code:
            return code
    return ""
