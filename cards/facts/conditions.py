"""The Conditions family: each Condition read once, matched against the value sets (§2.4, §6.1)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any
from typing import TypedDict

from cards import terminology as vs
from cards import text
from cards.facts.model import Finding
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import ref
from cards.resources import status_code
from cards.resources import texts
from cards.settings import Profile
from cards.settings import Settings
from cards.wording import render


_ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}
_EXCLUDED_VERIFICATION = {"refuted", "entered-in-error"}
_PROVISIONAL_VERIFICATION = {"provisional", "differential", "unconfirmed"}
# Anaemia members of b12-deficiency-conditions: every row except these (clinical-rules §2.4).
# A dietary cause of deficiency, for the oral option of b12-deficiency-untreated (§7.2, S-CKS):
# 267517008 "Vitamin B12 deficiency anaemia due to dietary causes" [V] S-PEDS, plus the diet set.
_DIETARY_B12 = vs.ValueSet(
    "dietary-b12-deficiency",
    tuple(c for c in vs.B12_DEFICIENCY_CONDITIONS.codes if c.code == "267517008"),
)
_NOT_ANAEMIA = frozenset({"190634004", "237934001", "1186880002", "420920007", "E538"})


@dataclass(frozen=True, slots=True)
class _Condition:
    model: Any
    active: bool
    provisional: bool
    when: date | None


def _conditions(models: Iterable[Any]) -> list[_Condition]:
    out = []
    for model in models:
        verification = status_code(model.verificationStatus)
        if verification in _EXCLUDED_VERIFICATION:
            continue
        clinical = status_code(model.clinicalStatus)
        abated = (
            model.abatementDateTime is not None
            or model.abatementPeriod is not None
            or (model.abatementAge is not None or model.abatementString is not None)
        )
        active = clinical in _ACTIVE_CLINICAL or (not clinical and not abated)
        when = (
            as_date(model.onsetDateTime)
            or as_date(getattr(model.onsetPeriod, "start", None))
            or as_date(model.recordedDate)
        )
        out.append(_Condition(model, active, verification in _PROVISIONAL_VERIFICATION, when))
    return out


def _who_as_cm(pairs: list[tuple[str, str]], settings: Settings) -> list[tuple[str, str]]:
    """Read WHO ICD-10 codes as ICD-10-CM when the site allows it (`match_icd10_who`, [U])."""
    if not settings.match_icd10_who:
        return pairs
    return [(vs.ICD10CM if s == vs.ICD10_WHO else s, c) for s, c in pairs]


def _in_set(
    concept: Any, value_set: vs.ValueSet, settings: Settings, extra_text: Sequence[str] = ()
) -> bool:
    """Return whether a concept has a coding in the set, honouring E53.8's text rule."""
    pairs = _who_as_cm([(s, c) for s, c, _ in codings(concept)], settings)
    for system, code in pairs:
        if not value_set.contains(system, code):
            continue
        normalised = code.replace(".", "").upper()
        if system == vs.ICD10CM and normalised == "E538" and settings.e53_8_requires_b12_text:
            if not text.has_phrase(
                text.normalise(" ".join([*texts(concept), *extra_text])), text.B12_TEXT_WORDS
            ):
                continue
        return True
    return False


def _finding(cond: _Condition, profile: Profile, by_text: bool = False) -> Finding:
    model = cond.model
    return Finding(
        ref=ref(model),
        name=concept_name(model.code) or render(profile, "common.evidence_parts.unnamed_condition"),
        when=cond.when,
        active=cond.active,
        provisional=cond.provisional,
        by_text=by_text,
        profile=profile,
    )


def _match_conditions(
    conditions: Sequence[_Condition],
    value_set: vs.ValueSet,
    settings: Settings,
    words: Sequence[str] = (),
    active_only: bool = True,
) -> tuple[Finding, ...]:
    found = []
    for cond in conditions:
        if active_only and not cond.active:
            continue
        if _in_set(cond.model.code, value_set, settings):
            found.append(_finding(cond, settings.profile))
        elif words and text.has_phrase(text.normalise(" ".join(texts(cond.model.code))), words):
            found.append(_finding(cond, settings.profile, by_text=True))
    return tuple(found)


def _is_non_anaemia(finding: Finding, conditions: Sequence[_Condition]) -> bool:
    """Return whether a matched anaemia Condition is only a non-anaemia B12 row (§2.4)."""
    for cond in conditions:
        if ref(cond.model) == finding.ref and finding.ref:
            codes = {c.replace(".", "").upper() for _, c, _ in codings(cond.model.code)}
            return bool(codes) and codes <= _NOT_ANAEMIA
    return False


class ConditionFacts(TypedDict):
    """The facts read from Conditions alone."""

    pregnancy: tuple[Finding, ...]
    pregnant: bool
    breastfeeding: tuple[Finding, ...]
    crohns_ileum: tuple[Finding, ...]
    optic_atrophy: tuple[Finding, ...]
    dietary_cause: bool
    anaemia_conditions: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Conditions:
    """The chart's Conditions, read once, with the evidence other families complete."""

    records: list[_Condition]
    pernicious_anaemia: tuple[Finding, ...]  # coded; the laboratory adds a positive antibody
    deficiency: tuple[Finding, ...]  # before a later normal result cancels one (laboratory)
    facts: ConditionFacts


def read_conditions(models: Iterable[Any], sex: str, today: date, s: Settings) -> Conditions:
    """Return the Condition facts and evidence of a chart."""
    conditions = _conditions(models)
    pregnancy = tuple(
        _finding(c, s.profile)
        for c in conditions
        if sex != "male"
        and c.active
        and _in_set(c.model.code, vs.PREGNANCY, s)
        and (c.when is None or c.when >= today - timedelta(weeks=s.pregnancy_max_weeks))
    )
    dietary = bool(
        _match_conditions(conditions, vs.VEGAN_VEGETARIAN_DIET | _DIETARY_B12, s)
    ) or any(c.active and text.mentions_vegan(" ".join(texts(c.model.code))) for c in conditions)
    anaemia_conditions = tuple(
        f
        for f in _match_conditions(conditions, vs.ANAEMIA_CONDITIONS, s)
        if not _is_non_anaemia(f, conditions)
    )
    return Conditions(
        records=conditions,
        pernicious_anaemia=_match_conditions(
            conditions, vs.PERNICIOUS_ANAEMIA_CONDITIONS, s, active_only=False
        ),
        deficiency=_match_conditions(conditions, vs.B12_DEFICIENCY_CONDITIONS, s),
        facts={
            "pregnancy": pregnancy,
            "pregnant": bool(pregnancy),
            "breastfeeding": (
                _match_conditions(conditions, vs.BREASTFEEDING, s) if sex != "male" else ()
            ),
            "crohns_ileum": _match_conditions(conditions, vs.CROHNS_ILEUM_CONDITIONS, s),
            "optic_atrophy": _match_conditions(
                conditions,
                vs.OPTIC_ATROPHY_CONDITIONS,
                s,
                text.OPTIC_ATROPHY_WORDS,
                active_only=False,
            ),
            "dietary_cause": dietary,
            "anaemia_conditions": anaemia_conditions,
        },
    )
