"""Property tests on fact extraction: odd FHIR never raises, and the answer stays well formed.

Hypothesis builds resources of every type the rules read with fields present, missing or of the
wrong type, absurd units and huge numbers, and runs `facts_from_fhir` and every service on them
directly (no HTTP), for each hook, as an adult, a child and a patient of unknown age.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cards.facts import Chart
from cards.facts import Hook
from cards.facts import facts_from_fhir
from cards.model import to_json
from cards.services import SERVICES
from tests.fuzz.test_hook_bodies import SETTINGS
from tests.fuzz.test_hook_bodies import json_leaf
from tests.fuzz.test_hook_bodies import json_value
from tests.fuzz.test_hook_bodies import odd_number
from tests.fuzz.test_hook_bodies import odd_unit


T = date(2026, 11, 29)
TYPES = [
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "Medication",
]
CODES = st.sampled_from(
    [
        ("http://loinc.org", "2132-9"),
        ("http://loinc.org", "13964-2"),
        ("http://loinc.org", "718-7"),
        ("http://loinc.org", "2823-3"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "317106"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "4511"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "6809"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "1159834"),
        ("http://snomed.info/sct", "84027009"),
        ("http://snomed.info/sct", "91019004"),
        ("http://hl7.org/fhir/sid/icd-10-cm", "Z98.84"),
        ("http://hl7.org/fhir/sid/icd-10-cm", "D51.0"),
    ]
)
concept = st.one_of(
    CODES.map(lambda c: {"coding": [{"system": c[0], "code": c[1]}], "text": "x"}),
    st.fixed_dictionaries({"text": st.text(max_size=30)}),
    json_value,
)
odd_date = st.one_of(
    st.sampled_from(["2026-11-20", "2026", "2026-02", "1900-01-01", "2999-12-31", "bad"]),
    json_leaf,
)
FIELDS: dict[str, Any] = {
    "id": st.one_of(st.text(min_size=1, max_size=6), json_leaf),
    "status": st.one_of(
        st.sampled_from(["final", "active", "completed", "stopped", "draft", "entered-in-error"]),
        json_leaf,
    ),
    "intent": st.one_of(st.sampled_from(["order", "plan", "proposal"]), json_leaf),
    "code": concept,
    "medicationCodeableConcept": concept,
    "valueQuantity": st.fixed_dictionaries(
        {"value": odd_number, "unit": odd_unit, "code": odd_unit}
    ),
    "valueCodeableConcept": concept,
    "effectiveDateTime": odd_date,
    "issued": odd_date,
    "authoredOn": odd_date,
    "onsetDateTime": odd_date,
    "recordedDate": odd_date,
    "performedDateTime": odd_date,
    "clinicalStatus": st.one_of(
        st.just({"coding": [{"code": "active"}]}),
        st.just({"coding": [{"code": "resolved"}]}),
        json_value,
    ),
    "dosageInstruction": st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {
                    "doseAndRate": st.just([{"doseQuantity": {"value": 1, "unit": "mg"}}])
                    | json_value,
                    "timing": st.fixed_dictionaries(
                        {
                            "repeat": st.fixed_dictionaries(
                                {"period": odd_number, "periodUnit": json_leaf}
                            )
                        }
                    )
                    | json_value,
                    "route": concept,
                }
            ),
            max_size=2,
        ),
        json_value,
    ),
    "interpretation": json_value,
    "referenceRange": json_value,
    "ingredient": json_value,
    "effectivePeriod": json_value,
    "dispenseRequest": json_value,
}


@st.composite
def odd_resource(draw: st.DrawFn) -> dict[str, Any]:
    """Return a resource of a read type with a random subset of odd fields."""
    resource: dict[str, Any] = {"resourceType": draw(st.sampled_from(TYPES))}
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=8, unique=True)):
        resource[name] = draw(FIELDS[name])
    return resource


patient = st.fixed_dictionaries(
    {"resourceType": st.just("Patient"), "id": st.just("p1")},
    optional={
        "birthDate": st.one_of(
            st.sampled_from(["1950-01-01", "2019-06-01", "2026", "x"]), json_leaf
        ),
        "gender": json_leaf,
        "deceasedBoolean": json_leaf,
    },
)


@SETTINGS
@given(
    hook=st.sampled_from(list(Hook)),
    who=patient,
    resources=st.lists(odd_resource(), max_size=8),
    drafts=st.lists(odd_resource(), max_size=3),
    selections=st.lists(st.text(max_size=12), max_size=2),
)
def test_fact_extraction_never_raises(
    hook: Hook,
    who: dict[str, Any],
    resources: list[dict[str, Any]],
    drafts: list[dict[str, Any]],
    selections: list[str],
) -> None:
    """Odd resources give facts and well-formed cards for every service, never an exception."""
    chart = Chart("p1", hook, (who, *resources), tuple(drafts), tuple(selections))
    facts = facts_from_fhir(chart, T)
    for service in SERVICES.values():
        if service.hook is hook:
            for card in service.evaluate(facts):
                body = to_json(card)
                assert body["summary"] and len(body["summary"]) <= 139
