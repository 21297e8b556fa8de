"""Reading a chart once: parse the wanted resources, group them by type, find drafts and focus."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

from cards import terminology as vs
from cards import text
from cards.facts.conditions import _who_as_cm
from cards.facts.model import Chart
from cards.facts.model import Hook
from cards.resources import parse_all
from cards.resources import raw_codes
from cards.resources import ref
from cards.settings import Settings


@dataclass(frozen=True, slots=True)
class ChartResources:
    """A chart's resources parsed once: by type, the drafts, the focus, the Medication bundle."""

    by_type: Mapping[str, list[Any]]
    draft_models: list[Any]
    draft_refs: set[str]
    focus_refs: set[str]
    bundle: Mapping[str, Any]
    raw_drafts: Mapping[str, Mapping[str, Any]]
    unreadable: int

    def of(self, kind: str) -> list[Any]:
        """Return the parsed resources of one type (drafts excluded)."""
        return self.by_type.get(kind, [])


def read_chart(chart: Chart, today: date, s: Settings) -> ChartResources:
    """Return the chart's resources parsed, once each, and grouped by type."""
    oldest = today - timedelta(days=s.review_max_days + s.b12_status_days)
    parsed, unreadable = parse_all(chart.resources, _Wanted(oldest.isoformat(), s))
    drafted, draft_unreadable = parse_all(chart.draft_orders)
    raw_drafts = {
        f"{r.get('resourceType')}/{r.get('id')}": r
        for r in chart.draft_orders
        if isinstance(r, Mapping) and r.get("id")
    }
    models: list[Any] = list(parsed)
    draft_models: list[Any] = list(drafted)
    draft_refs = {ref(m) for m in draft_models if ref(m)}
    if chart.hook is Hook.ORDER_SELECT:
        focus_refs = {_selection_ref(sel) for sel in chart.selections}
    elif chart.hook is Hook.ORDER_SIGN:
        focus_refs = set(draft_refs)
    else:
        focus_refs = set()
    # A draft the EHR also put in a prefetch search is read once, as a draft.
    models = [m for m in models if not (ref(m) and ref(m) in draft_refs)]
    by_type: dict[str, list[Any]] = {}
    for model in models:
        by_type.setdefault(model.get_resource_type(), []).append(model)
    bundle = {ref(m): m for m in [*models, *draft_models] if m.get_resource_type() == "Medication"}
    return ChartResources(
        by_type=by_type,
        draft_models=draft_models,
        draft_refs=draft_refs,
        focus_refs=focus_refs,
        bundle=bundle,
        raw_drafts=raw_drafts,
        unreadable=unreadable + draft_unreadable,
    )


_LAB_LOINC = frozenset(vs.OBSERVATION_LOINC_CODES)
# Every non-laboratory value set (a new one is included by being loaded); a Condition with none
# of these codes matters only through a text rule of §2.7, checked on its text.
_CONDITION_SETS = functools.reduce(
    operator.or_,
    (s for name, s in vs.VALUE_SETS.items() if not name.endswith("-loinc")),
)
_CONDITION_WORDS = (
    *text.NEURO_FINDING_WORDS,
    *text.VEGAN_WORDS,
    *text.N2O_EXPOSURE_WORDS,
    *text.OPTIC_ATROPHY_WORDS,
)


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A cheap look at a raw resource: can it matter to any rule? (Observations, Conditions.)

    Validating a resource with fhir.resources costs about 0.1 ms; a chart's vital signs, years-old
    results and unrelated problems never reach a rule, so they are never validated.
    """

    oldest: str  # ISO date: results older than every lookback of §4.3 cannot matter
    settings: Settings

    def __call__(self, resource: Mapping[str, Any]) -> bool:
        kind = resource.get("resourceType")
        if kind == "Observation":
            return self._observation(resource)
        if kind == "Condition":
            return self._condition(resource)
        return True

    def _observation(self, resource: Mapping[str, Any]) -> bool:
        site_code = self.settings.ileal_length_code
        if site_code and any(
            f"{system}|{code}" == site_code for system, code in raw_codes(resource.get("code"))
        ):
            return True  # a resection length is read whatever its age (§7.14)
        when = resource.get("effectiveDateTime") or resource.get("issued")
        period = resource.get("effectivePeriod")
        if not when and isinstance(period, Mapping):
            when = period.get("start")
        if isinstance(when, str) and len(when) >= 10 and when[:10] < self.oldest:
            return False
        if resource.get("valueCodeableConcept"):
            return True  # a coded finding
        loinc = [code for system, code in raw_codes(resource.get("code")) if system == vs.LOINC]
        return not loinc or any(code in _LAB_LOINC for code in loinc)

    def _condition(self, resource: Mapping[str, Any]) -> bool:
        concept = resource.get("code")
        pairs = _who_as_cm(raw_codes(concept), self.settings)
        if any(_CONDITION_SETS.contains(system, code) for system, code in pairs):
            return True
        words: list[str] = []
        if isinstance(concept, Mapping):
            words.append(str(concept.get("text") or ""))
            words += [
                str(c.get("display") or "")
                for c in concept.get("coding") or ()
                if isinstance(c, Mapping)
            ]
        return text.has_phrase(text.normalise(" ".join(words)), _CONDITION_WORDS) is not None


def _selection_ref(selection: str) -> str:
    """Return 'Type/id' from a selection, which may be relative or absolute."""
    parts = selection.split("/_history")[0].rstrip("/").split("/")
    return "/".join(parts[-2:])
