"""Suggested orders: full FHIR R4 resources for `create` actions (clinical-rules §7.0).

Regimen templates are data, one per row of the §7.0 template table, each with its status and
source; their words and dosage texts, each product's text, the route text of an IM copy and
the text of each order code are in `cards/wording/orders.toml`. ServiceRequest codes come
from `order-codes.csv` (§2.6); so does the folic acid product of §11.6 (row
`folic_acid_replacement`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards import terminology as vs
from cards.settings import Profile
from cards.wording import MESSAGES
from cards.wording import render


def _product_text(name: str) -> str:
    """Return a product's text from `cards/wording/orders.toml` (`[product.<name>]`, the same in
    both profiles: each regimen, and so its product, belongs to one profile's templates)."""
    return render(Profile.UK, f"orders.product.{name}")


def _text_only(name: str) -> dict[str, Any]:
    """Return a product known by its text only (no verified code)."""
    return {"text": _product_text(name)}


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
    "text": _product_text("hydroxocobalamin_injection"),
}
_CYANOCOBALAMIN_INJECTION = {  # RxNorm 309594 [V] FDA-NDC, S-NDC (display [V2])
    "coding": [
        {
            "system": vs.RXNORM,
            "code": "309594",
            "display": "vitamin B12 1 MG/ML Injectable Solution",
        }
    ],
    "text": _product_text("cyanocobalamin_injection"),
}
_CYANOCOBALAMIN_TABLET = {  # RxNorm 309593 [V2] CDSH
    "coding": [{"system": vs.RXNORM, "code": "309593", "display": "Vitamin B 12 1 MG Oral Tablet"}],
    "text": _product_text("cyanocobalamin_tablet"),
}


def _folic_acid(name: str, system: str) -> dict[str, Any]:
    """Return the folic acid product of a §11.6 regimen: coded from `order-codes.csv` row
    `folic_acid_replacement` when that row's system is the regimen's (RxNorm 310410 [V2] for the
    1 mg tablet; a UK site's own dm+d code, a SNOMED concept, for the 5 mg tablet), else text only.
    """
    code = vs.ORDER_CODES.get("folic_acid_replacement")
    if code is None or code.system != system:
        return _text_only(name)
    coding = {"system": code.system, "code": code.code, "display": code.display}
    return {"coding": [coding], "text": _product_text(name)}


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
    words: str  # the regimen in words for card detail (cards/wording/orders.toml)
    phases: tuple[Phase, ...]
    source: str


def _im(text: str, dose: float, unit: str, **repeat: Any) -> Phase:
    return Phase(text, dose, unit, _ROUTE_IM, repeat)


def _oral(text: str, dose: float, unit: str) -> Phase:
    return Phase(text, dose, unit, _ROUTE_ORAL, {"frequency": 1, "period": 1, "periodUnit": "d"})


def _bounds(value: int, unit: str) -> dict[str, Any]:
    """Return a UCUM boundsDuration: how long a phase lasts."""
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def _words(name: str, part: str = "words") -> str:
    """Return a regimen's text from `cards/wording/orders.toml` (the same in both profiles)."""
    return render(Profile.UK, f"orders.regimen.{name}.{part}")


# US cyanocobalamin phases shared by the neuro and standard regimens [V2] S-US-DOSE.
def _us_daily_week(name: str) -> Phase:
    return _im(_words(name, "phase1"), 1000, "ug",
               frequency=1, period=1, periodUnit="d", boundsDuration=_bounds(7, "d"))  # fmt: skip


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
            _words("MR-UK-NEURO"),
            (
                _im(_words("MR-UK-NEURO", "phase1"), 1, "mg",
                    frequency=1, period=2, periodUnit="d"),
                _im(_words("MR-UK-NEURO", "phase2"), 1, "mg",
                    frequency=1, period=2, periodUnit="mo"),
            ),
            "S-BNF",
        ),
        Regimen(  # [V2] S-BNF (2-3-monthly since Sep 2018)
            "MR-UK-STANDARD",
            _HYDROXOCOBALAMIN,
            _words("MR-UK-STANDARD"),
            (
                _im(_words("MR-UK-STANDARD", "phase1"), 1, "mg",
                    frequency=3, period=1, periodUnit="wk", boundsDuration=_bounds(2, "wk")),
                _im(_words("MR-UK-STANDARD", "phase2"), 1, "mg",
                    frequency=1, period=2, periodMax=3, periodUnit="mo"),
            ),
            "S-BNF",
        ),
        Regimen(  # [V2] S-US-DOSE
            "MR-US-NEURO",
            _CYANOCOBALAMIN_INJECTION,
            _words("MR-US-NEURO"),
            (
                _us_daily_week("MR-US-NEURO"),
                _us_weekly(8, _words("MR-US-NEURO", "phase2")),
                _us_monthly(_words("MR-US-NEURO", "phase3")),
            ),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-US-DOSE; the label's 100 mcg regimen [V] S-FDA-CN is an option
            "MR-US-STANDARD",
            _CYANOCOBALAMIN_INJECTION,
            _words("MR-US-STANDARD"),
            (
                _us_daily_week("MR-US-STANDARD"),
                _us_weekly(4, _words("MR-US-STANDARD", "phase2")),
                _us_monthly(_words("MR-US-STANDARD", "phase3")),
            ),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-CKS; text only: no verified code for a 50 microgram tablet
            "MR-UK-ORAL-DIET",
            _text_only("cyanocobalamin_50_tablet"),
            _words("MR-UK-ORAL-DIET"),
            (_oral(_words("MR-UK-ORAL-DIET", "phase1"), 50, "ug"),),
            "S-CKS",
        ),
        Regimen(  # [V2] S-BNF: maintenance every 2-3 months
            "MR-UK-MAINT",
            _HYDROXOCOBALAMIN,
            _words("MR-UK-MAINT"),
            (_im(_words("MR-UK-MAINT", "phase1"), 1, "mg",
                 frequency=1, period=2, periodMax=3, periodUnit="mo"),),
            "S-BNF",
        ),
        Regimen(  # [V2] S-BNF: every 2 months after neurological involvement
            "MR-UK-MAINT-NEURO",
            _HYDROXOCOBALAMIN,
            _words("MR-UK-MAINT-NEURO"),
            (_im(_words("MR-UK-MAINT-NEURO", "phase1"), 1, "mg",
                 frequency=1, period=2, periodUnit="mo"),),
            "S-BNF",
        ),
        Regimen(  # [V2] S-US-DOSE; monthly in the US label [V] S-FDA-OH
            "MR-US-MAINT",
            _CYANOCOBALAMIN_INJECTION,
            _words("MR-US-MAINT"),
            (_us_monthly(_words("MR-US-MAINT", "phase1")),),
            "S-US-DOSE",
        ),
        Regimen(  # [V2] S-VEGAN: 2000 micrograms once a week (`vegan_regimen` = weekly-2000)
            "MR-VEGAN",
            _CYANOCOBALAMIN_TABLET,
            _words("MR-VEGAN"),
            (Phase(_words("MR-VEGAN", "phase1"), 2000, "ug", _ROUTE_ORAL,
                   {"frequency": 1, "period": 1, "periodUnit": "wk"}),),
            "S-VEGAN",
        ),
        Regimen(  # [V2] S-VEGAN: at least 10 micrograms daily (`vegan_regimen` = daily-10)
            "MR-VEGAN-DAILY",
            _text_only("supplement_10"),
            _words("MR-VEGAN-DAILY"),
            (_oral(_words("MR-VEGAN-DAILY", "phase1"), 10, "ug"),),
            "S-VEGAN",
        ),
        Regimen(  # [U] seed figure, a site option only (`vegan_regimen` = seed)
            "MR-VEGAN-SEED",
            _text_only("supplement_250"),
            _words("MR-VEGAN-SEED"),
            (_oral(_words("MR-VEGAN-SEED", "phase1"), 250, "ug"),),
            "S-VEGAN",
        ),
        Regimen(  # [V2] S-AAFP17, S-ASMBS
            "MR-ORAL-1000",
            _CYANOCOBALAMIN_TABLET,
            _words("MR-ORAL-1000"),
            (_oral(_words("MR-ORAL-1000", "phase1"), 1000, "ug"),),
            "S-AAFP17",
        ),
        # §11.6 folic acid for a combined B12 and folate deficiency (setting folate_regimen).
        Regimen(  # [V2] S-CKS: 5 mg daily for 4 months; text only until a site adds its dm+d
            "MR-FOLATE-5MG",
            _folic_acid("folic_acid_5mg_tablet", vs.SNOMED),
            _words("MR-FOLATE-5MG"),
            (Phase(_words("MR-FOLATE-5MG", "phase1"), 5, "mg", _ROUTE_ORAL,
                   {"frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsDuration": _bounds(4, "mo")}),),
            "S-CKS",
        ),
        Regimen(  # [V2] S-US-DOSE: 1 mg daily; RxNorm 310410 [V2] (order-codes.csv)
            "MR-FOLATE-1MG",
            _folic_acid("folic_acid_1mg_tablet", vs.RXNORM),
            _words("MR-FOLATE-1MG"),
            (_oral(_words("MR-FOLATE-1MG", "phase1"), 1, "mg"),),
            "S-US-DOSE",
        ),
    )
}  # fmt: skip

# The folic acid templates (§11.6): never offered without the B12 regimen on the same card.
FOLATE_REGIMENS = {"5mg-4-months": "MR-FOLATE-5MG", "1mg-daily": "MR-FOLATE-1MG"}


def is_folic_acid_request(resource: Mapping[str, Any] | None) -> bool:
    """Return whether a suggested resource is one of the §11.6 folic acid templates."""
    if not resource or resource.get("resourceType") != "MedicationRequest":
        return False
    product = resource.get("medicationCodeableConcept")
    return any(product == REGIMENS[name].product for name in FOLATE_REGIMENS.values())


def with_route_im(
    draft: Mapping[str, Any], patient_id: str, profile: Profile = Profile.UK
) -> dict[str, Any]:
    """Return a new draft copy of an order with every dosage route set to intramuscular.

    For `cyanocobalamin-safety` (a): the clinician's own product and dose, given IM instead of
    IV (IM route SNOMED 78421000 [V] S-ROUTE). The copy has no id (the EHR assigns one). The
    route's words are `orders.route.*` in `cards/wording/orders.toml`, shared by both profiles
    (so the default profile gives the same text as the facts' own).
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
            dosage["route"] = {"coding": [_ROUTE_IM], "text": render(profile, "orders.route.im")}
            said = dosage.get("text")
            if isinstance(said, str):
                dosage["text"] = _IV_WORDS.sub(render(profile, "orders.route.im_adverb"), said)
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


# Potassium at about 24 h and 48 h (§7.0): two occurrences, one a day.
POTASSIUM_TIMING = {"repeat": {"count": 2, "frequency": 1, "period": 1, "periodUnit": "d"}}


def service_request(
    name: str,
    profile: Profile,
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
            "text": order_label(name, profile),
        },
    }
    if timing is not None:
        resource["occurrenceTiming"] = timing
    if reasons:
        resource["reasonReference"] = [{"reference": r} for r in sorted(set(reasons))]
    return resource


def order_label(name: str, profile: Profile) -> str:
    """Return the human label of an order code in a profile's wording (`cards/wording/orders.toml`;
    the LOINC/SNOMED display, kept in the coding, for a code without one)."""
    key = f"orders.order.{name}"
    if key in MESSAGES:
        return render(profile, key)
    return vs.ORDER_CODES[name].display
