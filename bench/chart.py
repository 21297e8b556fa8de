"""The benchmark's hook request: a realistic patient-view chart of about 300 resources.

A Synthea R4 chart (`tests/conformance/synthea/Isaiah_Schaden_...json`) trimmed to the Patient,
its Conditions, its MedicationRequests and its most recent Observations, plus a handful of
synthetic B12 work-up results dated shortly before T and a paraesthesia Condition, so that the
rules have real work to do (B12 150 pg/mL with a neurological finding fires `b12-neuro-untreated`).

`python -m bench.chart` writes `data/request.json` (reproducible: same input, same bytes) and
prints how many resources it holds.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
# The same Synthea chart the conformance tests use (one copy in the repository).
SYNTHEA = (
    HERE.parent / "tests" / "conformance" / "synthea"
    / "Isaiah_Schaden_b6b36717-6ad2-433d-bf5c-6c77bc2fcd96.json"
)  # fmt: skip
REQUEST = DATA / "request.json"

T = "2026-11-29"  # the evaluation date (the service's TODAY); as in fhir_fixtures/README.md
TOTAL_RESOURCES = 300  # every resource in the prefetch, the Patient included
FHIR = "https://fhir.example.org/r4"
SERVICE_ID = "b12-patient-view"

_UCUM = "http://unitsofmeasure.org"
_LOINC = "http://loinc.org"
_SNOMED = "http://snomed.info/sct"
_LAB = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory",
            "display": "Laboratory",
        }
    ]
}

# Synthetic B12 work-up: (id, days before T, LOINC, display, value, display unit, UCUM code).
B12_LABS: tuple[tuple[str, int, str, str, float, str, str], ...] = (
    ("b12-1", 10, "2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma", 150,
     "pg/mL", "pg/mL"),
    ("mma-1", 8, "13964-2", "Methylmalonate [Moles/volume] in Serum or Plasma", 0.52,
     "µmol/L", "umol/L"),
    ("hb-1", 10, "718-7", "Hemoglobin [Mass/volume] in Blood", 11.2, "g/dL", "g/dL"),
    ("mcv-1", 10, "787-2", "MCV [Entitic volume] by Automated count", 104, "fL", "fL"),
    ("fol-1", 10, "2284-8", "Folate [Mass/volume] in Serum or Plasma", 6.8, "ng/mL", "ng/mL"),
)  # fmt: skip


def _day(days_before_t: int) -> str:
    return (date.fromisoformat(T) - timedelta(days=days_before_t)).isoformat()


def _observation(
    patient_id: str, lab: tuple[str, int, str, str, float, str, str]
) -> dict[str, Any]:
    rid, days, loinc, display, value, unit, ucum = lab
    day = _day(days)
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [_LAB],
        "code": {"coding": [{"system": _LOINC, "code": loinc, "display": display}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": day,
        "issued": f"{day}T16:00:00Z",
        "valueQuantity": {"value": value, "unit": unit, "system": _UCUM, "code": ucum},
    }


def _paraesthesia(patient_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "neuro-1",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": {
            "coding": [{"system": _SNOMED, "code": "91019004", "display": "Paresthesia"}],
            "text": "Paraesthesia of both feet",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": _day(40),
        "recordedDate": _day(12),
    }


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{FHIR}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def build_request() -> dict[str, Any]:
    """Return the benchmark's patient-view request (deterministic)."""
    synthea = json.loads(SYNTHEA.read_text(encoding="utf-8"))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in synthea["entry"]:
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(resource)
    patient = by_type["Patient"][0]
    patient_id = patient["id"]
    conditions = [*by_type["Condition"], _paraesthesia(patient_id)]
    medication_requests = by_type["MedicationRequest"]
    labs = [_observation(patient_id, lab) for lab in B12_LABS]
    room = TOTAL_RESOURCES - 1 - len(conditions) - len(medication_requests) - len(labs)
    # Most recent first, as `_sort=-date` returns them; the sort is stable, so ties keep file order.
    recent = sorted(
        by_type["Observation"], key=lambda o: o.get("effectiveDateTime", ""), reverse=True
    )[:room]
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, "b12-cds/bench/chart")),
        "fhirServer": FHIR,
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id},
        "prefetch": {
            "patient": patient,
            "observations": _searchset([*labs, *recent]),
            "conditions": _searchset(conditions),
            "medicationRequests": _searchset(medication_requests),
            "medicationAdministrations": _searchset([]),
            "medicationStatements": _searchset([]),
            "procedures": _searchset([]),
        },
    }


def count_resources(request: dict[str, Any]) -> dict[str, int]:
    """Return the number of resources under each prefetch key."""
    counts = {}
    for key, value in request["prefetch"].items():
        counts[key] = len(value.get("entry", [])) if value["resourceType"] == "Bundle" else 1
    return counts


def body_bytes(request: dict[str, Any]) -> bytes:
    """Return the request as an EHR would send it: compact UTF-8 JSON."""
    return json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def main() -> int:
    """Write data/request.json and print what it holds."""
    request = build_request()
    REQUEST.write_text(json.dumps(request, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = count_resources(request)
    print(f"wrote {REQUEST.relative_to(HERE.parent)}: {sum(counts.values())} resources")
    for key, n in counts.items():
        print(f"  {key:26} {n}")
    print(f"  POST body: {len(body_bytes(request)) / 1024:.0f} KiB (compact JSON), T = {T}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
