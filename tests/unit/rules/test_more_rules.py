"""Tables for the twelve rules of clinical-rules §7.10-§7.22 (and §9 examples 20-29, 33-36, 39-42).

Every chart runs through the whole service of its hook (`SERVICES[...].evaluate`), so suppression,
the single owner of the B12 treatment suggestion, the under-16 guard and `paediatric-specialist`
apply as in production. `_run` also checks the §7.0 invariants (one owner, no dose for a child).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest

from cards import compose
from cards import terminology as vs
from cards.draft import Draft
from cards.model import Card
from cards.model import Indicator
from cards.rules import treatment_response_review
from cards.services import SERVICES
from cards.services import interact
from cards.settings import Profile
from cards.settings import Settings
from tests.unit.fhir import ICD10CM
from tests.unit.fhir import IM
from tests.unit.fhir import IV
from tests.unit.fhir import ORAL
from tests.unit.fhir import SNOMED
from tests.unit.fhir import SUBJECT
from tests.unit.fhir import ago
from tests.unit.fhir import condition
from tests.unit.fhir import facts
from tests.unit.fhir import med_admin
from tests.unit.fhir import med_request
from tests.unit.fhir import med_statement
from tests.unit.fhir import observation
from tests.unit.fhir import patient
from tests.unit.fhir import service_request
from tests.unit.rules.test_rules import ATAXIA
from tests.unit.rules.test_rules import B12
from tests.unit.rules.test_rules import EGFR
from tests.unit.rules.test_rules import EGFR_UNIT
from tests.unit.rules.test_rules import HOLOTC
from tests.unit.rules.test_rules import IM_B12
from tests.unit.rules.test_rules import MCV
from tests.unit.rules.test_rules import METHOTREXATE
from tests.unit.rules.test_rules import MMA
from tests.unit.rules.test_rules import MULTIVITAMIN
from tests.unit.rules.test_rules import OH_DRAFT
from tests.unit.rules.test_rules import ORAL_B12
from tests.unit.rules.test_rules import OSEL
from tests.unit.rules.test_rules import OSIGN
from tests.unit.rules.test_rules import PARAESTHESIA
from tests.unit.rules.test_rules import PERNICIOUS
from tests.unit.rules.test_rules import PRENATAL_DRAFT
from tests.unit.rules.test_rules import _b12
from tests.unit.rules.test_rules import _creates_medication_request
from tests.unit.rules.test_rules import _fired
from tests.unit.rules.test_rules import _hb
from tests.unit.rules.test_rules import _hydroxocobalamin
from tests.unit.rules.test_rules import _run
from tests.unit.rules.test_rules import row


US = Settings(profile=Profile.US)
IFAB = "31444-3"
NASAL = "46713006"
LENGTH_CODE = "http://loinc.org|XXXX-X"
LENGTH = Settings(ileal_length_code=LENGTH_CODE)
OPTIC = condition(SNOMED, "76976005", "Optic atrophy", ago(300), id="oa-1")


# --- Helpers ------------------------------------------------------------------------------------


def _cards(resources: Sequence[dict[str, Any]], **chart: Any) -> list[Card]:
    """Return the service's cards (§7.0 invariants checked) and check every summary's length."""
    cards = _run(resources, **chart)
    for card in cards:
        assert len(card.summary) <= 139, card.summary
    return cards


def _card(cards: Sequence[Card], rule_id: str) -> Card:
    """Return the one card of a rule."""
    (card,) = [c for c in cards if c.rule_id == rule_id]
    return card


def _key(action: Any) -> str:
    """Return 'delete Type/id' or 'ResourceType code' (the product text when it has no code)."""
    if action.type == "delete":
        return f"delete {action.resourceId}"
    resource = action.resource
    concept = resource.get("medicationCodeableConcept") or resource.get("code") or {}
    codings = concept.get("coding") or []
    return f"{resource['resourceType']} {codings[0]['code'] if codings else concept.get('text')}"


def _offers(card: Card) -> dict[str, bool | None]:
    """Return each suggestion's key with its isRecommended."""
    return {_key(s.actions[0]): s.isRecommended for s in card.suggestions}


def _suggested(card: Card) -> set[str]:
    """Return the keys of a card's suggestions."""
    return set(_offers(card))


def _created(card: Card, resource_type: str = "MedicationRequest") -> dict[str, Any]:
    """Return the one resource of that type the card suggests creating."""
    (resource,) = [
        s.actions[0].resource
        for s in card.suggestions
        if s.actions[0].type == "create" and s.actions[0].resource["resourceType"] == resource_type
    ]
    return resource


def _repeats(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the timing.repeat of each dosage row of a MedicationRequest."""
    return [d["timing"]["repeat"] for d in resource["dosageInstruction"]]


def _dose(resource: dict[str, Any], index: int = 0) -> tuple[Any, str, str]:
    """Return (dose value, UCUM unit, route code) of one dosage row."""
    dosage = resource["dosageInstruction"][index]
    quantity = dosage["doseAndRate"][0]["doseQuantity"]
    return quantity["value"], quantity["code"], dosage["route"]["coding"][0]["code"]


def _procedure(
    code: str, when: date, text: str, status: str = "completed", id: str | None = None
) -> dict[str, Any]:
    """Return a SNOMED-coded Procedure performed on `when`."""
    return {
        "resourceType": "Procedure",
        "id": id or f"proc-{code}-{when.isoformat()}",
        "status": status,
        "subject": SUBJECT,
        "code": {"coding": [{"system": SNOMED, "code": code}], "text": text},
        "performedDateTime": when.isoformat(),
    }


def _select(*drafts: dict[str, Any], hook: Any = OSEL) -> dict[str, Any]:
    """Return hook options that draft (and, for order-select, select) every given order."""
    chart: dict[str, Any] = {"hook": hook, "drafts": list(drafts)}
    if hook is OSEL:
        chart["selections"] = [f"{d['resourceType']}/{d['id']}" for d in drafts]
    return chart


# --- nitrous-oxide (§7.10; examples 27, 28, 29) -------------------------------------------------

N2O_CRITICAL = {("nitrous-oxide", "critical")}
N2O_WARNING = {("nitrous-oxide", "warning")}
PAEDIATRIC_CRITICAL = {("paediatric-specialist", "critical")}
PAEDIATRIC_WARNING = {("paediatric-specialist", "warning")}
PAEDIATRIC_INFO = {("paediatric-specialist", "info")}
UNTREATED = {("b12-deficiency-untreated", "warning")}
REVIEW = {("treatment-response-review", "info")}
N2O_DRAFT = med_request(rxnorm="1159834", status="draft", id="n2o-1")
ENTONOX = med_request(text="Entonox", status="draft", id="n2o-2")
NITRIC_OXIDE = med_request(rxnorm="7442", status="draft", id="no-1")
SELECT_N2O = _select(N2O_DRAFT)
EXAMPLE_27 = [patient(52), _b12(150, 30, id="b12-27")]
EXAMPLE_28 = [patient(34, "male"), _b12(480, 30), METHOTREXATE]
N2O_USE = condition(ICD10CM, "F18.10", "nitrous oxide misuse", ago(60), id="n2o-use")
NUMBNESS = condition(SNOMED, "44077006", "Numbness", ago(20), id="numb-1")
EXAMPLE_29 = [patient(22, "male"), N2O_USE, NUMBNESS, _b12(410, 5, id="b12-29")]
WHIPPETS = condition(SNOMED, None, "Uses whippets at weekends", ago(40), id="n2o-text")

NITROUS_OXIDE = [
    row(N2O_CRITICAL, EXAMPLE_27, "example-27", **SELECT_N2O),
    row(N2O_CRITICAL, EXAMPLE_27, "example-27-order-sign", **_select(N2O_DRAFT, hook=OSIGN)),
    row(N2O_CRITICAL, [patient(60), PERNICIOUS], "pernicious-anaemia", **SELECT_N2O),
    row(N2O_WARNING, [patient(50), _b12(250, 20)], "indeterminate-b12", **SELECT_N2O),
    row(N2O_WARNING, [patient(50), _b12(480, 20), PARAESTHESIA], "neuro-findings", **SELECT_N2O),
    row(N2O_WARNING, [patient(50), PARAESTHESIA], "neuro-b12-unknown", **SELECT_N2O),
    row(N2O_WARNING, EXAMPLE_28, "example-28-entonox-text", **_select(ENTONOX, hook=OSIGN)),
    row(N2O_WARNING, EXAMPLE_28, "methotrexate-coded-draft", **SELECT_N2O),
    row(set(), [patient(50), _b12(480, 20)], "b12-normal-no-risk", **SELECT_N2O),
    row(set(), [patient(50)], "b12-unknown-no-risk", **SELECT_N2O),
    row(set(), EXAMPLE_27, "nitric-oxide-7442", **_select(NITRIC_OXIDE)),
    row(set(), EXAMPLE_28, "example-28-nitric-oxide", **_select(NITRIC_OXIDE, hook=OSIGN)),
    row(set(), EXAMPLE_27, "draft-not-selected", hook=OSEL, drafts=[N2O_DRAFT], selections=[]),
    row(UNTREATED, EXAMPLE_27, "patient-view-has-no-drafted-branch"),
    row(N2O_CRITICAL, EXAMPLE_29, "example-29-recreational"),
    row(N2O_CRITICAL, [patient(30, "male"), N2O_USE, _hb(10.5, 10)], "recreational-anaemia"),
    row(
        N2O_CRITICAL,
        [patient(30, "male"), N2O_USE, observation(MCV, 106, "fL", ago(10))],
        "recreational-macrocytosis",
    ),
    row(N2O_CRITICAL, [patient(30, "male"), WHIPPETS, NUMBNESS], "recreational-text-only"),
    row(N2O_WARNING, [*EXAMPLE_29, _hydroxocobalamin(20)], "recreational-on-parenteral-b12"),
    row(set(), [patient(22, "male"), N2O_USE, _b12(410, 5)], "recreational-no-signs"),
    row(set(), [patient(22, "male"), NUMBNESS, _b12(410, 5)], "signs-no-recorded-use"),
    row(
        set(),
        EXAMPLE_29,
        "recreational-branch-not-in-order-hooks",
        **_select(med_request(rxnorm="6809", status="draft", id="met-x")),
    ),
    row(
        N2O_CRITICAL | {("b12-neuro-untreated", "critical")},
        [patient(30, "male"), N2O_USE, NUMBNESS, _b12(150, 5)],
        "recreational-with-deficiency",
    ),
    row(
        N2O_CRITICAL | PAEDIATRIC_WARNING,
        [patient(14, "male"), N2O_USE, NUMBNESS, _b12(410, 5)],
        "child-recreational",
    ),
    row(
        N2O_CRITICAL | PAEDIATRIC_WARNING,
        [patient(10, "male"), _b12(150, 30)],
        "child-drafted",
        **SELECT_N2O,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), NITROUS_OXIDE)
def test_nitrous_oxide(expected, resources, chart):
    """Drafted N2O: critical if deficient, else warning with a risk; recreational use (§7.10)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("offers", "resources", "chart"),
    [
        pytest.param(
            {"delete MedicationRequest/n2o-1": True}, EXAMPLE_27, SELECT_N2O, id="example-27"
        ),
        pytest.param(
            {"delete MedicationRequest/n2o-2": None},
            EXAMPLE_28,
            _select(ENTONOX, hook=OSIGN),
            id="example-28-warning-not-recommended",
        ),
        pytest.param(
            {"delete MedicationRequest/n2o-1": None, "ServiceRequest 13964-2": None},
            [patient(50), _b12(250, 20)],
            SELECT_N2O,
            id="indeterminate-asks-mma",
        ),
        pytest.param(
            {"delete MedicationRequest/n2o-1": None, "ServiceRequest 2132-9": None},
            [patient(50), PARAESTHESIA],
            SELECT_N2O,
            id="unknown-asks-b12",
        ),
        pytest.param(
            {
                "ServiceRequest 13965-9": True,
                "ServiceRequest 13964-2": None,
                "ServiceRequest 308474002": None,
                "MedicationRequest 317106": True,
            },
            EXAMPLE_29,
            {},
            id="example-29",
        ),
        pytest.param(
            {
                "ServiceRequest 13965-9": True,
                "ServiceRequest 13964-2": None,
                "ServiceRequest 308474002": None,
                "MedicationRequest 309594": True,
            },
            EXAMPLE_29,
            {"settings": US},
            id="example-29-us",
        ),
        pytest.param(
            {
                "ServiceRequest 13965-9": True,
                "ServiceRequest 13964-2": None,
                "ServiceRequest 308474002": None,
            },
            [*EXAMPLE_29, _hydroxocobalamin(20)],
            {},
            id="on-parenteral-no-regimen",
        ),
        pytest.param(
            {
                "ServiceRequest 13965-9": True,
                "ServiceRequest 13964-2": None,
                "ServiceRequest 308474002": None,
            },
            [patient(14, "male"), N2O_USE, NUMBNESS, _b12(410, 5)],
            {},
            id="child-all-but-the-regimen",
        ),
        pytest.param(
            {"delete MedicationRequest/n2o-1": True},
            [patient(10, "male"), _b12(150, 30)],
            SELECT_N2O,
            id="child-drafted-keeps-delete",
        ),
    ],
)
def test_nitrous_oxide_suggestions(offers, resources, chart):
    """Delete the draft (recommended when critical); tests, referral and -NEURO regimen (§7.10)."""
    card = _card(_cards(resources, **chart), "nitrous-oxide")

    assert offers == {k: v or None for k, v in _offers(card).items()}


def test_example_29_regimen_is_neuro():
    """Suggest MR-UK-NEURO, 1 mg IM on alternate days (example 29)."""
    card = _card(_cards(EXAMPLE_29), "nitrous-oxide")

    assert {"frequency": 1, "period": 2, "periodUnit": "d"} == _repeats(_created(card))[0]


def test_example_29_referral_is_urgent():
    """The neurology referral of the recreational branch is urgent (§7.10)."""
    card = _card(_cards(EXAMPLE_29), "nitrous-oxide")

    (referral,) = [
        s.actions[0].resource
        for s in card.suggestions
        if _key(s.actions[0]) == "ServiceRequest 308474002"
    ]
    assert "urgent" == referral["priority"]


def test_neuro_card_owns_regimen_over_recreational_card():
    """b12-neuro-untreated outranks nitrous-oxide; the N2O card points to it (§7.0, §7.10), and
    the neurology referral stays on the neuro card only (§11.10)."""
    cards = _cards([patient(30, "male"), N2O_USE, NUMBNESS, _b12(150, 5)])

    n2o = _card(cards, "nitrous-oxide")
    assert ["b12-neuro-untreated"] == [c.rule_id for c in cards if _creates_medication_request(c)]
    assert _card(cards, "b12-neuro-untreated").summary in n2o.detail
    assert {"ServiceRequest 13965-9", "ServiceRequest 13964-2"} == _suggested(n2o)


def test_recreational_card_suppresses_deficiency_card():
    """§11.9: the recreational card fires, owns the regimen, and b12-deficiency-untreated is
    silent in that response (it was a second card pointing to the N2O card before)."""
    cards = _cards([patient(30, "male"), N2O_USE, _hb(10.5, 10), _b12(150, 5)])

    assert N2O_CRITICAL == _fired(cards)
    assert "MedicationRequest 317106" in _suggested(_card(cards, "nitrous-oxide"))


# §11.10: one referral per response, on the first card in the §7.0 priority order.
NEURO_AND_N2O = [patient(30, "male"), N2O_USE, NUMBNESS, _b12(150, 5)]


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        pytest.param(None, "urgent referral to neurology", id="uk"),
        pytest.param(US, "urgent referral to neurology", id="us"),
    ],
)
def test_neurology_referral_on_the_neuro_card_only(settings, label):
    """§11.10: b12-neuro-untreated (first in §7.0) keeps both referrals; the recreational N2O card
    drops its neurology referral and says it is suggested on the card above."""
    cards = _cards(NEURO_AND_N2O, settings=settings)

    neuro, n2o = _card(cards, "b12-neuro-untreated"), _card(cards, "nitrous-oxide")
    assert {"ServiceRequest 308474002", "ServiceRequest 183567007"} <= _suggested(neuro)
    assert "ServiceRequest 308474002" not in _suggested(n2o)
    note = f'Referral suggested on the card above ("{neuro.summary}"): {label}.'
    assert note in n2o.detail
    assert "suggested on the card above" not in neuro.detail


def test_recreational_card_alone_keeps_its_referral():
    """§11.10: with no card above it, the N2O card offers the neurology referral itself."""
    n2o = _card(_cards(EXAMPLE_29), "nitrous-oxide")

    assert "ServiceRequest 308474002" in _suggested(n2o)
    assert "suggested on the card above" not in n2o.detail


@pytest.mark.parametrize(
    ("settings", "haematology"),
    [
        pytest.param(None, "referral to haematology", id="uk"),
        pytest.param(US, "referral to hematology", id="us"),
    ],
)
def test_referral_holder_is_first_in_priority_not_in_list_order(settings, haematology):
    """§11.10: the holder is the first card in the §7.0 order whatever order the rules returned;
    every other repeat, in both profiles, names it; a card left with nothing has no
    selectionBehavior."""
    found = facts(*NEURO_AND_N2O, settings=settings)

    def referral_card(rule_id: str, *names: str) -> Card:
        c = Draft(found, rule_id, rule_id)
        c.offers += [compose.referral(found, n, urgent=False) for n in names]
        return c.build(Indicator.WARNING, f"summary of {rule_id}", ["S-NG239"])

    cards = interact(
        [
            referral_card("vegan-diet-supplement", "haematology_referral"),
            referral_card("ileal-resection", "haematology_referral", "neurology_referral"),
            referral_card("folate-before-b12", "neurology_referral"),
        ],
        found,
    )

    by_rule = {c.rule_id: c for c in cards}
    assert {"ServiceRequest 308474002"} == _suggested(by_rule["folate-before-b12"])
    assert {"ServiceRequest 183567007"} == _suggested(by_rule["ileal-resection"])
    assert set() == _suggested(by_rule["vegan-diet-supplement"])
    assert by_rule["vegan-diet-supplement"].selectionBehavior is None
    assert '("summary of folate-before-b12"): urgent referral to neurology.' in (
        by_rule["ileal-resection"].detail
    )
    assert f'("summary of ileal-resection"): {haematology}.' in (
        by_rule["vegan-diet-supplement"].detail
    )


# §11.9 (a): critical needs b12_deficient and not (parenteral B12 current, maintenance not overdue).
CYANO_IM = med_request(rxnorm="309594", route=IM, dose=1000, unit="ug", period=1, period_unit="mo")


def _cyanocobalamin(days_ago: int) -> dict[str, Any]:
    """Return a cyanocobalamin 1000 microgram IM administration."""
    return med_admin(rxnorm="309594", route=IM, dose=1000, unit="ug", when=ago(days_ago))


N2O_SEVERITY = [
    row(
        N2O_WARNING,
        [patient(60), PERNICIOUS, IM_B12, _hydroxocobalamin(40)],
        "pernicious-anaemia-up-to-date",
        **SELECT_N2O,
    ),
    row(
        N2O_WARNING,
        [patient(60), PERNICIOUS, _hydroxocobalamin(40)],
        "pernicious-anaemia-dose-within-interval-no-request",
        **SELECT_N2O,
    ),
    row(
        N2O_WARNING,
        [patient(60), PERNICIOUS, IM_B12, _hydroxocobalamin(40)],
        "pernicious-anaemia-up-to-date-order-sign",
        **_select(N2O_DRAFT, hook=OSIGN),
    ),
    row(
        N2O_WARNING,
        [patient(52), _b12(150, 30), _hydroxocobalamin(20)],
        "low-b12-then-injection-20-days-ago",
        **SELECT_N2O,
    ),
    row(
        N2O_CRITICAL,
        [patient(60), PERNICIOUS, IM_B12, _hydroxocobalamin(200)],
        "pernicious-anaemia-active-request-overdue",
        **SELECT_N2O,
    ),
    row(
        N2O_CRITICAL,
        [patient(60), PERNICIOUS, _hydroxocobalamin(200)],
        "pernicious-anaemia-last-dose-lapsed",
        **SELECT_N2O,
    ),
    row(
        N2O_CRITICAL,
        [patient(52), _b12(150, 30)],
        "parenteral-b12-drafted-in-same-set-is-not-a-dose",
        **_select(N2O_DRAFT, OH_DRAFT),
    ),
    row(
        N2O_WARNING,
        [patient(60), PERNICIOUS, CYANO_IM, _cyanocobalamin(20)],
        "us-pernicious-anaemia-monthly-up-to-date",
        settings=US,
        **SELECT_N2O,
    ),
    row(
        N2O_CRITICAL,
        [patient(60), PERNICIOUS, CYANO_IM, _cyanocobalamin(45)],
        "us-pernicious-anaemia-monthly-overdue",
        settings=US,
        **SELECT_N2O,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), N2O_SEVERITY)
def test_nitrous_oxide_drafted_severity(expected, resources, chart):
    """§11.9 (a): a deficient patient up to date on parenteral B12 gets the warning."""
    assert expected == _fired(_cards(resources, **chart))


def test_up_to_date_warning_says_why_and_asks_no_b12_test():
    """§11.9 (a): the warning names the current treatment, recommends nothing and offers no B12
    test (B12 on treatment cannot inform, §7.21)."""
    card = _card(
        _cards([patient(60), PERNICIOUS, IM_B12, _hydroxocobalamin(40)], **SELECT_N2O),
        "nitrous-oxide",
    )

    assert {"delete MedicationRequest/n2o-1": None} == _offers(card)
    assert "maintenance is not overdue" in card.detail
    assert "Nitrous oxide ordered with a B12 risk" in card.summary


def test_critical_card_does_not_say_up_to_date():
    """§11.9 (a): the critical card of a lapsed patient has no 'not overdue' line."""
    card = _card(
        _cards([patient(60), PERNICIOUS, IM_B12, _hydroxocobalamin(200)], **SELECT_N2O),
        "nitrous-oxide",
    )

    assert {"delete MedicationRequest/n2o-1": True} == _offers(card)
    assert "not overdue" not in card.detail


# §11.9 (b): suppression of b12-deficiency-untreated only when the recreational card fires.
N2O_SUPPRESSION = [
    row(N2O_CRITICAL, [patient(30, "male"), N2O_USE, _hb(10.5, 10), _b12(150, 5)], "anaemia"),
    row(
        N2O_CRITICAL,
        [patient(30, "male"), N2O_USE, observation(MCV, 106, "fL", ago(10)), _b12(150, 5)],
        "macrocytosis",
    ),
    row(
        UNTREATED,
        [patient(30, "male"), N2O_USE, _b12(150, 5)],
        "no-signs-recreational-silent-deficiency-card-stays",
    ),
    row(
        UNTREATED,
        [patient(30, "male"), _hb(10.5, 10), _b12(150, 5)],
        "no-recorded-use-deficiency-card-stays",
    ),
    row(
        N2O_CRITICAL,
        [patient(30, "male"), N2O_USE, _hb(10.5, 10), _b12(150, 5)],
        "us-same-chart",
        settings=US,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), N2O_SUPPRESSION)
def test_recreational_card_silences_deficiency_card(expected, resources, chart):
    """§11.9 (b): the recreational card fires => b12-deficiency-untreated is suppressed."""
    assert expected == _fired(_cards(resources, **chart))


INHALANT = condition(ICD10CM, "F18.10", "Inhalant abuse, uncomplicated", ago(60), id="f18-only")
T59 = condition(ICD10CM, "T59.0X1A", "Toxic effect of nitrogen oxides", ago(30), id="t59-1")
N2O_ANAEMIA = condition(
    SNOMED, "73891003", "Acute megaloblastic anaemia due to nitrous oxide", ago(30), id="n2o-ma"
)
F18_CAVEAT = "cover inhalant use in general (F18)"


@pytest.mark.parametrize(
    ("caveat", "resources"),
    [
        pytest.param(True, [patient(22, "male"), INHALANT, NUMBNESS], id="f18-code-alone"),
        pytest.param(
            True, [patient(22, "male"), INHALANT, _hb(10.5, 10)], id="f18-code-alone-anaemia"
        ),
        pytest.param(False, [patient(22, "male"), N2O_USE, NUMBNESS], id="f18-text-names-n2o"),
        pytest.param(False, [patient(22, "male"), T59, NUMBNESS], id="t59-code"),
        pytest.param(False, [patient(22, "male"), N2O_ANAEMIA], id="snomed-73891003"),
        pytest.param(False, [patient(22, "male"), WHIPPETS, NUMBNESS], id="text-only"),
        pytest.param(False, [patient(22, "male"), INHALANT, T59, NUMBNESS], id="f18-and-t59"),
    ],
)
def test_f18_caveat_only_for_f18_alone(caveat, resources):
    """§11.9: the 'F18 covers inhalants in general' caveat only when F18 alone found the use."""
    detail = _card(_cards(resources), "nitrous-oxide").detail

    assert caveat == (F18_CAVEAT in detail)


@pytest.mark.parametrize(
    ("phrases", "resources", "chart"),
    [
        pytest.param(
            [
                "Entonox (identified from the order text)",
                "480 pg/mL",
                "30 Oct 2026",
                "methotrexate",
            ],
            EXAMPLE_28,
            _select(ENTONOX, hook=OSIGN),
            id="example-28",
        ),
        pytest.param(
            ["150 pg/mL", "30 Oct 2026", "subacute combined degeneration", "alternative agent"],
            EXAMPLE_27,
            SELECT_N2O,
            id="example-27",
        ),
        pytest.param(
            ["nitrous oxide misuse", "30 Sep 2026", "Numbness", "9 Nov 2026", "410 pg/mL"],
            EXAMPLE_29,
            {},
            id="example-29",
        ),
        pytest.param(
            ["homocysteine", "MMA", "stopping nitrous oxide", "neurology", "possible"],
            EXAMPLE_29,
            {},
            id="example-29-advice",
        ),
    ],
)
def test_nitrous_oxide_detail(phrases, resources, chart):
    """Name the evidence with its values and dates, and the advice of §7.10."""
    detail = _card(_cards(resources, **chart), "nitrous-oxide").detail

    for phrase in phrases:
        assert phrase in detail


# --- metformin-monitoring (§7.11; example 26) --------------------------------------------------

METFORMIN_INFO = {("metformin-monitoring", "info")}
METFORMIN_WARNING = {("metformin-monitoring", "warning")}
POLYNEUROPATHY = condition(SNOMED, "42345000", "Polyneuropathy", ago(60), id="pn-1")
EXAMPLE_26 = [
    patient(66, "male"),
    med_request(rxnorm="6809", dose=500, unit="mg", authored=date(2023, 11, 29), id="met-1"),
    _b12(410, 609),
]
METFORMIN_DRAFT = med_request(rxnorm="6809", dose=500, unit="mg", status="draft", id="met-d")
# §11.12: a low B12 500 days ago (older than the 365-day lookback) and nothing since.
LOW_OLD_B12_ON_METFORMIN = [
    patient(66, "male"),
    med_request(rxnorm="6809", dose=500, unit="mg", authored=date(2023, 11, 29), id="met-1"),
    _b12(150, 500, id="b12-old"),
]
STOPPED_ORAL_B12 = med_statement(
    text="Cyanocobalamin 1000 mcg tablet",
    status="completed",
    start=ago(480),
    end=ago(420),
    id="ms-old",
)


def _metformin(days: int, status: str = "active") -> dict[str, Any]:
    """Return a metformin 500 mg request authored `days` ago."""
    return med_request(rxnorm="6809", dose=500, unit="mg", authored=ago(days), status=status)


METFORMIN_MONITORING = [
    row(METFORMIN_INFO, EXAMPLE_26, "example-26"),
    row(METFORMIN_WARNING, [*EXAMPLE_26, POLYNEUROPATHY], "example-26-polyneuropathy"),
    row(METFORMIN_WARNING, [patient(66, "male"), _metformin(60), _hb(11.0, 10)], "anaemia-short"),
    row(METFORMIN_WARNING, [patient(66, "male"), _metformin(60), ATAXIA], "neuro-short"),
    row(METFORMIN_INFO, [patient(66, "male"), _metformin(150)], "five-months"),
    row(set(), [patient(66, "male"), _metformin(90)], "three-months"),
    row(
        METFORMIN_INFO,
        [patient(66, "male"), _metformin(90)],
        "three-months-site-minimum-two",
        settings=Settings(metformin_min_months=2),
    ),
    row(
        set(),
        [patient(66, "male"), _metformin(150)],
        "five-months-site-minimum-six",
        settings=Settings(metformin_min_months=6),
    ),
    row(set(), [*EXAMPLE_26, _b12(410, 200)], "b12-within-a-year"),
    row(set(), [*EXAMPLE_26, observation(HOLOTC, 80, "pmol/L", ago(100))], "holotc-within-a-year"),
    row({("b12-deficiency-untreated", "warning")}, [*EXAMPLE_26, PERNICIOUS], "b12-deficient"),
    row(set(), [*EXAMPLE_26, ORAL_B12], "on-b12"),
    row(set(), [patient(66, "male"), _metformin(1000, status="stopped")], "metformin-stopped"),
    row(set(), [patient(66, "male"), _b12(410, 609)], "no-metformin"),
    row(METFORMIN_INFO, EXAMPLE_26, "focused-draft-long-history", **_select(METFORMIN_DRAFT)),
    row(
        METFORMIN_INFO,
        EXAMPLE_26,
        "order-sign-draft-long-history",
        **_select(METFORMIN_DRAFT, hook=OSIGN),
    ),
    row(
        METFORMIN_WARNING,
        [patient(66, "male"), POLYNEUROPATHY],
        "new-draft-with-neuropathy",
        **_select(METFORMIN_DRAFT),
    ),
    row(set(), [patient(66, "male")], "new-draft-no-symptoms", **_select(METFORMIN_DRAFT)),
    # §11.12: the last B12, older than the lookback, was low and no B12 treatment followed.
    row(METFORMIN_WARNING, LOW_OLD_B12_ON_METFORMIN, "last-b12-low-untreated"),
    row(
        METFORMIN_WARNING,
        [*LOW_OLD_B12_ON_METFORMIN, _hydroxocobalamin(520)],
        "last-b12-low-dose-before-it",
    ),
    row(
        METFORMIN_INFO,
        [*LOW_OLD_B12_ON_METFORMIN, _hydroxocobalamin(480)],
        "last-b12-low-treated-after",
    ),
    row(
        METFORMIN_INFO,
        [*LOW_OLD_B12_ON_METFORMIN, STOPPED_ORAL_B12],
        "last-b12-low-oral-course-after",
    ),
    row(METFORMIN_INFO, [*LOW_OLD_B12_ON_METFORMIN, _b12(400, 420)], "later-b12-normal"),
    row(
        METFORMIN_WARNING,
        [
            *LOW_OLD_B12_ON_METFORMIN,
            med_statement(contained_medication=MULTIVITAMIN, start=ago(400)),
        ],
        "last-b12-low-multivitamin-is-not-treatment",
    ),
    row(
        set(), [patient(66, "male"), _metformin(90), _b12(150, 500)], "last-b12-low-short-metformin"
    ),
    row(
        set(),
        EXAMPLE_26,
        "draft-not-selected",
        hook=OSEL,
        drafts=[METFORMIN_DRAFT],
        selections=[],
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), METFORMIN_MONITORING)
def test_metformin_monitoring(expected, resources, chart):
    """Long metformin, or neuropathy/anaemia, with no B12 result in a year: test B12 (§7.11)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_26_card():
    """Suggest B12 2132-9; say how long metformin has run and when B12 was last checked."""
    card = _card(_cards(EXAMPLE_26), "metformin-monitoring")

    assert {"ServiceRequest 2132-9"} == _suggested(card)
    assert "On metformin 3 years" in card.summary
    for phrase in ("29 Nov 2023", "3 years", "410 pg/mL", "30 Mar 2025"):
        assert phrase in card.detail


def test_drafted_metformin_summary():
    """A new metformin order with neuropathy says 'Metformin ordered' (§7.11)."""
    cards = _cards([patient(66, "male"), POLYNEUROPATHY], **_select(METFORMIN_DRAFT))

    card = _card(cards, "metformin-monitoring")
    assert card.summary.startswith("Metformin ordered and no B12 result in the past year")
    assert "Polyneuropathy" in card.detail


def test_metformin_says_last_b12_was_low_and_untreated():
    """§11.12: the warning names the low result and says no B12 treatment has followed."""
    card = _card(_cards(LOW_OLD_B12_ON_METFORMIN), "metformin-monitoring")

    assert card.summary.startswith("On metformin and the last B12, over 365 days ago, was low")
    assert len(card.summary) <= 139
    assert "The last B12, on 17 Jul 2025, was low" in card.detail
    assert "no B12 treatment has followed" in card.detail
    assert {"ServiceRequest 2132-9"} == _suggested(card)


def test_metformin_old_low_b12_treated_after_keeps_the_plain_card():
    """§11.12: once B12 treatment followed the low result, the card is the plain info card."""
    card = _card(
        _cards([*LOW_OLD_B12_ON_METFORMIN, _hydroxocobalamin(480)]), "metformin-monitoring"
    )

    assert card.summary.startswith("On metformin 3 years and no B12 result in the past year")
    assert "no B12 treatment has followed" not in card.detail


# --- acid-suppression-monitoring (§7.12; example 39) -------------------------------------------

ACID = {("acid-suppression-monitoring", "info")}
ACID_WARNING = {("acid-suppression-monitoring", "warning")}


def _ppi(days: int, rxnorm: str = "7646") -> dict[str, Any]:
    """Return an acid suppressant (omeprazole by default) authored `days` ago."""
    return med_request(rxnorm=rxnorm, dose=20, unit="mg", authored=ago(days))


EXAMPLE_39 = [patient(79, "male"), _ppi(730)]
ADULT_PPI = [patient(60), _ppi(730)]
Z98_84 = condition(ICD10CM, "Z98.84", "Bariatric surgery status", ago(730), id="bar-1")
SLEEVE = _procedure("427074001", ago(730), "Laparoscopic sleeve gastrectomy", id="proc-24")
ILEUM = _procedure("307193005", date(2023, 11, 29), "Resection of terminal ileum", id="proc-40")
VEGAN = condition(SNOMED, "1255165006", "Vegan diet", ago(400), id="vegan-1")
GASTRECTOMY = _procedure("53442002", ago(2000), "Gastrectomy", id="proc-gast")
OMEPRAZOLE_DRAFT = med_request(rxnorm="7646", dose=20, unit="mg", status="draft", id="ppi-d")

ACID_SUPPRESSION = [
    row(ACID, EXAMPLE_39, "example-39"),
    row(ACID, [patient(79, "male"), _ppi(730, rxnorm="4278")], "famotidine-h2ra"),
    row(set(), [patient(75, "male"), _ppi(730)], "age-75-is-not-over-75"),
    row(set(), ADULT_PPI, "no-other-risk"),
    row(set(), [patient(79, "male"), _ppi(180)], "six-months"),
    row(ACID, [*ADULT_PPI, PARAESTHESIA], "neuro-findings"),
    row(ACID, [*ADULT_PPI, _hb(11.0, 10)], "anaemia"),
    row(ACID, [*ADULT_PPI, observation(MCV, 105, "fL", ago(10))], "macrocytosis"),
    row(ACID | METFORMIN_INFO, [*ADULT_PPI, _metformin(400)], "metformin-over-4-months"),
    row(ACID | {("vegan-diet-supplement", "info")}, [*ADULT_PPI, VEGAN], "vegan"),
    row(ACID | {("bariatric-prophylaxis", "warning")}, [*ADULT_PPI, SLEEVE], "bariatric"),
    row(ACID | {("ileal-resection", "warning")}, [*ADULT_PPI, ILEUM], "ileal-resection"),
    row(ACID, [*ADULT_PPI, GASTRECTOMY], "gastrectomy"),
    row(set(), [*EXAMPLE_39, _b12(400, 200)], "b12-within-a-year"),
    row({("b12-deficiency-untreated", "warning")}, [*EXAMPLE_39, PERNICIOUS], "b12-deficient"),
    row(set(), [*EXAMPLE_39, ORAL_B12], "on-b12"),
    row(ACID, EXAMPLE_39, "focused-draft", **_select(OMEPRAZOLE_DRAFT)),
    row(set(), EXAMPLE_39, "other-draft-focused", **_select(METFORMIN_DRAFT)),
    # §11.12: the last B12, older than the lookback, was low and no B12 treatment followed.
    row(ACID_WARNING, [*EXAMPLE_39, _b12(150, 500)], "last-b12-low-untreated"),
    row(ACID, [*EXAMPLE_39, _b12(150, 500), _hydroxocobalamin(480)], "last-b12-low-treated-after"),
    row(ACID, [*EXAMPLE_39, _b12(150, 500), _b12(400, 420)], "later-b12-normal"),
    row(set(), [*ADULT_PPI, _b12(150, 500)], "last-b12-low-no-other-risk"),
    row(
        ACID_WARNING,
        [*EXAMPLE_39, _b12(150, 500)],
        "last-b12-low-untreated-focused-draft",
        **_select(OMEPRAZOLE_DRAFT),
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), ACID_SUPPRESSION)
def test_acid_suppression_monitoring(expected, resources, chart):
    """Over 12 months of PPI/H2RA, no recent B12 and another risk factor: info (§7.12)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_39_card():
    """Suggest B12 2132-9; name the drug, its start and the extra risk (example 39)."""
    card = _card(_cards(EXAMPLE_39), "acid-suppression-monitoring")

    assert {"ServiceRequest 2132-9"} == _suggested(card)
    for phrase in ("29 Nov 2024", "2 years", "age 79", "colchicine"):
        assert phrase in card.detail


def test_acid_suppression_says_last_b12_was_low_and_untreated():
    """§11.12: the warning names the low result and says no B12 treatment has followed."""
    card = _card(_cards([*EXAMPLE_39, _b12(150, 500)]), "acid-suppression-monitoring")

    assert card.summary.startswith("Acid suppression for over 12 months and the last B12, over")
    assert len(card.summary) <= 139
    assert "The last B12, on 17 Jul 2025, was low" in card.detail
    assert {"ServiceRequest 2132-9"} == _suggested(card)


def test_acid_suppression_and_metformin_each_name_their_drug():
    """Both monitoring cards may fire for one patient, each naming its drug (§7.12)."""
    cards = _cards([*ADULT_PPI, _metformin(400)])

    assert "Acid suppression" in _card(cards, "acid-suppression-monitoring").detail
    assert "metformin" in _card(cards, "acid-suppression-monitoring").detail
    assert "Metformin" in _card(cards, "metformin-monitoring").detail


# --- bariatric-prophylaxis (§7.13; examples 24, 25) --------------------------------------------

BARIATRIC = {("bariatric-prophylaxis", "warning")}
EXAMPLE_24 = [patient(47), Z98_84, SLEEVE, _b12(390, 182)]
EXAMPLE_25 = [
    *EXAMPLE_24,
    med_statement(text="cyanocobalamin 1000 mcg tablet daily", start=ago(100), id="ms-25"),
]


def _oral_cyanocobalamin(dose_ug: float, period: int = 1, period_unit: str = "d") -> dict:
    """Return an active oral cyanocobalamin statement of `dose_ug` per period."""
    return med_statement(
        text="Cyanocobalamin tablet",
        route=ORAL,
        dose=dose_ug,
        unit="ug",
        period=period,
        period_unit=period_unit,
        start=ago(100),
    )


def _tablets(
    rxnorm: str | None, period: int, period_unit: str, unit: str = "{tbl}", text: str | None = None
) -> dict:
    """Return an active oral cyanocobalamin statement of 1 tablet per period (§11.1)."""
    return med_statement(
        rxnorm=rxnorm,
        text=text,
        route=ORAL,
        dose=1,
        unit=unit,
        period=period,
        period_unit=period_unit,
        start=ago(100),
    )


BARIATRIC_PROPHYLAXIS = [
    row(BARIATRIC, EXAMPLE_24, "example-24"),
    row(set(), EXAMPLE_25, "example-25-oral-supplement"),
    row(BARIATRIC, [patient(47), SLEEVE], "sleeve-procedure-only"),
    row(
        BARIATRIC,
        [patient(47), condition(ICD10CM, "Z98.84", "Bariatric status", ago(900), "resolved")],
        "status-condition-whatever-clinical-status",
    ),
    row(
        BARIATRIC,
        [patient(47), _procedure("173747005", ago(3000), "Roux-en-Y gastrojejunostomy")],
        "roux-en-y",
    ),
    row(
        set(),
        [patient(47), _procedure("427074001", ago(30), "Sleeve", status="not-done")],
        "procedure-not-done",
    ),
    row(BARIATRIC, [*EXAMPLE_24, _oral_cyanocobalamin(100)], "oral-100-ug-daily-too-little"),
    row(BARIATRIC, [*EXAMPLE_24, _oral_cyanocobalamin(1000, 1, "wk")], "oral-1000-ug-weekly"),
    row(set(), [*EXAMPLE_24, _oral_cyanocobalamin(350)], "oral-350-ug-daily"),
    row(
        BARIATRIC,
        [*EXAMPLE_24, med_statement(contained_medication=MULTIVITAMIN, start=ago(100))],
        "multivitamin-is-not-a-supplement",
    ),
    row(set(), [*EXAMPLE_24, IM_B12], "on-parenteral-b12"),
    row(set(), [*EXAMPLE_24, _hydroxocobalamin(30)], "parenteral-dose-within-interval"),
    row(
        {("b12-deficiency-untreated", "warning")},
        [patient(47), Z98_84, SLEEVE, _b12(150, 20)],
        "deficient",
    ),
    row(PAEDIATRIC_WARNING, [patient(15), SLEEVE, _b12(390, 182)], "child"),
    row(set(), [patient(47), _b12(390, 182)], "no-bariatric-surgery"),
    row(
        BARIATRIC,
        [patient(31), condition(ICD10CM, "O99.841", "Bariatric status in pregnancy", ago(30))],
        "o99-84-condition",
    ),
    row(set(), EXAMPLE_24, "not-an-order-hook-rule", hook=OSIGN, drafts=[]),
    # §11.1: "1 tablet" times the product's strength. Cyanocobalamin 1 mg once a week is about
    # 143 micrograms a day, below 350: no supplement.
    row(BARIATRIC, [*EXAMPLE_24, _tablets("309593", 1, "wk")], "309593-1-tablet-weekly"),
    row(BARIATRIC, [*EXAMPLE_24, _tablets("309593", 1, "wk", "{pill}")], "309593-pill-weekly"),
    row(
        BARIATRIC,
        [*EXAMPLE_24, _tablets(None, 1, "wk", text="Cyanocobalamin 1 mg tablets")],
        "text-1-mg-tablet-weekly",
    ),
    row(set(), [*EXAMPLE_24, _tablets("309593", 1, "d")], "309593-1-tablet-daily"),
    row(set(), [*EXAMPLE_24, _tablets("309593", 2, "d")], "309593-1-tablet-every-2-days"),
    row(set(), [*EXAMPLE_24, _tablets("11248", 1, "wk")], "ingredient-strength-unknown-counts"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), BARIATRIC_PROPHYLAXIS)
def test_bariatric_prophylaxis(expected, resources, chart):
    """Bariatric surgery and no B12 supplement (≥ 350 ug/day or parenteral): warning (§7.13)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("code", "settings", "dose"),
    [
        pytest.param("309593", Settings(), (1000, "ug", ORAL), id="uk-oral-1000"),
        pytest.param("309593", US, (1000, "ug", ORAL), id="us-oral-1000"),
        pytest.param(
            "317106", Settings(bariatric_regimen="im-monthly"), (1, "mg", IM), id="uk-im-monthly"
        ),
        pytest.param(
            "309594",
            Settings(profile=Profile.US, bariatric_regimen="im-monthly"),
            (1000, "ug", IM),
            id="us-im-monthly",
        ),
    ],
)
def test_bariatric_regimen(code, settings, dose):
    """Suggest MR-ORAL-1000; `bariatric_regimen` = im-monthly gives the profile's MAINT (§7.13)."""
    card = _card(_cards(EXAMPLE_24, settings=settings), "bariatric-prophylaxis")

    assert {f"MedicationRequest {code}": True} == _offers(card)
    assert dose == _dose(_created(card))


def test_example_24_detail():
    """Name the surgery and its date, and the last B12 (§7.13)."""
    card = _card(_cards(EXAMPLE_24), "bariatric-prophylaxis")

    for phrase in ("Laparoscopic sleeve gastrectomy", "29 Nov 2024", "390 pg/mL", "31 May 2026"):
        assert phrase in card.detail


@pytest.mark.parametrize(
    ("summary", "phrases", "resources"),
    [
        pytest.param(
            "Bariatric surgery on record and a B12 supplement below 350 micrograms a day: "
            "lifelong B12 is recommended",
            ["B12 supplement on record gives too little", "Cyanocobalamin tablet", "about 100 "],
            [*EXAMPLE_24, _oral_cyanocobalamin(100)],
            id="oral-100-ug-daily",
        ),
        pytest.param(
            "Bariatric surgery on record and a B12 supplement below 350 micrograms a day: "
            "lifelong B12 is recommended",
            ["B12 supplement on record gives too little", "about 143 micrograms a day"],
            [*EXAMPLE_24, _oral_cyanocobalamin(1000, 1, "wk")],
            id="oral-1000-ug-weekly",
        ),
        pytest.param(
            "Bariatric surgery on record and no B12 supplement: lifelong B12 is recommended",
            [],
            EXAMPLE_24,
            id="none-on-record",
        ),
    ],
)
def test_bariatric_names_the_inadequate_supplement(summary, phrases, resources):
    """§11.12: an oral supplement below bariatric_min_daily_ug is named on the card."""
    card = _card(_cards(resources), "bariatric-prophylaxis")

    assert summary == card.summary
    for phrase in phrases:
        assert phrase in card.detail
    if not phrases:
        assert "gives too little" not in card.detail


def test_bariatric_detail_mentions_multivitamin():
    """Say that the multivitamin's B12 does not count as a supplement (§7.13)."""
    cards = _cards([*EXAMPLE_24, med_statement(contained_medication=MULTIVITAMIN, start=ago(9))])

    assert "does not count as a supplement" in _card(cards, "bariatric-prophylaxis").detail


# --- ileal-resection (§7.14; example 40) -------------------------------------------------------

ILEAL = {("ileal-resection", "warning")}
EXAMPLE_40 = [patient(41, "male"), ILEUM]


def _length(value: float, unit: str = "cm", days_ago: int = 30) -> dict[str, Any]:
    """Return a resected-length Observation of the site's code XXXX-X."""
    return observation("XXXX-X", value, unit, ago(days_ago))


Z90_49_ILEUM = condition(ICD10CM, "Z90.49", "Acquired absence of terminal ileum", ago(900))
Z90_49_OTHER = condition(ICD10CM, "Z90.49", "Acquired absence of gallbladder", ago(900))

ILEAL_RESECTION = [
    row(ILEAL, EXAMPLE_40, "example-40-monitoring"),
    row(set(), [*EXAMPLE_40, _b12(400, 100)], "b12-within-a-year"),
    row(set(), [*EXAMPLE_40, observation(MMA, 0.2, "umol/L", ago(100))], "mma-within-a-year"),
    row(ILEAL, [*EXAMPLE_40, _b12(400, 400)], "b12-over-a-year-ago"),
    row(ILEAL, [*EXAMPLE_40, _length(30)], "treatment-30-cm", settings=LENGTH),
    row(ILEAL, [*EXAMPLE_40, _length(20)], "treatment-20-cm", settings=LENGTH),
    row(ILEAL, [*EXAMPLE_40, _length(250, "mm")], "treatment-250-mm", settings=LENGTH),
    row(
        ILEAL,
        [*EXAMPLE_40, _length(30), _b12(400, 100)],
        "treatment-despite-recent-normal-b12",
        settings=LENGTH,
    ),
    row(set(), [*EXAMPLE_40, _length(10)], "shorter-than-20-cm", settings=LENGTH),
    row(set(), [*EXAMPLE_40, _length(19.5)], "just-under-20-cm", settings=LENGTH),
    row(set(), [*EXAMPLE_40, _hydroxocobalamin(30)], "on-parenteral-b12"),
    row(
        {("b12-deficiency-untreated", "warning")},
        [*EXAMPLE_40, _b12(150, 20)],
        "deficient",
    ),
    row(ILEAL, [patient(41, "male"), Z90_49_ILEUM], "z90-49-with-ileal-text"),
    row(set(), [patient(41, "male"), Z90_49_OTHER], "z90-49-without-ileal-text"),
    row(set(), [patient(41, "male")], "no-resection"),
    row(
        ILEAL,
        [patient(41, "male"), condition(ICD10CM, "K90.829", "Short bowel syndrome", ago(300))],
        "short-bowel-syndrome",
    ),
    row(ILEAL, [patient(12, "male"), ILEUM], "child-monitoring-branch-still-fires"),
    row(
        PAEDIATRIC_WARNING,
        [patient(12, "male"), ILEUM, _length(30)],
        "child-treatment-branch-replaced",
        settings=LENGTH,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), ILEAL_RESECTION)
def test_ileal_resection(expected, resources, chart):
    """Treat when ≥ 20 cm, monitor when the length is unknown, silent when shorter (§7.14)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("offers", "resources", "settings"),
    [
        pytest.param(
            {"ServiceRequest 2132-9": True, "ServiceRequest 13964-2": None},
            EXAMPLE_40,
            Settings(),
            id="example-40",
        ),
        pytest.param(
            {"ServiceRequest 2132-9": True, "ServiceRequest 13964-2": None},
            [*EXAMPLE_40, _length(30)],
            Settings(),
            id="length-code-not-configured",
        ),
        pytest.param(
            {"MedicationRequest 317106": True}, [*EXAMPLE_40, _length(30)], LENGTH, id="uk-treat"
        ),
        pytest.param(
            {"MedicationRequest 309594": True},
            [*EXAMPLE_40, _length(30)],
            Settings(profile=Profile.US, ileal_length_code=LENGTH_CODE),
            id="us-treat",
        ),
        pytest.param(
            {"ServiceRequest 2132-9": True, "ServiceRequest 13964-2": None},
            [patient(12, "male"), ILEUM],
            Settings(),
            id="child-monitoring",
        ),
    ],
)
def test_ileal_resection_suggestions(offers, resources, settings):
    """Monitoring: B12 and MMA; treatment: MR-UK-MAINT / MR-US-MAINT (§7.14)."""
    card = _card(_cards(resources, settings=settings), "ileal-resection")

    assert offers == {k: v or None for k, v in _offers(card).items()}


def test_ileal_treatment_is_uk_maintenance():
    """The uk treatment branch is 1 mg IM every 2-3 months (MR-UK-MAINT)."""
    card = _card(_cards([*EXAMPLE_40, _length(30)], settings=LENGTH), "ileal-resection")

    resource = _created(card)
    assert [{"frequency": 1, "period": 2, "periodMax": 3, "periodUnit": "mo"}] == _repeats(resource)
    assert (1, "mg", IM) == _dose(resource)


@pytest.mark.parametrize(
    ("phrases", "resources", "settings"),
    [
        pytest.param(
            ["Resection of terminal ileum", "29 Nov 2023", "Resected length not recorded", "20 cm"],
            EXAMPLE_40,
            Settings(),
            id="monitoring",
        ),
        pytest.param(
            ["Resected length 30 cm", "Resection of terminal ileum", "29 Nov 2023"],
            [*EXAMPLE_40, _length(30)],
            LENGTH,
            id="treatment",
        ),
        pytest.param(
            ["Resected length 25 cm"], [*EXAMPLE_40, _length(250, "mm")], LENGTH, id="mm-in-cm"
        ),
        pytest.param(
            ["No B12 or MMA result in the past 12 months"], EXAMPLE_40, Settings(), id="no-result"
        ),
        pytest.param(
            ["No usable B12 or MMA result in the past 12 months (B12 150 mIU/L"],
            [*EXAMPLE_40, observation(B12, 150, "mIU/L", ago(8))],
            Settings(),
            id="unreadable-b12-named",
        ),
    ],
)
def test_ileal_resection_detail(phrases, resources, settings):
    """Name the procedure, its date and the length if known (§7.14)."""
    detail = _card(_cards(resources, settings=settings), "ileal-resection").detail

    for phrase in phrases:
        assert phrase in detail


def test_ileal_length_recorded_at_surgery_years_ago():
    """A length recorded at the operation three years ago still gives the treatment branch."""
    cards = _cards([*EXAMPLE_40, _length(30, days_ago=1096)], settings=LENGTH)

    assert {"MedicationRequest 317106"} == _suggested(_card(cards, "ileal-resection"))


# --- vegan-diet-supplement (§7.15; example 41) -------------------------------------------------

VEGAN_INFO = {("vegan-diet-supplement", "info")}
EXAMPLE_41 = [patient(30), VEGAN]
BREASTFEEDING = condition(SNOMED, "866041003", "Mother currently breastfeeding", ago(60), id="bf-1")

VEGAN_DIET_SUPPLEMENT = [
    row(VEGAN_INFO, EXAMPLE_41, "example-41"),
    row(
        VEGAN_INFO,
        [patient(30), condition(SNOMED, "765021002", "Vegetarian diet", ago(400))],
        "vegetarian-code",
    ),
    row(
        VEGAN_INFO,
        [patient(30), condition(SNOMED, None, "Strict vegetarian", ago(100))],
        "vegetarian-text-only",
    ),
    row(
        set(),
        [patient(30), condition(SNOMED, None, "Non-vegetarian diet", ago(100))],
        "non-vegetarian-text",
    ),
    row(set(), [*EXAMPLE_41, ORAL_B12], "oral-b12"),
    row(
        set(),
        [*EXAMPLE_41, med_statement(contained_medication=MULTIVITAMIN, start=ago(100))],
        "multivitamin-with-b12-counts",
    ),
    row({("b12-deficiency-untreated", "warning")}, [*EXAMPLE_41, _b12(150, 20)], "deficient"),
    row(PAEDIATRIC_INFO, [patient(12), VEGAN], "child"),
    row(
        VEGAN_INFO | {("pregnancy-b12", "info")},
        [*EXAMPLE_41, BREASTFEEDING],
        "breastfeeding-vegan-mother",
    ),
    row(set(), [patient(30)], "no-diet-record"),
    row(set(), EXAMPLE_41, "not-an-order-hook-rule", hook=OSIGN, drafts=[]),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), VEGAN_DIET_SUPPLEMENT)
def test_vegan_diet_supplement(expected, resources, chart):
    """Vegan or vegetarian diet and no B12-containing product: info (§7.15)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("key", "dose", "repeat", "settings"),
    [
        pytest.param(
            "MedicationRequest 309593",
            (2000, "ug", ORAL),
            {"frequency": 1, "period": 1, "periodUnit": "wk"},
            Settings(),
            id="uk-weekly-2000",
        ),
        pytest.param(
            "MedicationRequest 309593",
            (2000, "ug", ORAL),
            {"frequency": 1, "period": 1, "periodUnit": "wk"},
            US,
            id="us-weekly-2000",
        ),
        pytest.param(
            "MedicationRequest Vitamin B12 (cyanocobalamin) supplement, at least 10 micrograms",
            (10, "ug", ORAL),
            {"frequency": 1, "period": 1, "periodUnit": "d"},
            Settings(vegan_regimen="daily-10"),
            id="daily-10",
        ),
        pytest.param(
            "MedicationRequest Vitamin B12 (cyanocobalamin) supplement 250 micrograms",
            (250, "ug", ORAL),
            {"frequency": 1, "period": 1, "periodUnit": "d"},
            Settings(vegan_regimen="seed"),
            id="seed",
        ),
    ],
)
def test_vegan_regimen(key, dose, repeat, settings):
    """Suggest MR-VEGAN (2000 ug weekly); `vegan_regimen` switches the template (§7.15)."""
    card = _card(_cards(EXAMPLE_41, settings=settings), "vegan-diet-supplement")

    resource = _created(card)
    assert {key} == _suggested(card)
    assert (dose, [repeat]) == (_dose(resource), _repeats(resource))


def test_vegan_detail():
    """Name the diet evidence and its date and the adult options (§7.15)."""
    detail = _card(_cards(EXAMPLE_41), "vegan-diet-supplement").detail

    for phrase in ("Vegan diet", "25 Oct 2025", "10 micrograms daily", "2000"):
        assert phrase in detail


def test_vegan_seed_is_a_site_option():
    """The seed regimen is said to be a site option, not guideline text (§7.15)."""
    cards = _cards(EXAMPLE_41, settings=Settings(vegan_regimen="seed"))

    assert "site option" in _card(cards, "vegan-diet-supplement").detail


# --- pernicious-anaemia-oral (§7.16; example 42) -----------------------------------------------

PA_ORAL = {("pernicious-anaemia-oral", "warning")}
# Started 40 days ago: treatment-response-review is not yet due (8 weeks us, 12 weeks uk).
ORAL_1000 = med_statement(
    text="Cyanocobalamin 1000 mcg tablet", route=ORAL, dose=1000, unit="ug", start=ago(40)
)
ORAL_100 = med_statement(
    text="Cyanocobalamin 100 mcg tablet", route=ORAL, dose=100, unit="ug", start=ago(40)
)
NASAL_B12 = med_statement(text="Cyanocobalamin nasal spray", route=NASAL, start=ago(40))
G32 = condition(
    ICD10CM, "G32.0", "Subacute combined degeneration of spinal cord", ago(600), "inactive"
)
EXAMPLE_42 = [patient(70), PERNICIOUS, ORAL_1000]
ORAL_DRAFT = med_request(rxnorm="309593", route=ORAL, dose=1, unit="mg", status="draft", id="or-1")
IM_DRAFT = med_request(rxnorm="317106", route=IM, dose=1, unit="mg", status="draft", id="oh-1")

PERNICIOUS_ANAEMIA_ORAL = [
    row(PA_ORAL, EXAMPLE_42, "example-42"),
    row(PA_ORAL, [patient(70), GASTRECTOMY, ORAL_1000], "gastrectomy"),
    row(PA_ORAL, [patient(70), PERNICIOUS, NASAL_B12, G32], "nasal-with-neuro-history"),
    row(set(), [patient(70), PERNICIOUS, NASAL_B12], "nasal-without-neuro-history"),
    row(set(), [*EXAMPLE_42, IM_B12], "parenteral-too"),
    row(set(), EXAMPLE_42, "allow-oral-in-pa-1000", settings=Settings(allow_oral_in_PA=True)),
    row(
        PA_ORAL,
        [patient(70), PERNICIOUS, ORAL_100],
        "allow-oral-in-pa-100-too-little",
        settings=Settings(allow_oral_in_PA=True),
    ),
    row(PA_ORAL, [patient(70), PERNICIOUS, ORAL_100], "oral-100"),
    row({("b12-deficiency-untreated", "warning")}, [patient(70), PERNICIOUS], "no-b12-at-all"),
    row(set(), [patient(70), ORAL_1000], "no-pernicious-anaemia"),
    row(
        PA_ORAL,
        [patient(70), observation(IFAB, None, None, ago(100), interpretation="POS"), ORAL_1000],
        "positive-intrinsic-factor-antibody",
    ),
    row(PAEDIATRIC_WARNING, [patient(12), PERNICIOUS, ORAL_1000], "child"),
    row(
        {("b12-neuro-untreated", "critical")},
        [*EXAMPLE_42, PARAESTHESIA],
        "neuro-card-silences-it",
    ),
    row(PA_ORAL, [patient(70), PERNICIOUS], "focused-oral-draft", **_select(ORAL_DRAFT)),
    row(
        {("potassium-monitoring", "warning")},
        [patient(70), PERNICIOUS],
        "oral-and-im-drafted",
        **_select(ORAL_DRAFT, IM_DRAFT, hook=OSIGN),
    ),
    row(set(), EXAMPLE_42, "order-hook-other-draft-focused", **_select(METFORMIN_DRAFT)),
    row(set(), [patient(70), ORAL_1000], "focused-oral-draft-no-pa", **_select(ORAL_DRAFT)),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), PERNICIOUS_ANAEMIA_ORAL)
def test_pernicious_anaemia_oral(expected, resources, chart):
    """Pernicious anaemia or gastrectomy on oral (or nasal with neuro history) B12 only (§7.16)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("code", "repeat", "resources", "settings"),
    [
        pytest.param(
            "317106",
            {"frequency": 1, "period": 2, "periodMax": 3, "periodUnit": "mo"},
            EXAMPLE_42,
            Settings(),
            id="example-42-uk-maint",
        ),
        pytest.param(
            "309594",
            {"frequency": 1, "period": 1, "periodUnit": "mo"},
            EXAMPLE_42,
            US,
            id="example-42-us-maint",
        ),
        pytest.param(
            "317106",
            {"frequency": 1, "period": 2, "periodUnit": "mo"},
            [patient(70), PERNICIOUS, NASAL_B12, G32],
            Settings(),
            id="uk-maint-neuro",
        ),
    ],
)
def test_pernicious_anaemia_oral_regimen(code, repeat, resources, settings):
    """Suggest MR-UK-MAINT (-NEURO with neuro history) in uk, MR-US-MAINT in us (§7.16)."""
    card = _card(_cards(resources, settings=settings), "pernicious-anaemia-oral")

    assert {f"MedicationRequest {code}": True} == _offers(card)
    assert [repeat] == _repeats(_created(card))


@pytest.mark.parametrize(
    ("summary", "phrases", "resources", "settings"),
    [
        pytest.param(
            "Pernicious anaemia on oral B12 only: oral therapy is not dependable; consider IM",
            ["Pernicious anaemia", "Cyanocobalamin 1000 mcg tablet", "lifelong"],
            EXAMPLE_42,
            Settings(),
            id="example-42",
        ),
        pytest.param(
            "Pernicious anemia on oral B12 only: oral therapy is not dependable; consider IM",
            ["Cyanocobalamin 1000 mcg tablet", "FDA label"],
            EXAMPLE_42,
            US,
            id="us-spelling",
        ),
        pytest.param(
            "Pernicious anaemia with neurological history on nasal B12 only: consider IM",
            ["nasal", "Subacute combined degeneration", "no longer active"],
            [patient(70), PERNICIOUS, NASAL_B12, G32],
            Settings(),
            id="nasal",
        ),
        pytest.param(
            "Gastrectomy on oral B12 only: oral therapy is not dependable; consider IM",
            ["Gastrectomy"],
            [patient(70), GASTRECTOMY, ORAL_1000],
            Settings(),
            id="gastrectomy",
        ),
    ],
)
def test_pernicious_anaemia_oral_text(summary, phrases, resources, settings):
    """Name the diagnosis and the current product (§7.16)."""
    card = _card(_cards(resources, settings=settings), "pernicious-anaemia-oral")

    assert summary == card.summary
    for phrase in phrases:
        assert phrase in card.detail


# --- maintenance-overdue (§7.17; examples 33, 34) ----------------------------------------------

OVERDUE = {("maintenance-overdue", "warning")}
OVERDUE_CRITICAL = {("maintenance-overdue", "critical")}
EXAMPLE_33 = [patient(80, "male"), PERNICIOUS, _hydroxocobalamin(240), _hydroxocobalamin(150)]
EXAMPLE_34 = [patient(78), PERNICIOUS, G32, _hydroxocobalamin(200)]


def _cyanocobalamin_im(days_ago: int) -> dict[str, Any]:
    """Return a cyanocobalamin 1000 ug IM administration."""
    return med_admin(rxnorm="309594", route=IM, dose=1000, unit="ug", when=ago(days_ago))


def _pa(*extra: Any) -> list[Any]:
    """Return an 80-year-old man with pernicious anaemia and the given records."""
    return [patient(80, "male"), PERNICIOUS, *extra]


LAPSED_ORAL = med_statement(
    text="Cyanocobalamin 1000 mcg tablet",
    route=ORAL,
    dose=1000,
    unit="ug",
    status="completed",
    start=ago(300),
    end=ago(60),
)

MAINTENANCE_OVERDUE = [
    row(OVERDUE, EXAMPLE_33, "example-33"),
    row(OVERDUE_CRITICAL, EXAMPLE_34, "example-34"),
    row(REVIEW, _pa(_hydroxocobalamin(106)), "uk-hydroxo-106-days"),
    row(OVERDUE, _pa(_hydroxocobalamin(107)), "uk-hydroxo-107-days"),
    row(set(), _pa(G32, _hydroxocobalamin(75)), "uk-hydroxo-neuro-75-days"),
    row(OVERDUE, _pa(G32, _hydroxocobalamin(76)), "uk-hydroxo-neuro-76-days"),
    row(OVERDUE, _pa(G32, _hydroxocobalamin(151)), "neuro-lapse-90-days-warning"),
    row(OVERDUE_CRITICAL, _pa(G32, _hydroxocobalamin(152)), "neuro-lapse-91-days-critical"),
    row(OVERDUE, _pa(_hydroxocobalamin(400)), "no-neuro-history-never-critical"),
    row(set(), _pa(_hydroxocobalamin(38)), "us-hydroxo-38-days", settings=US),
    row(OVERDUE, _pa(_hydroxocobalamin(39)), "us-hydroxo-39-days", settings=US),
    row(set(), _pa(_cyanocobalamin_im(38)), "uk-cyanocobalamin-38-days"),
    row(OVERDUE, _pa(_cyanocobalamin_im(39)), "uk-cyanocobalamin-39-days"),
    row(OVERDUE, _pa(LAPSED_ORAL), "oral-supply-ended-60-days-ago"),
    row(
        REVIEW,
        _pa(
            med_statement(
                text="Cyanocobalamin 1000 mcg tablet",
                route=ORAL,
                status="completed",
                start=ago(300),
                end=ago(20),
            )
        ),
        "oral-supply-ended-20-days-ago",
    ),
    row(PA_ORAL | REVIEW, _pa(LAPSED_ORAL, ORAL_1000), "oral-still-active"),
    row(
        {("b12-deficiency-untreated", "warning")},
        _pa(_hydroxocobalamin(800)),
        "last-dose-over-730-days",
    ),
    row(
        {("b12-deficiency-untreated", "warning")},
        [patient(60), _b12(150, 170), _hydroxocobalamin(150)],
        "no-lifelong-indication",
    ),
    row(
        OVERDUE,
        [patient(60), GASTRECTOMY, _hydroxocobalamin(150)],
        "gastrectomy-is-lifelong",
    ),
    pytest.param(
        OVERDUE | PAEDIATRIC_INFO,
        [patient(12), PERNICIOUS, _hydroxocobalamin(150)],
        {},
        id="child-fires-without-dose",
    ),
    row(set(), EXAMPLE_33, "not-an-order-hook-rule", hook=OSIGN, drafts=[]),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), MAINTENANCE_OVERDUE)
def test_maintenance_overdue(expected, resources, chart):
    """Lifelong regimen past its interval + grace; critical with neuro history > 90 days (§7.17)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("code", "repeat", "resources", "settings"),
    [
        pytest.param(
            "317106",
            {"frequency": 1, "period": 2, "periodMax": 3, "periodUnit": "mo"},
            EXAMPLE_33,
            Settings(),
            id="example-33-uk-maint",
        ),
        pytest.param(
            "309594",
            {"frequency": 1, "period": 1, "periodUnit": "mo"},
            _pa(_cyanocobalamin_im(50)),
            US,
            id="us-cyanocobalamin-us-maint",
        ),
        pytest.param(
            "317106",
            {"frequency": 1, "period": 2, "periodUnit": "mo"},
            EXAMPLE_34,
            Settings(),
            id="example-34-uk-maint-neuro",
        ),
        pytest.param(
            "309593",
            {"frequency": 1, "period": 1, "periodUnit": "d"},
            _pa(LAPSED_ORAL),
            Settings(),
            id="lapsed-oral-oral-1000",
        ),
    ],
)
def test_maintenance_overdue_regimen(code, repeat, resources, settings):
    """Suggest the maintenance template of the product and profile (§7.17)."""
    card = _card(_cards(resources, settings=settings), "maintenance-overdue")

    assert {f"MedicationRequest {code}"} == _suggested(card)
    assert [repeat] == _repeats(_created(card))


@pytest.mark.parametrize(
    ("summary", "phrases", "resources"),
    [
        pytest.param(
            "B12 maintenance looks overdue: last dose 2 Jul 2026, 150 days ago",
            ["hydroxocobalamin", "2 Jul 2026", "58 days past due", "Pernicious anaemia"],
            EXAMPLE_33,
            id="example-33",
        ),
        pytest.param(
            "B12 maintenance looks overdue: last dose 13 May 2026, 200 days ago",
            ["139 days past due", "13 May 2026", "Subacute combined degeneration", "irreversible"],
            EXAMPLE_34,
            id="example-34",
        ),
    ],
)
def test_maintenance_overdue_text(summary, phrases, resources):
    """Say the last dose date, days since and days past due (§7.17)."""
    card = _card(_cards(resources), "maintenance-overdue")

    assert summary == card.summary
    for phrase in phrases:
        assert phrase in card.detail


# --- maintenance-overdue follows the ordered interval (§11.8) ---------------------------------


def _im_request(rxnorm: str, period: Any, unit: str = "mo", authored: int = 500, **repeat: Any):
    """Return an active IM B12 request whose timing states its own interval."""
    resource = med_request(
        rxnorm=rxnorm, route=IM, dose=1, unit="mg", period=period, period_unit=unit,
        authored=ago(authored),
    )  # fmt: skip
    resource["dosageInstruction"][0]["timing"]["repeat"].update(repeat)
    return resource


HYDROXO_MONTHLY = _im_request("317106", 1)
HYDROXO_3_MONTHLY = _im_request("317106", 3)
CYANO_2_MONTHLY = _im_request("309594", 2)

ORDERED_INTERVAL = [
    # uk hydroxocobalamin ordered monthly: 31 + 14 days grace, not the table's 92 + 14.
    row(set(), _pa(HYDROXO_MONTHLY, _hydroxocobalamin(45)), "uk-ordered-monthly-45-days"),
    row(OVERDUE, _pa(HYDROXO_MONTHLY, _hydroxocobalamin(46)), "uk-ordered-monthly-46-days"),
    # us hydroxocobalamin ordered 3-monthly: 92 + 7 days grace, not the us table's 31 + 7.
    row(
        set(),
        _pa(HYDROXO_3_MONTHLY, _hydroxocobalamin(99)),
        "us-ordered-3-monthly-99-days",
        settings=US,
    ),  # fmt: skip
    row(
        OVERDUE,
        _pa(HYDROXO_3_MONTHLY, _hydroxocobalamin(100)),
        "us-ordered-3-monthly-100-days",
        settings=US,
    ),  # fmt: skip
    # uk cyanocobalamin ordered 2-monthly: 61 + 7 days grace.
    row(set(), _pa(CYANO_2_MONTHLY, _cyanocobalamin_im(68)), "uk-cyano-ordered-2-monthly-68"),
    row(OVERDUE, _pa(CYANO_2_MONTHLY, _cyanocobalamin_im(69)), "uk-cyano-ordered-2-monthly-69"),
    # A period outside 1-3 months is not a maintenance interval: the table decides (31 + 7 us).
    row(
        OVERDUE,
        _pa(_im_request("317106", 4), _hydroxocobalamin(39)),
        "us-4-monthly-is-table",
        settings=US,
    ),  # fmt: skip
    row(
        OVERDUE,
        _pa(_im_request("317106", 2, "d"), _hydroxocobalamin(39)),
        "us-alternate-days-is-table",
        settings=US,
    ),  # fmt: skip
]


@pytest.mark.parametrize(("expected", "resources", "chart"), ORDERED_INTERVAL)
def test_maintenance_overdue_follows_the_ordered_interval(expected, resources, chart):
    """A current request's own 1-3 month interval + the table's grace sets the due date (§11.8)."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("days", "request_", "settings"),
    [
        pytest.param(31, HYDROXO_MONTHLY, Settings(), id="1-month-31-days"),
        pytest.param(61, _im_request("317106", 2), US, id="2-months-61-days"),
        pytest.param(92, HYDROXO_3_MONTHLY, US, id="3-months-92-days"),
        pytest.param(92, _im_request("317106", 2, periodMax=3), US, id="2-3-months-longest"),
        pytest.param(28, _im_request("317106", 4, "wk"), US, id="4-weeks-28-days"),
        pytest.param(61, _im_request("317106", 61, "d"), US, id="61-days"),
        pytest.param(31, _im_request("317106", 13, "wk", frequency=3), US, id="3-in-13-weeks"),
        pytest.param(31, _im_request("317106", 6), US, id="6-months-is-table-us"),
        pytest.param(92, _im_request("317106", 1, "wk"), Settings(), id="weekly-is-table-uk"),
    ],
)
def test_maintenance_overdue_says_the_ordered_interval(days, request_, settings):
    """The detail's expected interval is the order's own when it is 1-3 months (§11.8)."""
    card = _card(_cards(_pa(request_, _hydroxocobalamin(300)), settings=settings),
                 "maintenance-overdue")  # fmt: skip

    assert f"about every {days} days" in card.detail


@pytest.mark.parametrize(
    ("resources", "settings", "said", "unsaid"),
    [
        pytest.param(
            _pa(_hydroxocobalamin(150)),
            US,
            ["give the next dose of the current regimen (hydroxocobalamin)"],
            ["Resume maintenance", "consider switching"],
            id="us-hydroxocobalamin-no-template",
        ),
        pytest.param(
            _pa(_cyanocobalamin_im(50)),
            Settings(),
            [
                "give the next dose of the current regimen (cyanocobalamin)",
                "consider switching to hydroxocobalamin (fewer injections)",
            ],
            ["Resume maintenance"],
            id="uk-cyanocobalamin-consider-switching",
        ),
        pytest.param(
            _pa(CYANO_2_MONTHLY, _cyanocobalamin_im(100)),
            Settings(),
            ["consider switching to hydroxocobalamin (fewer injections)"],
            ["Resume maintenance"],
            id="uk-cyanocobalamin-request",
        ),
    ],
)
def test_maintenance_overdue_never_switches_the_product(resources, settings, said, unsaid):
    """No template for the current product in the profile: no create, give the next dose; uk
    cyanocobalamin IM: consider hydroxocobalamin, in words only (§11.8)."""
    card = _card(_cards(resources, settings=settings), "maintenance-overdue")

    assert not _creates_medication_request(card)
    for phrase in said:
        assert phrase in card.detail
    for phrase in unsaid:
        assert phrase not in card.detail


@pytest.mark.parametrize(
    ("code", "resources", "settings"),
    [
        pytest.param("317106", _pa(_hydroxocobalamin(150)), Settings(), id="uk-hydroxocobalamin"),
        pytest.param("309594", _pa(_cyanocobalamin_im(50)), US, id="us-cyanocobalamin"),
        pytest.param("309593", _pa(LAPSED_ORAL), US, id="us-lapsed-oral-cyanocobalamin"),
    ],
)
def test_maintenance_overdue_offers_the_current_products_template(code, resources, settings):
    """The suggestion is the current product's own maintenance template (§11.8)."""
    card = _card(_cards(resources, settings=settings), "maintenance-overdue")

    assert {f"MedicationRequest {code}"} == _suggested(card)
    assert "Resume maintenance" in card.detail
    assert "give the next dose" not in card.detail


# --- treatment-response-review for an established course (§11.7) -----------------------------

# Pernicious anaemia recorded 400 days ago; one recorded dose 100 days ago (course restarted by
# the dose history), so the review would be due at 12 weeks unless the course is established.
ESTABLISHED = [
    row(set(), _pa(HYDROXO_3_MONTHLY, _hydroxocobalamin(100)), "request-authored-500-days-ago"),
    row(set(), _pa(_hydroxocobalamin(500), _hydroxocobalamin(100)), "first-dose-500-days-ago"),
    row(
        set(),
        _pa(
            med_statement(
                text="Hydroxocobalamin 1 mg injection",
                route=IM,
                start=ago(500),
                status="completed",
                end=ago(480),
            ),
            _hydroxocobalamin(100),
        ),
        "statement-started-500-days-ago",
    ),  # fmt: skip
    # A new course: the records start 100 days ago although the diagnosis is older.
    row(REVIEW, _pa(_im_request("317106", 3, authored=110), _hydroxocobalamin(100)), "new-course"),
    # A lifelong indication recorded only 200 days ago: not established, the review is due.
    row(
        REVIEW,
        [
            patient(80, "male"),
            condition(SNOMED, "84027009", "Pernicious anaemia", ago(200), id="pa-2"),
            HYDROXO_3_MONTHLY,
            _hydroxocobalamin(100),
        ],
        "indication-recorded-200-days-ago",
    ),
    # No lifelong indication (only an active request): not established.
    row(
        REVIEW,
        [patient(60), _b12(150, 110), HYDROXO_3_MONTHLY, _hydroxocobalamin(100)],
        "no-lifelong-indication",
    ),  # fmt: skip
    # Overdue with an active request: both rules fire, maintenance-overdue silences the review.
    row(
        OVERDUE,
        _pa(_im_request("317106", 3, authored=110), _hydroxocobalamin(107)),
        "overdue-silences-review",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("expected", "resources", "chart"), ESTABLISHED)
def test_treatment_response_review_established_course(expected, resources, chart):
    """Silent for an established lifelong course and when maintenance is overdue (§11.7)."""
    assert expected == _fired(_cards(resources, **chart))


def test_review_is_silenced_by_maintenance_overdue_not_by_itself():
    """The review rule alone would fire; the response keeps only maintenance-overdue (§11.7)."""
    chart = _pa(_im_request("317106", 3, authored=110), _hydroxocobalamin(107))
    alone = treatment_response_review.evaluate(facts(*chart))

    assert ["treatment-response-review"] == [c.rule_id for c in alone]
    assert ["maintenance-overdue"] == [c.rule_id for c in _cards(chart)]


@pytest.mark.parametrize(
    ("expected", "resources"),
    [
        pytest.param(ago(500), _pa(HYDROXO_3_MONTHLY, _hydroxocobalamin(100)), id="request"),
        pytest.param(ago(500), _pa(_hydroxocobalamin(500), _hydroxocobalamin(9)), id="dose"),
        pytest.param(
            date(2026, 1, 1),
            _pa(
                med_statement(
                    text="Hydroxocobalamin 1 mg injection", route=IM, start=date(2026, 1, 1)
                ),
                _hydroxocobalamin(9),
            ),
            id="statement",
        ),  # fmt: skip
        pytest.param(None, _pa(), id="no-b12-record"),
    ],
)
def test_course_start_is_the_earliest_record(expected, resources):
    """Course start: earliest of first dose, request authoredOn, statement start (§11.7)."""
    assert expected == facts(*resources).course_start


def test_example_33_replaces_deficiency_card():
    """A lapsed course replaces b12-deficiency-untreated; one owner of the regimen (example 33)."""
    cards = _cards(EXAMPLE_33)

    assert ["maintenance-overdue"] == [c.rule_id for c in cards]


def test_maintenance_date_from_prescription_is_said():
    """With only a prescription on record, the card says the date is a prescription date."""
    completed = med_request(
        rxnorm="317106", route=IM, dose=1, unit="mg", status="completed", authored=ago(150)
    )
    card = _card(_cards(_pa(completed)), "maintenance-overdue")

    assert "prescription date" in card.detail


# --- pregnancy-b12 (§7.18; example 22) ---------------------------------------------------------

PREGNANCY_WARNING = {("pregnancy-b12", "warning")}
PREGNANCY_INFO = {("pregnancy-b12", "info")}
PREGNANT_20W = condition(SNOMED, "77386006", "Pregnant", ago(140), id="preg-22")
EXAMPLE_22 = [patient(29), PREGNANT_20W, _b12(160, 7, id="b12-22")]
B12_TEST = service_request(B12, "lab-1")
SELECT_B12_TEST = _select(B12_TEST)

PREGNANCY_B12 = [
    row(PREGNANCY_WARNING | UNTREATED, EXAMPLE_22, "example-22"),
    row(
        PREGNANCY_INFO | {("b12-indeterminate-functional-tests", "info")},
        [patient(29), PREGNANT_20W, _b12(250, 7)],
        "indeterminate-b12",
    ),
    row(
        PREGNANCY_INFO,
        [*EXAMPLE_22, med_statement(text="Cyanocobalamin 1000 mcg tablet", start=ago(5))],
        "low-b12-on-treatment",
    ),
    row(
        PREGNANCY_WARNING | UNTREATED,
        [patient(29), PREGNANT_20W, observation(HOLOTC, 19, "pmol/L", ago(7))],
        "holotc-low",
    ),
    row(PREGNANCY_INFO, [patient(29), PREGNANT_20W], "b12-test-drafted", **SELECT_B12_TEST),
    row(
        PREGNANCY_INFO,
        [patient(29), PREGNANT_20W],
        "b12-test-drafted-order-sign",
        **_select(B12_TEST, hook=OSIGN),
    ),
    row(PREGNANCY_WARNING, EXAMPLE_22, "deficient-with-test-drafted", **SELECT_B12_TEST),
    row(set(), EXAMPLE_22, "order-hook-without-test-draft", **_select(METFORMIN_DRAFT)),
    row(set(), [patient(29), PREGNANT_20W, _b12(500, 7)], "b12-normal"),
    row(set(), [patient(29), PREGNANT_20W], "no-b12-result"),
    row(
        UNTREATED,
        [patient(29), condition(SNOMED, "77386006", "Pregnant", ago(300)), _b12(160, 7)],
        "pregnancy-older-than-42-weeks",
    ),
    row(
        UNTREATED,
        [patient(29, "male"), PREGNANT_20W, _b12(160, 7)],
        "never-pregnant-when-male",
    ),
    row(
        PREGNANCY_INFO | {("vegan-diet-supplement", "info")},
        [patient(29), BREASTFEEDING, VEGAN],
        "breastfeeding-vegan",
    ),
    row(
        PREGNANCY_INFO | UNTREATED,
        [patient(29), BREASTFEEDING, _b12(160, 7)],
        "breastfeeding-deficient",
    ),
    row(set(), [patient(29), BREASTFEEDING, _b12(500, 7)], "breastfeeding-b12-normal"),
    row(
        PREGNANCY_WARNING | UNTREATED,
        [*EXAMPLE_22, BREASTFEEDING],
        "first-branch-only",
    ),
    row(
        set(),
        [patient(31), PREGNANT_20W, _hb(12.4, 5)],
        "example-23-prenatal-folic-acid",
        **_select(PRENATAL_DRAFT),
    ),
    row(
        PREGNANCY_INFO | {("b12-test-uninformative", "info")},
        [patient(29), PREGNANT_20W, _hydroxocobalamin(6)],
        "with-uninformative-test-card",
        **SELECT_B12_TEST,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), PREGNANCY_B12)
def test_pregnancy_b12(expected, resources, chart):
    """(a) pregnant, deficient, untreated: warning; (b) pregnant total B12: info; (c) (§7.18)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_22_suggestions():
    """MMA optional (not recommended) on pregnancy-b12; the regimen on the deficiency card."""
    cards = _cards(EXAMPLE_22)

    assert {"ServiceRequest 13964-2": None} == {
        k: v or None for k, v in _offers(_card(cards, "pregnancy-b12")).items()
    }
    assert "MedicationRequest 317106" in _suggested(_card(cards, "b12-deficiency-untreated"))
    assert ["b12-deficiency-untreated"] == [
        c.rule_id for c in cards if _creates_medication_request(c)
    ]


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param(
            [patient(29), PREGNANT_20W, observation(HOLOTC, 19, "pmol/L", ago(7))], id="holotc"
        ),
        pytest.param([*EXAMPLE_22, observation(MMA, 0.6, "umol/L", ago(6))], id="mma-exists"),
    ],
)
def test_pregnancy_no_mma_when_holotc_or_mma_exists(resources):
    """No MMA suggestion when an MMA or holoTC result exists (§7.18)."""
    assert set() == _suggested(_card(_cards(resources), "pregnancy-b12"))


ORAL_B12_5_DAYS = med_statement(text="Cyanocobalamin 1000 mcg tablet", start=ago(5), id="ms-p")


@pytest.mark.parametrize(
    ("offers", "resources", "chart"),
    [
        pytest.param(set(), [*EXAMPLE_22, ORAL_B12_5_DAYS], {}, id="low-b12-on-oral-b12"),
        pytest.param(
            set(), [patient(29), PREGNANT_20W, _b12(250, 7), ORAL_B12_5_DAYS], {}, id="grey-on-b12"
        ),
        pytest.param(
            set(),
            [patient(29), PREGNANT_20W, _b12(160, 20), _hydroxocobalamin(3)],
            {},
            id="low-b12-on-injections",
        ),
        pytest.param(
            set(),
            [patient(29), PREGNANT_20W, ORAL_B12_5_DAYS],
            SELECT_B12_TEST,
            id="test-drafted-on-b12",
        ),
        pytest.param({"ServiceRequest 13964-2"}, EXAMPLE_22, {}, id="untreated-offers-mma"),
        pytest.param(
            {"ServiceRequest 13964-2"},
            [patient(29), PREGNANT_20W],
            SELECT_B12_TEST,
            id="test-drafted-not-on-b12-offers-mma",
        ),
    ],
)
def test_pregnancy_no_mma_once_on_b12(offers, resources, chart):
    """§11.12: no MMA suggestion on pregnancy-b12 once the patient is on any B12."""
    card = _card(_cards(resources, **chart), "pregnancy-b12")

    assert offers == _suggested(card)
    if not offers:
        assert "MMA is suggested on the indeterminate-B12 card" not in card.detail


@pytest.mark.parametrize(
    ("summary", "phrases", "resources"),
    [
        pytest.param(
            "Pregnant with low B12 and no treatment: confirm if unclear, but do not delay "
            "treatment",
            ["Pregnant", "12 Jul 2026", "160 pg/mL", "22 Nov 2026", "4 weeks"],
            EXAMPLE_22,
            id="example-22",
        ),
        pytest.param(
            "Pregnancy lowers total B12: interpret with care; holoTC or MMA confirm better",
            ["250 pg/mL", "holoTC", "prenatal folic acid"],
            [patient(29), PREGNANT_20W, _b12(250, 7)],
            id="branch-b",
        ),
        pytest.param(
            "Breastfeeding with B12 deficiency or a vegan diet: the infant may be at risk",
            ["Mother currently breastfeeding", "Vegan diet", "infant"],
            [patient(29), BREASTFEEDING, VEGAN],
            id="branch-c",
        ),
    ],
)
def test_pregnancy_text(summary, phrases, resources):
    """One card, the first branch that holds, with its evidence (§7.18)."""
    card = _card(_cards(resources), "pregnancy-b12")

    assert summary == card.summary
    for phrase in phrases:
        assert phrase in card.detail


def test_pregnancy_one_card_first_branch():
    """Pregnant, deficient and breastfeeding: one pregnancy-b12 card, branch (a) (§7.18)."""
    card = _card(_cards([*EXAMPLE_22, BREASTFEEDING]), "pregnancy-b12")

    assert card.summary.startswith("Pregnant with low B12 and no treatment")


# --- paediatric-specialist (§7.19; examples 20, 21) --------------------------------------------

EXAMPLE_20 = [patient(9, "male"), _b12(120, 10, id="b12-20"), ATAXIA]
FA_CHILD = med_request(rxnorm="310410", status="draft", id="fa-9")

PAEDIATRIC_SPECIALIST = [
    row(PAEDIATRIC_CRITICAL, EXAMPLE_20, "example-20"),
    row(
        {("folate-before-b12", "critical")} | PAEDIATRIC_CRITICAL,
        EXAMPLE_20,
        "example-21",
        **_select(FA_CHILD),
    ),
    row(PAEDIATRIC_WARNING, [patient(9, "male"), _b12(120, 10)], "deficiency-no-neuro"),
    row(
        PAEDIATRIC_INFO | {("b12-indeterminate-functional-tests", "info")},
        [patient(9, "male"), _b12(250, 10)],
        "indeterminate",
    ),
    row(PAEDIATRIC_INFO, [patient(9), VEGAN], "vegan"),
    row(PAEDIATRIC_WARNING, [patient(15), SLEEVE], "bariatric"),
    row(PAEDIATRIC_INFO, [patient(9), _b12(500, 10)], "b12-product-drafted", **_select(ORAL_DRAFT)),
    row(
        PAEDIATRIC_WARNING,
        [patient(9, "male"), _b12(120, 10)],
        "order-hook-judged-as-at-chart-open",
        **_select(METFORMIN_DRAFT),
    ),
    row(set(), [patient(9), _b12(500, 10)], "child-b12-normal"),
    row(set(), [patient(9)], "child-nothing-recorded"),
    row(
        set(),
        [patient(0), condition(SNOMED, "169741004", "Breast fed", ago(30))],
        "infant-branch-off-by-default",
    ),
    row(UNTREATED, [patient(16, "male"), _b12(120, 10)], "sixteen-is-adult"),
    row({("b12-neuro-untreated", "critical")}, [patient(40), _b12(120, 10), ATAXIA], "adult"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), PAEDIATRIC_SPECIALIST)
def test_paediatric_specialist(expected, resources, chart):
    """Under 16 with a B12 finding: specialist advice in place of adult-dose cards (§7.19)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_20_card():
    """No suggestion by default; name the age and the findings of the replaced card (ex. 20)."""
    card = _card(_cards(EXAMPLE_20), "paediatric-specialist")

    assert () == card.suggestions
    for phrase in ("Age 9 years (under 16)", "120 pg/mL", "19 Nov 2026", "Ataxia", "neurology"):
        assert phrase in card.detail
    assert "1 mg" not in card.detail
    assert "1000" not in card.detail


def test_example_21_keeps_only_the_delete():
    """Folic acid card keeps its delete; no B12 MedicationRequest anywhere (example 21)."""
    cards = _cards(EXAMPLE_20, **_select(FA_CHILD))

    assert {"delete MedicationRequest/fa-9"} == _suggested(_card(cards, "folate-before-b12"))
    assert not any(_creates_medication_request(c) for c in cards)


@pytest.mark.parametrize(
    ("priority", "resources"),
    [
        pytest.param("urgent", EXAMPLE_20, id="critical-urgent"),
        pytest.param("routine", [patient(9, "male"), _b12(120, 10)], id="warning-routine"),
    ],
)
def test_paediatric_site_referral(priority, resources, monkeypatch):
    """A site's own paediatric_referral order code gives a referral, urgent when critical."""
    site = vs.Code(SNOMED, "1234567", "Referral to paediatrics", "U", "site")
    monkeypatch.setattr(
        vs, "ORDER_CODES", MappingProxyType({**vs.ORDER_CODES, "paediatric_referral": site})
    )
    card = _card(_cards(resources), "paediatric-specialist")

    assert {"ServiceRequest 1234567"} == _suggested(card)
    assert priority == _created(card, "ServiceRequest")["priority"]


@pytest.mark.parametrize(
    ("phrase", "birth_date"),
    [
        pytest.param("Age 7 months (under 16)", "2026-04-20", id="7-months"),
        pytest.param("Age 1 month (under 16)", "2026-10-15", id="1-month"),
        pytest.param("Age 0 months (under 16)", "2026-11-10", id="newborn"),
        pytest.param("Age 23 months (under 16)", "2024-12-20", id="23-months"),
        pytest.param("Age 2 years (under 16)", "2024-11-29", id="2-years-in-years"),
        pytest.param("Age 9 years (under 16)", "2017-10-01", id="9-years"),
    ],
)
def test_paediatric_age_under_2_in_months(phrase, birth_date):
    """§11.12: ages under 2 years are shown in months ("Age 7 months"), older ages in years."""
    resources = [patient(None, "male", birth_date=birth_date), _b12(120, 10)]
    card = _card(_cards(resources), "paediatric-specialist")

    assert phrase in card.detail
    assert ("month" in phrase) == ("years (under" not in card.detail)


CHILD_GREY_ATAXIA = [patient(9, "male"), _b12(250, 10), ATAXIA]


@pytest.mark.parametrize(
    ("priority", "resources"),
    [
        pytest.param("urgent", CHILD_GREY_ATAXIA, id="neuro-findings-indeterminate-urgent"),
        pytest.param("urgent", [patient(9), VEGAN, ATAXIA], id="neuro-findings-vegan-urgent"),
        pytest.param("routine", [patient(9, "male"), _b12(250, 10)], id="indeterminate-routine"),
    ],
)
def test_paediatric_site_referral_urgent_with_neuro_findings(priority, resources, monkeypatch):
    """§11.12: with neuro_findings the site's paediatric referral is urgent, whatever the card."""
    site = vs.Code(SNOMED, "1234567", "Referral to paediatrics", "U", "site")
    monkeypatch.setattr(
        vs, "ORDER_CODES", MappingProxyType({**vs.ORDER_CODES, "paediatric_referral": site})
    )
    card = _card(_cards(resources), "paediatric-specialist")

    assert {"ServiceRequest 1234567"} == _suggested(card)
    assert priority == _created(card, "ServiceRequest")["priority"]


def test_paediatric_no_referral_without_a_site_code():
    """No paediatric_referral row (none is packaged): no referral, even with neuro findings."""
    assert "paediatric_referral" not in vs.ORDER_CODES
    assert () == _card(_cards(CHILD_GREY_ATAXIA), "paediatric-specialist").suggestions


# --- The under-16 guard across the three services (§7.0) ---------------------------------------


@pytest.mark.parametrize(
    ("resources", "chart"),
    [
        pytest.param(EXAMPLE_20, {}, id="pv-neuro"),
        pytest.param([patient(12), PERNICIOUS, _hydroxocobalamin(150)], {}, id="pv-overdue"),
        pytest.param([patient(12), PERNICIOUS, ORAL_1000], {}, id="pv-pa-oral"),
        pytest.param([patient(12), VEGAN, SLEEVE], {}, id="pv-vegan-bariatric"),
        pytest.param(
            [patient(12), ILEUM, _length(30)], {"settings": LENGTH}, id="pv-ileal-treatment"
        ),
        pytest.param([patient(14, "male"), N2O_USE, NUMBNESS], {}, id="pv-recreational-n2o"),
        pytest.param(EXAMPLE_20, _select(FA_CHILD), id="osel-folic-acid"),
        pytest.param([patient(12), PERNICIOUS], _select(ORAL_DRAFT), id="osel-oral-draft"),
        pytest.param(
            [patient(10), OPTIC],
            _select(med_request(rxnorm="309594", route=IV, status="draft", id="cn-c"), hook=OSIGN),
            id="osign-cyanocobalamin-iv-optic",
        ),
        pytest.param(EXAMPLE_20, _select(FA_CHILD, hook=OSIGN), id="osign-folic-acid"),
    ],
)
def test_no_b12_medication_request_for_a_child(resources, chart):
    """No card in any service suggests creating a MedicationRequest for a child (§7.0)."""
    cards = _cards(resources, **chart)

    assert cards
    assert not any(_creates_medication_request(c) for c in cards)


@pytest.mark.parametrize(
    ("rule_id", "resources", "settings"),
    [
        pytest.param("bariatric-prophylaxis", [patient(None), SLEEVE], Settings(), id="bariatric"),
        pytest.param("vegan-diet-supplement", [patient(None), VEGAN], Settings(), id="vegan"),
        pytest.param(
            "maintenance-overdue",
            [patient(None), PERNICIOUS, _hydroxocobalamin(150)],
            Settings(),
            id="maintenance",
        ),
        pytest.param(
            "pernicious-anaemia-oral", [patient(None), PERNICIOUS, ORAL_1000], Settings(), id="pa"
        ),
        pytest.param(
            "ileal-resection", [patient(None), ILEUM, _length(30)], LENGTH, id="ileal-treatment"
        ),
    ],
)
def test_unknown_age_no_dose(rule_id, resources, settings):
    """Adult cards fire for an unknown age, without a dose, saying so (§7.0)."""
    cards = _cards(resources, settings=settings)

    card = _card(cards, rule_id)
    assert not _creates_medication_request(card)
    assert "age unknown: confirm the patient is an adult" in card.detail.lower()


def test_one_owner_among_prophylaxis_cards():
    """ileal-resection > bariatric-prophylaxis > vegan-diet-supplement own the regimen (§7.0)."""
    cards = _cards([patient(50), ILEUM, _length(30), SLEEVE, VEGAN], settings=LENGTH)

    assert {
        ("ileal-resection", "warning"),
        ("bariatric-prophylaxis", "warning"),
        ("vegan-diet-supplement", "info"),
    } == _fired(cards)
    assert ["ileal-resection"] == [c.rule_id for c in cards if _creates_medication_request(c)]
    owner = _card(cards, "ileal-resection").summary
    assert owner in _card(cards, "bariatric-prophylaxis").detail
    assert owner in _card(cards, "vegan-diet-supplement").detail


def test_switched_to_oral_is_not_overdue_maintenance():
    """A PA patient switched to an active oral request gets the oral card, not 'overdue'."""
    oral = med_request(rxnorm="309593", route=ORAL, dose=1, unit="mg", authored=ago(100))
    cards = _cards(_pa(_hydroxocobalamin(150), oral))

    assert PA_ORAL | REVIEW == _fired(cards)


# --- b12-test-uninformative (§7.21; example 35) ------------------------------------------------

UNINFORMATIVE = {("b12-test-uninformative", "info")}
EXAMPLE_35 = [patient(60), _hydroxocobalamin(6)]
ESTABLISHED = med_statement(text="Cyanocobalamin 1000 mcg tablet", route=ORAL, start=ago(120))

B12_TEST_UNINFORMATIVE = [
    row(UNINFORMATIVE, EXAMPLE_35, "example-35", **SELECT_B12_TEST),
    row(UNINFORMATIVE, EXAMPLE_35, "order-sign", **_select(B12_TEST, hook=OSIGN)),
    row(UNINFORMATIVE, EXAMPLE_35, "holotc-test", **_select(service_request(HOLOTC, "lab-h"))),
    row(UNINFORMATIVE, EXAMPLE_35, "ifab-test", **_select(service_request(IFAB, "lab-if"))),
    row(
        UNINFORMATIVE, [patient(60), _hydroxocobalamin(14)], "injection-14-days", **SELECT_B12_TEST
    ),
    row(set(), [patient(60), _hydroxocobalamin(15)], "injection-15-days", **SELECT_B12_TEST),
    row(
        set(),
        [patient(60), _hydroxocobalamin(20)],
        "ifab-15-plus-days",
        **_select(service_request(IFAB, "lab-if")),
    ),
    row(UNINFORMATIVE, [patient(60), ESTABLISHED], "established-replacement", **SELECT_B12_TEST),
    row(
        set(),
        [patient(60), med_statement(text="Cyanocobalamin 1000 mcg tablet", start=ago(60))],
        "replacement-60-days",
        **SELECT_B12_TEST,
    ),
    row(
        set(),
        [patient(60), ESTABLISHED],
        "ifab-on-established-oral",
        **_select(service_request(IFAB, "lab-if")),
    ),
    row(set(), EXAMPLE_35, "mma-is-useful", **_select(service_request(MMA, "lab-m"))),
    row(set(), EXAMPLE_35, "not-selected", hook=OSEL, drafts=[B12_TEST], selections=[]),
    row(
        set(),
        [patient(60), med_admin(rxnorm="5514", route=IV, dose=5, unit="g", when=ago(3))],
        "cyanide-antidote",
        **SELECT_B12_TEST,
    ),
    row(set(), [patient(60)], "no-b12-treatment", **SELECT_B12_TEST),
    row(set(), EXAMPLE_35, "not-a-patient-view-rule"),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), B12_TEST_UNINFORMATIVE)
def test_b12_test_uninformative(expected, resources, chart):
    """B12/holoTC/IF-antibody test after an injection or on established therapy (§7.21)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_35_card():
    """Delete ServiceRequest/lab-1, not recommended; say when the injection was (example 35)."""
    card = _card(_cards(EXAMPLE_35, **SELECT_B12_TEST), "b12-test-uninformative")

    assert {"delete ServiceRequest/lab-1"} == _suggested(card)
    assert [False] == [s.isRecommended for s in card.suggestions]
    assert "This test will not be reliable: B12 injection given 6 days ago" == card.summary
    assert "23 Nov 2026" in card.detail


def test_established_replacement_card():
    """Say routine levels on established replacement are not informative (§7.21 (b))."""
    card = _card(_cards([patient(60), ESTABLISHED], **SELECT_B12_TEST), "b12-test-uninformative")

    assert "Routine B12 levels on established replacement are not informative" == card.summary
    assert "1 Aug 2026" in card.detail
    assert "MMA" in card.detail
    assert {"delete ServiceRequest/lab-1"} == _suggested(card)


def test_ifab_card_says_invalid():
    """Intrinsic factor antibody results are invalid within 2 weeks of an injection (§7.21 (c))."""
    cards = _cards(EXAMPLE_35, **_select(service_request(IFAB, "lab-if")))

    card = _card(cards, "b12-test-uninformative")
    assert "Intrinsic factor antibody results are invalid" in card.detail
    assert {"delete ServiceRequest/lab-if"} == _suggested(card)


# --- cyanocobalamin-safety (§7.22; example 36) -------------------------------------------------

CYANO_WARNING = {("cyanocobalamin-safety", "warning")}
CYANO_INFO = {("cyanocobalamin-safety", "info")}
CYANO_IV = med_request(rxnorm="309594", route=IV, dose=1000, unit="ug", status="draft", id="cn-iv")
CYANO_IM = med_request(rxnorm="309594", route=IM, dose=1000, unit="ug", status="draft", id="cn-im")
CYANO_ORAL = med_request(
    rxnorm="309593", route=ORAL, dose=1000, unit="ug", status="draft", id="cn-po"
)
EXAMPLE_36 = [patient(57, "male")]
LEBER = condition(
    SNOMED, None, "Leber hereditary optic neuropathy", ago(300), clinical="inactive", id="lhon-1"
)
EGFR_40 = observation(EGFR, 40, EGFR_UNIT, ago(30))


def _text_iv_draft() -> dict[str, Any]:
    """Return a text-only cyanocobalamin injection draft whose dosage text says IV."""
    draft = med_request(text="Cyanocobalamin 1000 mcg/mL injection", status="draft", id="cn-tx")
    draft["dosageInstruction"][0]["text"] = "1000 mcg IV once"
    return draft


CYANOCOBALAMIN_SAFETY = [
    row(CYANO_WARNING, EXAMPLE_36, "example-36-us", settings=US, **_select(CYANO_IV, hook=OSIGN)),
    row(CYANO_WARNING, EXAMPLE_36, "example-36-uk", **_select(CYANO_IV, hook=OSIGN)),
    row(CYANO_WARNING, EXAMPLE_36, "iv-by-text", **_select(_text_iv_draft())),
    row(
        set(),
        EXAMPLE_36,
        "hydroxocobalamin-iv",
        **_select(med_request(rxnorm="317106", route=IV, status="draft", id="oh-iv")),
    ),
    row(
        set(),
        EXAMPLE_36,
        "cyanide-antidote",
        **_select(
            med_request(rxnorm="5514", route=IV, dose=5, unit="g", status="draft", id="ck-1")
        ),
    ),
    row(set(), EXAMPLE_36, "cyanocobalamin-im", **_select(CYANO_IM)),
    row(CYANO_WARNING, [patient(57, "male"), OPTIC], "optic-atrophy", **_select(CYANO_IM)),
    row(CYANO_WARNING, [patient(57, "male"), LEBER], "leber-text-inactive", **_select(CYANO_IM)),
    row(
        CYANO_WARNING,
        [patient(57, "male"), OPTIC],
        "optic-atrophy-us",
        settings=US,
        **_select(CYANO_IM),
    ),
    row(CYANO_WARNING, [patient(57, "male"), OPTIC], "optic-oral", **_select(CYANO_ORAL)),
    row(CYANO_INFO | PAEDIATRIC_INFO, [patient(0)], "infant-injection", **_select(CYANO_IM)),
    row(CYANO_INFO, [patient(57, "male"), EGFR_40], "renal-injection", **_select(CYANO_IM)),
    row(set(), [patient(57, "male"), EGFR_40], "renal-oral", **_select(CYANO_ORAL)),
    row(PAEDIATRIC_INFO, [patient(1)], "one-year-old-is-not-an-infant", **_select(CYANO_IM)),
    row(set(), EXAMPLE_36, "not-selected", hook=OSEL, drafts=[CYANO_IV], selections=[]),
    pytest.param(
        CYANO_WARNING | PAEDIATRIC_INFO,
        [patient(10)],
        _select(CYANO_IV, hook=OSIGN),
        id="child-iv",
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), CYANOCOBALAMIN_SAFETY)
def test_cyanocobalamin_safety(expected, resources, chart):
    """IV route or optic atrophy: warning; infant or renal flag with injection: info (§7.22)."""
    assert expected == _fired(_cards(resources, **chart))


def test_example_36_suggestions():
    """Delete the IV draft and create the same order IM (example 36, us)."""
    cards = _cards(EXAMPLE_36, settings=US, **_select(CYANO_IV, hook=OSIGN))

    card = _card(cards, "cyanocobalamin-safety")
    assert {"delete MedicationRequest/cn-iv", "MedicationRequest 309594"} == _suggested(card)
    resource = _created(card)
    assert (1000, "ug", IM) == _dose(resource)
    assert ("draft", None) == (resource["status"], resource.get("id"))
    assert card.summary.startswith("Cyanocobalamin ordered IV")


def test_iv_by_text_create_is_im():
    """An IV order recognised from its text becomes IM in the created copy (§7.22 (a))."""
    card = _card(_cards(EXAMPLE_36, **_select(_text_iv_draft())), "cyanocobalamin-safety")

    dosage = _created(card)["dosageInstruction"][0]
    assert (IM, "1000 mcg intramuscularly once") == (
        dosage["route"]["coding"][0]["code"],
        dosage["text"],
    )


@pytest.mark.parametrize(
    ("suggested", "repeat", "resources", "settings"),
    [
        pytest.param(
            {"delete MedicationRequest/cn-im", "MedicationRequest 317106"},
            {"frequency": 3, "period": 1, "periodUnit": "wk", "boundsDuration": {}},
            [patient(57, "male"), OPTIC],
            Settings(),
            id="uk-standard",
        ),
        pytest.param(
            {"delete MedicationRequest/cn-im", "MedicationRequest 317106"},
            {"frequency": 1, "period": 2, "periodUnit": "d"},
            [patient(57, "male"), OPTIC, PARAESTHESIA, _b12(500, 10)],
            Settings(),
            id="uk-neuro",
        ),
        pytest.param(
            {"delete MedicationRequest/cn-im"},
            None,
            [patient(57, "male"), OPTIC],
            US,
            id="us-no-create",
        ),
        pytest.param(
            {"delete MedicationRequest/cn-im"},
            None,
            [patient(10, "male"), OPTIC],
            Settings(),
            id="child-no-create",
        ),
    ],
)
def test_optic_atrophy_suggestions(suggested, repeat, resources, settings):
    """Leber's branch: uk creates hydroxocobalamin, us and children only delete (§7.22 (b))."""
    cards = _cards(resources, settings=settings, **_select(CYANO_IM))

    card = _card(cards, "cyanocobalamin-safety")
    assert suggested == _suggested(card)
    if repeat is not None:
        first = _repeats(_created(card))[0]
        assert {k: first[k] for k in ("frequency", "period", "periodUnit")} == {
            k: repeat[k] for k in ("frequency", "period", "periodUnit")
        }


def test_optic_atrophy_us_names_label_regimen():
    """In us the detail names the US hydroxocobalamin label regimen (§7.22 (b))."""
    cards = _cards([patient(57, "male"), OPTIC], settings=US, **_select(CYANO_IM))

    detail = _card(cards, "cyanocobalamin-safety").detail
    assert "30 micrograms daily for 5-10 days" in detail
    assert "Optic atrophy" in detail


def test_child_iv_delete_only():
    """For a child the IV card keeps its delete and drops the IM copy (§7.22)."""
    cards = _cards([patient(10)], **_select(CYANO_IV, hook=OSIGN))

    assert {"delete MedicationRequest/cn-iv"} == _suggested(_card(cards, "cyanocobalamin-safety"))


def test_one_card_per_draft_and_branch():
    """An IV draft with optic atrophy gives two cards (§7.22)."""
    found = facts(patient(57, "male"), OPTIC, hook=OSIGN, drafts=[CYANO_IV])
    cards = SERVICES["b12-order-sign"].evaluate(found)

    assert [
        "Cyanocobalamin ordered IV: most of an IV dose is lost in the urine; use IM or deep SC",
        "Cyanocobalamin with optic atrophy or Leber's disease on record: consider hydroxocobalamin",
    ] == sorted(c.summary for c in cards if c.rule_id == "cyanocobalamin-safety")


@pytest.mark.parametrize(
    ("phrases", "resources"),
    [
        pytest.param(["Age 0 years", "Benzyl alcohol", "gasping"], [patient(0)], id="infant"),
        pytest.param(["40 mL/min", "Aluminium"], [patient(57, "male"), EGFR_40], id="renal"),
    ],
)
def test_excipient_detail(phrases, resources):
    """Name the excipient caution and its evidence (§7.22 (c))."""
    detail = _card(_cards(resources, **_select(CYANO_IM)), "cyanocobalamin-safety").detail

    for phrase in phrases:
        assert phrase in detail


def test_one_owner_with_pernicious_anaemia_oral_and_optic_atrophy():
    """At most one card creates a B12 MedicationRequest in a response (§7.0)."""
    cards = _cards([patient(70), PERNICIOUS, OPTIC], **_select(CYANO_ORAL))

    assert {("pernicious-anaemia-oral", "warning")} | CYANO_WARNING == _fired(cards)


def test_one_owner_with_iv_draft_and_optic_atrophy():
    """The IV card and the optic-atrophy card do not both create a MedicationRequest (§7.0)."""
    cards = _cards([patient(57, "male"), OPTIC], **_select(CYANO_IV, hook=OSIGN))

    assert 2 == len([c for c in cards if c.rule_id == "cyanocobalamin-safety"])


# --- WHO ICD-10 read as ICD-10-CM in uk (§11.12, §2.1) ----------------------------------------

ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
WHO_D51_0 = condition(ICD10_WHO, "D51.0", "Pernicious anaemia (WHO ICD-10)", ago(30), id="who-1")
WHO_D51_9 = condition(
    ICD10_WHO, "D51.9", "B12 deficiency anaemia (WHO ICD-10)", ago(30), id="who-2"
)

WHO_ICD10 = [
    row(UNTREATED, [patient(60), WHO_D51_9], "uk-who-d51-9-deficiency"),
    row(UNTREATED, [patient(60), WHO_D51_0], "uk-who-d51-0-pernicious-anaemia"),
    row(set(), [patient(60), WHO_D51_9], "us-who-code-not-matched", settings=US),
    row(
        UNTREATED,
        [patient(60), WHO_D51_9],
        "us-site-turns-it-on",
        settings=Settings(profile=Profile.US, match_icd10_who=True),
    ),
    row(
        set(),
        [patient(60), WHO_D51_9],
        "uk-site-turns-it-off",
        settings=Settings(match_icd10_who=False),
    ),
    row(
        {("b12-deficiency-untreated", "warning")},
        [patient(60), condition(ICD10CM, "D51.9", "B12 deficiency anaemia", ago(30))],
        "us-icd-10-cm-still-matched",
        settings=US,
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), WHO_ICD10)
def test_who_icd10_matched_in_uk(expected, resources, chart):
    """§11.12: uk reads WHO ICD-10 codes as their ICD-10-CM equivalents by default; us does not."""
    assert expected == _fired(_cards(resources, **chart))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, True, id="uk-default-on"),
        pytest.param({"profile": "us"}, False, id="us-default-off"),
        pytest.param({"profile": "us", "match_icd10_who": "true"}, True, id="us-override"),
        pytest.param({"match_icd10_who": False}, False, id="uk-override"),
    ],
)
def test_match_icd10_who_default_follows_the_profile(overrides, expected):
    """§11.12: `match_icd10_who` defaults to on in uk and off in us; a site's value wins."""
    assert expected is Settings.from_mapping(overrides).match_icd10_who
