"""The facts package: `facts_from_fhir` composes one family per module into the one `Facts`."""

from __future__ import annotations

import dataclasses
from collections import Counter

from cards.facts import Facts
from cards.facts import conditions
from cards.facts import laboratory
from cards.facts import medications
from cards.facts import patient
from cards.facts import procedures


FAMILIES = (
    patient.PatientFacts,
    conditions.ConditionFacts,
    medications.MedicationFacts,
    medications.TreatmentFacts,
    laboratory.LaboratoryFacts,
    procedures.FindingFacts,
)
# Set by facts_from_fhir itself, from the chart and the reading of it.
DIRECT = ("patient_id", "hook", "today", "settings", "unreadable_resources")


def test_every_fact_is_set_by_exactly_one_family():
    # A field no family sets would silently keep its default in every answer.
    named = Counter([*DIRECT, *(key for family in FAMILIES for key in family.__annotations__)])
    assert set(named) == {f.name for f in dataclasses.fields(Facts)}
    assert [key for key, count in named.items() if count > 1] == []
