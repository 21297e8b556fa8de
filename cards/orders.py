"""Suggested orders: full FHIR R4 resources for `create` actions (clinical-rules §7.0).

Regimen templates are data, one per row of the §7.0 template table, each with its status and
source. ServiceRequest codes come from `order-codes.csv` (§2.6).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards import terminology as vs


_ROUTE_IM = {
    "system": vs.SNOMED,
    "code": "78421000",
    "display": "Intramuscular route",
}  # [V] S-ROUTE
_ROUTE_ORAL = {"system": vs.SNOMED, "code": "26643006", "display": "Oral route"}  # [V] S-ROUTE
_HYDROXOCOBALAMIN = {  # RxNorm 317106 [V] FDA-NDC, S-NDC (display [V2])
    "coding": [
        {
            "system": vs.RXNORM,
            "code": "317106",
            "display": "hydroxocobalamin 1 MG/ML Injectable Solution",
        }
    ],
    "text": "Hydroxocobalamin 1 mg/1 mL solution for injection",
}
_CYANOCOBALAMIN_INJECTION = {  # RxNorm 309594 [V] FDA-NDC, S-NDC (display [V2])
    "coding": [
        {
            "system": vs.RXNORM,
            "code": "309594",
            "display": "vitamin B12 1 MG/ML Injectable Solution",
        }
    ],
    "text": "Cyanocobalamin 1,000 mcg/mL injection",
}
_CYANOCOBALAMIN_TABLET = {  # RxNorm 309593 [V2] CDSH
    "coding": [{"system": vs.RXNORM, "code": "309593", "display": "Vitamin B 12 1 MG Oral Tablet"}],
    "text": "Cyanocobalamin 1,000 mcg tablet",
}


@dataclass(frozen=True, slots=True)
class Phase:
    """One dosage row: dose, route and timing."""

    text: str
    dose: float
    unit: str  # UCUM mg | ug
    route: dict[str, str]
    repeat: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Regimen:
    """A MedicationRequest template."""

    name: str
    product: dict[str, Any]
    words: str  # the regimen in words for card detail
    phases: tuple[Phase, ...]
    source: str


def _im(text: str, dose: float, unit: str, **repeat: Any) -> Phase:
    return Phase(text, dose, unit, _ROUTE_IM, repeat)


def _oral(text: str, dose: float, unit: str) -> Phase:
    return Phase(text, dose, unit, _ROUTE_ORAL, {"frequency": 1, "period": 1, "periodUnit": "d"})


def _bounds(value: int, unit: str) -> dict[str, Any]:
    """Return a UCUM boundsDuration: how long a phase lasts."""
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


# US cyanocobalamin phases shared by the neuro and standard regimens [V2] S-US-DOSE.
_US_DAILY_WEEK = _im(
    "1000 mcg intramuscularly once daily for 7 days", 1000, "ug",
    frequency=1, period=1, periodUnit="d", boundsDuration=_bounds(7, "d"),
)  # fmt: skip


def _us_weekly(weeks: int, text: str) -> Phase:
    return _im(text, 1000, "ug", frequency=1, period=1, periodUnit="wk",
               boundsDuration=_bounds(weeks, "wk"))  # fmt: skip


def _us_monthly(text: str) -> Phase:
    return _im(text, 1000, "ug", frequency=1, period=1, periodUnit="mo")


REGIMENS = {
    r.name: r
    for r in (
        Regimen(  # [V2] S-BNF, S-CKS
            "MR-UK-NEURO",
            _HYDROXOCOBALAMIN,
            "hydroxocobalamin 1 mg IM on alternate days until no further improvement, "
            "then 1 mg IM every 2 months for life",
            (
                _im("1 mg intramuscularly on alternate days until no further improvement", 1, "mg",
                    frequency=1, period=2, periodUnit="d"),
                _im("Then 1 mg intramuscularly every 2 months for life", 1, "mg",
                    frequency=1, period=2, periodUnit="mo"),
            ),
            "S-BNF",
        ),
        Regimen(  # [V2] S-BNF (2-3-monthly since Sep 2018)
            "MR-UK-STANDARD",
            _HYDROXOCOBALAMIN,
            "hydroxocobalamin 1 mg IM three times a week for 2 weeks, then 1 mg IM every "
            "2-3 months (lifelong if the cause cannot be reversed)",
            (
                _im("1 mg intramuscularly three times a week for 2 weeks", 1, "mg",
                    frequency=3, period=1, periodUnit="wk", boundsDuration=_bounds(2, "wk")),
                _im("Then 1 mg intramuscularly every 2-3 months; lifelong if the cause cannot be "
                    "reversed", 1, "mg", frequency=1, period=2, periodMax=3, periodUnit="mo"),
            ),
            "S-BNF",
        ),
        Regimen(  # [V2] S-US-DOSE
            "MR-US-NEURO",
            _CYANOCOBALAMIN_INJECTION,
            "cyanocobalamin 1000 mcg IM daily for 7 days, then weekly for 8 weeks, then monthly "
            "for life",
            (
                _US_DAILY_WEEK,
                _us_weekly(8, "Then 1000 mcg intramuscularly once weekly for 8 weeks"),
                _us_monthly("Then 1000 mcg intramuscularly once monthly for life"),
            ),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-US-DOSE; the label's 100 mcg regimen [V] S-FDA-CN is an option
            "MR-US-STANDARD",
            _CYANOCOBALAMIN_INJECTION,
            "cyanocobalamin 1000 mcg IM daily for 7 days, then weekly for 4-8 weeks, then monthly",
            (
                _US_DAILY_WEEK,
                _us_weekly(4, "Then 1000 mcg intramuscularly weekly for 4-8 weeks"),
                _us_monthly("Then 1000 mcg intramuscularly once monthly"),
            ),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-CKS; text only: no verified code for a 50 microgram tablet
            "MR-UK-ORAL-DIET",
            {"text": "Cyanocobalamin 50 microgram tablets"},
            "cyanocobalamin 50-150 micrograms by mouth daily (dietary cause)",
            (_oral("50-150 micrograms by mouth once daily", 50, "ug"),),
            "S-CKS",
        ),
        Regimen(  # [V2] S-BNF: maintenance every 2-3 months
            "MR-UK-MAINT",
            _HYDROXOCOBALAMIN,
            "hydroxocobalamin 1 mg IM every 2-3 months",
            (_im("1 mg intramuscularly every 2-3 months", 1, "mg",
                 frequency=1, period=2, periodMax=3, periodUnit="mo"),),
            "S-BNF",
        ),
        Regimen(  # [V2] S-BNF: every 2 months after neurological involvement
            "MR-UK-MAINT-NEURO",
            _HYDROXOCOBALAMIN,
            "hydroxocobalamin 1 mg IM every 2 months",
            (_im("1 mg intramuscularly every 2 months", 1, "mg",
                 frequency=1, period=2, periodUnit="mo"),),
            "S-BNF",
        ),
        Regimen(  # [V2] S-US-DOSE; monthly in the US label [V] S-FDA-OH
            "MR-US-MAINT",
            _CYANOCOBALAMIN_INJECTION,
            "cyanocobalamin 1000 mcg IM once monthly",
            (_us_monthly("1000 mcg intramuscularly once monthly"),),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-VEGAN: 2000 micrograms once a week (`vegan_regimen` = weekly-2000)
            "MR-VEGAN",
            _CYANOCOBALAMIN_TABLET,
            "cyanocobalamin 2000 micrograms (two 1000 microgram tablets) by mouth once a week",
            (Phase("2000 micrograms (two tablets) by mouth once a week", 2000, "ug", _ROUTE_ORAL,
                   {"frequency": 1, "period": 1, "periodUnit": "wk"}),),
            "S-VEGAN",
        ),
        Regimen(  # [V2] S-VEGAN: at least 10 micrograms daily (`vegan_regimen` = daily-10)
            "MR-VEGAN-DAILY",
            {"text": "Vitamin B12 (cyanocobalamin) supplement, at least 10 micrograms"},
            "a vitamin B12 supplement of at least 10 micrograms by mouth daily",
            (_oral("At least 10 micrograms by mouth once daily", 10, "ug"),),
            "S-VEGAN",
        ),
        Regimen(  # [U] seed figure, a site option only (`vegan_regimen` = seed)
            "MR-VEGAN-SEED",
            {"text": "Vitamin B12 (cyanocobalamin) supplement 250 micrograms"},
            "cyanocobalamin 250-350 micrograms by mouth daily (site option, not guideline text)",
            (_oral("250-350 micrograms by mouth once daily", 250, "ug"),),
            "S-VEGAN",
        ),
        Regimen(  # [V2] S-AAFP17, S-ASMBS
            "MR-ORAL-1000",
            _CYANOCOBALAMIN_TABLET,
            "cyanocobalamin 1000 micrograms by mouth once daily",
            (_oral("1000 micrograms by mouth once daily", 1000, "ug"),),
            "S-AAFP17",
        ),
    )
}  # fmt: skip


def with_route_im(draft: Mapping[str, Any], patient_id: str) -> dict[str, Any]:
    """Return a new draft copy of an order with every dosage route set to intramuscular.

    For `cyanocobalamin-safety` (a): the clinician's own product and dose, given IM instead of
    IV (IM route SNOMED 78421000 [V] S-ROUTE). The copy has no id (the EHR assigns one).
    """
    resource = copy.deepcopy(dict(draft))
    resource.pop("id", None)
    resource.pop("meta", None)
    resource["status"] = "draft"
    resource["intent"] = resource.get("intent") or "order"
    resource["subject"] = {"reference": f"Patient/{patient_id}"}
    dosages = resource.get("dosageInstruction")
    if not isinstance(dosages, list) or not dosages:
        dosages = [{}]
    for dosage in dosages:
        if isinstance(dosage, dict):
            dosage["route"] = {"coding": [_ROUTE_IM], "text": "Intramuscular"}
            said = dosage.get("text")
            if isinstance(said, str):
                dosage["text"] = _IV_WORDS.sub("intramuscularly", said)
    resource["dosageInstruction"] = dosages
    return resource


_IV_WORDS = re.compile(r"\b(intravenous(ly)?|IV)\b", re.IGNORECASE)


def medication_request(
    regimen: Regimen, patient_id: str, reasons: Sequence[str] = ()
) -> dict[str, Any]:
    """Return a draft MedicationRequest for the regimen, for the patient in context."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": regimen.product,
        "dosageInstruction": [
            {
                "sequence": index,
                "text": phase.text,
                "route": {"coding": [phase.route]},
                "timing": {"repeat": phase.repeat},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": phase.dose,
                            "unit": phase.unit,
                            "system": "http://unitsofmeasure.org",
                            "code": phase.unit,
                        }
                    }
                ],
            }
            for index, phase in enumerate(regimen.phases, start=1)
        ],
    }
    if reasons:
        resource["reasonReference"] = [{"reference": r} for r in sorted(set(reasons))]
    return resource


# Human text for each order code (the LOINC/SNOMED display is kept in the coding).
_ORDER_TEXT = {
    "b12": "Vitamin B12 (cobalamin), serum",
    "holotc": "Holotranscobalamin (active B12), serum",
    "mma": "Methylmalonic acid (MMA), serum",
    "homocysteine": "Homocysteine, plasma",
    "potassium": "Potassium, serum",
    "blood_count": "Full blood count",
    "reticulocytes": "Reticulocyte count",
    "folate": "Folate, serum",
    "neurology_referral": "Urgent referral to neurology",
    "haematology_referral": "Referral to haematology",
    "paediatric_referral": "Referral to paediatrics (site-configured code)",
}
# Potassium at about 24 h and 48 h (§7.0): two occurrences, one a day.
POTASSIUM_TIMING = {"repeat": {"count": 2, "frequency": 1, "period": 1, "periodUnit": "d"}}


def service_request(
    name: str,
    patient_id: str,
    reasons: Sequence[str] = (),
    priority: str = "routine",
    timing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a draft ServiceRequest for an order code of `order-codes.csv`."""
    code = vs.ORDER_CODES[name]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "priority": priority,
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {
            "coding": [{"system": code.system, "code": code.code, "display": code.display}],
            "text": _ORDER_TEXT.get(name, code.display),
        },
    }
    if timing is not None:
        resource["occurrenceTiming"] = timing
    if reasons:
        resource["reasonReference"] = [{"reference": r} for r in sorted(set(reasons))]
    return resource


def order_label(name: str) -> str:
    """Return the human label of an order code."""
    return _ORDER_TEXT.get(name, vs.ORDER_CODES[name].display)
