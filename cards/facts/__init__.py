"""Derived facts: everything the rules read, computed once per request (clinical-rules §6).

`facts_from_fhir` is the only code that knows FHIR shapes; rules read the frozen `Facts` only.
It reads the chart once (`reading`) and composes one family per module: `patient`,
`conditions`, `medications` (with doses and exposures), `laboratory` and `procedures` (with
finding Observations and exposures); `model` holds `Facts` and the records it is made of.
"""

from __future__ import annotations

from datetime import date

from cards import labs
from cards.facts.conditions import read_conditions
from cards.facts.laboratory import read_laboratory
from cards.facts.medications import read_medications
from cards.facts.medications import read_treatment
from cards.facts.model import B12Status
from cards.facts.model import Chart
from cards.facts.model import Dose
from cards.facts.model import Exposure
from cards.facts.model import Facts
from cards.facts.model import Finding
from cards.facts.model import Hook
from cards.facts.model import Marker
from cards.facts.model import Order
from cards.facts.model import StatusBasis
from cards.facts.model import TestDraft
from cards.facts.model import maintenance_interval
from cards.facts.patient import read_patient
from cards.facts.procedures import read_findings
from cards.facts.reading import read_chart
from cards.settings import Settings


__all__ = [
    "B12Status",
    "Chart",
    "Dose",
    "Exposure",
    "Facts",
    "Finding",
    "Hook",
    "Marker",
    "Order",
    "StatusBasis",
    "TestDraft",
    "facts_from_fhir",
    "maintenance_interval",
]


def facts_from_fhir(chart: Chart, today: date, settings: Settings | None = None) -> Facts:
    """Return the derived facts of a chart at date `today`.

    Args:
        chart: the resolved resources, draft orders and selections of one hook request.
        today: the evaluation date T.
        settings: clinical settings; the defaults of clinical-rules.md when omitted.
    """
    s = settings or Settings()
    resources = read_chart(chart, today, s)
    patient, born = read_patient(resources.of("Patient"), today)
    conditions = read_conditions(resources.of("Condition"), patient["sex"], today, s)
    person = labs.Patient(patient["sex"], born, conditions.facts["pregnant"])
    meds = read_medications(resources, today, s)
    observations = resources.of("Observation")
    laboratory = read_laboratory(observations, person, meds, conditions, today, s)
    findings = read_findings(resources.of("Procedure"), observations, conditions.records, today, s)
    treatment = read_treatment(meds, bool(findings["neuro_history"]), chart.hook, today, s)
    return Facts(
        patient_id=chart.patient_id,
        hook=chart.hook,
        today=today,
        settings=s,
        unreadable_resources=resources.unreadable,
        **patient,
        **conditions.facts,
        **meds.facts,
        **laboratory,
        **findings,
        **treatment,
    )
