"""Procedures and exposures: surgery, finding Observations, diet and nitrous oxide (§6.1, §7.14)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from typing import TypedDict

from cards import terminology as vs
from cards import text
from cards.facts.conditions import _Condition
from cards.facts.conditions import _finding
from cards.facts.conditions import _in_set
from cards.facts.conditions import _match_conditions
from cards.facts.model import Finding
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import ref
from cards.resources import texts
from cards.settings import Profile
from cards.settings import Settings


# §11.9: F18* (inhalant-related disorders) covers inhalants in general; an exposure found through
# any other code of `nitrous-oxide-exposure` (T59.0X*, 73891003, a site's code) or through the
# text names nitrous oxide itself.
_N2O_SPECIFIC: vs.ValueSet = vs.ValueSet(
    "nitrous-oxide-exposure-specific",
    tuple(c for c in vs.NITROUS_OXIDE_EXPOSURE.codes if not c.code.upper().startswith("F18")),
)


class FindingFacts(TypedDict):
    """The facts of procedures, finding Observations and the Conditions that match with them."""

    neuro_findings: tuple[Finding, ...]
    neuro_history: tuple[Finding, ...]
    gastrectomy: tuple[Finding, ...]
    bariatric: tuple[Finding, ...]
    ileal_resection: tuple[Finding, ...]
    ileal_resection_cm: float | None
    vegan: tuple[Finding, ...]
    n2o_exposure: tuple[Finding, ...]
    n2o_exposure_specific: tuple[Finding, ...]


def read_findings(
    procedures: Sequence[Any],
    observations: Sequence[Any],
    conditions: Sequence[_Condition],
    today: date,
    s: Settings,
) -> FindingFacts:
    """Return the findings of a chart: Procedures and Observations with the matching Conditions."""
    neuro_words = text.NEURO_FINDING_WORDS
    neuro_set = (
        vs.NEURO_FINDINGS | vs.DEPRESSION_CONDITIONS
        if s.neuro_include_depression
        else (vs.NEURO_FINDINGS)
    )
    neuro = _match_conditions(conditions, neuro_set, s, neuro_words) + _finding_observations(
        observations, neuro_set, neuro_words, today, s
    )
    neuro_history = neuro + tuple(
        f
        for f in _match_conditions(conditions, neuro_set, s, neuro_words, active_only=False)
        if not f.active
    )
    gastrectomy = _match_conditions(conditions, vs.GASTRECTOMY, s, active_only=False) + _procedures(
        procedures, vs.GASTRECTOMY, today, s.profile
    )
    # Surgical history counts whatever the Condition's clinical status (§6.1).
    bariatric = _match_conditions(conditions, vs.BARIATRIC_SURGERY, s, active_only=False)
    bariatric += _procedures(procedures, vs.BARIATRIC_SURGERY, today, s.profile)
    ileal = tuple(
        f
        for f in _match_conditions(conditions, vs.ILEAL_RESECTION, s, active_only=False)
        if _ileal_specific(f, conditions, s)
    ) + _procedures(procedures, vs.ILEAL_RESECTION, today, s.profile)
    return {
        "neuro_findings": neuro,
        "neuro_history": neuro_history,
        "gastrectomy": gastrectomy,
        "bariatric": bariatric,
        "ileal_resection": ileal,
        "ileal_resection_cm": _ileal_length(observations, s),
        "vegan": _vegan(conditions, observations, today, s),
        "n2o_exposure": _match_conditions(
            conditions, vs.NITROUS_OXIDE_EXPOSURE, s, text.N2O_EXPOSURE_WORDS
        )
        + _finding_observations(
            observations, vs.NITROUS_OXIDE_EXPOSURE, text.N2O_EXPOSURE_WORDS, today, s
        ),
        "n2o_exposure_specific": _match_conditions(
            conditions, _N2O_SPECIFIC, s, text.N2O_EXPOSURE_WORDS
        )
        + _finding_observations(observations, _N2O_SPECIFIC, text.N2O_EXPOSURE_WORDS, today, s),
    }


def _ileal_specific(finding: Finding, conditions: Sequence[_Condition], s: Settings) -> bool:
    """Return whether an ileal-resection match counts: Z90.49 only with ileal text (§2.4)."""
    for cond in conditions:
        if ref(cond.model) != finding.ref or not finding.ref:
            continue
        codes = {c.replace(".", "").upper() for _, c, _ in codings(cond.model.code)}
        other = [
            (sy, c)
            for sy, c, _ in codings(cond.model.code)
            if vs.ILEAL_RESECTION.contains(sy, c) and c.replace(".", "").upper() != "Z9049"
        ]
        if "Z9049" not in codes or other or not s.z90_49_requires_ileal_text:
            return True
        return (
            text.has_phrase(text.normalise(" ".join(texts(cond.model.code))), text.ILEAL_WORDS)
            is not None
        )
    return True


def _vegan(
    conditions: Sequence[_Condition], observations: Sequence[Any], today: date, s: Settings
) -> tuple[Finding, ...]:
    """Return vegan/vegetarian diet evidence: codes, or text not negated ("non-vegetarian")."""
    coded = _match_conditions(conditions, vs.VEGAN_VEGETARIAN_DIET, s)
    seen = {f.ref for f in coded}
    by_text = tuple(
        _finding(c, s.profile, by_text=True)
        for c in conditions
        if c.active
        and ref(c.model) not in seen
        and text.mentions_vegan(" ".join(texts(c.model.code)))
    )
    observed = tuple(
        f
        for f in _finding_observations(
            observations, vs.VEGAN_VEGETARIAN_DIET, text.VEGAN_WORDS, today, s
        )
        if not f.by_text or text.mentions_vegan(f.name)
    )
    return coded + by_text + observed


def _ileal_length(observations: Sequence[Any], s: Settings) -> float | None:
    """Return the resected ileal length in cm from the site's Observation code [U], if set."""
    if not s.ileal_length_code or "|" not in s.ileal_length_code:
        return None
    system, code = s.ileal_length_code.split("|", 1)
    latest: tuple[date, float] | None = None
    for obs in observations:
        if not any(sy == system and c == code for sy, c, _ in codings(obs.code)):
            continue
        quantity = obs.valueQuantity
        if quantity is None or quantity.value is None:
            continue
        factor = _CM_PER_UNIT.get(str(quantity.code or quantity.unit or "").strip().lower())
        when = as_date(obs.effectiveDateTime) or as_date(obs.issued) or date.min
        if factor is not None and (latest is None or when >= latest[0]):
            latest = (when, float(Decimal(quantity.value)) * factor)
    return latest[1] if latest is not None else None


_CM_PER_UNIT = {"cm": 1.0, "mm": 0.1, "m": 100.0}


def _finding_observations(
    observations: Sequence[Any],
    value_set: vs.ValueSet,
    words: Sequence[str],
    today: date,
    settings: Settings,
) -> tuple[Finding, ...]:
    """Return finding Observations (code or value in the set) recorded in the last 365 days."""
    found = []
    for obs in observations:
        if str(obs.status or "") not in ("final", "amended", "corrected", "preliminary"):
            continue
        when = as_date(obs.effectiveDateTime) or as_date(obs.issued)
        if when is None or (today - when).days > settings.finding_max_days or when > today:
            continue
        concepts = [obs.code, obs.valueCodeableConcept]
        if any(_in_set(c, value_set, settings) for c in concepts if c is not None):
            found.append(
                Finding(
                    ref(obs),
                    concept_name(obs.valueCodeableConcept) or concept_name(obs.code),
                    when,
                    profile=settings.profile,
                )
            )
        elif text.has_phrase(
            text.normalise(" ".join(t for c in concepts for t in texts(c))), words
        ):
            found.append(
                Finding(
                    ref(obs), concept_name(obs.code), when, by_text=True, profile=settings.profile
                )
            )
    return tuple(found)


def _procedures(
    models: Sequence[Any], value_set: vs.ValueSet, today: date, profile: Profile
) -> tuple[Finding, ...]:
    found = []
    for model in models:
        if model.status != "completed":
            continue
        when = as_date(model.performedDateTime) or as_date(
            getattr(model.performedPeriod, "start", None)
        )
        if when is not None and when > today:
            continue
        if any(value_set.contains(s, c) for s, c, _ in codings(model.code)):
            found.append(Finding(ref(model), concept_name(model.code), when, profile=profile))
    return tuple(found)
