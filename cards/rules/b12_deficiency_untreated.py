"""R2 `b12-deficiency-untreated`: B12 deficiency, no neurological findings, no B12 treatment.

clinical-rules §7.2. Sources: S-CKS and S-BNF [V2] (uk regimen), S-FDA-CN [V], S-US-DOSE [V2]
(us regimen and card source, §11.4), S-AAFP17 [V], S-COCH [V] (high-dose oral about as good as IM).
§11.11 (second edition): with pernicious anaemia, a gastrectomy or an ileal resection on record
the card names that cause once, states lifelong IM treatment and drops "look for the cause" and
the dietary oral option. §11.6: with low folate as well, the folic acid part (`Draft.treat`).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Finding
from cards.facts import Hook
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING


RULE_ID = "b12-deficiency-untreated"
TITLE = "B12 deficiency with no B12 treatment on record"
HOOKS = ("patient-view",)
SOURCES = ("S-CKS", "S-BNF", "S-PAS", "S-FDA-CN", "S-US-DOSE", "S-AAFP17", "S-COCH")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "result-not-current",
    "record-incorrect",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("b12_status_days", "oral_first_non_neuro", "folate_regimen")


def _causes(c: Draft) -> list[tuple[str, Finding]]:
    """Return each irreversible cause on record once, in words, with its first finding (§11.11)."""
    kinds = (
        (c.say("cause.pernicious_anaemia"), c.facts.pernicious_anaemia),
        (c.say("cause.gastrectomy"), c.facts.gastrectomy),
        (c.say("cause.ileal_resection"), c.facts.ileal_resection),
    )
    return [(words, found[0]) for words, found in kinds if found]


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning card for untreated deficiency without neurological findings."""
    if (
        facts.hook is not Hook.PATIENT_VIEW
        or not facts.b12_deficient
        or facts.neuro_findings
        or facts.on_any_b12
        or facts.is_child
    ):
        return []
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    causes = _causes(c)
    c.cite(finding for _, finding in causes if finding.ref not in c.refs)
    # a cause on record is named once: its own line replaces the pernicious anaemia evidence line
    c.evidence += compose.b12_evidence(facts, pernicious_anaemia=not causes)
    for words, finding in causes:
        when = fmt_date(finding.when) if finding.when is not None else ""
        c.line("cause", cause=words, date=when)
    regimen = compose.regimen_words(facts, compose.regimen(facts, "standard"))
    if causes:
        c.act("start", "lifelong_im", regimen=regimen)
    else:
        c.act("start", "cause", "oral", regimen=regimen)
        c.caveat("lifelong")
    c.treat("standard")
    if facts.anaemia or facts.macrocytosis:
        c.act("potassium", hours=facts.settings.potassium_watch_hours)
        c.offers.append(compose.lab_test(facts, "potassium", c.refs, timing=POTASSIUM_TIMING))
    source = compose.regimen_source(facts)
    return [c.card(Indicator.WARNING, "summary", [source, "S-AAFP17"])]
