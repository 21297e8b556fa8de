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
from cards.wording import say


RULE_ID = "nitrous-oxide"
TITLE = "Nitrous oxide and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
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
    also = []  # the risks other than neurological findings (those are evidence lines of their own)
    if facts.b12_status is B12Status.INDETERMINATE:
        also.append(say(facts, f"{RULE_ID}.evidence.also_indeterminate"))
    if facts.methotrexate_active:
        also.append(say(facts, f"{RULE_ID}.evidence.also_methotrexate"))
    if facts.b12_deficient:
        indicator = Indicator.CRITICAL
        summary = say(facts, f"{RULE_ID}.summary.deficient")
    elif also or facts.neuro_findings:
        indicator = Indicator.WARNING
        summary = say(facts, f"{RULE_ID}.summary.risk")
    else:
        return []
    refs = compose.b12_evidence_refs(facts)
    evidence = [_order_line(facts, d) for d in drafts]
    evidence += compose.b12_evidence(facts)
    evidence += _neuro_lines(facts)
    evidence += also
    actions = [
        say(facts, f"{RULE_ID}.action.inactivates"),
        say(facts, f"{RULE_ID}.action.alternative"),
    ]
    if facts.methotrexate_active:
        actions.append(say(facts, f"{RULE_ID}.action.methotrexate"))
    offers = [
        compose.delete(
            say(facts, f"{RULE_ID}.label.remove", name=d.medication.name),
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


def _order_line(facts: Facts, order: Order) -> str:
    if order.medication.text_only:
        return say(facts, f"{RULE_ID}.evidence.order_from_text", order=order.describe())
    return say(facts, f"{RULE_ID}.evidence.order", order=order.describe())


def _neuro_lines(facts: Facts) -> list[str]:
    return [
        say(facts, f"{RULE_ID}.evidence.neuro", finding=f.describe()) for f in facts.neuro_findings
    ]


def _recreational(facts: Facts) -> list[Card]:
    if not facts.n2o_exposure:
        return []
    if not (facts.neuro_findings or facts.anaemia or facts.macrocytosis):
        return []
    treated = facts.on_parenteral_b12
    refs = [f.ref for f in (*facts.n2o_exposure, *facts.neuro_findings) if f.ref]
    refs += compose.b12_evidence_refs(facts)
    evidence = [
        say(facts, f"{RULE_ID}.evidence.use", finding=f.describe()) for f in facts.n2o_exposure
    ]
    evidence += _neuro_lines(facts)
    evidence += [
        r.describe()
        for r in (facts.haemoglobin, facts.mcv)
        if r is not None and (facts.anaemia or facts.macrocytosis)
    ]
    evidence += compose.b12_evidence(facts)
    if treated:
        evidence.append(say(facts, f"{RULE_ID}.evidence.treated"))
    actions = [
        say(facts, f"{RULE_ID}.action.measure"),
        say(facts, f"{RULE_ID}.action.treat_neuro"),
    ]
    if not treated:
        chosen = compose.regimen(facts, "neuro")
        words = compose.regimen_words(facts, chosen)
        actions.append(say(facts, f"{RULE_ID}.action.start", regimen=words))
    caveats = [say(facts, f"{RULE_ID}.caveat.codes")]
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
            say(facts, f"{RULE_ID}.summary.recreational"),
            compose.detail(facts, evidence, actions, caveats, ["S-NG239", "S-N2O", "S-UMICH"]),
            refs,
            "S-NG239",
            offers,
        )
    ]
