"""R10 `nitrous-oxide`: nitrous oxide with B12 deficiency or risk, or recreational use.

clinical-rules §7.10. Nitrous oxide inactivates B12; subacute combined degeneration has followed
N2O anaesthesia in unrecognised deficiency [V] S-N2O; NG239 rec 1.1.3 names recreational N2O
[V2] S-NG239; serum B12 can be normal, homocysteine/MMA show the functional deficiency [V] S-UMICH.
Methotrexate and N2O impair the same pathway (§7.10, R23).
"""

from __future__ import annotations

from cards import compose
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Order
from cards.model import Card
from cards.model import Indicator


RULE_ID = "nitrous-oxide"
TITLE = "Nitrous oxide and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
TRIGGER = (
    "Order hooks: a focused nitrous oxide draft (never nitric oxide, RxNorm 7442) with B12 "
    "deficiency (critical), or an indeterminate B12, neurological findings or methotrexate "
    "(warning). Patient-view: recorded nitrous oxide use (F18*, T59.0X*, 73891003 or text) with "
    "neurological findings, anaemia or macrocytosis."
)
INDICATOR = (
    "Drafted: critical when B12-deficient, else warning. Recreational: critical; warning when "
    "already on parenteral B12."
)
SUGGESTS = (
    "Drafted: delete the nitrous oxide draft (recommended when critical); a B12 test when B12 is "
    "unknown, MMA when indeterminate. Recreational: homocysteine (recommended) and MMA, urgent "
    "neurology referral, and the neurological B12 regimen for adults not on parenteral B12."
)
SOURCES = ("S-N2O", "S-NG239", "S-UMICH")
SETTINGS: tuple[str, ...] = ()


def evaluate(facts: Facts) -> list[Card]:
    """Return the drafted-N2O card in order hooks, the recreational-use card on patient-view."""
    if facts.is_order_hook:
        return _drafted(facts)
    return _recreational(facts)


def _drafted(facts: Facts) -> list[Card]:
    drafts = [d for d in facts.focused_drafts() if d.medication.nitrous_oxide]
    if not drafts:
        return []
    risks = []
    if facts.b12_status is B12Status.INDETERMINATE:
        risks.append("B12 is in the indeterminate range")
    if facts.neuro_findings:
        risks.append("possible neurological findings are recorded")
    if facts.methotrexate_active:
        risks.append("methotrexate is active (both impair the same pathway)")
    if facts.b12_deficient:
        indicator = Indicator.CRITICAL
        summary = (
            "Nitrous oxide ordered for a patient with B12 deficiency: risk of acute spinal "
            "cord damage"
        )
    elif risks:
        indicator = Indicator.WARNING
        summary = "Nitrous oxide ordered with a B12 risk: consider another agent or check B12 first"
    else:
        return []
    refs = compose.b12_evidence_refs(facts)
    evidence = [f"Nitrous oxide order: {_order_line(d)}" for d in drafts]
    evidence += compose.b12_evidence(facts)
    evidence += [f"Possible neurological finding: {f.describe()}" for f in facts.neuro_findings]
    evidence += [f"Also: {r}" for r in risks if not r.startswith("possible neuro")]
    actions = [
        "Nitrous oxide inactivates vitamin B12 and can precipitate acute neurological damage "
        "in a deficient patient; subacute combined degeneration has followed nitrous oxide "
        "anaesthesia in unrecognised deficiency.",
        "Consider an alternative agent, and replete B12 first where possible.",
    ]
    if facts.methotrexate_active:
        actions.append("Patients on methotrexate should avoid nitrous oxide.")
    offers = [
        compose.delete(
            f"Remove the draft {d.medication.name}",
            d.ref,
            recommended=True if indicator is Indicator.CRITICAL else None,
        )
        for d in drafts
        if d.ref
    ]
    if facts.b12_status is B12Status.UNKNOWN and not facts.b12_deficient:
        offers.append(compose.lab_test(facts, "b12", refs))
    elif facts.b12_status is B12Status.INDETERMINATE and facts.mma is None:
        if not facts.drafted_tests("mma"):
            offers.append(compose.lab_test(facts, "mma", refs))
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            indicator,
            summary,
            compose.detail(facts, evidence, actions, [], ["S-N2O", "S-NG239"]),
            refs + [d.ref for d in drafts],
            "S-NG239",
            offers,
        )
    ]


def _order_line(order: Order) -> str:
    line = order.describe()
    return f"{line} (identified from the order text)" if order.medication.text_only else line


def _recreational(facts: Facts) -> list[Card]:
    if not facts.n2o_exposure:
        return []
    if not (facts.neuro_findings or facts.anaemia or facts.macrocytosis):
        return []
    treated = facts.on_parenteral_b12
    refs = [f.ref for f in (*facts.n2o_exposure, *facts.neuro_findings) if f.ref]
    refs += compose.b12_evidence_refs(facts)
    evidence = [f"Recorded nitrous oxide use: {f.describe()}" for f in facts.n2o_exposure]
    evidence += [f"Possible neurological finding: {f.describe()}" for f in facts.neuro_findings]
    evidence += [
        r.describe()
        for r in (facts.haemoglobin, facts.mcv)
        if r is not None and (facts.anaemia or facts.macrocytosis)
    ]
    evidence += compose.b12_evidence(facts)
    if treated:
        evidence.append("Parenteral B12 is already recorded as current.")
    actions = [
        "Serum B12 may be normal in nitrous oxide toxicity: measure homocysteine and/or MMA.",
        "Treat as possible neurological involvement, advise stopping nitrous oxide, and refer "
        "to neurology.",
    ]
    if not treated:
        chosen = compose.regimen(facts, "neuro")
        actions.append(f"Start {compose.regimen_words(facts, chosen)}")
    caveats = [
        "The recorded codes cover inhalant use in general (F18), so the link to nitrous oxide "
        "and to B12 is possible, not certain.",
    ]
    offers = [
        compose.lab_test(facts, "homocysteine", refs, recommended=True),
        compose.lab_test(facts, "mma", refs),
        compose.referral(facts, "neurology_referral", urgent=True, reasons=refs),
    ]
    if not treated:
        offers.append(compose.treatment(facts, "neuro", refs))
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING if treated else Indicator.CRITICAL,
            "Possible nitrous oxide-induced B12 deficiency: neurological signs or "
            + compose.spelling(facts, "anaemia", "anemia")
            + " with recorded N2O use",
            compose.detail(facts, evidence, actions, caveats, ["S-NG239", "S-N2O", "S-UMICH"]),
            refs,
            "S-NG239",
            offers,
        )
    ]
