"""The only list of CDS services and their rules; discovery and prefetch templates read it.

`evaluate` runs a service's rules on the facts, then applies the interactions of clinical-rules
§7.0 that no single rule can see: suppression between cards, one owner for the B12 treatment
suggestion, one card per referral (§11.10), and the under-16 / unknown-age guard on adult
doses.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

from cards import compose
from cards import orders
from cards import terminology as vs
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Action
from cards.model import Card
from cards.model import Indicator
from cards.rules import acid_suppression_monitoring
from cards.rules import b12_deficiency_untreated
from cards.rules import b12_indeterminate_functional_tests
from cards.rules import b12_neuro_untreated
from cards.rules import b12_test_uninformative
from cards.rules import bariatric_prophylaxis
from cards.rules import cyanocobalamin_safety
from cards.rules import folate_before_b12
from cards.rules import folate_low_b12_unknown
from cards.rules import functional_b12_deficiency
from cards.rules import haematologic_response
from cards.rules import hypokalaemia_on_treatment
from cards.rules import ileal_resection
from cards.rules import maintenance_overdue
from cards.rules import metformin_monitoring
from cards.rules import nitrous_oxide
from cards.rules import paediatric_specialist
from cards.rules import pernicious_anaemia_oral
from cards.rules import potassium_monitoring
from cards.rules import pregnancy_b12
from cards.rules import treatment_response_review
from cards.rules import vegan_diet_supplement
from cards.settings import Profile
from cards.wording import MESSAGES
from cards.wording import render
from cards.wording import say


Rule = Callable[[Facts], list[Card]]

# In rule-catalogue order (contract.md).
RULE_MODULES: tuple[ModuleType, ...] = (
    b12_neuro_untreated,
    b12_deficiency_untreated,
    folate_before_b12,
    folate_low_b12_unknown,
    potassium_monitoring,
    hypokalaemia_on_treatment,
    haematologic_response,
    b12_indeterminate_functional_tests,
    functional_b12_deficiency,
    nitrous_oxide,
    metformin_monitoring,
    acid_suppression_monitoring,
    bariatric_prophylaxis,
    ileal_resection,
    vegan_diet_supplement,
    pernicious_anaemia_oral,
    maintenance_overdue,
    pregnancy_b12,
    paediatric_specialist,
    treatment_response_review,
    b12_test_uninformative,
    cyanocobalamin_safety,
)
RULES: Mapping[str, Rule] = {m.RULE_ID: m.evaluate for m in RULE_MODULES}
TITLES: Mapping[str, str] = {m.RULE_ID: m.TITLE for m in RULE_MODULES}
PAEDIATRIC = paediatric_specialist.RULE_ID  # runs last: it reads the other cards (§7.19)

# §7.0: who owns the B12 treatment suggestion, highest first.
TREATMENT_OWNERS = (
    "b12-neuro-untreated",
    "folate-before-b12",
    "nitrous-oxide",
    "b12-deficiency-untreated",
    "maintenance-overdue",
    "pernicious-anaemia-oral",
    "ileal-resection",
    "bariatric-prophylaxis",
    "vegan-diet-supplement",
    # Not in §7.0's list: its create replaces the clinician's own cyanocobalamin draft, so it
    # yields to any card above and keeps the one-create-per-response rule.
    "cyanocobalamin-safety",
)
# Cards that silence others in the same response (§7.1-§7.4 interactions).
SUPPRESSES: Mapping[str, frozenset[str]] = {
    "folate-before-b12": frozenset({"b12-deficiency-untreated", "folate-low-b12-unknown"}),
    "b12-neuro-untreated": frozenset({"b12-deficiency-untreated", "pernicious-anaemia-oral"}),
    "haematologic-response": frozenset(
        {"b12-neuro-untreated", "b12-deficiency-untreated", "folate-before-b12"}
    ),
    # §7.17: a lapsed lifelong course replaces the "untreated" cards; §11.7: and the review.
    "maintenance-overdue": frozenset(
        {"b12-neuro-untreated", "b12-deficiency-untreated", "treatment-response-review"}
    ),
    # §7.2: its firing suppresses the supplement branches of the prophylaxis cards.
    "b12-deficiency-untreated": frozenset(
        {"bariatric-prophylaxis", "ileal-resection", "vegan-diet-supplement"}
    ),
}

# §11.9: on patient-view, where nitrous-oxide fires only its recreational branch (b), its card
# carries the regimen (§7.0 owner) and the deficiency card is silent in that response. Its
# drafted-N2O branch (a, order hooks) silences nothing.
SUPPRESSES_ON_PATIENT_VIEW: Mapping[str, frozenset[str]] = {
    "nitrous-oxide": frozenset({"b12-deficiency-untreated"}),
}

# §11.10: each referral is offered on one card per response, by order-codes name.
REFERRALS = ("neurology_referral", "haematology_referral", "paediatric_referral")

OBSERVATION_COUNT = 200  # `_count` of the observations prefetch: about two years of B12 work-up


@dataclass(frozen=True, slots=True)
class Service:
    """One CDS service: id, hook, discovery text, prefetch templates and rules."""

    id: str
    hook: Hook
    rule_ids: tuple[str, ...]
    # Discovery title and description: `services.<id>.title|description` in
    # cards/wording/services.toml (the fields are a fallback for a service without wording).
    title: str = ""
    description: str = ""

    @property
    def prefetch(self) -> dict[str, str]:
        """Return the prefetch templates (CDS Hooks 2.0 tokens and query restrictions only)."""
        patient = "{{context.patientId}}"
        codes = ",".join(f"{vs.LOINC}|{code}" for code in vs.OBSERVATION_LOINC_CODES)
        return {
            "patient": f"Patient/{patient}",
            "observations": (
                f"Observation?patient={patient}&code={codes}&_sort=-date&_count={OBSERVATION_COUNT}"
            ),
            "conditions": f"Condition?patient={patient}",
            "medicationRequests": f"MedicationRequest?patient={patient}",
            "medicationAdministrations": f"MedicationAdministration?patient={patient}",
            "medicationStatements": f"MedicationStatement?patient={patient}",
            "procedures": f"Procedure?patient={patient}",
        }

    def discovery(self, profile: Profile = Profile.UK) -> dict[str, object]:
        """Return this service's entry in the discovery response, in a profile's wording."""
        return {
            "hook": self.hook.value,
            "id": self.id,
            "title": self._said(profile, "title"),
            "description": self._said(profile, "description"),
            "prefetch": self.prefetch,
        }

    def _said(self, profile: Profile, part: str) -> str:
        """Return the title or description from cards/wording/services.toml, else the field's."""
        key = f"services.{self.id}.{part}"
        if key in MESSAGES:
            return render(profile, key)
        return str(getattr(self, part))

    def relevant(self, facts: Facts) -> bool:
        """Return whether an order hook's focused drafts are anything this service checks.

        Lets an order hook about, say, a NutritionOrder answer `{"cards": []}` without asking the
        FHIR server for the chart. Patient-view is always relevant.
        """
        if self.hook is Hook.PATIENT_VIEW:
            return True
        meds = any(
            d.medication.folic_acid is not None
            or d.medication.b12 is not None
            or d.medication.b12_in_combination
            or d.medication.nitrous_oxide
            or d.medication.metformin
            or d.medication.acid_suppressant
            for d in facts.focused_drafts()
        )
        return meds or any(t.focus for t in facts.test_drafts)

    def evaluate(self, facts: Facts, partial: tuple[str, ...] = ()) -> list[Card]:
        """Return the cards of every rule of this service, after the §7.0 interactions."""
        if facts.deceased:
            return []  # a deceased patient gets no advice (explicit choice, tested)
        cards = [
            card
            for rule_id in self.rule_ids
            if rule_id != PAEDIATRIC
            for card in RULES[rule_id](facts)
        ]
        cards = interact(cards, facts, paediatric=PAEDIATRIC in self.rule_ids)
        if partial:
            note = say(facts, "common.note.partial", missing=", ".join(partial))
            cards = [c.model_copy(update={"detail": f"{c.detail}\n\n{note}"}) for c in cards]
        return cards


def _rules_for(hook: Hook) -> tuple[str, ...]:
    """Return the rule ids whose module declares this hook (its `HOOKS`, clinical-rules §7.0)."""
    return tuple(m.RULE_ID for m in RULE_MODULES if hook.value in m.HOOKS)


SERVICES: Mapping[str, Service] = {
    s.id: s
    for s in (
        Service("b12-patient-view", Hook.PATIENT_VIEW, _rules_for(Hook.PATIENT_VIEW)),
        Service("b12-order-select", Hook.ORDER_SELECT, _rules_for(Hook.ORDER_SELECT)),
        Service("b12-order-sign", Hook.ORDER_SIGN, _rules_for(Hook.ORDER_SIGN)),
    )
}


def _creates_medication(action: Action) -> bool:
    """Return whether an action creates a MedicationRequest (B12, or §11.6 folic acid)."""
    return (
        action.type == "create"
        and (action.resource or {}).get("resourceType") == "MedicationRequest"
    )


def _creates_b12(action: Action) -> bool:
    """Return whether an action creates a B12 MedicationRequest (every MR suggestion but the
    §11.6 folic acid, which only ever rides along with one)."""
    return _creates_medication(action) and not orders.is_folic_acid_request(action.resource)


def _without_b12_treatment(card: Card, note: str, owned_elsewhere: Facts | None = None) -> Card:
    """Return the card without its B12 MedicationRequest suggestion, with a note in the detail.

    The §11.6 folic acid suggestion goes with it: it is never offered without the B12 regimen on
    the same card. Given the facts as `owned_elsewhere` (another card owns the regimen), the
    low-folate evidence line and folic acid action go too, so they stay only on the owner card.
    """
    if not any(_creates_b12(a) for s in card.suggestions for a in s.actions):
        return card
    kept = tuple(s for s in card.suggestions if not any(_creates_medication(a) for a in s.actions))
    detail = card.detail
    folate = compose.folate_lines(owned_elsewhere) if owned_elsewhere is not None else None
    if folate is not None:
        lines = detail.split("\n")
        detail = "\n".join(line for line in lines if line not in {f"- {t}" for t in folate})
    return card.model_copy(
        update={
            "suggestions": kept,
            "selectionBehavior": "any" if kept else None,
            "detail": f"{detail}\n\n{note}",
        }
    )


def _referral(action: Action) -> str | None:
    """Return the order-codes name of the referral an action creates, or None (§11.10).

    A referral is known by its coding (the site's own code when `order_codes.<name>` replaces it).
    """
    resource = action.resource or {}
    if action.type != "create" or resource.get("resourceType") != "ServiceRequest":
        return None
    coded = {(c.get("system"), c.get("code")) for c in resource.get("code", {}).get("coding", ())}
    for name in REFERRALS:
        code = vs.ORDER_CODES.get(name)
        if code is not None and (code.system, code.code) in coded:
            return name
    return None


def _one_referral_each(cards: list[Card], facts: Facts) -> list[Card]:
    """Return the cards with each referral offered once: on the first card in the §7.0 order.

    §11.10: like the B12 treatment suggestion, a referral (neurology, haematology, paediatrics)
    is offered on one card per response, the first in the §7.0 priority order (the treatment
    owners' order, then the rule catalogue's); a later card that would repeat it keeps its text
    and says that the referral is suggested on the card above.
    """
    rank = {rule_id: i for i, rule_id in enumerate((*TREATMENT_OWNERS, *RULES))}
    # each card's referral suggestions: (suggestion index, referral name)
    named = {
        id(card): [
            (i, name)
            for i, s in enumerate(card.suggestions)
            for name in filter(None, (_referral(a) for a in s.actions))
        ]
        for card in cards
    }
    holder: dict[str, Card] = {}
    for card in sorted(cards, key=lambda c: rank.get(c.rule_id, len(rank))):
        for _, name in named[id(card)]:
            holder.setdefault(name, card)
    result = []
    for card in cards:
        repeated = {i: holder[name] for i, name in named[id(card)] if holder[name] is not card}
        if repeated:
            by_owner: dict[str, list[str]] = {}
            for i, owner in repeated.items():
                label = card.suggestions[i].label
                by_owner.setdefault(owner.summary, []).append(label[:1].lower() + label[1:])
            notes = [
                say(
                    facts,
                    "common.note.referral_owner",
                    referrals="; ".join(labels),
                    summary=summary,
                )
                for summary, labels in by_owner.items()
            ]
            kept = tuple(s for i, s in enumerate(card.suggestions) if i not in repeated)
            card = card.model_copy(
                update={
                    "suggestions": kept,
                    "selectionBehavior": "any" if kept else None,
                    "detail": "\n\n".join([card.detail, *notes]),
                }
            )
        result.append(card)
    return result


def interact(cards: list[Card], facts: Facts, paediatric: bool = False) -> list[Card]:
    """Apply suppression, the single treatment owner and the dose guard; sort by urgency.

    Args:
        cards: the cards of every rule of the service except `paediatric-specialist`.
        facts: the request's facts.
        paediatric: whether the service runs `paediatric-specialist`, which is added here
            because it reads what the guard removed (§7.19).
    """
    fired = {c.rule_id for c in cards}
    silenced = set().union(*(SUPPRESSES.get(r, frozenset()) for r in fired))
    if not facts.is_order_hook:
        silenced |= set().union(*(SUPPRESSES_ON_PATIENT_VIEW.get(r, frozenset()) for r in fired))
    cards = [c for c in cards if c.rule_id not in silenced]
    owner = next(
        (
            c
            for rule_id in TREATMENT_OWNERS
            for c in cards
            if c.rule_id == rule_id
            and any(_creates_b12(a) for s in c.suggestions for a in s.actions)
        ),
        None,
    )
    guarded: list[Card] = []
    dropped: list[Card] = []
    for card in cards:
        if facts.is_child:
            kept = _without_b12_treatment(card, say(facts, "common.note.child"))
            if kept is not card:
                dropped.append(card)
            card = kept
        elif facts.age_unknown:
            card = _without_b12_treatment(card, say(facts, "common.note.age_unknown"))
        elif owner is not None and card is not owner and card.rule_id in TREATMENT_OWNERS:
            card = _without_b12_treatment(
                card, say(facts, "common.note.owner", summary=owner.summary), facts
            )
        guarded.append(card)
    if paediatric:
        guarded += paediatric_specialist.evaluate(facts, dropped, silenced)
    guarded = _one_referral_each(guarded, facts)
    order = {rule_id: i for i, rule_id in enumerate(RULES)}
    return sorted(guarded, key=lambda c: (-Indicator(c.indicator).rank, order.get(c.rule_id, 99)))
