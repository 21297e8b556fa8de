"""The strength of a product: the amount of its one ingredient in one unit, or per mL (§11.1).

clinical-rules §11.1 (second edition, wins over §2.7): a dose in tablets is multiplied by the
product's strength when it is known: from a contained Medication's ingredient.strength, from the
`strength` column of a product value-set row (parsed by `parse_strength`), or from a mass written
next to the ingredient in the product's text or display (found by `strengths_in_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Final


# Mass units of a strength, in mg per unit (UCUM codes: mg, ug, g).
_STRENGTH_UNITS: Final = {"mg": Decimal(1), "ug": Decimal("0.001"), "g": Decimal(1000)}
_STRENGTH = re.compile(r"(?P<value>\d+(?:\.\d+)?) (?P<unit>mg|ug|g)(?P<per_ml>/mL)?\Z")
# A mass written in a product's text or display (§11.1 (c)): "0.4 MG", "1000 mcg", "400microgram",
# "5 ug", in text already normalised by `cards.text.normalise` (so "1 MG/ML" reads "1 mg ml").
# `per_ml` catches a concentration: "1mg/1ml", "1 MG/ML", "5mg/5ml" (1 mg per mL).
MASS_IN_TEXT: Final = re.compile(
    r"(?<![\w.])(?P<value>\d+(?:\.\d+)?) ?(?P<unit>mg|mcg|micrograms?|ug)(?!\w)"
    r"(?: (?P<ml>\d+(?:\.\d+)?)? ?(?P<per_ml>ml)(?!\w))?"
)
_TEXT_UNITS: Final = {
    "mg": Decimal(1),
    "mcg": Decimal("0.001"),
    "ug": Decimal("0.001"),
    "microgram": Decimal("0.001"),
    "micrograms": Decimal("0.001"),
}


@dataclass(frozen=True, slots=True)
class Strength:
    """The amount of a product's one ingredient in one unit (tablet, ampoule), or per mL."""

    mg: Decimal
    per_ml: bool = False

    def __str__(self) -> str:
        return f"{self.mg.normalize():f} mg" + ("/mL" if self.per_ml else "")


def parse_strength(value: str) -> Strength | None:
    """Return the Strength of a `strength` cell (`0.4 mg`, `1000 ug`, `1 mg/mL`); '' is None.

    Raises:
        ValueError: the cell is not a positive number, one space and mg, ug or g (optionally /mL).
    """
    value = value.strip()
    if not value:
        return None
    match = _STRENGTH.match(value)
    if match is None:
        raise ValueError(
            f"strength {value!r} must be a number, one space and a UCUM mass unit (mg, ug or g), "
            "optionally per mL: '0.4 mg', '1000 ug', '1 mg/mL'"
        )
    try:
        amount = Decimal(match["value"]) * _STRENGTH_UNITS[match["unit"]]
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"strength {value!r} is not a number") from exc
    if amount <= 0:
        raise ValueError(f"strength {value!r} must be more than zero")
    return Strength(amount, per_ml=match["per_ml"] is not None)


def strengths_in_text(normalised: str) -> list[tuple[Strength, int, int]]:
    """Return each mass written in normalised text, with where it starts and ends (§11.1 (c))."""
    found = []
    for m in MASS_IN_TEXT.finditer(normalised):
        amount = Decimal(m["value"]) * _TEXT_UNITS[m["unit"]]
        volume = Decimal(m["ml"] or 1)
        if amount > 0 and volume > 0:  # "5mg/5ml" is 1 mg per mL
            per_ml = m["per_ml"] is not None
            found.append(
                (Strength(amount / volume if per_ml else amount, per_ml), m.start(), m.end("unit"))
            )
    return found
