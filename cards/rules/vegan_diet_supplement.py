"""R15 `vegan-diet-supplement`: a vegan or vegetarian diet without a reliable B12 source.

clinical-rules §7.15. Adult preventive options: at least 10 micrograms daily, or 2000 micrograms
weekly, or fortified foods giving at least 3 micrograms a day [V2] S-VEGAN; a dietary deficiency
can usually be treated orally [V2] S-CKS. The seed's 250-350 micrograms daily is [U], a site option.
"""

from __future__ import annotations

from cards import compose
from cards import orders
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator


RULE_ID = "vegan-diet-supplement"
TITLE = "Vegan or vegetarian diet and vitamin B12"
HOOKS = ("patient-view",)
SOURCES = ("S-VEGAN", "S-CKS")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "record-incorrect",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("vegan_regimen",)

_TEMPLATES = {"weekly-2000": "MR-VEGAN", "daily-10": "MR-VEGAN-DAILY", "seed": "MR-VEGAN-SEED"}


def evaluate(facts: Facts) -> list[Card]:
    """Return an info card advising a reliable B12 source for a vegan or vegetarian diet."""
    if (
        facts.hook is not Hook.PATIENT_VIEW
        or not facts.vegan
        or facts.b12_deficient
        or facts.is_child
        or facts.on_any_b12
        or any(o.active and (o.is_b12 or o.medication.b12_in_combination) for o in facts.orders)
    ):
        return []
    chosen = orders.REGIMENS[_TEMPLATES[facts.settings.vegan_regimen]]
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(facts.vegan)
    c.each("diet", facts.vegan)
    c.act("advise", "options", "oral", regimen=chosen.words)
    if facts.settings.vegan_regimen == "seed":
        c.caveat("seed")
    c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
    return [c.card(Indicator.INFO, "summary", ["S-VEGAN", "S-CKS"])]
