"""Laboratory results: which Observations count, unit normalisation and classification.

Implements clinical-rules §3 (units, plausibility, unknown units) and §4.1 (which results count,
superseding, the current result); §4.2 (classification precedence: the lab's interpretation, then
its reference range, then the configured default bands of §5) is `cards.classification.classify`.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from cards import terminology as vs
from cards import units
from cards.classification import Basis as Basis
from cards.classification import Klass as Klass
from cards.classification import Patient as Patient
from cards.classification import _instant
from cards.classification import _range_side
from cards.classification import _reported_result
from cards.classification import classify as classify
from cards.lab_basis import _basis_text
from cards.lab_basis import _same_number
from cards.lab_basis import display_unit as display_unit
from cards.lab_basis import fmt_number as fmt_number
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import has_unreadable_value
from cards.resources import ref
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render
from cards.wording import word


_USABLE_STATUSES = {"final": 2, "amended": 3, "corrected": 3, "preliminary": 1, "unknown": 0}
_LABELLED_STATUSES = {"preliminary", "unknown"}  # named on the card (common.evidence_parts.status)
_PARTS = "common.evidence_parts."

# Which analyte a LOINC code measures; order matters only for readability.
_ANALYTE_SETS: tuple[tuple[Analyte, vs.ValueSet], ...] = (
    (Analyte.B12, vs.SERUM_B12),
    (Analyte.HOLOTC, vs.HOLOTC),
    (Analyte.MMA, vs.MMA),
    (Analyte.MMA_URINE, vs.MMA_URINE),
    (Analyte.HOMOCYSTEINE, vs.HOMOCYSTEINE),
    (Analyte.FOLATE_SERUM, vs.FOLATE_SERUM),
    (Analyte.FOLATE_RBC, vs.FOLATE_RBC),
    (Analyte.FOLATE_BLOOD, vs.FOLATE_BLOOD),
    (Analyte.POTASSIUM, vs.POTASSIUM),
    (Analyte.HAEMOGLOBIN, vs.HAEMOGLOBIN),
    (Analyte.HAEMATOCRIT, vs.HAEMATOCRIT),
    (Analyte.MCV, vs.MCV),
    (Analyte.RETICULOCYTES_PCT, vs.RETICULOCYTES),
    (Analyte.EGFR, vs.EGFR),
    (Analyte.INTRINSIC_FACTOR_AB, vs.INTRINSIC_FACTOR_AB),
)
_RETIC_ABSOLUTE_LOINC = "14196-0"  # Reticulocytes [#/volume]: no conversion to % (§3)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_date(day: date) -> str:
    """Return a date as card text shows it: 19 Nov 2026."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class LabResult:
    """One usable-or-not laboratory result, normalised and classified."""

    analyte: Analyte
    ref: str
    code: str
    when: date
    issued: datetime | None
    status: str
    value: float | None  # as reported
    comparator: str | None
    unit: str | None  # as reported
    canonical: float | None  # in units.CANONICAL_UNIT[analyte]
    klass: Klass
    basis: Basis | None
    critical: bool = False
    lab_high: float | None = None  # upper reference limit, canonical (reticulocyte response)
    note: str = ""  # why a result is unusable
    basis_text: str = ""  # the flag, range or band that decided, for the card
    canonical_label: str = ""  # the canonical unit as the site reads it (ng/L in uk)
    at: float = 0.0  # effective time of day as a timestamp, for same-day ordering (§4.1)
    unreadable_value: bool = False  # NaN, Infinity or out of range as sent (§11.3)
    profile: Profile = Profile.UK  # the site's card language, for the test's name
    text_value: str = ""  # a valueString or valueCodeableConcept as sent (§11.3)
    same_time: str = ""  # the other results at the same time and why this one is used (§11.2)
    days_after_injection: int | None = None  # drawn this many days after a parenteral dose (§4.1)

    @property
    def usable(self) -> bool:
        """Return whether the result can drive a rule."""
        return self.klass is not Klass.UNUSABLE

    @property
    def name(self) -> str:
        """Return the test's short name in the site's wording (`cards/wording/common.toml`)."""
        return render(self.profile, f"common.lab.{self.analyte.value}")

    def value_text(self) -> str:
        """Return the value as reported, then converted: 95 pmol/L, about 129 ng/L (§11.3).

        A censored value keeps its comparator (<50 pg/mL) and a text or coded value is shown as
        the lab sent it (clinical-rules §11.3: never "no numeric value").
        """
        say = self._say
        if self.unreadable_value:
            return say("value.unreadable")
        if self.value is None:
            if self.text_value:
                return say("value.as_sent", text=self.text_value)
            return say("value.none")
        shown = self.reported_text()
        canonical_unit = units.CANONICAL_UNIT.get(self.analyte)
        if (
            self.canonical is not None
            and canonical_unit is not None
            and units.normalise_unit(self.unit or "") != canonical_unit
            and not _same_number(units.normalise_unit(self.unit or ""), canonical_unit)
        ):
            label = self.canonical_label or display_unit(canonical_unit)
            if units.normalise_unit(self.unit or "") != units.normalise_unit(label):
                shown = say(
                    "value.converted",
                    reported=shown,
                    value=fmt_number(self.canonical),
                    unit=label,
                )
        return shown

    def reported_text(self) -> str:
        """Return the number as reported, with its comparator and the unit sent: <50 pg/mL."""
        if self.value is None:
            return self.text_value
        unit = display_unit(self.unit) if self.unit else self._say("value.no_unit")
        return self._say(
            "value.reported",
            comparator=self.comparator or "",
            value=fmt_number(self.value),
            unit=unit,
        )

    def describe(self) -> str:
        """Return the evidence line a card shows: test, value, unit, date, basis and status."""
        details = []
        if self.basis is not None and self.klass is not Klass.UNUSABLE:
            basis = self.basis_text or word(self.profile, "basis", self.basis.name)
            details.append(
                self._say(
                    "lab_class", klass=word(self.profile, "klass", self.klass.name), basis=basis
                )
            )
        if self.note:
            details.append(self.note)
        if self.status in _LABELLED_STATUSES:
            details.append(self._say(f"status.{self.status}"))
        if self.same_time:
            details.append(self.same_time)
        return self._say(
            "lab_line",
            name=self.name,
            value=self.value_text(),
            date=fmt_date(self.when),
            details=details,
        )

    def _say(self, key: str, **values: Any) -> str:
        return render(self.profile, _PARTS + key, **values)


def analyte_of(code_concept: Any) -> tuple[Analyte, str] | None:
    """Return the analyte a LOINC-coded Observation measures and the matching code, if any."""
    pairs = [(system, code) for system, code, _ in codings(code_concept)]
    for analyte, value_set in _ANALYTE_SETS:
        for system, code in pairs:
            if value_set.contains(system, code):
                if analyte is Analyte.RETICULOCYTES_PCT and code == _RETIC_ABSOLUTE_LOINC:
                    return Analyte.RETICULOCYTES_ABS, code
                return analyte, code
    return None


def read_results(
    observations: Iterable[Any], patient: Patient, today: date, settings: Settings
) -> list[LabResult]:
    """Return every countable laboratory result, superseded ones removed, oldest first.

    The order does not depend on the order of the Observations (clinical-rules §11.2): every
    tie is broken by the §4.1 ties and then by the result's own content.
    """
    candidates: list[tuple[LabResult, tuple[str, ...], str]] = []
    for obs in observations:
        result = _read_one(obs, patient, today, settings)
        if result is not None:
            candidates.append(result)
    return _note_same_time(_drop_superseded(candidates))


def _text_value(obs: Any) -> str:
    """Return a valueString or valueCodeableConcept as the lab sent it, else ''."""
    if isinstance(obs.valueString, str) and obs.valueString.strip():
        return str(obs.valueString.strip())
    concept = obs.valueCodeableConcept
    if concept is not None:
        if concept.text:
            return str(concept.text)
        for _system, code, display in codings(concept):
            if display or code:
                return str(display or code)
    return ""


def _read_one(
    obs: Any, patient: Patient, today: date, settings: Settings
) -> tuple[LabResult, tuple[str, ...], str] | None:
    status = str(obs.status or "")
    if status not in _USABLE_STATUSES or obs.dataAbsentReason is not None:
        return None
    found = analyte_of(obs.code)
    if found is None:
        return None
    analyte, code = found
    when = (
        as_date(obs.effectiveDateTime)
        or as_date(getattr(obs.effectivePeriod, "start", None))
        or as_date(obs.issued)
    )
    if when is None or when > today:
        return None
    quantity = obs.valueQuantity
    value = (
        float(Decimal(quantity.value))
        if quantity is not None and quantity.value is not None
        else None
    )
    unit = (
        units.unit_of(quantity.code, quantity.unit, quantity.system)
        if quantity is not None
        else None
    )
    comparator = str(quantity.comparator) if quantity is not None and quantity.comparator else None
    unreadable_value = has_unreadable_value(quantity)
    klass, basis, critical, canonical, note = (
        (
            Klass.UNUSABLE,
            None,
            False,
            None,
            render(settings.profile, _PARTS + "unusable.unreadable"),
        )
        if unreadable_value  # no flag or range can vouch for a value that cannot be read
        else classify(
            obs, analyte, value, comparator, unit, patient.age_on(when), patient, settings
        )
    )
    if analyte is Analyte.INTRINSIC_FACTOR_AB and klass is Klass.UNUSABLE:
        reported = _reported_result(obs)  # positive/negative as a coded or text value (§4.1)
        if reported is not None:
            klass, basis, note = reported, Basis.LAB_FLAG, ""
    lab_high = _range_side(obs, analyte, unit, patient, when, "high")
    basis_text = _basis_text(
        obs, analyte, klass, basis, unit, value, comparator, canonical, patient, when, settings
    )
    result = LabResult(
        analyte=analyte,
        ref=ref(obs),
        code=code,
        when=when,
        issued=obs.issued if isinstance(obs.issued, datetime) else None,
        status=status,
        value=value,
        comparator=comparator,
        unit=unit or (quantity.unit if quantity is not None else None),
        canonical=canonical,
        klass=klass,
        basis=basis,
        critical=critical,
        lab_high=lab_high,
        note=note,
        basis_text=basis_text,
        at=_instant(obs.effectiveDateTime),
        canonical_label=display_unit(units.CANONICAL_UNIT.get(analyte, ""), settings),
        unreadable_value=unreadable_value,
        profile=settings.profile,
        text_value=_text_value(obs) if value is None else "",
    )
    identifiers = tuple(sorted(f"{i.system}|{i.value}" for i in obs.identifier or () if i.value))
    same_time = f"{code}|{obs.effectiveDateTime or when}"
    return result, identifiers, same_time


_SUPERSEDING = frozenset({"amended", "corrected"})


def _drop_superseded(
    candidates: list[tuple[LabResult, tuple[str, ...], str]],
) -> list[LabResult]:
    """Keep one result per superseded group, oldest first (§4.1 as revised by §11.2).

    Two results are one result reported twice when they share an `identifier`, or when they
    are for the same code at the same effective time and one of them is `amended`/`corrected`;
    the group keeps its best version (status, later issued, then content). Two results for the
    same test at the same time are otherwise two results, both kept: `current` chooses between
    them by the §4.1 ties, never by their order in the Bundle.
    """
    parent = list(range(len(candidates)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_identifier: dict[str, int] = {}
    by_time: dict[str, list[int]] = {}
    for i, (_result, identifiers, same_time) in enumerate(candidates):
        for identifier in identifiers:
            if identifier in by_identifier:
                parent[root(i)] = root(by_identifier[identifier])
            else:
                by_identifier[identifier] = i
        by_time.setdefault(same_time, []).append(i)
    for members in by_time.values():
        superseding = [i for i in members if candidates[i][0].status in _SUPERSEDING]
        for i in members if superseding else ():
            parent[root(i)] = root(superseding[0])
    best: dict[int, LabResult] = {}
    for i, (result, _identifiers, _same_time) in enumerate(candidates):
        group = root(i)
        current = best.get(group)
        if current is None or _rank(result) > _rank(current):
            best[group] = result
    return sorted(best.values(), key=_order_key)


def _rank(result: LabResult) -> tuple[int, float, tuple[int, float, str, str]]:
    """Which version of one result is kept: status, later issued, then content (§4.1)."""
    issued = result.issued.timestamp() if result.issued is not None else 0.0
    return (_USABLE_STATUSES[result.status], issued, _content(result))


_ABNORMALITY = {Klass.LOW: 2, Klass.HIGH: 2, Klass.POSITIVE: 2, Klass.INDETERMINATE: 1}


def _severity(result: LabResult) -> float:
    """Return how far a result lies to its abnormal side: lower for low, higher for high."""
    x = result.canonical if result.canonical is not None else result.value
    if x is None:
        return 0.0
    return -x if result.klass is Klass.LOW else x if result.klass is Klass.HIGH else 0.0


def _content(result: LabResult) -> tuple[int, float, str, str]:
    """The last ties: the more abnormal class, further on its abnormal side, then the content.

    The final members (value as reported, then the reference) only make the order total, so no
    answer depends on the order of the Bundle's entries (§11.2).
    """
    return (
        _ABNORMALITY.get(result.klass, 0),
        _severity(result),
        result.reported_text(),
        result.ref,
    )


def _order_key(
    result: LabResult,
) -> tuple[date, float, float, int, tuple[int, float, str, str]]:
    """Sort key for "the current result": effective time, later issued, status, more abnormal."""
    issued = result.issued.timestamp() if result.issued is not None else 0.0
    return (result.when, result.at, issued, _USABLE_STATUSES[result.status], _content(result))


def _note_same_time(results: list[LabResult]) -> list[LabResult]:
    """Name the other results of a test at the same time on the one that is used (§11.2).

    "two results at the same time: 410 and 150 pg/mL; the lower is used": the chosen result is
    the last of its group in the sorted order, the one `current` returns.
    """
    groups: dict[tuple[Analyte, date, float], list[int]] = {}
    for i, result in enumerate(results):
        if result.usable:
            groups.setdefault((result.analyte, result.when, result.at), []).append(i)
    noted = list(results)
    for members in groups.values():
        if len(members) < 2:
            continue
        group = [results[i] for i in members]
        chosen, runner_up = group[-1], group[-2]
        units_sent = {r.unit for r in group}
        same_unit = len(units_sent) == 1 and chosen.value is not None
        values = [
            (r.comparator or "") + fmt_number(r.value)
            if same_unit and r.value is not None
            else r.reported_text()
            for r in group
        ]
        noted[members[-1]] = replace(
            chosen,
            same_time=render(
                chosen.profile,
                _PARTS + "same_time",
                count=len(group),
                values=values,
                unit=display_unit(chosen.unit or "") if same_unit else "",
                which=_why_chosen(chosen, runner_up),
                status=chosen.status,
            ),
        )
    return noted


def _why_chosen(chosen: LabResult, other: LabResult) -> str:
    """Return which §4.1 tie chose a result over another at the same time."""
    if chosen.issued != other.issued:
        return "later-issued"
    if _USABLE_STATUSES[chosen.status] != _USABLE_STATUSES[other.status]:
        return "status"
    if _severity(chosen) != _severity(other) or chosen.klass is not other.klass:
        a, b = chosen.canonical, other.canonical
        if a is not None and b is not None and a != b:
            return "lower" if a < b else "higher"
        return "more-abnormal"
    return ""


def current(
    results: Sequence[LabResult],
    analytes: Iterable[Analyte],
    since: date | None = None,
    until: date | None = None,
) -> LabResult | None:
    """Return the latest usable result of the analytes within [since, until], or None."""
    wanted = set(analytes)
    chosen = None
    for result in results:  # oldest first, so the last match is the current one
        if result.analyte not in wanted or not result.usable:
            continue
        if since is not None and result.when < since:
            continue
        if until is not None and result.when > until:
            continue
        chosen = result
    return chosen


def concept_text(obs: Any) -> str:
    """Return the Observation's code name (for logs and cards)."""
    return concept_name(obs.code)
