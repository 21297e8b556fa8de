"""One table per rule: minimal charts give these rule ids and indicators (clinical-rules §7, §9)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from cards import terminology as vs
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.model import to_json
from cards.rules import b12_deficiency_untreated
from cards.rules import b12_neuro_untreated
from cards.rules import folate_before_b12
from cards.services import SERVICES
from cards.services import interact
from cards.settings import Profile
from cards.settings import Settings
from tests.unit.fhir import ICD10CM
from tests.unit.fhir import IM
from tests.unit.fhir import IV
from tests.unit.fhir import ORAL
from tests.unit.fhir import SNOMED
from tests.unit.fhir import ago
from tests.unit.fhir import condition
from tests.unit.fhir import facts
from tests.unit.fhir import med_admin
from tests.unit.fhir import med_request
from tests.unit.fhir import med_statement
from tests.unit.fhir import medication
from tests.unit.fhir import observation
from tests.unit.fhir import patient
from tests.unit.fhir import service_request


PV, OSEL, OSIGN = Hook.PATIENT_VIEW, Hook.ORDER_SELECT, Hook.ORDER_SIGN
SERVICE = {PV: "b12-patient-view", OSEL: "b12-order-select", OSIGN: "b12-order-sign"}
B12, B12_MOLAR, HOLOTC, MMA, HCY = "2132-9", "14685-2", "72160-5", "13964-2", "13965-9"
FOLATE, EGFR, HB, MCV, HCT, RETIC, K = (
    "2284-8",
    "33914-3",
    "718-7",
    "787-2",
    "4544-3",
    "4679-7",
    "2823-3",
)
EGFR_UNIT = "mL/min/{1.73_m2}"

PARAESTHESIA = condition(SNOMED, "309087008", "Paraesthesia of foot", ago(30), id="neuro-1")
ATAXIA = condition(SNOMED, "20262006", "Ataxia", ago(30), id="neuro-2")
PERNICIOUS = condition(SNOMED, "84027009", "Pernicious anaemia", ago(400), id="pa-1")
PREGNANT = condition(SNOMED, "77386006", "Pregnant", ago(140), id="preg-1")
METHOTREXATE = med_request(rxnorm="6851", dose=15, unit="mg", period=1, period_unit="wk")
ORAL_B12 = med_statement(text="Cyanocobalamin 1000 mcg tablet", route=ORAL, start=ago(30))
IM_B12 = med_request(rxnorm="317106", route=IM, dose=1, unit="mg", period=3, period_unit="mo")
FA_DRAFT = med_request(rxnorm="310410", dose=1, unit="mg", status="draft", id="fa-1")
OH_DRAFT = med_request(rxnorm="317106", route=IM, dose=1, unit="mg", status="draft", id="oh-1")
ORAL_DRAFT = med_request(rxnorm="309593", route=ORAL, dose=1, unit="mg", status="draft", id="or-1")
MULTIVITAMIN = medication("mv", [("4511", "folic acid"), ("11248", "vitamin B12")], "Multivitamin")


def _hydroxocobalamin(days_ago: int) -> dict[str, Any]:
    """Return a hydroxocobalamin 1 mg IM administration."""
    return med_admin(rxnorm="317106", route=IM, dose=1, unit="mg", when=ago(days_ago))


def _b12(value: float, days_ago: int, **extra: Any) -> dict[str, Any]:
    """Return a serum B12 in pg/mL."""
    return observation(B12, value, "pg/mL", ago(days_ago), **extra)


def _hb(value: float, days_ago: int) -> dict[str, Any]:
    """Return a haemoglobin in g/dL."""
    return observation(HB, value, "g/dL", ago(days_ago))


def _creates_medication_request(card: Card) -> bool:
    """Return whether a card suggests creating a MedicationRequest."""
    return any(
        a.type == "create" and a.resource["resourceType"] == "MedicationRequest"
        for s in card.suggestions
        for a in s.actions
    )


# §11.10: neurology, haematology (and a site's paediatric) referral codes, one card each.
REFERRAL_CODES = {
    vs.ORDER_CODES[name].code
    for name in ("neurology_referral", "haematology_referral", "paediatric_referral")
    if name in vs.ORDER_CODES
}


def _check_contract(cards: Sequence[Card], found: Facts) -> None:
    """Check the response-wide rules of §7.0 that hold for every chart."""
    owners = [c.rule_id for c in cards if _creates_medication_request(c)]
    assert len(owners) <= 1, f"more than one owner of the B12 treatment suggestion: {owners}"
    if found.is_child or found.age_unknown:
        assert [] == owners
    referrals = [
        coding["code"]
        for c in cards
        for s in c.suggestions
        for a in s.actions
        if a.type == "create" and a.resource["resourceType"] == "ServiceRequest"
        for coding in a.resource["code"].get("coding", ())
        if coding["code"] in REFERRAL_CODES
    ]
    assert len(referrals) == len(set(referrals)), f"a referral offered twice (§11.10): {referrals}"
    for card in cards:
        to_json(card)


def _run(
    resources: Sequence[dict[str, Any]],
    hook: Hook = PV,
    drafts: Sequence[dict[str, Any]] = (),
    selections: Sequence[str] = (),
    settings: Settings | None = None,
) -> list[Card]:
    """Return the cards of the hook's service for a chart, checking the §7.0 invariants."""
    found = facts(*resources, hook=hook, drafts=drafts, selections=selections, settings=settings)
    cards = SERVICES[SERVICE[hook]].evaluate(found)
    _check_contract(cards, found)
    return cards


def _fired(cards: Sequence[Card]) -> set[tuple[str, str]]:
    """Return (rule id, indicator) of each card."""
    return {(c.rule_id, c.indicator.value) for c in cards}


def _suggested(card: Card) -> set[str]:
    """Return each suggestion as 'delete Type/id' or 'ResourceType code'."""
    found = set()
    for suggestion in card.suggestions:
        for action in suggestion.actions:
            if action.type == "delete":
                found.add(f"delete {action.resourceId}")
            else:
                resource = action.resource
                concept = resource.get("medicationCodeableConcept") or resource["code"]
                found.add(f"{resource['resourceType']} {concept['coding'][0]['code']}")
    return found


def _card(cards: Sequence[Card], rule_id: str) -> Card:
    """Return the one card of a rule."""
    (card,) = [c for c in cards if c.rule_id == rule_id]
    return card


def row(expected: set[tuple[str, str]], resources: list[Any], id: str, **chart: Any) -> Any:
    """Return one table row: the expected cards, the chart's resources and hook options."""
    return pytest.param(expected, resources, chart, id=id)


# --- b12-neuro-untreated (§7.1) ---------------------------------------------------------------

EXAMPLE_1 = [patient(68, "female"), _b12(142, 10, id="b12-1"), PARAESTHESIA]
NEURO = {("b12-neuro-untreated", "critical")}
PAEDIATRIC_CRITICAL = {("paediatric-specialist", "critical")}
PAEDIATRIC_WARNING = {("paediatric-specialist", "warning")}

B12_NEURO_UNTREATED = [
    row(NEURO, EXAMPLE_1, "example-1"),
    row(
        NEURO,
        EXAMPLE_1,
        "focused-oral-draft",
        hook=OSEL,
        drafts=[ORAL_DRAFT],
        selections=["MedicationRequest/or-1"],
    ),
    row(NEURO, [*EXAMPLE_1, ORAL_B12], "on-oral-only"),
    row(set(), [*EXAMPLE_1, IM_B12], "on-parenteral"),
    row(
        NEURO,
        [*EXAMPLE_1, med_admin(rxnorm="5514", route=IV, dose=5, unit="g", when=ago(3))],
        "cyanide-antidote-is-not-treatment",
    ),
    row(PAEDIATRIC_CRITICAL, [patient(9, "male"), _b12(120, 10), ATAXIA], "example-20-child"),
    row(
        {("b12-indeterminate-functional-tests", "warning")},
        [patient(50), _b12(210, 7), ATAXIA],
        "example-8-not-deficient",
    ),
    row(
        set(),
        EXAMPLE_1,
        "order-hook-without-b12-draft",
        hook=OSEL,
        drafts=[OH_DRAFT],
        selections=["MedicationRequest/oh-1"],
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), B12_NEURO_UNTREATED)
def test_b12_neuro_untreated(expected, resources, chart):
    """Fire critically for deficiency with neuro findings and no parenteral B12 (§7.1)."""
    assert expected == _fired(_run(resources, **chart))


def test_example_1_suggestions():
    """Suggest the UK neuro regimen and urgent neurology and haematology referrals (example 1)."""
    card = _card(_run(EXAMPLE_1), "b12-neuro-untreated")

    assert {
        "MedicationRequest 317106",
        "ServiceRequest 308474002",
        "ServiceRequest 183567007",
    } == _suggested(card)


def test_oral_draft_offered_for_deletion():
    """Offer to delete the focused oral B12 draft, not recommended (§7.1)."""
    cards = _run(EXAMPLE_1, hook=OSEL, drafts=[ORAL_DRAFT], selections=["MedicationRequest/or-1"])

    (delete,) = [
        s for s in _card(cards, "b12-neuro-untreated").suggestions if s.actions[0].type == "delete"
    ]
    assert ("MedicationRequest/or-1", False) == (
        delete.actions[0].resourceId,
        bool(delete.isRecommended),
    )


# --- b12-deficiency-untreated (§7.2) ------------------------------------------------------------

UNTREATED = {("b12-deficiency-untreated", "warning")}
EXAMPLE_3 = [patient(55, "male"), observation(B12_MOLAR, 95, "pmol/L", ago(5), id="b12-3")]

B12_DEFICIENCY_UNTREATED = [
    row(UNTREATED, EXAMPLE_3, "example-3-pmol"),
    row(
        UNTREATED,
        [patient(40, "male"), _b12(200, 14, interpretation="L", ref_range=(232, 1245))],
        "example-10-flag",
    ),
    row(UNTREATED, [patient(52), observation(HOLOTC, 19, "pmol/L", ago(12))], "example-13-holotc"),
    row(UNTREATED, [patient(70), PERNICIOUS], "pernicious-anaemia-condition"),
    row(
        UNTREATED,
        [
            patient(60),
            _b12(260, 20),
            observation(MMA, 0.55, "nmol/mL", ago(18)),
            observation(EGFR, 85, EGFR_UNIT, ago(20)),
        ],
        "example-5-mma-nmol-per-ml",
    ),
    row(set(), [*EXAMPLE_3, ORAL_B12], "treated-orally"),
    row(set(), [patient(49), observation(B12_MOLAR, 300, "pmol/L", ago(20))], "example-4-normal"),
    row(PAEDIATRIC_WARNING, [patient(12, "male"), _b12(120, 10)], "child"),
    row(
        {("b12-indeterminate-functional-tests", "info")},
        [patient(72), observation(B12, 165, "ng/L", ago(10), ref_range=(145, 900))],
        "example-11-lab-range",
    ),
    row(
        set(),
        [patient(63, "male"), _b12(110, 3, status="entered-in-error"), _b12(420, 60)],
        "example-12-entered-in-error",
    ),
    # §11.2: two results at the same time are two results; the more abnormal is current,
    # whatever their order, unless one is amended/corrected or they share an identifier.
    row(UNTREATED, [patient(64), _b12(410, 9), _b12(150, 9)], "same-time-lower-used"),
    row(UNTREATED, [patient(64), _b12(150, 9), _b12(410, 9)], "same-time-lower-used-reversed"),
    row(
        set(),
        [patient(64), _b12(150, 9), _b12(410, 9, status="corrected")],
        "same-time-corrected-supersedes",
    ),
    row(
        set(),
        [patient(64), _b12(410, 9, status="corrected"), _b12(150, 9)],
        "same-time-corrected-supersedes-reversed",
    ),
    row(
        set(),
        [
            patient(64),
            _b12(150, 9, identifier=[{"system": "lab", "value": "A1"}]),
            _b12(
                410, 9, identifier=[{"system": "lab", "value": "A1"}], issued="2026-11-21T10:00:00Z"
            ),
        ],
        "same-time-shared-identifier-later-issued",
    ),
    # §11.3: text values are read through the lab's flag and shown as sent.
    row(
        UNTREATED,
        [
            patient(56),
            observation(B12, None, None, ago(11), valueString="<50 pg/mL", interpretation="L"),
        ],
        "text-value-below-50-flag-low",
    ),
    row(
        set(),
        [
            patient(60),
            observation(B12, None, None, ago(11), valueString=">2000 pg/mL", interpretation="H"),
        ],
        "text-value-above-2000-flag-high",
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), B12_DEFICIENCY_UNTREATED)
def test_b12_deficiency_untreated(expected, resources, chart):
    """Warn about deficiency with no neuro findings and no B12 treatment (§7.2)."""
    assert expected == _fired(_run(resources, **chart))


def test_example_3_suggests_uk_standard_regimen():
    """Suggest MR-UK-STANDARD, hydroxocobalamin 317106 (example 3)."""
    assert {"MedicationRequest 317106"} == _suggested(
        _card(_run(EXAMPLE_3), "b12-deficiency-untreated")
    )


# --- folate-before-b12 (§7.3) ---------------------------------------------------------------

EXAMPLE_14 = [
    patient(58),
    _b12(150, 14, id="b12-14"),
    _hb(10.1, 14),
    observation(MCV, 108, "fL", ago(14)),
]
SELECT_FA = {"hook": OSEL, "drafts": [FA_DRAFT], "selections": ["MedicationRequest/fa-1"]}
TEXT_DRAFT = med_request(text="Folic Acid 5mg tablets", status="draft", id="fa-2")
FOLINATE_DRAFT = med_request(rxnorm="6313", dose=15, unit="mg", status="draft", id="cf-1")
WEEKLY_FA_DRAFT = med_request(
    rxnorm="199318", dose=5, unit="mg", period=1, period_unit="wk", status="draft", id="fa-3"
)
PRENATAL_DRAFT = med_request(rxnorm="198640", dose=0.4, unit="mg", status="draft", id="fa-4")
MV_DRAFT = med_request(contained_medication=MULTIVITAMIN, status="draft", id="mv-1")
CRITICAL = {("folate-before-b12", "critical")}


def _dmd_folic_acid(code: str) -> dict[str, Any]:
    """Return a folic acid request coded in dm+d only, dosed as 1 tablet daily (§11.1 (b))."""
    order = med_request(dose=1, unit="tablet")
    order["medicationCodeableConcept"] = {"coding": [{"system": SNOMED, "code": code}]}
    return order


def _tablet_draft(order: dict[str, Any]) -> dict[str, Any]:
    """Return the order-select chart options for `order` as the selected draft "fa-t"."""
    draft = {**order, "id": "fa-t", "status": "draft"}
    return {"hook": OSEL, "drafts": [draft], "selections": ["MedicationRequest/fa-t"]}


WARNING = {("folate-before-b12", "warning")}

FOLATE_BEFORE_B12 = [
    row(CRITICAL, EXAMPLE_14, "example-14", **SELECT_FA),
    row(
        WARNING,
        [patient(35, "male"), observation(MCV, 104, "fL", ago(5))],
        "example-16-text",
        hook=OSEL,
        drafts=[TEXT_DRAFT],
        selections=["MedicationRequest/fa-2"],
    ),
    row(
        CRITICAL,
        [patient(70), PERNICIOUS],
        "example-17-multivitamin",
        hook=OSIGN,
        drafts=[MV_DRAFT],
    ),
    row(
        WARNING,
        [patient(44), observation(B12, 150, "mIU/L", ago(8))],
        "example-43-unusable",
        **SELECT_FA,
    ),
    row(WARNING, [patient(50), _b12(210, 7)], "indeterminate", **SELECT_FA),
    row(
        {("potassium-monitoring", "warning")},
        EXAMPLE_14,
        "example-15-b12-drafted-too",
        hook=OSIGN,
        drafts=[FA_DRAFT, OH_DRAFT],
    ),
    row(
        set(),
        [patient(62, "male"), METHOTREXATE],
        "example-18-folinate",
        hook=OSEL,
        drafts=[FOLINATE_DRAFT],
        selections=["MedicationRequest/cf-1"],
    ),
    row(
        set(),
        [patient(62, "male"), METHOTREXATE],
        "example-19-methotrexate",
        hook=OSEL,
        drafts=[WEEKLY_FA_DRAFT],
        selections=["MedicationRequest/fa-3"],
    ),
    row(
        WARNING,
        [patient(62, "male"), METHOTREXATE, observation(MCV, 106, "fL", ago(5))],
        "example-19-with-macrocytosis",
        hook=OSEL,
        drafts=[WEEKLY_FA_DRAFT],
        selections=["MedicationRequest/fa-3"],
    ),
    row(
        set(),
        [patient(31), PREGNANT, _hb(12.4, 5)],
        "example-23-prenatal",
        hook=OSEL,
        drafts=[PRENATAL_DRAFT],
        selections=["MedicationRequest/fa-4"],
    ),
    row(set(), [patient(50), _b12(500, 30)], "b12-normal", **SELECT_FA),
    # The exemptions silence only the warning branch: known deficiency stays critical (§7.3).
    row(
        CRITICAL,
        [patient(62, "male"), METHOTREXATE, _b12(150, 10)],
        "methotrexate-exemption-not-for-deficiency",
        hook=OSEL,
        drafts=[WEEKLY_FA_DRAFT],
        selections=["MedicationRequest/fa-3"],
    ),
    row(
        CRITICAL,
        [patient(31), PREGNANT, _b12(150, 10)],
        "prenatal-exemption-not-for-deficiency",
        hook=OSEL,
        drafts=[PRENATAL_DRAFT],
        selections=["MedicationRequest/fa-4"],
    ),
    row(
        set(),
        EXAMPLE_14,
        "draft-not-selected",
        hook=OSEL,
        drafts=[FA_DRAFT, OH_DRAFT],
        selections=["MedicationRequest/oh-1"],
    ),
    # §11.1: "1 tablet" times the product's strength; 0.4 mg a day in pregnancy is the routine
    # supplement (§7.3 exemption), at a booking visit with no B12 result yet.
    *(
        row(
            set(), [patient(31), PREGNANT], f"prenatal-{name}-booking-visit", **_tablet_draft(draft)
        )
        for name, draft in (
            ("198640-1-tablet", med_request(rxnorm="198640", dose=1, unit="{tbl}")),
            ("198640-sandbox-pill", med_request(rxnorm="198640", dose=1, unit="{pill}")),
            ("dmd-327552003-1-tablet", _dmd_folic_acid("327552003")),
            (
                "text-400-microgram",
                med_request(text="Folic acid 400 microgram tablets", dose=1, unit="tablet"),
            ),
        )
    ),
    *(
        row(
            WARNING, [patient(31), PREGNANT], f"prenatal-{name}-not-routine", **_tablet_draft(draft)
        )
        for name, draft in (
            ("310410-1-mg-tablet", med_request(rxnorm="310410", dose=1, unit="{tbl}")),
            ("198640-2-tablets", med_request(rxnorm="198640", dose=2, unit="tablets")),
            ("dmd-327550006-5-mg", _dmd_folic_acid("327550006")),
            ("ingredient-4511-strength-unknown", med_request(rxnorm="4511", dose=1, unit="TAB")),
        )
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), FOLATE_BEFORE_B12)
def test_folate_before_b12(expected, resources, chart):
    """Stop folic acid while B12 deficiency is untreated or not excluded (§7.3)."""
    assert expected == _fired(_run(resources, **chart))


@pytest.mark.parametrize(
    ("suggested", "resources", "chart"),
    [
        pytest.param(
            {"delete MedicationRequest/fa-1", "MedicationRequest 317106"},
            EXAMPLE_14,
            SELECT_FA,
            id="example-14",
        ),
        pytest.param(
            {"delete MedicationRequest/mv-1", "MedicationRequest 317106"},
            [patient(70), PERNICIOUS],
            {"hook": OSIGN, "drafts": [MV_DRAFT]},
            id="example-17",
        ),
        pytest.param(
            {"ServiceRequest 2132-9"},
            [patient(35, "male"), observation(MCV, 104, "fL", ago(5))],
            {"hook": OSEL, "drafts": [TEXT_DRAFT], "selections": ["MedicationRequest/fa-2"]},
            id="example-16",
        ),
        pytest.param(
            {"ServiceRequest 13964-2"}, [patient(50), _b12(210, 7)], SELECT_FA, id="indeterminate"
        ),
        pytest.param(
            {
                "delete MedicationRequest/fa-1",
                "delete MedicationRequest/fa-2",
                "MedicationRequest 317106",
            },
            EXAMPLE_14,
            {"hook": OSIGN, "drafts": [FA_DRAFT, TEXT_DRAFT]},
            id="one-card-every-draft",
        ),
    ],
)
def test_folate_before_b12_suggestions(suggested, resources, chart):
    """Delete the draft and start B12 when deficient; ask for B12 or MMA otherwise (§7.3)."""
    assert suggested == _suggested(_card(_run(resources, **chart), "folate-before-b12"))


def test_folate_before_b12_neuro_template():
    """Carry the neuro regimen (alternate days) when neuro findings are present (§7.3)."""
    cards = _run(EXAMPLE_1, **SELECT_FA)

    (resource,) = [
        s.actions[0].resource
        for s in _card(cards, "folate-before-b12").suggestions
        if s.actions[0].type == "create"
    ]
    assert {"frequency": 1, "period": 2, "periodUnit": "d"} == resource["dosageInstruction"][0][
        "timing"
    ]["repeat"]


@pytest.mark.parametrize(
    ("phrase", "resources", "chart"),
    [
        pytest.param(
            "identified from the order text",
            [patient(35, "male"), observation(MCV, 104, "fL", ago(5))],
            {"hook": OSEL, "drafts": [TEXT_DRAFT], "selections": ["MedicationRequest/fa-2"]},
            id="example-16",
        ),
        pytest.param(
            "could not be interpreted",
            [patient(44), observation(B12, 150, "mIU/L", ago(8))],
            SELECT_FA,
            id="example-43",
        ),
    ],
)
def test_folate_before_b12_detail(phrase, resources, chart):
    """Say how the order was recognised and that a B12 result could not be read (§7.3)."""
    assert phrase in _card(_run(resources, **chart), "folate-before-b12").detail


# --- folate-low-b12-unknown (§7.4) ---------------------------------------------------------

LOW_FOLATE = [patient(38), observation(FOLATE, 2.1, "ng/mL", ago(7), id="fol-1")]
FOLATE_LOW_B12_UNKNOWN = [
    row({("folate-low-b12-unknown", "warning")}, LOW_FOLATE, "example-38"),
    row(set(), [*LOW_FOLATE, _b12(420, 30)], "b12-within-90-days"),
    row({("folate-low-b12-unknown", "warning")}, [*LOW_FOLATE, _b12(420, 200)], "b12-too-old"),
    row(set(), [patient(38), observation(FOLATE, 8, "ng/mL", ago(7))], "folate-normal"),
    row(set(), [*LOW_FOLATE, ORAL_B12], "on-b12"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), FOLATE_LOW_B12_UNKNOWN)
def test_folate_low_b12_unknown(expected, resources, chart):
    """Warn about a low folate with no B12 result within 90 days of it (§7.4)."""
    assert expected == _fired(_run(resources, **chart))


def test_example_38_suggests_b12_and_mma():
    """Suggest B12 (recommended) and MMA (§7.4)."""
    card = _card(_run(LOW_FOLATE), "folate-low-b12-unknown")

    assert {"ServiceRequest 2132-9", "ServiceRequest 13964-2"} == _suggested(card)


@pytest.mark.parametrize(
    ("phrase", "resources"),
    [
        pytest.param("No B12 or holoTC result within 90 days", LOW_FOLATE, id="none-at-all"),
        pytest.param(
            "No usable B12 or holoTC result within 90 days of this folate (B12 150 mIU/L",
            [*LOW_FOLATE, observation(B12, 150, "mIU/L", ago(8))],
            id="unreadable-unit-named",
        ),
    ],
)
def test_folate_low_b12_unknown_names_an_unusable_b12(phrase, resources):
    """A B12 that exists but could not be used is named, never "no B12 result" (§11.3)."""
    assert phrase in _card(_run(resources), "folate-low-b12-unknown").detail


# --- potassium-monitoring (§7.5) ------------------------------------------------------------

EXAMPLE_30 = [patient(74), _b12(95, 4), _hb(8.9, 3), _hydroxocobalamin(1)]
POTASSIUM = {("potassium-monitoring", "warning")}

POTASSIUM_MONITORING = [
    row(POTASSIUM, EXAMPLE_14, "example-15-order-sign", hook=OSIGN, drafts=[FA_DRAFT, OH_DRAFT]),
    row(POTASSIUM, EXAMPLE_30, "example-30-day-2"),
    row(
        POTASSIUM,
        [
            patient(10, "male"),
            _b12(95, 4),
            observation(MCV, 110, "fL", ago(3)),
            _hydroxocobalamin(0),
        ],
        "child-too",
    ),
    row(
        {("hypokalaemia-on-treatment", "critical")},
        [*EXAMPLE_30, observation(K, 2.8, "mmol/L", ago(0), interpretation="L")],
        "example-31-result-exists",
    ),
    row(set(), [*EXAMPLE_30, observation(K, 4.2, "mmol/L", ago(0))], "normal-result-exists"),
    row(
        set(),
        EXAMPLE_14,
        "potassium-drafted",
        hook=OSIGN,
        drafts=[OH_DRAFT, service_request(K, "k-1")],
    ),
    row(set(), [patient(58), _b12(150, 14)], "no-anaemia", hook=OSIGN, drafts=[OH_DRAFT]),
    row(
        set(),
        [*EXAMPLE_14, _hydroxocobalamin(100)],
        "not-first-course",
        hook=OSIGN,
        drafts=[OH_DRAFT],
    ),
    row(set(), [patient(74), _b12(95, 6), _hb(8.9, 5), _hydroxocobalamin(3)], "after-48-hours"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), POTASSIUM_MONITORING)
def test_potassium_monitoring(expected, resources, chart):
    """Ask for potassium in the first 48 hours of a first parenteral course with anaemia (§7.5)."""
    assert expected == _fired(_run(resources, **chart))


def test_potassium_request_has_two_occurrences():
    """Suggest potassium 2823-3 at about 24 h and 48 h (§7.0)."""
    card = _card(_run(EXAMPLE_30), "potassium-monitoring")

    (suggestion,) = card.suggestions
    resource = suggestion.actions[0].resource
    assert ("2823-3", 2) == (
        resource["code"]["coding"][0]["code"],
        resource["occurrenceTiming"]["repeat"]["count"],
    )


# --- hypokalaemia-on-treatment (§7.6) -------------------------------------------------------

HYPOKALAEMIA = [
    row(
        {("hypokalaemia-on-treatment", "critical")},
        [*EXAMPLE_30, observation(K, 2.8, "mmol/L", ago(0), interpretation="L")],
        "example-31",
    ),
    row(
        {("hypokalaemia-on-treatment", "critical")},
        [*EXAMPLE_30, observation(K, 3.1, "mmol/L", ago(0), interpretation="LL")],
        "flag-ll",
    ),
    row(
        {("hypokalaemia-on-treatment", "warning")},
        [*EXAMPLE_30, observation(K, 3.3, "mmol/L", ago(0))],
        "mild",
    ),
    row(
        {("hypokalaemia-on-treatment", "warning"), ("potassium-monitoring", "warning")},
        [*EXAMPLE_14, observation(K, 3.2, "mmol/L", ago(3))],
        "order-sign-baseline",
        hook=OSIGN,
        drafts=[OH_DRAFT],
    ),
    row(set(), [patient(60), observation(K, 3.2, "mmol/L", ago(1))], "no-b12-treatment"),
    row(
        set(),
        [patient(60), _b12(95, 12), _hydroxocobalamin(10), observation(K, 3.2, "mmol/L", ago(1))],
        "after-72-hours",
    ),
    row(
        set(),
        [*EXAMPLE_14, observation(K, 3.2, "mmol/L", ago(10))],
        "order-sign-old-result",
        hook=OSIGN,
        drafts=[OH_DRAFT, service_request(K, "k-1")],
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), HYPOKALAEMIA)
def test_hypokalaemia_on_treatment(expected, resources, chart):
    """Flag low potassium in the first days of parenteral B12, critical below 3.0 (§7.6)."""
    assert expected == _fired(_run(resources, **chart))


# --- haematologic-response (§7.7) -----------------------------------------------------------

EXAMPLE_32 = [patient(74), _b12(95, 9), _hb(8.9, 8), _hydroxocobalamin(5)]
POOR_RESPONSE = [
    patient(74),
    _b12(95, 12),
    _hb(8.9, 10),
    _hydroxocobalamin(8),
    observation(HCT, 30, "%", ago(1)),
    observation(RETIC, 1.0, "%", ago(1), ref_range=(0.5, 2.0)),
]
HAEMATOLOGIC_RESPONSE = [
    row({("haematologic-response", "info")}, EXAMPLE_32, "example-32-day-6"),
    row({("haematologic-response", "warning")}, POOR_RESPONSE, "poor-response-day-9"),
    row(
        set(),
        [*EXAMPLE_32[:3], _hydroxocobalamin(5), observation(HCT, 40, "%", ago(1))],
        "result-after-start",
    ),
    row(set(), [patient(74), _b12(95, 9), _hydroxocobalamin(5)], "no-anaemia-at-start"),
    row(set(), [patient(74), _b12(95, 40), _hb(8.9, 35), _hydroxocobalamin(29)], "day-30"),
    row(
        set(),
        [*POOR_RESPONSE[:5], observation(RETIC, 5.0, "%", ago(1), ref_range=(0.5, 2.0))],
        "good-reticulocyte-response",
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), HAEMATOLOGIC_RESPONSE)
def test_haematologic_response(expected, resources, chart):
    """Ask for haematocrit and reticulocytes on days 5-28 of treatment for anaemia (§7.7)."""
    assert expected == _fired(_run(resources, **chart))


def test_example_32_suggestions():
    """Suggest a blood count (58410-2) and reticulocytes (4679-7) (example 32)."""
    card = _card(_run(EXAMPLE_32), "haematologic-response")

    assert {"ServiceRequest 58410-2", "ServiceRequest 4679-7"} == _suggested(card)


DAY_10_NO_RESULT = [patient(74), _b12(95, 12), _hb(8.9, 11), _hydroxocobalamin(9)]


@pytest.mark.parametrize(
    ("resources", "profile", "said", "unsaid"),
    [
        pytest.param(EXAMPLE_32, Profile.UK, "each day on days 5-7", " now ", id="day-6-daily"),
        pytest.param(
            [patient(74), _b12(95, 9), _hb(8.9, 8), _hydroxocobalamin(6)],
            Profile.UK,
            "each day on days 5-7",
            " now ",
            id="day-7-daily",
        ),
        pytest.param(
            DAY_10_NO_RESULT, Profile.UK, "haematocrit and reticulocytes now", "each day",
            id="day-10-now",
        ),
        pytest.param(
            DAY_10_NO_RESULT, Profile.US, "hematocrit and reticulocytes now", "each day",
            id="day-10-now-us",
        ),
        pytest.param(
            POOR_RESPONSE, Profile.UK, "haematocrit and reticulocytes now", "each day",
            id="poor-response-day-9-now",
        ),
    ],
)  # fmt: skip
def test_haematologic_response_asks_now_after_day_7(resources, profile, said, unsaid):
    """After day 7 the blood count is asked for now, not daily on days 5-7 (§11.7)."""
    card = _card(_run(resources, settings=Settings(profile=profile)), "haematologic-response")

    assert said in card.detail
    assert unsaid not in card.detail


# --- b12-indeterminate-functional-tests (§7.8) ----------------------------------------------

EXAMPLE_7 = [patient(50), _b12(210, 7, id="b12-7")]
EXAMPLE_9 = [
    patient(58),
    _b12(245, 40),
    observation(MMA, 0.46, "umol/L", ago(38)),
    observation(EGFR, 38, EGFR_UNIT, ago(40), interpretation="L"),
]
INDETERMINATE = {("b12-indeterminate-functional-tests", "info")}
B12_INDETERMINATE = [
    row(INDETERMINATE, EXAMPLE_7, "example-7"),
    row(
        {("b12-indeterminate-functional-tests", "warning")}, [*EXAMPLE_7, ATAXIA], "example-8-neuro"
    ),
    row(INDETERMINATE, EXAMPLE_9, "example-9-renal-mma"),
    row(
        INDETERMINATE,
        [patient(61, "male"), _b12(250, 15, interpretation="N", ref_range=(180, 914))],
        "example-44",
    ),
    row(
        INDETERMINATE,
        EXAMPLE_7,
        "focused-b12-test",
        hook=OSEL,
        drafts=[service_request(B12, "lab-1")],
        selections=["ServiceRequest/lab-1"],
    ),
    row(
        set(),
        [patient(45, "male"), _b12(240, 30), observation(MMA, 210, "nmol/L", ago(28))],
        "example-6-mma-normal",
    ),
    row(set(), [patient(49), observation(B12_MOLAR, 300, "pmol/L", ago(20))], "example-4-pmol"),
    row(set(), [*EXAMPLE_7, ORAL_B12], "on-b12"),
    row(
        set(),
        EXAMPLE_7,
        "mma-drafted",
        hook=OSIGN,
        drafts=[service_request(B12, "lab-1"), service_request(MMA, "lab-2")],
    ),
    row(
        set(),
        EXAMPLE_7,
        "no-test-focused",
        hook=OSEL,
        drafts=[service_request(B12, "lab-1")],
        selections=[],
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), B12_INDETERMINATE)
def test_b12_indeterminate_functional_tests(expected, resources, chart):
    """Ask for MMA when B12 is indeterminate and nothing has settled it (§7.8)."""
    assert expected == _fired(_run(resources, **chart))


@pytest.mark.parametrize(
    ("suggested", "resources"),
    [
        pytest.param(
            {"ServiceRequest 13964-2", "ServiceRequest 13965-9"}, EXAMPLE_7, id="example-7"
        ),
        pytest.param(set(), EXAMPLE_9, id="example-9-no-new-mma"),
    ],
)
def test_b12_indeterminate_suggestions(suggested, resources):
    """Suggest MMA (and homocysteine) unless the MMA is possibly renal (§7.8)."""
    assert suggested == _suggested(_card(_run(resources), "b12-indeterminate-functional-tests"))


def test_example_9_says_possibly_renal():
    """Say the MMA is possibly renal (example 9)."""
    assert "possibly renal" in _card(_run(EXAMPLE_9), "b12-indeterminate-functional-tests").detail


# --- functional-b12-deficiency (§7.9) -------------------------------------------------------

EXAMPLE_37 = [
    patient(45, "male"),
    _b12(520, 10),
    observation(HCY, 24, "umol/L", ago(10), interpretation="H"),
    observation(FOLATE, 8, "ng/mL", ago(10)),
    observation(EGFR, 90, EGFR_UNIT, ago(10)),
]
FUNCTIONAL = [
    row({("functional-b12-deficiency", "warning")}, EXAMPLE_37, "example-37-homocysteine"),
    row(
        {("functional-b12-deficiency", "warning")},
        [patient(45), _b12(520, 10), observation(MMA, 0.6, "umol/L", ago(10))],
        "mma-raised",
    ),
    row(
        {("functional-b12-deficiency", "info")},
        [
            patient(45),
            _b12(520, 10),
            observation(MMA, 0.46, "umol/L", ago(10)),
            observation(EGFR, 38, EGFR_UNIT, ago(10), interpretation="L"),
        ],
        "renal-explains-mma",
    ),
    row(
        {("functional-b12-deficiency", "info")},
        [
            patient(45),
            _b12(520, 10),
            observation(HCY, 24, "umol/L", ago(10)),
            observation(FOLATE, 2.1, "ng/mL", ago(10)),
        ],
        "low-folate-explains-homocysteine",
    ),
    row(
        UNTREATED,
        [patient(45), _b12(250, 10), observation(HCY, 24, "umol/L", ago(10))],
        "indeterminate-b12-is-not-functional",
    ),
    row(
        set(),
        [patient(45), _b12(520, 10), observation(MMA, 0.2, "umol/L", ago(10))],
        "markers-normal",
    ),
    row(set(), [*EXAMPLE_37, ORAL_B12], "on-b12"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), FUNCTIONAL)
def test_functional_b12_deficiency(expected, resources, chart):
    """Warn about raised MMA or homocysteine with a normal B12 (§7.9)."""
    assert expected == _fired(_run(resources, **chart))


# --- treatment-response-review (§7.20) ------------------------------------------------------

REVIEW = {("treatment-response-review", "info")}


def _treated(days_ago: int, *extra: Any) -> list[Any]:
    """Return a deficient adult on oral B12 started `days_ago`, the B12 taken just before."""
    statement = med_statement(
        text="Cyanocobalamin 1000 mcg tablet", route=ORAL, start=ago(days_ago)
    )
    return [patient(50), _b12(150, days_ago + 10), statement, *extra]


TREATMENT_RESPONSE_REVIEW = [
    row(REVIEW, _treated(100), "uk-after-12-weeks"),
    row(REVIEW, _treated(60), "us-after-8-weeks", settings=Settings(profile=Profile.US)),
    row(set(), _treated(60), "uk-before-12-weeks"),
    row(REVIEW | {("pregnancy-b12", "info")}, _treated(35, PREGNANT), "pregnant-after-4-weeks"),
    row(set(), _treated(100, _hb(13.5, 40)), "follow-up-count-exists"),
    row(set(), _treated(400), "over-a-year"),
    row(
        set(),
        [
            patient(50),
            _b12(500, 110),
            med_statement(text="Cyanocobalamin 1000 mcg tablet", route=ORAL, start=ago(100)),
        ],
        "no-deficiency",
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), TREATMENT_RESPONSE_REVIEW)
def test_treatment_response_review(expected, resources, chart):
    """Ask for a review blood count once the course has run its review interval (§7.20)."""
    assert expected == _fired(_run(resources, **chart))


# --- Interactions (§7.0) ------------------------------------------------------------------------


def test_one_owner_of_the_treatment_suggestion():
    """Keep the B12 regimen on the highest owner; the other card points to it (§7.0)."""
    pv = facts(*EXAMPLE_1)
    osel = facts(*EXAMPLE_14, hook=OSEL, drafts=[FA_DRAFT], selections=["MedicationRequest/fa-1"])
    both = folate_before_b12.evaluate(osel) + b12_neuro_untreated.evaluate(pv)

    cards = interact(both, pv)

    folate = _card(cards, "folate-before-b12")
    assert ["b12-neuro-untreated"] == [c.rule_id for c in cards if _creates_medication_request(c)]
    assert {"delete MedicationRequest/fa-1"} == _suggested(folate)
    assert _card(cards, "b12-neuro-untreated").summary in folate.detail


def test_neuro_card_replaces_deficiency_card():
    """Silence b12-deficiency-untreated when b12-neuro-untreated fires (§7.1)."""
    pv = facts(*EXAMPLE_1)
    untreated = dataclasses.replace(pv, neuro_findings=())
    cards = SERVICES["b12-patient-view"].evaluate(pv)
    both = b12_deficiency_untreated.evaluate(untreated) + b12_neuro_untreated.evaluate(pv)

    assert ["b12-neuro-untreated"] == [c.rule_id for c in interact(both, pv)]
    assert NEURO == _fired(cards)


@pytest.mark.parametrize(
    ("expected", "resources", "chart"),
    [
        row(PAEDIATRIC_CRITICAL, [patient(9, "male"), _b12(120, 10), ATAXIA], "example-20"),
        row(PAEDIATRIC_WARNING, [patient(9, "male"), _b12(120, 10)], "deficiency-no-neuro"),
        row(
            CRITICAL | PAEDIATRIC_CRITICAL,
            [patient(9, "male"), _b12(120, 10), ATAXIA],
            "example-21",
            hook=OSEL,
            drafts=[med_request(rxnorm="310410", status="draft", id="fa-9")],
            selections=["MedicationRequest/fa-9"],
        ),
    ],
)
def test_under_16_guard(expected, resources, chart):
    """Never suggest a B12 MedicationRequest under 16; adult dose cards stay silent (§7.0)."""
    cards = _run(resources, **chart)

    assert expected == _fired(cards)
    assert not any(_creates_medication_request(c) for c in cards)


def test_example_21_keeps_the_delete():
    """Keep the delete of the folic acid draft for a child (example 21)."""
    cards = _run(
        [patient(9, "male"), _b12(120, 10), ATAXIA],
        hook=OSEL,
        drafts=[med_request(rxnorm="310410", status="draft", id="fa-9")],
        selections=["MedicationRequest/fa-9"],
    )

    assert {"delete MedicationRequest/fa-9"} == _suggested(_card(cards, "folate-before-b12"))


@pytest.mark.parametrize(
    ("expected", "resources"),
    [
        pytest.param(NEURO, [patient(None), _b12(142, 10), PARAESTHESIA], id="neuro"),
        pytest.param(UNTREATED, [patient(None), _b12(142, 10)], id="untreated"),
    ],
)
def test_unknown_age(expected, resources):
    """Fire adult cards without a dose suggestion and say the age is unknown (§7.0)."""
    cards = _run(resources)

    assert expected == _fired(cards)
    assert not any(_creates_medication_request(c) for c in cards)
    assert all("age unknown: confirm the patient is an adult" in c.detail.lower() for c in cards)


@pytest.mark.parametrize(
    ("code", "resources", "rule_id"),
    [
        pytest.param("309594", EXAMPLE_1, "b12-neuro-untreated", id="example-2-neuro"),
        pytest.param("309594", EXAMPLE_3, "b12-deficiency-untreated", id="untreated"),
    ],
)
def test_us_profile_uses_cyanocobalamin(code, resources, rule_id):
    """Suggest cyanocobalamin 309594 instead of hydroxocobalamin 317106 in the us profile (§8)."""
    cards = _run(resources, settings=Settings(profile=Profile.US))

    created = {s for s in _suggested(_card(cards, rule_id)) if s.startswith("MedicationRequest")}
    assert {f"MedicationRequest {code}"} == created
    assert "hydroxocobalamin" not in str([to_json(c) for c in cards]).lower()


def test_us_neuro_regimen_dose():
    """Dose the us neuro regimen at 1000 ug IM (example 2)."""
    cards = _run(EXAMPLE_1, settings=Settings(profile=Profile.US))

    (create,) = [
        s.actions[0].resource
        for s in _card(cards, "b12-neuro-untreated").suggestions
        if s.actions[0].resource and s.actions[0].resource["resourceType"] == "MedicationRequest"
    ]
    dose = create["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert (1000, "ug", IM) == (
        dose["value"],
        dose["code"],
        create["dosageInstruction"][0]["route"]["coding"][0]["code"],
    )


@pytest.mark.parametrize(
    ("resources", "chart"),
    [
        pytest.param(EXAMPLE_1, {}, id="patient-view"),
        pytest.param(EXAMPLE_14, SELECT_FA, id="order-select"),
        pytest.param(EXAMPLE_14, {"hook": OSIGN, "drafts": [FA_DRAFT, OH_DRAFT]}, id="order-sign"),
    ],
)
def test_deceased_patient_gets_no_cards(resources, chart):
    """Give no cards for a deceased patient."""
    deceased = [patient(68, "female", deceasedBoolean=True), *resources[1:]]

    assert [] == _run(deceased, **chart)


def test_cards_sorted_by_urgency():
    """List critical cards before warnings before info."""
    cards = _run(
        [
            patient(74),
            _b12(95, 9),
            _hb(8.9, 8),
            _hydroxocobalamin(5),
            observation(K, 2.8, "mmol/L", ago(3)),
        ]
    )

    assert [("hypokalaemia-on-treatment", "critical"), ("haematologic-response", "info")] == [
        (c.rule_id, c.indicator.value) for c in cards
    ]


def test_newer_uninterpretable_result_is_listed_on_the_card():
    """A newer B12 that cannot be read is shown beside the older one the card used (H13)."""
    cards = _run([patient(55), _b12(150, 60), observation(B12, 150, "mIU/L", ago(5))])

    detail = _card(cards, "b12-deficiency-untreated").detail
    assert "could not be interpreted" in detail
    assert "24 Nov 2026" in detail and "30 Sep 2026" in detail


# --- second edition: §11.5 protective folic acid, §11.6 combined deficiency, §11.11 cause ---------

LOW_FOLATE_7 = observation(FOLATE, 2.1, "ng/mL", ago(7), id="fol-1")
NORMAL_FOLATE_7 = observation(FOLATE, 8.0, "ng/mL", ago(7), id="fol-2")
OLD_LOW_FOLATE = observation(FOLATE, 2.1, "ng/mL", ago(120), id="fol-3")
FA_5MG_DRAFT = med_request(rxnorm="310410", dose=5, unit="mg", status="draft", id="fa-5")
FA_10MG_DRAFT = med_request(rxnorm="310410", dose=10, unit="mg", status="draft", id="fa-6")
METHOTREXATE_DRAFT = med_request(
    rxnorm="6851", dose=15, unit="mg", period=1, period_unit="wk", status="draft", id="mtx-d"
)
PEMETREXED = med_request(text="Pemetrexed 500 mg/m2 infusion every 21 days", id="pem-1")
GASTRECTOMY_PROC = {
    "resourceType": "Procedure",
    "id": "proc-gast",
    "status": "completed",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": SNOMED, "code": "53442002"}], "text": "Gastrectomy"},
    "performedDateTime": ago(2000).isoformat(),
}
ILEUM_PROC = {
    **GASTRECTOMY_PROC,
    "id": "proc-40",
    "code": {"coding": [{"system": SNOMED, "code": "307193005"}], "text": "Ileal resection"},
}
US = Settings(profile=Profile.US)


def _select(*drafts: dict[str, Any]) -> dict[str, Any]:
    """Return an order-select chart option with these drafts, the first one selected."""
    return {
        "hook": OSEL,
        "drafts": list(drafts),
        "selections": [f"MedicationRequest/{drafts[0]['id']}"],
    }


def _offers(card: Card) -> dict[str, bool]:
    """Return each suggestion as 'delete Type/id' or 'Type code-or-text', with isRecommended."""
    found = {}
    for suggestion in card.suggestions:
        (action,) = suggestion.actions
        if action.type == "delete":
            key = f"delete {action.resourceId}"
        else:
            concept = action.resource.get("medicationCodeableConcept") or action.resource["code"]
            coding = concept.get("coding") or [{"code": concept["text"]}]
            key = f"{action.resource['resourceType']} {coding[0]['code']}"
        found[key] = bool(suggestion.isRecommended)
    return found


PROTECTIVE = (
    "Folic acid ordered while B12 deficiency is untreated: start B12 now and keep the folic acid"
)
MASKING = (
    "Folic acid ordered while B12 deficiency is untreated: it can mask anaemia as nerve damage "
    "progresses"
)

# §11.5: the rows give (summary, suggestions with isRecommended) of the folate-before-b12 card.
PROTECTIVE_FOLIC_ACID = [
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-4": False, "MedicationRequest 317106": True},
        [patient(31), PREGNANT, _b12(150, 10)],
        _select(PRENATAL_DRAFT),
        id="pregnant-0.4-mg",
    ),
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-5": False, "MedicationRequest 317106": True},
        [patient(31), PREGNANT, _b12(150, 10)],
        _select(FA_5MG_DRAFT),
        id="pregnant-5-mg",
    ),
    pytest.param(
        MASKING,
        {"delete MedicationRequest/fa-6": True, "MedicationRequest 317106": True},
        [patient(31), PREGNANT, _b12(150, 10)],
        _select(FA_10MG_DRAFT),
        id="pregnant-over-5-mg-not-protective",
    ),
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-3": False, "MedicationRequest 317106": True},
        [patient(62, "male"), METHOTREXATE, _b12(150, 10)],
        _select(WEEKLY_FA_DRAFT),
        id="methotrexate-active",
    ),
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-1": False, "MedicationRequest 317106": True},
        [patient(62, "male"), _b12(150, 10)],
        _select(FA_DRAFT, METHOTREXATE_DRAFT),
        id="methotrexate-drafted",
    ),
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-1": False, "MedicationRequest 317106": True},
        [patient(62, "male"), PEMETREXED, _b12(150, 10)],
        _select(FA_DRAFT),
        id="pemetrexed-active",
    ),
    pytest.param(
        MASKING,
        {"delete MedicationRequest/fa-1": True, "MedicationRequest 317106": True},
        EXAMPLE_14,
        SELECT_FA,
        id="example-14-not-protective",
    ),
    pytest.param(
        PROTECTIVE,
        {"delete MedicationRequest/fa-3": False},
        [patient(12, "male"), METHOTREXATE, _b12(150, 10)],
        _select(WEEKLY_FA_DRAFT),
        id="child-methotrexate-no-regimen",
    ),
]


@pytest.mark.parametrize(("summary", "offers", "resources", "chart"), PROTECTIVE_FOLIC_ACID)
def test_protective_folic_acid(summary, offers, resources, chart):
    """Protective folic acid stays: critical, B12 recommended, delete not recommended (§11.5)."""
    card = _card(_run(resources, **chart), "folate-before-b12")

    assert (Indicator.CRITICAL, summary, offers) == (card.indicator, card.summary, _offers(card))


@pytest.mark.parametrize(
    ("expected", "resources", "chart"),
    [
        row(
            CRITICAL | PAEDIATRIC_WARNING,
            [patient(12, "male"), METHOTREXATE, _b12(150, 10)],
            "child-methotrexate",
            **_select(WEEKLY_FA_DRAFT),
        ),
        row(
            set(),
            [patient(31), PREGNANT, _b12(500, 10)],
            "pregnant-b12-normal",
            **_select(FA_5MG_DRAFT),
        ),
        row(
            {("potassium-monitoring", "warning")},
            [patient(31), PREGNANT, _b12(150, 10), _hb(10, 5)],
            "pregnant-b12-drafted-too",
            hook=OSIGN,
            drafts=[FA_5MG_DRAFT, OH_DRAFT],
        ),
    ],
)
def test_protective_folic_acid_cards(expected, resources, chart):
    """A child keeps the delete and gets the specialist card; B12 normal or drafted: silent."""
    assert expected == _fired(_run(resources, **chart))


@pytest.mark.parametrize(
    ("phrases", "resources", "chart"),
    [
        pytest.param(
            ("neural tube", "removes the risk"),
            [patient(31), PREGNANT, _b12(150, 10)],
            _select(FA_5MG_DRAFT),
            id="pregnancy",
        ),
        pytest.param(
            ("methotrexate or pemetrexed toxicity", "removes the risk"),
            [patient(62, "male"), METHOTREXATE, _b12(150, 10)],
            _select(WEEKLY_FA_DRAFT),
            id="methotrexate",
        ),
    ],
)
def test_protective_folic_acid_says_why_it_stays(phrases, resources, chart):
    """The detail says why the folic acid stays and that B12 removes the masking risk (§11.5)."""
    detail = _card(_run(resources, **chart), "folate-before-b12").detail
    assert all(p in detail for p in phrases)
    assert (
        "Keep the folic acid"
        not in _card(_run(EXAMPLE_14, **SELECT_FA), "folate-before-b12").detail
    )


# §11.6: which rule's card carries the folic acid, and its suggestions with isRecommended.
COMBINED = [
    pytest.param(
        "b12-deficiency-untreated",
        {"MedicationRequest 317106": True, "MedicationRequest Folic acid 5 mg tablets": False},
        [*EXAMPLE_3, LOW_FOLATE_7],
        {},
        id="uk-text-only-5-mg",
    ),
    pytest.param(
        "b12-deficiency-untreated",
        {"MedicationRequest 309594": True, "MedicationRequest 310410": False},
        [*EXAMPLE_3, LOW_FOLATE_7],
        {"settings": US},
        id="us-rxnorm-310410",
    ),
    pytest.param(
        "b12-deficiency-untreated",
        {"MedicationRequest 317106": True, "MedicationRequest 310410": False},
        [*EXAMPLE_3, LOW_FOLATE_7],
        {"settings": Settings(folate_regimen="1mg-daily")},
        id="uk-setting-1-mg",
    ),
    pytest.param(
        "b12-neuro-untreated",
        {
            "MedicationRequest 317106": True,
            "MedicationRequest Folic acid 5 mg tablets": False,
            "ServiceRequest 308474002": False,
            "ServiceRequest 183567007": False,
        },
        [*EXAMPLE_1, LOW_FOLATE_7],
        {},
        id="neuro-card",
    ),
    pytest.param(
        "b12-deficiency-untreated",
        {"MedicationRequest 317106": True},
        [*EXAMPLE_3, NORMAL_FOLATE_7],
        {},
        id="folate-normal",
    ),
    pytest.param(
        "b12-deficiency-untreated",
        {"MedicationRequest 317106": True},
        [*EXAMPLE_3, OLD_LOW_FOLATE],
        {},
        id="low-folate-outside-lookback",
    ),
    pytest.param(
        "pernicious-anaemia-oral",
        {"MedicationRequest 317106": True, "MedicationRequest Folic acid 5 mg tablets": False},
        [patient(70), PERNICIOUS, ORAL_B12, LOW_FOLATE_7],
        {},
        id="pernicious-anaemia-oral-owner",
    ),
    pytest.param(
        "maintenance-overdue",
        {"MedicationRequest 317106": True, "MedicationRequest Folic acid 5 mg tablets": False},
        [
            patient(80, "male"),
            PERNICIOUS,
            _hydroxocobalamin(240),
            _hydroxocobalamin(150),
            LOW_FOLATE_7,
        ],
        {},
        id="maintenance-overdue-owner",
    ),
    pytest.param(
        "maintenance-overdue",
        {"MedicationRequest 317106": True},
        [patient(80, "male"), PERNICIOUS, _hydroxocobalamin(240), _hydroxocobalamin(150)],
        {},
        id="maintenance-overdue-folate-unknown",
    ),
    pytest.param(
        "folate-before-b12",
        {"delete MedicationRequest/fa-1": True, "MedicationRequest 317106": True},
        [*EXAMPLE_14, LOW_FOLATE_7],
        SELECT_FA,
        id="folic-acid-already-drafted-no-second-offer",
    ),
]


def test_recreational_nitrous_oxide_card_carries_the_folic_acid_as_b12_owner():
    """§11.6 with §11.9: the recreational nitrous oxide card owns the B12 regimen (the deficiency
    card is suppressed), so it carries the low folate and the folic acid, never alone."""
    n2o = condition(ICD10CM, "F18.10", "nitrous oxide misuse", ago(60), id="n2o-use")
    resources = [patient(24, "male"), n2o, _b12(150, 10), _hb(10.1, 10), LOW_FOLATE_7]
    cards = _run(resources)
    offers = _offers(_card(cards, "nitrous-oxide"))

    assert offers["MedicationRequest 317106"] is True
    assert offers["MedicationRequest Folic acid 5 mg tablets"] is False
    assert "Folate is low as well" in _card(cards, "nitrous-oxide").detail
    assert "b12-deficiency-untreated" not in {c.source.topic.code for c in cards}


@pytest.mark.parametrize(("rule_id", "offers", "resources", "chart"), COMBINED)
def test_combined_b12_and_folate_deficiency(rule_id, offers, resources, chart):
    """The B12 owner card offers folic acid (not recommended) only with low folate (§11.6)."""
    assert offers == _offers(_card(_run(resources, **chart), rule_id))


@pytest.mark.parametrize(
    ("rule_id", "phrases", "resources", "chart"),
    [
        pytest.param(
            "b12-deficiency-untreated",
            (
                "Folate is low as well",
                "2.1 ng/mL",
                "same day is fine",
                "folic acid 5 mg daily for 4 months (NICE CKS)",
            ),
            [*EXAMPLE_3, LOW_FOLATE_7],
            {},
            id="uk",
        ),
        pytest.param(
            "b12-deficiency-untreated",
            ("Folate is low as well", "folic acid 1 mg daily (US practice)"),
            [*EXAMPLE_3, LOW_FOLATE_7],
            {"settings": US},
            id="us",
        ),
        pytest.param(
            "folate-before-b12",
            ("Folate is low as well", "paediatric specialist advice"),
            [patient(12, "male"), _b12(150, 10), LOW_FOLATE_7],
            SELECT_FA,
            id="child-text-only",
        ),
    ],
)
def test_combined_deficiency_detail(rule_id, phrases, resources, chart):
    """The low folate is evidence and the action names the profile's regimen; a child no dose."""
    detail = _card(_run(resources, **chart), rule_id).detail
    assert [p for p in phrases if p not in detail] == []
    assert ("Regimen: folic acid" in detail) is (rule_id != "folate-before-b12")  # child: no dose


def test_child_combined_deficiency_gets_no_folic_acid_order():
    """Under 16 the folic acid is text only: no MedicationRequest at all (§11.6, §7.0)."""
    cards = _run([patient(12, "male"), _b12(150, 10), LOW_FOLATE_7], **SELECT_FA)

    assert [] == [c.rule_id for c in cards if _creates_medication_request(c)]


def test_folic_acid_never_offered_without_the_b12_regimen():
    """A lower card that loses the B12 create to the owner loses the folate part too (§11.6)."""
    found = facts(
        *EXAMPLE_1,
        LOW_FOLATE_7,
        hook=OSEL,
        drafts=[FA_DRAFT],
        selections=["MedicationRequest/fa-1"],
    )
    neuro = b12_neuro_untreated.evaluate(dataclasses.replace(found, hook=PV))
    lower = folate_before_b12.evaluate(found)
    assert all("Folate is low as well" in c.detail for c in (*neuro, *lower))

    cards = interact([*neuro, *lower], found)

    owner, other = _card(cards, "b12-neuro-untreated"), _card(cards, "folate-before-b12")
    assert "Folate is low as well" in owner.detail
    assert "Folate is low as well" not in other.detail
    assert not _creates_medication_request(other)


def test_guard_strips_folic_acid_with_the_b12_regimen():
    """Dropping the B12 create drops the folic acid create from the same card (§11.6)."""
    from cards.services import _without_b12_treatment

    found = facts(*EXAMPLE_3, LOW_FOLATE_7)
    (card,) = b12_deficiency_untreated.evaluate(found)
    assert {
        "MedicationRequest 317106": True,
        "MedicationRequest Folic acid 5 mg tablets": False,
    } == (_offers(card))

    stripped = _without_b12_treatment(card, "note", owned_elsewhere=found)
    kept_text = _without_b12_treatment(card, "note")

    assert not _creates_medication_request(stripped) and not _creates_medication_request(kept_text)
    assert "Folate is low as well" not in stripped.detail
    assert "Folate is low as well" in kept_text.detail


# §11.11: a cause on record (pernicious anaemia, gastrectomy, ileal resection).
CAUSE_ON_RECORD = [
    pytest.param(
        f"Cause on record: pernicious anaemia, {fmt_date(ago(400))}",
        "pernicious an",
        [patient(70), PERNICIOUS],
        {},
        id="pernicious-anaemia",
    ),
    pytest.param(
        f"Cause on record: gastrectomy, {fmt_date(ago(2000))}",
        "gastrectomy",
        [patient(70), GASTRECTOMY_PROC, _b12(150, 10)],
        {},
        id="gastrectomy",
    ),
    pytest.param(
        f"Cause on record: ileal resection, {fmt_date(ago(2000))}",
        "ileal resection",
        [patient(41, "male"), ILEUM_PROC, _b12(150, 10)],
        {},
        id="ileal-resection",
    ),
    pytest.param(
        f"Cause on record: pernicious anemia, {fmt_date(ago(400))}",
        "pernicious an",
        [patient(70), PERNICIOUS],
        {"settings": US},
        id="pernicious-anemia-us",
    ),
]


@pytest.mark.parametrize(("phrase", "cause", "resources", "chart"), CAUSE_ON_RECORD)
def test_cause_on_record_changes_the_deficiency_card(phrase, cause, resources, chart):
    """Name the cause once, lifelong IM; no "look for the cause", no dietary oral (§11.11)."""
    detail = _card(_run(resources, **chart), "b12-deficiency-untreated").detail

    assert phrase in detail
    assert 1 == detail.lower().count(cause)
    assert "lifelong and intramuscular" in detail
    assert "Look for the cause" not in detail and "Where the cause is dietary" not in detail


def test_no_cause_on_record_keeps_the_workup():
    """Without a cause on record the card still says to look for it (§7.2, §11.11 silent)."""
    detail = _card(_run(EXAMPLE_3), "b12-deficiency-untreated").detail

    assert "Cause on record" not in detail
    assert "Look for the cause" in detail and "Where the cause is dietary" in detail


def test_ileal_resection_keeps_the_regimen_intramuscular():
    """With oral first line on, an ileal resection on record still gets IM B12 (§11.11)."""
    settings = Settings(profile=Profile.US, oral_first_non_neuro=True)
    with_ileum = [patient(41, "male"), ILEUM_PROC, _b12(150, 10)]

    assert {"MedicationRequest 309594": True} == _offers(
        _card(_run(with_ileum, settings=settings), "b12-deficiency-untreated")
    )
    assert {"MedicationRequest 309593": True} == _offers(
        _card(
            _run([patient(41, "male"), _b12(150, 10)], settings=settings),
            "b12-deficiency-untreated",
        )
    )


def test_unknown_age_keeps_the_folate_words_but_no_order():
    """Age unknown: the folate line and action stay, no MedicationRequest at all (§11.6, §7.0)."""
    cards = _run([patient(None), _b12(150, 10), LOW_FOLATE_7])

    card = _card(cards, "b12-deficiency-untreated")
    assert "Folate is low as well" in card.detail
    assert not _creates_medication_request(card)
