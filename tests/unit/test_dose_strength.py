"""Dose arithmetic with coded products: a unit dose times the product's strength (§11.1).

clinical-rules §11.1 (second edition, wins over §2.7 "Daily dose"): "1 tablet", "2 tablets", a
doseQuantity in {tbl}, {pill} (sent by the CDS Hooks Sandbox), TAB, "tablet" or "capsule" is
multiplied by the strength from the first of (a) a contained or bundled Medication's
ingredient.strength, (b) the `strength` column of the product value-set row, (c) a mass written next
to the ingredient of a single-ingredient product. Else the dose stays unknown.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cards.errors import ValueSetError
from cards.facts import Hook
from cards.strength import Strength
from cards.strength import parse_strength
from cards.terminology import FOLATE_PRODUCTS
from cards.terminology import RXNORM
from cards.terminology import SNOMED
from cards.terminology import load
from tests.unit.fhir import ORAL
from tests.unit.fhir import UCUM
from tests.unit.fhir import ago
from tests.unit.fhir import facts
from tests.unit.fhir import med_request
from tests.unit.fhir import med_statement
from tests.unit.fhir import medication
from tests.unit.fhir import patient


def _dosed(order: dict[str, Any], quantity: dict[str, Any]) -> dict[str, Any]:
    """Return the order with its first dosage's doseQuantity replaced by `quantity`."""
    order["dosageInstruction" if "dosageInstruction" in order else "dosage"][0]["doseAndRate"] = [
        {"doseQuantity": quantity}
    ]
    return order


def _coded(system: str, code: str, display: str | None = None, **order: Any) -> dict[str, Any]:
    """Return a MedicationRequest with one coding (of any system) and its display."""
    resource = med_request(**order)
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    resource["medicationCodeableConcept"] = {"coding": [coding]}
    return resource


def _contained_strength(mg: float) -> dict[str, Any]:
    """Return a contained folic acid Medication whose ingredient states `mg` per tablet."""
    found = medication("fa-c", [("4511", "folic acid")])
    found["ingredient"][0]["strength"] = {
        "numerator": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"},
        "denominator": {"value": 1, "unit": "tablet"},
    }
    return found


PILL = {"value": 1, "system": UCUM, "code": "{pill}"}  # as the CDS Hooks Sandbox sends it
TBL = {"value": 1, "system": UCUM, "code": "{tbl}", "unit": "tablet"}
TWO_TABLETS = {"value": 2, "unit": "tablets"}
TAB = {
    "value": 1,
    "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
    "code": "TAB",
}
CAPSULE = {"value": 1, "unit": "capsule"}
ML = {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"}
UNITY_TABLET = {"value": 1, "system": UCUM, "code": "1", "unit": "tablet"}


DAILY_MG = [
    # (b) the strength column of the product value set.
    pytest.param(0.4, _dosed(med_request(rxnorm="198640"), TBL), id="b-198640-tbl"),
    pytest.param(1.0, _dosed(med_request(rxnorm="310410"), PILL), id="b-310410-sandbox-pill"),
    pytest.param(2.0, _dosed(med_request(rxnorm="310410"), TWO_TABLETS), id="b-310410-2-tablets"),
    pytest.param(5.0, _dosed(med_request(rxnorm="199318"), TAB), id="b-199318-TAB"),
    pytest.param(1.0, _dosed(med_request(rxnorm="309593"), CAPSULE), id="b-309593-capsule"),
    pytest.param(0.4, _dosed(_coded(SNOMED, "327552003"), TBL), id="b-dmd-327552003"),
    pytest.param(
        1 / 7,
        _dosed(med_request(rxnorm="309593", period=1, period_unit="wk"), TBL),
        id="b-309593-weekly",
    ),
    pytest.param(0.4, _dosed(med_request(rxnorm="198640"), UNITY_TABLET), id="b-unity-tablet"),
    pytest.param(1.0, _dosed(med_request(rxnorm="317106"), ML), id="b-per-ml-times-ml"),
    pytest.param(None, _dosed(med_request(rxnorm="317106"), TBL), id="b-per-ml-not-a-unit"),
    pytest.param(None, _dosed(med_request(rxnorm="198640"), ML), id="b-tablet-not-in-ml"),
    # (a) the contained Medication's ingredient.strength comes first.
    pytest.param(
        5.0,
        _dosed(med_request(contained_medication=_contained_strength(5)), TBL),
        id="a-ingredient-strength",
    ),
    # (c) a mass written next to the ingredient of a single-ingredient product.
    pytest.param(
        0.4, _dosed(med_request(text="Folic acid 400 microgram tablets"), TBL), id="c-text-400-ug"
    ),
    pytest.param(
        1.0, _dosed(med_request(text="1000 mcg cyanocobalamin tablets"), PILL), id="c-mass-before"
    ),
    pytest.param(
        0.4,
        _dosed(_coded(RXNORM, "4511", "Folic acid 0.4 MG oral tablet"), TBL),
        id="c-ingredient-code-with-display",
    ),
    pytest.param(
        1.0,
        _dosed(med_request(text="Vitamin B12 (cyanocobalamin) 1000 mcg tablet"), TBL),
        id="c-parenthesis",
    ),
    pytest.param(
        None,
        _dosed(med_request(text="Folic acid 400 mcg and vitamin B12 1 mg tablet"), TBL),
        id="c-two-ingredients-unknown",
    ),
    pytest.param(
        None,
        _dosed(med_request(text="Prenatal multivitamin with folic acid 0.8 mg"), TBL),
        id="c-multivitamin-unknown",
    ),
    pytest.param(None, _dosed(med_request(text="Folic acid tablets"), TBL), id="c-no-mass-unknown"),
    pytest.param(
        None,
        _dosed(med_request(text="Folic acid tablets, take with 250 mg of water"), TBL),
        id="c-mass-not-next-to-ingredient",
    ),
    pytest.param(
        5.0,
        _dosed(med_request(text="Folic acid 5mg/5ml oral solution"), {"value": 5, "unit": "mL"}),
        id="c-per-5-ml-times-5-ml",
    ),
    pytest.param(
        None,
        _dosed(med_request(text="Folic acid 5mg/5ml oral solution"), TBL),
        id="c-per-ml-not-a-unit",
    ),
    # Else unknown, as before.
    pytest.param(None, _dosed(med_request(rxnorm="4511"), TBL), id="ingredient-code-unknown"),
    pytest.param(None, _dosed(med_request(rxnorm="309596"), TBL), id="combination-unknown"),
    pytest.param(0.4, med_request(rxnorm="198640", dose=0.4, unit="mg"), id="mass-dose-as-sent"),
    pytest.param(None, med_request(rxnorm="198640", dose=1, unit="puff"), id="other-unit-unknown"),
]


@pytest.mark.parametrize(("daily_mg", "order"), DAILY_MG)
def test_unit_dose_times_strength(daily_mg, order):
    """Multiply a unit dose by the product's strength when it is known, else leave it unknown."""
    found = facts(patient(40), order).orders[0].daily_mg

    assert daily_mg == (None if found is None else pytest.approx(found))


def test_ingredient_strength_wins_over_text():
    """(a) comes before (c): the Medication's ingredient.strength, not a mass in its text."""
    contained = _contained_strength(5)
    contained["code"] = {"text": "Folic acid 400 microgram tablets"}
    order = _dosed(med_request(contained_medication=contained), TBL)

    assert 5.0 == facts(patient(40), order).orders[0].daily_mg


def test_coded_strength_wins_over_a_misleading_display():
    """(b) comes before (c): the value-set strength of 198640, not a display saying 5 mg."""
    order = _dosed(_coded(RXNORM, "198640", "Folic acid 5 mg tablet"), TBL)

    assert 0.4 == facts(patient(40), order).orders[0].daily_mg


def test_weekly_cyanocobalamin_1_mg_is_143_micrograms_a_day():
    """§11.1: cyanocobalamin 1 mg, 1 tablet once a week, is about 143 micrograms a day."""
    order = med_statement(rxnorm="309593", route=ORAL, period=1, period_unit="wk", start=ago(90))
    found = facts(patient(47), _dosed(order, TBL)).orders[0].daily_mg

    assert 143 == round((found or 0) * 1000)


def test_text_strength_of_1_g_hydroxocobalamin_is_the_cyanide_antidote():
    """A strength of at least 1 g read from the text excludes hydroxocobalamin (§2.5 (b))."""
    order = _dosed(med_request(text="Hydroxocobalamin 5000 mg vial", route=None), PILL)
    found = facts(patient(40), order, hook=Hook.PATIENT_VIEW)

    assert (False, ()) == (found.on_any_b12, found.b12_doses)


# --- the strength column (valueset_loader, §11.1 (b)) ---------------------------------------

HEADER = "# a test file\nsystem,code,display,status,source,strength\n"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("0.4 mg", Strength(Decimal("0.4")), id="mg"),
        pytest.param("1000 ug", Strength(Decimal("1")), id="ug"),
        pytest.param("1 mg/mL", Strength(Decimal("1"), per_ml=True), id="per-ml"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_strength(cell, expected):
    """Read a strength cell as mg per unit or per mL."""
    assert expected == parse_strength(cell)


@pytest.mark.parametrize("cell", ["0.4mg", "400 mcg", "0 mg", "1 MG", "one mg", "5 mg/5 mL"])
def test_parse_strength_refuses_what_is_not_ucum(cell):
    """Refuse a strength that is not a positive number, a space and mg, ug or g (per mL)."""
    with pytest.raises(ValueError, match="strength"):
        parse_strength(cell)


def test_packaged_codes_carry_their_display_strength():
    """The product rows named by §11.1 carry the strength their display states."""
    rows = {row.code: row.strength for row in FOLATE_PRODUCTS.codes}

    assert (Strength(Decimal("0.4")), Strength(Decimal("1")), Strength(Decimal("0.4"))) == (
        rows["198640"],
        rows["310410"],
        rows["327552003"],
    )
    assert (None, None) == (rows["4511"], rows["309596"])  # ingredient, combination


def test_strength_must_be_one_the_display_states(tmp_path: Path):
    """A strength is copied from the code's own display: one the display lacks is refused."""
    (tmp_path / "folate-products.csv").write_text(
        HEADER + f"{RXNORM},198640,Folic Acid 0.4 MG Oral Tablet,V2,CDSH,4 mg\n", "utf-8"
    )
    with pytest.raises(ValueSetError, match=r"line 3: strength '4 mg' of code 198640"):
        load("folate-products", directory=tmp_path)


def test_bad_strength_cell_names_the_line(tmp_path: Path):
    """A malformed strength stops the load with the file and line."""
    (tmp_path / "folate-products.csv").write_text(
        HEADER + f"{RXNORM},198640,Folic Acid 0.4 MG Oral Tablet,V2,CDSH,0.4 milligram\n", "utf-8"
    )
    with pytest.raises(ValueSetError, match=r"folate-products.csv line 3: strength"):
        load("folate-products", directory=tmp_path)


def test_packaged_product_file_needs_the_strength_column(tmp_path: Path):
    """A product set's packaged file without the strength column is refused."""
    (tmp_path / "folate-products.csv").write_text(
        f"system,code,display,status,source\n{RXNORM},198640,Folic acid,V2,CDSH\n", "utf-8"
    )
    with pytest.raises(ValueSetError, match=r"line 1: header"):
        load("folate-products", directory=tmp_path)


def test_other_sets_refuse_the_strength_column(tmp_path: Path):
    """Only the product sets have a strength column."""
    (tmp_path / "metformin.csv").write_text(HEADER + f"{RXNORM},6809,metformin,V,PGKB,\n", "utf-8")
    with pytest.raises(ValueSetError, match=r"line 2: header"):
        load("metformin", directory=tmp_path)


@pytest.mark.parametrize(
    "site_text",
    [
        pytest.param(
            "system,code,display,status,source\n" + f"{SNOMED},1,Folic 5mg,V2,site\n", id="5"
        ),
        pytest.param(HEADER + f"{SNOMED},1,Folic acid 5mg tablets,V2,site,5 mg\n", id="6"),
    ],
)
def test_site_file_may_add_product_rows_with_or_without_strength(tmp_path: Path, site_text):
    """A site's own product file extends the packaged set with five or six columns."""
    (tmp_path / "folate-products.csv").write_text(site_text, "utf-8")
    found = load("folate-products", site=tmp_path)

    assert found.contains(SNOMED, "1") and found.contains(RXNORM, "198640")
