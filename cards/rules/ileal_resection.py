"""R14 `ileal-resection`: terminal ileal resection puts B12 absorption at risk.

clinical-rules §7.14. Resections of 20 cm or more are at risk of B12 malabsorption, shorter ones
have not been shown to be [V] S-ILEUM; the monthly IM regimen only via secondary summaries [V2].
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "ileal-resection"
TITLE = "Ileal resection and vitamin B12"
HOOKS = ("patient-view",)
SOURCES = ("S-ILEUM",)
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
    threshold = facts.settings.ileal_resection_cm
    if length is not None and length < threshold:
        return []
    treat = treatment_branch(facts)
    if treat and facts.is_child:
        return []  # paediatric-specialist speaks for the treatment branch under 16 (§7.19)
    if not treat and (facts.b12_recent is not None or facts.mma_recent is not None):
        return []
    refs = [f.ref for f in facts.ileal_resection if f.ref]
    evidence = [
        say(facts, f"{RULE_ID}.evidence.resection", finding=f.describe())
        for f in facts.ileal_resection
    ]
    if length is not None:
        evidence.append(say(facts, f"{RULE_ID}.evidence.length", cm=fmt_number(length)))
    else:
        evidence.append(say(facts, f"{RULE_ID}.evidence.length_unknown"))
    evidence += [
        say(facts, f"{RULE_ID}.evidence.context", finding=f.describe()) for f in facts.crohns_ileum
    ]
    actions = [say(facts, f"{RULE_ID}.action.threshold", cm=fmt_number(threshold))]
    if treat:
        chosen = compose.maintenance_regimen(facts)
        actions.append(
            say(facts, f"{RULE_ID}.action.treat", regimen=compose.regimen_words(facts, chosen))
        )
        offers = [compose.offer_regimen(facts, chosen, refs)]
    else:
        evidence.append(say(facts, f"{RULE_ID}.evidence.no_result"))
        actions.append(say(facts, f"{RULE_ID}.action.monitor"))
        offers = [
            compose.lab_test(facts, "b12", refs, recommended=True),
            compose.lab_test(facts, "mma", refs),
        ]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING,
            say(facts, f"{RULE_ID}.summary"),
            compose.detail(facts, evidence, actions, [], ["S-ILEUM"]),
            refs,
            "S-ILEUM",
            offers,
        )
    ]
