"""What a medication order contains, by code, by ingredient, or by text (clinical-rules §2.7).

A medication is the order's `medicationCodeableConcept` or the Medication its `medicationReference`
names (contained `#id`, or present in the same bundle). An ingredient class is found by (1) a
product or ingredient coding, (2) a Medication ingredient coding (inactive ingredients ignored), or
(4) the text fallback, which runs only when no coding of the medication is known to any value set:
a known code that lacks the class settles "no". (Step 3, the RxNav expansion cache, is not built.)

The strength of one unit of a product (clinical-rules §11.1, second edition, which wins over §2.7's
"tablet x known product strength") is the first known of: (a) a contained or bundled Medication's
`ingredient.strength`; (b) the `strength` column of the product value-set row of a single-ingredient
product code (status and source as the row's); (c) for a single-ingredient product, a mass written
next to its ingredient in its text or a coding display ("Folic acid 400 microgram tablets").
Else it is unknown, and so is a dose given in tablets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from typing import Literal

from cards import terminology as vs
from cards import text
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import resource_id
from cards.resources import texts
from cards.settings import Settings
from cards.strength import Strength
from cards.strength import strengths_in_text
from cards.wording import render


class Route(StrEnum):
    """Route class of a B12 product (§2.7 "Route and form")."""

    PARENTERAL = "parenteral"  # IM or deep SC
    IV = "intravenous"  # counts as parenteral for the treatment facts
    ORAL = "oral"
    NASAL = "nasal"
    UNKNOWN = "unknown"

    @property
    def parenteral(self) -> bool:
        """Return whether this route counts as parenteral B12 treatment."""
        return self in (Route.PARENTERAL, Route.IV)


class B12Product(StrEnum):
    """Which cobalamin a product is."""

    HYDROXOCOBALAMIN = "hydroxocobalamin"
    CYANOCOBALAMIN = "cyanocobalamin"
    MECOBALAMIN = "mecobalamin"
    UNSPECIFIED = "cobalamin"


class Recognised(StrEnum):
    """How folic acid was recognised in an order (shown on the card)."""

    CODE = "product code"
    INGREDIENT = "ingredient code"
    COMBINATION = "combination product"
    TEXT = "order text"


# Every medication value set: a coding in any of them makes the medication "known" (§2.7 step 4).
_MEDICATION_SETS = (
    vs.B12_INGREDIENTS,
    vs.B12_PRODUCTS_PARENTERAL,
    vs.B12_PRODUCTS_ORAL_NASAL,
    vs.FOLATE_PRODUCTS,
    vs.FOLATE_EXEMPT_PRODUCTS,
    vs.NITROUS_OXIDE_PRODUCTS,
    vs.METFORMIN,
    vs.ACID_SUPPRESSANTS,
    vs.METHOTREXATE,
    vs.CYANIDE_ANTIDOTE_PRODUCTS,  # a site's own Cyanokit code (§2.5 (c))
    vs.EXCLUDED_CODES,  # a known wrong code (RxNorm 7442 nitric oxide) settles "no" by itself
)
_B12_SETS = (vs.B12_INGREDIENTS, vs.B12_PRODUCTS_PARENTERAL, vs.B12_PRODUCTS_ORAL_NASAL)
# The product sets whose rows carry a `strength` column (§11.1 (b); valueset_loader.STRENGTH_SETS).
_STRENGTH_SETS = (vs.FOLATE_PRODUCTS, vs.B12_PRODUCTS_ORAL_NASAL, vs.B12_PRODUCTS_PARENTERAL)
# RxNorm 309596: folic acid / liver extract / vitamin B12 injectable, a combination (§2.5).
_COMBINATION_CODES = frozenset({"309596"})
# Leucovorin (folinic acid) RxNorm 6313 [V] PGKB; the other reduced folates are methylfolates.
_FOLINIC_CODES = frozenset({"6313"})
_NITRIC_OXIDE_RXNORM = "7442"  # §2.3: nitric oxide, must never count as nitrous oxide [V] PGKB


StrengthBasis = Literal["ingredient", "unit", "mL"]


@dataclass(frozen=True, slots=True)
class Medication:
    """The ingredient classes of one medication, and how they were found."""

    name: str
    folic_acid: Recognised | None = None
    reduced_folate: bool = False
    b12: B12Product | None = None  # a B12 product that counts as treatment
    b12_in_combination: bool = False  # B12 inside a multivitamin or combination: not treatment
    cyanide_antidote: bool = False
    nitrous_oxide: bool = False
    metformin: bool = False
    acid_suppressant: bool = False
    methotrexate: bool = False
    pemetrexed: bool = False
    text_only: bool = False
    product_route: Route = Route.UNKNOWN  # route implied by the product code or form
    strength_mg: float | None = None  # strength of one unit (tablet, ampoule), or per mL, if known
    # Where the strength came from (§11.1): (a) "ingredient" (ingredient.strength's numerator, for
    # any unit dose or mL as before), (b)/(c) "unit" (one tablet, capsule, ampoule) or "mL" (a
    # concentration: only an mL dose is multiplied).
    strength_basis: StrengthBasis = "ingredient"


def _resolve(order: Any, bundle: Mapping[str, Any]) -> tuple[Any, Any, str]:
    """Return (code concept, Medication model or None, reference display) of an order."""
    concept = getattr(order, "medicationCodeableConcept", None)
    if concept is not None:
        return concept, None, ""
    reference = getattr(order, "medicationReference", None)
    if reference is None:
        return None, None, ""
    target = reference.reference or ""
    medication = None
    if target.startswith("#"):
        for contained in getattr(order, "contained", None) or ():
            if (
                contained.get_resource_type() == "Medication"
                and resource_id(contained) == target[1:]
            ):
                medication = contained
    elif target:
        medication = bundle.get("/".join(target.split("/_history")[0].split("/")[-2:]))
    if medication is not None:
        return getattr(medication, "code", None), medication, reference.display or ""
    return None, None, reference.display or ""


def _in_any(sets: tuple[vs.ValueSet, ...], pairs: list[tuple[str, str]]) -> bool:
    return any(s.contains(system, code) for s in sets for system, code in pairs)


def _pairs(concept: Any) -> list[tuple[str, str]]:
    return [(system, code) for system, code, _ in codings(concept)]


_MG_PER_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "microgram": 0.001}


def dose_unit(quantity: Any) -> str:
    """Return a quantity's unit (UCUM code, else text) lower-cased, with µ/μ spelled u."""
    return (
        (quantity.code or quantity.unit or "").strip().lower().replace("µ", "u").replace("μ", "u")
    )


def quantity_mg(quantity: Any) -> float | None:
    """Return a quantity in mg when its unit is a mass unit, else None."""
    if quantity is None or quantity.value is None:
        return None
    factor = _MG_PER_UNIT.get(dose_unit(quantity))
    return float(Decimal(quantity.value)) * factor if factor is not None else None


def describe(order: Any, bundle: Mapping[str, Any], settings: Settings) -> Medication:
    """Return the ingredient classes of the medication an order, statement or dose names."""
    concept, medication, ref_display = _resolve(order, bundle)
    code_pairs = _pairs(concept)
    ingredient_pairs: list[tuple[str, str]] = []
    ingredient_texts: list[str] = []
    active_ingredients = 0
    strength: float | None = None
    folic_strength: float | None = None
    for ingredient in getattr(medication, "ingredient", None) or ():
        if ingredient.isActive is False:
            continue
        active_ingredients += 1
        item = ingredient.itemCodeableConcept
        pairs = _pairs(item)
        ingredient_pairs.extend(pairs)
        ingredient_texts.extend(texts(item))
        numerator = getattr(ingredient.strength, "numerator", None)
        mg = quantity_mg(numerator)
        if _in_any((vs.FOLATE_PRODUCTS,), pairs):
            folic_strength = mg
        strength = mg if strength is None else strength
    all_texts = texts(concept) + ingredient_texts + ([ref_display] if ref_display else [])
    if medication is not None:
        form = getattr(medication, "form", None)
        all_texts.extend(texts(form))
    name = (
        concept_name(concept)
        or ref_display
        or render(settings.profile, "common.evidence_parts.unnamed_medication")
    )
    known = _in_any(_MEDICATION_SETS, code_pairs + ingredient_pairs)
    combined = text.normalise(" ".join(all_texts))
    multivitamin_text = text.has_phrase(combined, text.MULTIVITAMIN_WORDS) is not None
    prenatal_text = text.has_phrase(combined, text.PRENATAL_WORDS) is not None
    if known:
        found = _from_codes(
            name,
            code_pairs,
            ingredient_pairs,
            active_ingredients,
            combined,
            multivitamin_text or prenatal_text,
            folic_strength or strength,
            settings,
        )
    else:
        found = _from_text(name, combined, multivitamin_text, prenatal_text, settings)
    single = _single_ingredient(found, active_ingredients, multivitamin_text or prenatal_text)
    if found.strength_mg is not None or not single:
        return found
    stated = _coded_strength(code_pairs) or _written_strength(
        found, [text.normalise(t) for t in all_texts if t]
    )
    if stated is None:
        return found
    return _with_strength(found, stated, settings)


def _single_ingredient(found: Medication, active_ingredients: int, vitamin_text: bool) -> bool:
    """Return whether a medication is one folic acid or one B12 product, not a combination."""
    if found.b12_in_combination or active_ingredients > 1 or vitamin_text:
        return False
    return (found.folic_acid is not None) != (found.b12 is not None or found.cyanide_antidote)


def _coded_strength(code_pairs: list[tuple[str, str]]) -> Strength | None:
    """Return the `strength` column of a product row a coding matches (§11.1 (b)), if any."""
    for value_set in _STRENGTH_SETS:
        for system, code in code_pairs:
            row = value_set.find(system, code)
            if row is not None and row.strength is not None:
                return row.strength
    return None


def _written_strength(found: Medication, normalised_texts: list[str]) -> Strength | None:
    """Return a mass written next to the product's ingredient in its text (§11.1 (c)), if any.

    "Next to" is: right after the ingredient's words, or after at most two more words
    ("cyanocobalamin oral tablet 1000 mcg", "vitamin b12 (cyanocobalamin) 1000 mcg"), or right
    before them ("1000 mcg cyanocobalamin"). A text that states two different masses next to the
    ingredient gives none.
    """
    words = text.FOLIC_ACID_WORDS if found.folic_acid is not None else text.B12_WORDS
    seen: list[Strength] = []
    for said in normalised_texts:
        spans = [(m.start(), m.end()) for m in _phrase_pattern(tuple(sorted(words))).finditer(said)]
        for strength, start, end in strengths_in_text(said):
            for word_start, word_end in spans:
                after = said[word_end:start]
                before = said[end:word_start]
                if (start >= word_end and _NEAR_AFTER.fullmatch(after)) or (
                    word_start >= end and _NEAR_BEFORE.fullmatch(before)
                ):
                    if strength not in seen:
                        seen.append(strength)
                    break
    return seen[0] if len(seen) == 1 else None


# Up to two words without digits between the ingredient and its mass; nothing but a space before.
_NEAR_AFTER = re.compile(r"(?: [^\s\d]+){0,2} ?")
_NEAR_BEFORE = re.compile(r"(?: (?:\d+(?:\.\d+)? ?)?ml)? ")


@lru_cache(maxsize=8)
def _phrase_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Return a regex of whole-word phrases (normalised), longest first."""
    ordered = sorted({text.normalise(w) for w in words}, key=lambda w: (-len(w), w))
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in ordered)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _with_strength(found: Medication, stated: Strength, settings: Settings) -> Medication:
    """Return the medication with a strength from its code or text (§11.1 (b), (c))."""
    mg = float(stated.mg)
    antidote = found.cyanide_antidote or bool(
        found.b12 is B12Product.HYDROXOCOBALAMIN
        and not stated.per_ml
        and mg >= settings.cyanokit_min_dose_mg  # §2.5 (b): strength of at least 1 g
    )
    return replace(
        found,
        strength_mg=mg,
        strength_basis="mL" if stated.per_ml else "unit",
        b12=None if antidote else found.b12,
        cyanide_antidote=antidote,
    )


def _b12_product(pairs: list[tuple[str, str]], combined_text: str) -> B12Product:
    """Return which cobalamin the B12 codings (or the text) name."""
    displays = (
        " ".join(
            (row.display or "").lower()
            for s in _B12_SETS
            for system, code in pairs
            if (row := s.matches([{"system": system, "code": code}])) is not None
        )
        + " "
        + combined_text
    )
    if text.has_phrase(text.normalise(displays), text.HYDROXOCOBALAMIN_WORDS):
        return B12Product.HYDROXOCOBALAMIN
    if text.has_phrase(text.normalise(displays), text.MECOBALAMIN_WORDS):
        return B12Product.MECOBALAMIN
    if (
        text.has_phrase(text.normalise(displays), text.CYANOCOBALAMIN_WORDS)
        or "vitamin b" in displays
    ):
        return B12Product.CYANOCOBALAMIN
    return B12Product.UNSPECIFIED


def _product_route(pairs: list[tuple[str, str]]) -> Route:
    if _in_any((vs.B12_PRODUCTS_PARENTERAL,), pairs):
        return Route.PARENTERAL
    if _in_any((vs.B12_PRODUCTS_ORAL_NASAL,), pairs):
        return Route.ORAL
    return Route.UNKNOWN


def _from_codes(
    name: str,
    code_pairs: list[tuple[str, str]],
    ingredient_pairs: list[tuple[str, str]],
    active_ingredients: int,
    combined_text: str,
    vitamin_text: bool,
    strength_mg: float | None,
    settings: Settings,
) -> Medication:
    """Classify a medication with at least one known coding (§2.7 steps 1–2)."""
    all_pairs = code_pairs + ingredient_pairs
    folic = None
    combination = (
        active_ingredients > 1
        or vitamin_text
        or bool({c for _, c in code_pairs} & _COMBINATION_CODES)
    )
    if _in_any((vs.FOLATE_PRODUCTS,), code_pairs):
        folic = Recognised.COMBINATION if combination else Recognised.CODE
    elif _in_any((vs.FOLATE_PRODUCTS,), ingredient_pairs):
        folic = Recognised.COMBINATION if combination else Recognised.INGREDIENT
    reduced = _in_any((vs.FOLATE_EXEMPT_PRODUCTS,), all_pairs)
    if reduced and folic is None and _reduced_counts(all_pairs, settings):
        folic = Recognised.CODE
    codes = {c for _, c in all_pairs}
    # 309596 (folic acid / liver extract / vitamin B12 injectable) holds B12 too (§2.5).
    has_b12 = _in_any(_B12_SETS, all_pairs) or bool(codes & _COMBINATION_CODES)
    b12_in_combination = has_b12 and (combination or folic is not None)
    product = _b12_product(all_pairs, combined_text) if has_b12 else None
    antidote = _in_any((vs.CYANIDE_ANTIDOTE_PRODUCTS,), all_pairs) or bool(
        product is B12Product.HYDROXOCOBALAMIN
        and (
            text.has_phrase(combined_text, text.CYANIDE_ANTIDOTE_WORDS)
            or (strength_mg is not None and strength_mg >= settings.cyanokit_min_dose_mg)
        )
    )
    treats = (
        has_b12
        and not antidote
        and (not b12_in_combination or settings.combination_b12_counts_as_treatment)
    )
    return Medication(
        name=name,
        folic_acid=folic,
        reduced_folate=reduced,
        b12=product if treats else None,
        b12_in_combination=b12_in_combination,
        cyanide_antidote=antidote,
        nitrous_oxide=_in_any((vs.NITROUS_OXIDE_PRODUCTS,), all_pairs)
        and _NITRIC_OXIDE_RXNORM not in codes,
        metformin=_in_any((vs.METFORMIN,), all_pairs),
        acid_suppressant=_in_any((vs.ACID_SUPPRESSANTS,), all_pairs),
        methotrexate=_in_any((vs.METHOTREXATE,), all_pairs),
        pemetrexed=text.has_phrase(combined_text, text.PEMETREXED_WORDS) is not None,
        product_route=_product_route(code_pairs),
        strength_mg=strength_mg,
    )


def _reduced_counts(pairs: list[tuple[str, str]], settings: Settings) -> bool:
    """Return whether a reduced folate counts as folic acid under the site's settings (§2.5)."""
    folinic = any(code in _FOLINIC_CODES for _, code in pairs)
    return (folinic and settings.treat_folinic_as_folate) or (
        not folinic and settings.treat_methylfolate_as_folate
    )


def _from_text(
    name: str, combined: str, multivitamin: bool, prenatal: bool, settings: Settings
) -> Medication:
    """Classify a medication with no known coding by its text (§2.7 step 4, lower confidence)."""
    reduced_word = text.has_phrase(combined, text.REDUCED_FOLATE_WORDS)
    folic_word = text.has_phrase(combined, text.FOLIC_ACID_WORDS)
    folic: Recognised | None = None
    if folic_word is not None and not (folic_word == "folate" and reduced_word is not None):
        folic = Recognised.TEXT
    elif prenatal and settings.assume_folic_acid_in_prenatal_text:
        folic = Recognised.TEXT
    elif multivitamin and settings.assume_folic_acid_in_multivitamin_text:
        folic = Recognised.TEXT
    if folic is None and reduced_word is not None:
        is_folinic = reduced_word in {
            "folinic acid",
            "calcium folinate",
            "leucovorin",
            "levoleucovorin",
        }
        if (is_folinic and settings.treat_folinic_as_folate) or (
            not is_folinic and settings.treat_methylfolate_as_folate
        ):
            folic = Recognised.TEXT
    has_b12 = text.has_phrase(combined, text.B12_WORDS) is not None
    in_combination = has_b12 and (multivitamin or prenatal or folic is not None)
    product = _b12_product([], combined) if has_b12 else None
    antidote = text.has_phrase(combined, text.CYANIDE_ANTIDOTE_WORDS) is not None
    treats = (
        has_b12
        and not antidote
        and (not in_combination or settings.combination_b12_counts_as_treatment)
    )
    nitrous = (
        text.has_phrase(combined, text.NITROUS_OXIDE_WORDS) is not None
        and text.has_phrase(combined, text.NITRIC_OXIDE_WORDS) is None
    )
    route = Route.UNKNOWN
    if text.has_phrase(combined, text.NASAL_WORDS):
        route = Route.NASAL
    elif text.has_phrase(combined, text.PARENTERAL_WORDS):
        route = Route.PARENTERAL
    elif text.has_phrase(combined, text.ORAL_WORDS):
        route = Route.ORAL
    return Medication(
        name=name,
        folic_acid=folic,
        reduced_folate=reduced_word is not None,
        b12=product if treats else None,
        b12_in_combination=in_combination,
        cyanide_antidote=antidote,
        nitrous_oxide=nitrous,
        metformin=text.has_phrase(combined, text.METFORMIN_WORDS) is not None,
        acid_suppressant=text.has_phrase(combined, text.ACID_SUPPRESSANT_WORDS) is not None,
        methotrexate=text.has_phrase(combined, text.METHOTREXATE_WORDS) is not None,
        pemetrexed=text.has_phrase(combined, text.PEMETREXED_WORDS) is not None,
        text_only=True,
        product_route=route,
    )
