"""R14 `ileal-resection`: terminal ileal resection puts B12 absorption at risk.

clinical-rules §7.14. Resections of 20 cm or more are at risk of B12 malabsorption, shorter ones
have not been shown to be [V] S-ILEUM; the monthly IM regimen only via secondary summaries [V2].
S-NG239 [V2] names ileal resection and Crohn's disease of the ileum among the causes of B12
deficiency: the uk card's first source (§11.4).
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "ileal-resection"
TITLE = "Ileal resection and vitamin B12"
HOOKS = ("patient-view",)
SOURCES = ("S-ILEUM", "S-NG239")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "record-incorrect",
    "test-already-arranged",
    "specialist-managing",
    "will-review-later",
)
SETTINGS = ("ileal_resection_cm", "ileal_length_code", "b12_recent_days")


def treatment_branch(facts: Facts) -> bool:
    """Return whether the resected length is known and at or above the risk threshold."""
    length = facts.ileal_resection_cm
    return length is not None and length >= facts.settings.ileal_resection_cm


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning: treat (known long resection) or monitor (length unknown)."""
    if facts.hook is not Hook.PATIENT_VIEW or not facts.ileal_resection:
        return []
    if facts.b12_deficient or facts.on_parenteral_b12:
        return []
    length = facts.ileal_resection_cm
    treat = treatment_branch(facts)
    if treat and facts.is_child:
        return []  # paediatric-specialist speaks for the treatment branch under 16 (§7.19)
    recent = facts.b12_recent is not None or facts.mma_recent is not None
    if not treat and (length is not None or recent):
        return []  # a short resection, or an unknown length already monitored by a recent result
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(facts.ileal_resection)
    c.each("resection", facts.ileal_resection)
    if length is not None:
        c.line("length", cm=fmt_number(length))
    else:
        c.line("length_unknown")
    c.each("context", facts.crohns_ileum)
    c.act("threshold", cm=fmt_number(facts.settings.ileal_resection_cm))
    if treat:
        chosen = compose.maintenance_regimen(facts)
        c.act("treat", regimen=compose.regimen_words(facts, chosen))
        c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
    else:
        since = facts.today - timedelta(days=facts.settings.b12_recent_days)
        analytes = (Analyte.B12, Analyte.HOLOTC, Analyte.MMA)
        unusable = [r for r in facts.results if r.analyte in analytes and r.when >= since]
        c.line("no_result", unusable=[r.describe() for r in unusable if not r.usable])
        c.act("monitor")
        c.offers += [
            compose.lab_test(facts, "b12", c.refs, recommended=True),
            compose.lab_test(facts, "mma", c.refs),
        ]
    return [c.card(Indicator.WARNING, "summary", ["S-ILEUM", "S-NG239"])]
