"""Tiny builders of FHIR R4 test resources (plain dicts) and charts; not fixtures."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from datetime import timedelta
from typing import Any

from cards.facts import Chart
from cards.facts import Facts
from cards.facts import Hook
from cards.facts import facts_from_fhir
from cards.settings import Settings


TODAY = date(2026, 11, 29)
PATIENT_ID = "p1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
IM = "78421000"  # SNOMED intramuscular route
ORAL = "26643006"  # SNOMED oral route
IV = "47625008"  # SNOMED intravenous route

_ids = itertools.count(1)


def ago(days: int) -> date:
    """Return the date `days` before TODAY."""
    return TODAY - timedelta(days=days)


def _id(kind: str, given: str | None) -> str:
    """Return the given id, else a fresh one."""
    return given or f"{kind}-{next(_ids)}"


def _quantity(value: Any, unit: str | None) -> dict[str, Any]:
    """Return a UCUM Quantity (no unit members when unit is None)."""
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity.update(unit=unit, system=UCUM, code=unit)
    return quantity


def _concept(system: str, code: str | None, text: str | None = None) -> dict[str, Any]:
    """Return a CodeableConcept with one coding and/or a text."""
    concept: dict[str, Any] = {}
    if code is not None:
        concept["coding"] = [{"system": system, "code": code}]
    if text is not None:
        concept["text"] = text
    return concept


def patient(
    age: int | None,
    sex: str | None = "female",
    today: date = TODAY,
    birth_date: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a Patient aged `age` whole years on `today` (birthday a month ago)."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": PATIENT_ID, **extra}
    if sex is not None:
        resource["gender"] = sex
    if birth_date is not None:
        resource["birthDate"] = birth_date
    elif age is not None:
        resource["birthDate"] = (today.replace(year=today.year - age) - timedelta(30)).isoformat()
    return resource


def observation(
    loinc: str,
    value: Any,
    unit: str | None,
    when: date | None,
    status: str = "final",
    interpretation: str | None = None,
    ref_range: tuple[Any, Any] | list[dict[str, Any]] | None = None,
    comparator: str | None = None,
    id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a LOINC Observation; `ref_range` is (low, high) in the value's unit, or a list."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id("obs", id),
        "status": status,
        "code": _concept(LOINC, loinc),
        "subject": SUBJECT,
    }
    if when is not None:
        resource["effectiveDateTime"] = when.isoformat()
    if value is not None:
        resource["valueQuantity"] = _quantity(value, unit)
        if comparator is not None:
            resource["valueQuantity"]["comparator"] = comparator
    if interpretation is not None:
        resource["interpretation"] = [_concept(INTERPRETATION, interpretation)]
    if isinstance(ref_range, tuple):
        low, high = ref_range
        entry = {}
        if low is not None:
            entry["low"] = _quantity(low, unit)
        if high is not None:
            entry["high"] = _quantity(high, unit)
        resource["referenceRange"] = [entry]
    elif ref_range is not None:
        resource["referenceRange"] = ref_range
    resource.update(extra)
    return resource


def condition(
    system: str,
    code: str | None,
    text: str | None,
    onset: date | None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    id: str | None = None,
) -> dict[str, Any]:
    """Return a Condition with one coding (or text only when `code` is None)."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _id("cond", id),
        "code": _concept(system, code, text),
        "subject": SUBJECT,
    }
    if clinical is not None:
        resource["clinicalStatus"] = _concept(CLINICAL, clinical)
    if verification is not None:
        resource["verificationStatus"] = _concept(VERIFICATION, verification)
    if onset is not None:
        resource["onsetDateTime"] = onset.isoformat()
    return resource


def medication(
    id: str, ingredients: Iterable[tuple[str | None, str | None]], text: str | None = None
) -> dict[str, Any]:
    """Return a Medication with (rxnorm, text) ingredients."""
    resource: dict[str, Any] = {
        "resourceType": "Medication",
        "id": id,
        "ingredient": [{"itemCodeableConcept": _concept(RXNORM, c, t)} for c, t in ingredients],
    }
    if text is not None:
        resource["code"] = {"text": text}
    return resource


def _medication_fields(
    resource: dict[str, Any],
    rxnorm: str | None,
    text: str | None,
    contained_medication: Mapping[str, Any] | None,
    reference: str | Mapping[str, Any] | None,
) -> None:
    """Set the medication[x] of a request, statement or administration."""
    if contained_medication is not None:
        resource["contained"] = [dict(contained_medication)]
        resource["medicationReference"] = {"reference": f"#{contained_medication['id']}"}
    elif reference is not None:
        resource["medicationReference"] = (
            {"reference": reference} if isinstance(reference, str) else dict(reference)
        )
    else:
        resource["medicationCodeableConcept"] = _concept(RXNORM, rxnorm, text)


def _dosage(
    route: str | None,
    dose: Any,
    unit: str | None,
    frequency: int | None,
    period: Any,
    period_unit: str,
) -> dict[str, Any]:
    """Return a Dosage with route, dose and timing."""
    dosage: dict[str, Any] = {}
    if route is not None:
        dosage["route"] = _concept(SNOMED, route)
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": _quantity(dose, unit)}]
    if frequency is not None:
        dosage["timing"] = {
            "repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}
        }
    return dosage


def med_request(
    rxnorm: str | None = None,
    text: str | None = None,
    route: str | None = None,
    dose: Any = None,
    unit: str | None = None,
    frequency: int | None = 1,
    period: Any = 1,
    period_unit: str = "d",
    status: str = "active",
    intent: str = "order",
    authored: date | None = None,
    id: str | None = None,
    contained_medication: Mapping[str, Any] | None = None,
    reference: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a MedicationRequest for an RxNorm code, a text, or a referenced Medication."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _id("mr", id),
        "status": status,
        "intent": intent,
        "subject": SUBJECT,
    }
    _medication_fields(resource, rxnorm, text, contained_medication, reference)
    resource["dosageInstruction"] = [_dosage(route, dose, unit, frequency, period, period_unit)]
    if authored is not None:
        resource["authoredOn"] = authored.isoformat()
    return resource


def med_admin(
    rxnorm: str | None = None,
    text: str | None = None,
    route: str | None = None,
    dose: Any = None,
    unit: str | None = None,
    when: date | None = None,
    status: str = "completed",
    id: str | None = None,
    contained_medication: Mapping[str, Any] | None = None,
    reference: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a MedicationAdministration (one dose) given on `when`."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": _id("ma", id),
        "status": status,
        "subject": SUBJECT,
        "effectiveDateTime": (when or TODAY).isoformat(),
    }
    _medication_fields(resource, rxnorm, text, contained_medication, reference)
    dosage: dict[str, Any] = {}
    if route is not None:
        dosage["route"] = _concept(SNOMED, route)
    if dose is not None:
        dosage["dose"] = _quantity(dose, unit)
    if dosage:
        resource["dosage"] = dosage
    return resource


def med_statement(
    rxnorm: str | None = None,
    text: str | None = None,
    route: str | None = None,
    dose: Any = None,
    unit: str | None = None,
    frequency: int | None = 1,
    period: Any = 1,
    period_unit: str = "d",
    status: str = "active",
    start: date | None = None,
    end: date | None = None,
    id: str | None = None,
    contained_medication: Mapping[str, Any] | None = None,
    reference: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a MedicationStatement, with an effective period when `start` or `end` is given."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": _id("ms", id),
        "status": status,
        "subject": SUBJECT,
    }
    _medication_fields(resource, rxnorm, text, contained_medication, reference)
    resource["dosage"] = [_dosage(route, dose, unit, frequency, period, period_unit)]
    if start is not None or end is not None:
        period_: dict[str, str] = {}
        if start is not None:
            period_["start"] = start.isoformat()
        if end is not None:
            period_["end"] = end.isoformat()
        resource["effectivePeriod"] = period_
    return resource


def service_request(loinc: str, id: str, status: str = "draft") -> dict[str, Any]:
    """Return a draft laboratory ServiceRequest for a LOINC code."""
    return {
        "resourceType": "ServiceRequest",
        "id": id,
        "status": status,
        "intent": "order",
        "subject": SUBJECT,
        "code": _concept(LOINC, loinc),
    }


def chart(
    patient_id: str,
    hook: Hook | str,
    resources: Iterable[Mapping[str, Any]],
    drafts: Iterable[Mapping[str, Any]] = (),
    selections: Iterable[str] = (),
) -> Chart:
    """Return a Chart for `facts_from_fhir`."""
    return Chart(patient_id, Hook(hook), tuple(resources), tuple(drafts), tuple(selections))


def facts(
    *resources: Mapping[str, Any],
    hook: Hook | str = Hook.PATIENT_VIEW,
    drafts: Iterable[Mapping[str, Any]] = (),
    selections: Iterable[str] = (),
    settings: Settings | None = None,
) -> Facts:
    """Return the facts of a chart of `resources` for PATIENT_ID on TODAY."""
    return facts_from_fhir(
        chart(PATIENT_ID, hook, resources, drafts, selections), TODAY, settings or Settings()
    )
