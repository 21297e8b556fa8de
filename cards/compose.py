"""Build cards the same way for every rule: evidence, action, caveats, source, suggestions."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cards import orders
from cards import overrides
from cards import units
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import StatusBasis
from cards.labs import display_unit
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import TOPIC_SYSTEM
from cards.model import Action
from cards.model import Card
from cards.model import Coding
from cards.model import Indicator
from cards.model import Source
from cards.model import Suggestion
from cards.model import card_uuid
from cards.model import deterministic_uuid
from cards.settings import Profile
from cards.sources import ordered
from cards.sources import source
from cards.units import Analyte
from cards.wording import MESSAGES
from cards.wording import render
from cards.wording import say


@dataclass(frozen=True, slots=True)
class Offer:
    """A suggestion before it gets its uuid: label, one action, whether it is recommended."""

    label: str
    action: Action
    recommended: bool | None = None


def create(label: str, resource: dict[str, Any], recommended: bool | None = None) -> Offer:
    """Return a suggestion that creates a resource."""
    return Offer(label, Action(type="create", description=label, resource=resource), recommended)


def delete(label: str, resource_id: str, recommended: bool | None = None) -> Offer:
    """Return a suggestion that deletes a draft order named by 'Type/id'."""
    return Offer(
        label, Action(type="delete", description=label, resourceId=resource_id), recommended
    )


def regimen(facts: Facts, kind: str) -> orders.Regimen:
    """Return the profile's regimen template: kind is 'neuro' or 'standard' (§8).

    With `oral_first_non_neuro`, a standard course for a patient without pernicious anaemia,
    gastrectomy or ileal resection (§11.11) is oral: 1000 micrograms daily in us (S-AAFP17), and
    in uk only for a dietary cause (50-150 micrograms daily, S-CKS).
    """
    us = facts.profile is Profile.US
    if (
        kind == "standard"
        and facts.settings.oral_first_non_neuro
        and not facts.pernicious_anaemia
        and not facts.gastrectomy
        and not facts.ileal_resection  # §11.11: lifelong IM with an ileal resection on record
        and (us or facts.dietary_cause)
    ):
        return orders.REGIMENS["MR-ORAL-1000" if us else "MR-UK-ORAL-DIET"]
    prefix = "MR-US" if us else "MR-UK"
    return orders.REGIMENS[f"{prefix}-{kind.upper()}"]


def guideline(facts: Facts) -> str:
    """Return the sentence naming the guideline a regimen follows where guidelines differ (§8)."""
    return say(facts, "common.guideline")


def regimen_words(facts: Facts, chosen: orders.Regimen) -> str:
    """Return a regimen in words with the guideline it follows; never an adult dose for a child.

    Cards that still fire for children (folate-before-b12, nitrous-oxide, maintenance-overdue,
    cyanocobalamin-safety) name the treatment without a dose (§7.0 under-16 guard).
    """
    if facts.is_child:
        return say(facts, "common.regimen.child", age=facts.settings.age_min_adult)
    return say(facts, "common.regimen.adult", regimen=chosen.words, guideline=guideline(facts))


def regimen_source(facts: Facts) -> str:
    """Return the source tag of regimen cards: S-CKS in uk, S-US-DOSE in us.

    §11.4 (over §7.0): the 1000 mcg US regimens are US practice [V2] S-US-DOSE, not the FDA
    label, whose own regimen is 100 mcg [V] S-FDA-CN.
    """
    return "S-US-DOSE" if facts.profile is Profile.US else "S-CKS"


def card_sources(facts: Facts, sources: Sequence[str]) -> list[str]:
    """Return a card's sources in citing order for the profile: its own country's first (§11.4).

    The first is the card's `source`: a UK source in uk and a US one in us wherever the card
    cites one; otherwise the rule's best available (its first listed) stays first.
    """
    return ordered(sources, facts.profile.value)


def treatment(facts: Facts, kind: str, reasons: Iterable[str], recommended: bool = True) -> Offer:
    """Return the B12 regimen suggestion for the profile."""
    chosen = regimen(facts, kind)
    resource = orders.medication_request(chosen, facts.patient_id, tuple(reasons))
    return create(_order_label(facts, chosen), resource, recommended)


def folate_regimen(facts: Facts) -> orders.Regimen:
    """Return the folic acid template of the `folate_regimen` setting (§11.6): uk 5 mg daily for
    4 months [V2] S-CKS, us 1 mg daily [V2] S-US-DOSE."""
    return orders.REGIMENS[orders.FOLATE_REGIMENS[facts.settings.folate_regimen_choice]]


def folate_lines(facts: Facts) -> tuple[str, str] | None:
    """Return the evidence line and action of a combined B12 and folate deficiency (§11.6), or
    None when `b12_deficient` and `folate_low` (within `folate_days`) do not both hold.

    A child gets the action in words without a dose (§7.0 under-16 guard). `services.interact`
    removes both lines from a card that loses its B12 treatment suggestion to the owner card.
    """
    if not (facts.b12_deficient and facts.folate_low and facts.folate is not None):
        return None
    evidence = say(facts, "common.evidence.folate_low", result=facts.folate.describe())
    if facts.is_child:
        return evidence, say(facts, "common.action.folate_low_child")
    chosen = folate_regimen(facts)
    source_words = render(facts.profile, f"orders.regimen.{chosen.name}.source")
    action = say(facts, "common.action.folate_low", regimen=chosen.words, source=source_words)
    return evidence, action


def folate_offer(facts: Facts, reasons: Iterable[str]) -> Offer:
    """Return the folic acid suggestion of §11.6: not recommended, draft, oral, the
    `folate_regimen` template (product coded from order-codes `folic_acid_replacement`)."""
    chosen = folate_regimen(facts)
    resource = orders.medication_request(chosen, facts.patient_id, tuple(reasons))
    return create(_order_label(facts, chosen), resource, recommended=False)


def _order_label(facts: Facts, chosen: orders.Regimen) -> str:
    """Return the label of a regimen suggestion: "Order" and the regimen's first clause."""
    label = say(facts, "common.suggestion.order", what=chosen.words.split(",")[0])
    return label[:1].upper() + label[1:]


def lab_test(
    facts: Facts,
    name: str,
    reasons: Iterable[str] = (),
    recommended: bool | None = None,
    timing: dict[str, Any] | None = None,
) -> Offer:
    """Return a suggestion that orders a laboratory test from `order-codes.csv`."""
    resource = orders.service_request(
        name, facts.profile, facts.patient_id, tuple(reasons), timing=timing
    )
    label = say(facts, "common.suggestion.order", what=orders.order_label(name, facts.profile))
    return create(label, resource, recommended)


def referral(facts: Facts, name: str, urgent: bool, reasons: Iterable[str] = ()) -> Offer:
    """Return a referral suggestion (neurology 308474002, haematology 183567007)."""
    priority = "urgent" if urgent else "routine"
    resource = orders.service_request(
        name, facts.profile, facts.patient_id, tuple(reasons), priority=priority
    )
    label = orders.order_label(name, facts.profile)
    if urgent and not label.lower().startswith("urgent"):
        label = say(facts, "common.suggestion.urgent", what=f"{label[0].lower()}{label[1:]}")
    return create(label, resource, recommended=None)


def offer_regimen(facts: Facts, chosen: orders.Regimen, reasons: Iterable[str]) -> Offer:
    """Return a suggestion that orders a named regimen template (supplements, maintenance)."""
    resource = orders.medication_request(chosen, facts.patient_id, tuple(reasons))
    return create(_order_label(facts, chosen), resource, recommended=True)


def maintenance_regimen(facts: Facts) -> orders.Regimen:
    """Return the profile's IM maintenance template (§8): 2-monthly after neuro involvement (uk)."""
    if facts.profile is Profile.US:
        return orders.REGIMENS["MR-US-MAINT"]
    return orders.REGIMENS["MR-UK-MAINT-NEURO" if facts.neuro_history else "MR-UK-MAINT"]


def months_text(months: float) -> str:
    """Return an exposure length in words: "14 months", "3 years"."""
    if months >= 24:
        return render(Profile.UK, "common.exposure.years", years=int(months // 12))
    return render(Profile.UK, "common.exposure.months", months=int(months))


def risk_evidence(facts: Facts) -> list[str]:
    """Return evidence lines for neurological findings, anaemia and macrocytosis."""
    lines = [
        say(facts, "common.evidence.neuro", finding=f.describe()) for f in facts.neuro_findings
    ]
    if facts.anaemia and facts.haemoglobin is not None:
        lines.append(facts.haemoglobin.describe())
    lines += [
        say(facts, "common.evidence.condition", finding=f.describe())
        for f in facts.anaemia_conditions
    ]
    if facts.macrocytosis and facts.mcv is not None:
        lines.append(facts.mcv.describe())
    return lines


def no_recent_b12_line(facts: Facts) -> str:
    """Return the line saying there is no usable B12 result in the lookback (and the last one).

    A result in the lookback that could not be used is named with why, so the card never says
    "no B12 result" when one exists (clinical-rules §11.3).
    """
    older = facts.latest(Analyte.B12, Analyte.HOLOTC)
    since = facts.today - timedelta(days=facts.settings.b12_recent_days)
    unusable = [
        r.describe()
        for r in facts.results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC) and not r.usable and r.when >= since
    ]
    return say(
        facts,
        "common.evidence.no_recent_b12",
        days=facts.settings.b12_recent_days,
        older=older.describe() if older is not None else "",
        unusable=unusable,
    )


def pregnancy_lines(facts: Facts) -> list[str]:
    """Return the pregnancy evidence (the Conditions that make the patient pregnant)."""
    return [f.describe() for f in facts.pregnancy]


def evidence_lines(card: Card) -> list[str]:
    """Return the evidence lines of a card built by `detail` (its "Evidence" section)."""
    lines = []
    for line in card.detail.split("\n\n", 1)[0].splitlines()[1:]:
        if line.startswith("- "):
            lines.append(line[2:])
    return lines


def b12_evidence(facts: Facts, pernicious_anaemia: bool = True) -> list[str]:
    """Return the evidence lines for B12 deficiency (or its absence) that cards show.

    `pernicious_anaemia` off leaves out the pernicious anaemia lines, for a card that names the
    cause on record in a line of its own (§11.11).
    """
    lines = []
    first = facts.b12_first_line
    if first is not None:
        lines.append(first.describe())
        if facts.holotc_used is not None:
            lines.append(facts.holotc_used.describe())
        if facts.b12_status_reason in (StatusBasis.MMA_RAISED, StatusBasis.MMA_NORMAL):
            if facts.mma is not None:
                strong_limit = facts.settings.mma_strong_above_umol_l
                strong = facts.mma.canonical is not None and facts.mma.canonical > strong_limit
                # the limit in the unit the lab sent, as the band is (§11.3)
                sent = units.from_canonical(facts.mma.analyte, strong_limit, facts.mma.unit)
                unit = units.normalise_unit(facts.mma.unit) if sent is not None else "umol/L"
                lines.append(
                    say(
                        facts,
                        "common.evidence.mma",
                        mma=facts.mma.describe(),
                        basis=facts.b12_status_basis,
                        strong=fmt_number(sent if sent is not None else strong_limit)
                        if strong
                        else "",
                        unit=display_unit(unit or "umol/L"),
                    )
                )
        elif facts.b12_status_reason in (
            StatusBasis.HOMOCYSTEINE_RAISED,
            StatusBasis.HOMOCYSTEINE_NORMAL,
        ):
            if facts.homocysteine is not None:
                lines.append(
                    say(
                        facts,
                        "common.evidence.homocysteine",
                        homocysteine=facts.homocysteine.describe(),
                        basis=facts.b12_status_basis,
                    )
                )
    for unusable in facts.unusable_first_line:
        if first is None or unusable.when >= first.when:
            lines.append(say(facts, "common.evidence.unusable", result=unusable.describe()))
    excluded = [r for r in facts.excluded_first_line if first is None or r.when >= first.when]
    for result in excluded:  # why a result was not used, once (§11.3)
        lines.append(
            say(
                facts,
                "common.evidence.excluded",
                name=result.name,
                value=result.value_text(),
                date=fmt_date(result.when),
                days=result.days_after_injection,
            )
        )
    listed: set[str] = set()
    for key, findings in (
        (
            "common.evidence.pernicious_anaemia",
            facts.pernicious_anaemia if pernicious_anaemia else (),
        ),
        ("common.evidence.condition", facts.deficiency_conditions),
    ):
        for finding in findings:  # the same Condition once in a card's evidence (§11.3)
            if finding.ref and finding.ref in listed:
                continue
            listed.add(finding.ref)
            lines.append(say(facts, key, finding=finding.describe()))
    if facts.b12_status is B12Status.UNKNOWN and not facts.unusable_first_line and not excluded:
        lines.append(say(facts, "common.evidence.no_b12_12_months"))
    return lines


def b12_evidence_refs(facts: Facts) -> list[str]:
    """Return the references of the B12 evidence (for uuids and reasonReference)."""
    refs = [
        r.ref
        for r in (facts.b12_first_line, facts.holotc_used, facts.mma, facts.homocysteine)
        if r is not None and r.ref
    ]
    refs += [f.ref for f in (*facts.pernicious_anaemia, *facts.deficiency_conditions) if f.ref]
    return list(dict.fromkeys(refs))  # a Condition that is two kinds of evidence, once (§11.3)


def detail(
    facts: Facts,
    evidence: Sequence[str],
    actions: Sequence[str],
    caveats: Sequence[str],
    sources: Sequence[str],
) -> str:
    """Return Markdown detail: the evidence used, what to do, caveats, sources.

    Every part is already in the site's wording (§8): the rules' and `common.toml`'s messages.
    The sources are cited in the profile's order (`card_sources`), the card's source first.
    """
    shown = list(dict.fromkeys(evidence))  # a line (the same Condition, result) once (§11.3)
    parts = [say(facts, "common.detail.evidence"), *[f"- {line}" for line in shown]]
    if actions:
        parts += ["", say(facts, "common.detail.actions"), *[f"- {line}" for line in actions]]
    if caveats:
        parts += ["", *caveats]
    cited = "; ".join(
        f"[{source(tag).label}]({source(tag).url})" for tag in card_sources(facts, sources)
    )
    parts += ["", say(facts, "common.detail.sources", cited=cited)]
    return "\n".join(parts)


def card(
    facts: Facts,
    rule_id: str,
    title: str,
    indicator: Indicator,
    summary: str,
    body: str,
    evidence_refs: Iterable[str],
    sources: Sequence[str],
    offers: Sequence[Offer] = (),
) -> Card:
    """Return a card with deterministic uuids for it and its suggestions.

    `sources` are the rule's sources for this card, best first; the card's `source` is the first
    of them in the profile's order (`card_sources`, §11.4), the one its detail cites first.
    Every card carries its rule's `OVERRIDE_REASONS` in the profile's wording (`overrides`).
    """
    uid = card_uuid(rule_id, facts.patient_id, [indicator.value, *evidence_refs])
    if f"common.title.{rule_id}" in MESSAGES:
        title = say(facts, f"common.title.{rule_id}")
    reference = source(card_sources(facts, sources)[0])
    suggestions = tuple(
        Suggestion(
            label=offer.label,
            uuid=deterministic_uuid(uid, offer.label, offer.action.resourceId or ""),
            isRecommended=offer.recommended,
            actions=(offer.action,),
        )
        for offer in offers
    )
    return Card(
        uuid=uid,
        summary=summary,
        detail=body,
        indicator=indicator,
        source=Source(
            label=reference.label,
            url=reference.url,
            topic=Coding(system=TOPIC_SYSTEM, code=rule_id, display=title),
        ),
        suggestions=suggestions,
        selectionBehavior="any" if suggestions else None,
        overrideReasons=overrides.codings(facts.profile, rule_id),
    )
