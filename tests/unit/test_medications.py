"""What a medication contains, by code, ingredient or text (clinical-rules §2.5, §2.7)."""

from __future__ import annotations

from typing import Any

import pytest

from cards.medications import B12Product
from cards.medications import Medication
from cards.medications import Recognised
from cards.medications import Route
from cards.medications import describe
from cards.resources import parse
from cards.settings import Settings
from tests.unit.fhir import IM
from tests.unit.fhir import IV
from tests.unit.fhir import RXNORM
from tests.unit.fhir import facts
from tests.unit.fhir import med_request
from tests.unit.fhir import medication
from tests.unit.fhir import patient


MULTIVITAMIN = medication(
    "mv-1", [("4511", "folic acid"), ("11248", "vitamin B12")], text="Multivitamin"
)
FOLIC_ACID_MEDICATION = medication("fa-med", [("4511", "folic acid")])


def _coded(rxnorm: str, display: str, **order: Any) -> dict[str, Any]:
    """Return a MedicationRequest coded in RxNorm with a display (which may mislead)."""
    resource = med_request(**order)
    resource["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": rxnorm, "display": display}]
    }
    return resource


def _describe(
    order: dict[str, Any],
    bundle: tuple[dict[str, Any], ...] = (),
    settings: Settings | None = None,
) -> Medication:
    """Return what the order's medication contains, with Medications of the bundle resolvable."""
    resolvable = {f"Medication/{m['id']}": parse(m) for m in bundle}
    return describe(parse(order), resolvable, settings or Settings())


def _with_strength(mg: float, unit: str = "mg") -> dict[str, Any]:
    """Return a contained hydroxocobalamin Medication with one ingredient of that strength."""
    found = medication("hx", [("5514", "hydroxocobalamin")])
    found["ingredient"][0]["strength"] = {
        "numerator": {
            "value": mg,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        "denominator": {"value": 1, "unit": "vial"},
    }
    return found


FOLIC_ACID = [
    pytest.param(Recognised.CODE, med_request(rxnorm="310410"), (), Settings(), id="coded-310410"),
    pytest.param(
        Recognised.INGREDIENT,
        med_request(contained_medication=FOLIC_ACID_MEDICATION),
        (),
        Settings(),
        id="contained-ingredient-4511",
    ),
    pytest.param(
        Recognised.INGREDIENT,
        med_request(reference="Medication/fa-med"),
        (FOLIC_ACID_MEDICATION,),
        Settings(),
        id="bundle-medication-reference",
    ),
    pytest.param(
        Recognised.INGREDIENT,
        med_request(reference="https://fhir.example.org/r4/Medication/fa-med"),
        (FOLIC_ACID_MEDICATION,),
        Settings(),
        id="bundle-medication-absolute-reference",
    ),
    pytest.param(
        Recognised.TEXT, med_request(text="Folic Acid 5mg tablets"), (), Settings(), id="text-only"
    ),
    pytest.param(
        Recognised.TEXT, med_request(text="Prenatal vitamins"), (), Settings(), id="prenatal-text"
    ),
    pytest.param(
        None,
        med_request(text="Prenatal vitamins"),
        (),
        Settings(assume_folic_acid_in_prenatal_text=False),
        id="prenatal-text-setting-off",
    ),
    pytest.param(None, med_request(text="Multivitamin"), (), Settings(), id="multivitamin-text"),
    pytest.param(
        Recognised.TEXT,
        med_request(text="Multivitamin"),
        (),
        Settings(assume_folic_acid_in_multivitamin_text=True),
        id="multivitamin-text-setting-on",
    ),
    pytest.param(None, med_request(rxnorm="6313"), (), Settings(), id="calcium-folinate-6313"),
    pytest.param(
        Recognised.CODE,
        med_request(rxnorm="6313"),
        (),
        Settings(treat_folinic_as_folate=True),
        id="calcium-folinate-setting-on",
    ),
    pytest.param(
        None, med_request(text="Calcium folinate 15 mg"), (), Settings(), id="folinate-text"
    ),
    pytest.param(
        Recognised.COMBINATION,
        med_request(rxnorm="309596"),
        (),
        Settings(),
        id="combination-309596",
    ),
    pytest.param(
        Recognised.COMBINATION,
        med_request(contained_medication=MULTIVITAMIN),
        (),
        Settings(),
        id="multivitamin-4511-11248",
    ),
    pytest.param(
        None,
        _coded("6809", "folic acid"),
        (),
        Settings(),
        id="metformin-code-misleading-display",
    ),
    pytest.param(
        Recognised.TEXT,
        med_request(reference={"display": "FOLIC ACID 1 MG PO TABS"}),
        (),
        Settings(),
        id="epic-reference-display-only",
    ),
    pytest.param(
        Recognised.TEXT,
        med_request(
            reference={"reference": "Medication/elsewhere", "display": "FOLIC ACID 1 MG PO TABS"}
        ),
        (),
        Settings(),
        id="unresolved-reference-display",
    ),
]


@pytest.mark.parametrize(("recognised", "order", "bundle", "settings"), FOLIC_ACID)
def test_folic_acid(recognised, order, bundle, settings):
    """Find folic acid by code, ingredient, combination or text, and not in reduced folates."""
    assert recognised == _describe(order, bundle, settings).folic_acid


@pytest.mark.parametrize(
    ("text_only", "order"),
    [
        pytest.param(False, med_request(rxnorm="310410"), id="coded"),
        pytest.param(True, med_request(text="Folic Acid 5mg tablets"), id="text"),
        pytest.param(
            True, med_request(reference={"display": "FOLIC ACID 1 MG PO TABS"}), id="epic"
        ),
    ],
)
def test_text_only_flag(text_only, order):
    """Mark a medication found only by its text as lower-confidence evidence."""
    assert text_only == _describe(order).text_only


def test_calcium_folinate_is_a_reduced_folate():
    """Record calcium folinate as a reduced folate, not folic acid."""
    found = _describe(med_request(rxnorm="6313"))

    assert (True, None) == (found.reduced_folate, found.folic_acid)


@pytest.mark.parametrize(
    ("b12", "in_combination", "order"),
    [
        pytest.param(None, True, med_request(rxnorm="309596"), id="combination-309596"),
        pytest.param(None, True, med_request(contained_medication=MULTIVITAMIN), id="multivitamin"),
        pytest.param(
            None, True, med_request(text="Multivitamin with vitamin B12"), id="multivitamin-text"
        ),
        pytest.param(B12Product.HYDROXOCOBALAMIN, False, med_request(rxnorm="317106"), id="317106"),
        pytest.param(B12Product.CYANOCOBALAMIN, False, med_request(rxnorm="309594"), id="309594"),
        pytest.param(
            B12Product.CYANOCOBALAMIN,
            False,
            med_request(text="Cyanocobalamin 1000 mcg tablet"),
            id="cyanocobalamin-text",
        ),
    ],
)
def test_b12_treatment(b12, in_combination, order):
    """Count single B12 products as treatment and B12 inside combinations as not (§2.7)."""
    found = _describe(order)

    assert (b12, in_combination) == (found.b12, found.b12_in_combination)


def test_combination_b12_setting():
    """Count combination B12 as treatment only with combination_b12_counts_as_treatment."""
    found = _describe(
        med_request(rxnorm="309596"), settings=Settings(combination_b12_counts_as_treatment=True)
    )

    assert found.b12 is not None


@pytest.mark.parametrize(
    ("route", "order"),
    [
        pytest.param(Route.PARENTERAL, med_request(rxnorm="317106"), id="hydroxocobalamin-317106"),
        pytest.param(Route.PARENTERAL, med_request(rxnorm="309594"), id="cyanocobalamin-309594"),
        pytest.param(Route.ORAL, med_request(rxnorm="309593"), id="oral-309593"),
        pytest.param(Route.UNKNOWN, med_request(rxnorm="11248"), id="ingredient-only"),
    ],
)
def test_product_route(route, order):
    """Take the product route from the parenteral and oral product sets (§2.7)."""
    assert route == _describe(order).product_route


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(med_request(text="Cyanokit 5 g"), id="cyanokit-text"),
        pytest.param(
            med_request(text="Hydroxocobalamin 5 g for cyanide poisoning"), id="cyanide-text"
        ),
        pytest.param(med_request(contained_medication=_with_strength(5, "g")), id="strength-5-g"),
        pytest.param(med_request(contained_medication=_with_strength(1000)), id="strength-1000-mg"),
    ],
)
def test_cyanide_antidote(order):
    """Recognise hydroxocobalamin 5 g (Cyanokit) as a cyanide antidote, not B12 treatment."""
    found = _describe(order)

    assert (True, None) == (found.cyanide_antidote, found.b12)


def test_hydroxocobalamin_1_mg_is_not_an_antidote():
    """Keep hydroxocobalamin 1 mg as B12 treatment."""
    found = _describe(med_request(contained_medication=_with_strength(1)))

    assert (False, B12Product.HYDROXOCOBALAMIN) == (found.cyanide_antidote, found.b12)


def test_hydroxocobalamin_5_g_dose_is_not_b12_treatment():
    """Leave a hydroxocobalamin order with a 5 g single dose out of the B12 facts (§2.5 b)."""
    found = facts(
        patient(50),
        med_request(rxnorm="5514", route=IV, dose=5, unit="g", frequency=None),
    )

    assert (False, False, ()) == (found.on_any_b12, found.on_parenteral_b12, found.b12_doses)


@pytest.mark.parametrize(
    ("nitrous", "order"),
    [
        pytest.param(True, med_request(rxnorm="1159834"), id="1159834"),
        pytest.param(True, med_request(rxnorm="7486"), id="ingredient-7486"),
        pytest.param(True, med_request(text="Entonox"), id="entonox-text"),
        pytest.param(True, med_request(text="Nitrous oxide 50% / oxygen 50%"), id="nitrous-text"),
        pytest.param(False, _coded("7442", "nitric oxide"), id="7442-nitric-oxide"),
        pytest.param(False, _coded("7442", "Nitrous oxide"), id="7442-mislabelled-nitrous"),
        pytest.param(False, med_request(text="nitric oxide 20 ppm"), id="nitric-oxide-text"),
    ],
)
def test_nitrous_oxide(nitrous, order):
    """Recognise nitrous oxide by code or text, and never nitric oxide (§2.3, §2.7)."""
    assert nitrous == _describe(order).nitrous_oxide


def test_known_code_settles_by_code():
    """Settle a known code by its value sets, never by a misleading display (§2.7 step 4)."""
    found = _describe(_coded("6809", "folic acid"))

    assert (True, None, False) == (found.metformin, found.folic_acid, found.text_only)


def test_inactive_ingredient_ignored():
    """Ignore an ingredient marked isActive false (§2.7 step 2)."""
    inert = medication("m", [("11248", "vitamin B12"), ("4511", "folic acid")])
    inert["ingredient"][1]["isActive"] = False

    found = _describe(med_request(contained_medication=inert))

    assert (None, B12Product.CYANOCOBALAMIN) == (found.folic_acid, found.b12)


def test_parenteral_b12_route_from_order():
    """Read an intramuscular route on a text-only cyanocobalamin order as parenteral."""
    found = facts(patient(50), med_request(text="Cyanocobalamin 1000 mcg", route=IM))

    assert (True, True) == (found.on_parenteral_b12, found.on_any_b12)


def test_cyanocobalamin_without_route_is_not_parenteral():
    """Count cyanocobalamin with no route or form as any B12 but not parenteral (§2.7)."""
    found = facts(patient(50), med_request(text="Cyanocobalamin 1000 mcg"))

    assert (False, True) == (found.on_parenteral_b12, found.on_any_b12)
