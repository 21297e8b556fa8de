"""The laboratory family: results, the refined B12 status, folate, blood count, baseline (§6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import timedelta
from typing import Any
from typing import TypedDict

from cards import labs
from cards.facts.conditions import Conditions
from cards.facts.medications import Medications
from cards.facts.model import B12Status
from cards.facts.model import Finding
from cards.facts.model import Marker
from cards.facts.model import Order
from cards.facts.model import StatusBasis
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_date
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render
from cards.wording import word


class LaboratoryFacts(TypedDict):
    """The facts of laboratory results, with the Conditions that results confirm or cancel."""

    results: tuple[LabResult, ...]
    b12_first_line: LabResult | None
    unusable_first_line: tuple[LabResult, ...]
    excluded_first_line: tuple[LabResult, ...]
    b12_status: B12Status
    b12_status_basis: str
    b12_status_reason: StatusBasis
    holotc_used: LabResult | None
    mma: LabResult | None
    homocysteine: LabResult | None
    mma_state: Marker
    homocysteine_state: Marker
    egfr: LabResult | None
    renal_flag: bool
    mma_renal_confounded: bool
    homocysteine_confounded: bool
    deficiency_conditions: tuple[Finding, ...]
    pernicious_anaemia: tuple[Finding, ...]
    b12_deficient: bool
    haemoglobin: LabResult | None
    mcv: LabResult | None
    anaemia: bool
    macrocytosis: bool
    folate: LabResult | None
    folate_low: bool
    baseline: tuple[LabResult, ...]
    anaemia_at_start: bool
    deficient_at_start: bool
    b12_recent: LabResult | None
    mma_recent: LabResult | None


def read_laboratory(
    observations: Sequence[Any],
    patient: labs.Patient,
    meds: Medications,
    conditions: Conditions,
    today: date,
    s: Settings,
) -> LaboratoryFacts:
    """Return the laboratory facts of a chart's Observations."""
    results = tuple(labs.read_results(observations, patient, today, s))
    m = meds.facts
    injection_dates = meds.injection_dates
    status = _b12_status(results, injection_dates, today, s, m["orders"], m["drafts"])
    pa = conditions.pernicious_anaemia
    pa += _positive_ifab(results, injection_dates, s)
    deficiency_conditions = tuple(
        f for f in conditions.deficiency if not _cancelled_by_normal(f, status.first_line)
    )
    b12_deficient = status.status is B12Status.DEFICIENT or bool(pa) or bool(deficiency_conditions)

    haemoglobin = labs.current(
        results, [Analyte.HAEMOGLOBIN], since=today - timedelta(days=s.blood_count_days)
    )
    mcv = labs.current(results, [Analyte.MCV], since=today - timedelta(days=s.blood_count_days))
    anaemia_conditions = conditions.facts["anaemia_conditions"]
    folate = _low_folate(results, today, s)

    baseline_day = m["therapy_start_date"] or m["any_therapy_start_date"]
    baseline, anaemia_at_start = _baseline(results, baseline_day, anaemia_conditions, s, patient)
    deficient_at_start = bool(pa or deficiency_conditions) or (
        baseline_day is not None
        and _b12_status(
            [r for r in results if r.when <= baseline_day],
            injection_dates,
            baseline_day,
            s,
            (),
            (),
        ).status
        is B12Status.DEFICIENT
    )
    recent_since = today - timedelta(days=s.b12_recent_days)
    renal = status.renal_flag
    hcy_confounded = status.homocysteine_raised and (
        renal or folate is not None and folate.klass is Klass.LOW or m["methotrexate_active"]
    )
    return {
        "results": results,
        "b12_first_line": status.first_line,
        "unusable_first_line": status.unusable,
        "excluded_first_line": status.excluded,
        "b12_status": status.status,
        "b12_status_basis": status.basis,
        "b12_status_reason": status.reason,
        "holotc_used": status.holotc,
        "mma": status.mma,
        "homocysteine": status.homocysteine,
        "mma_state": status.mma_state,
        "homocysteine_state": status.homocysteine_state,
        "egfr": status.egfr,
        "renal_flag": renal,
        "mma_renal_confounded": status.mma_renal_confounded,
        "homocysteine_confounded": hcy_confounded,
        "deficiency_conditions": deficiency_conditions,
        "pernicious_anaemia": pa,
        "b12_deficient": b12_deficient,
        "haemoglobin": haemoglobin,
        "mcv": mcv,
        "anaemia": (haemoglobin is not None and haemoglobin.klass is Klass.LOW)
        or bool(anaemia_conditions),
        "macrocytosis": mcv is not None and mcv.klass is Klass.HIGH,
        "folate": folate,
        "folate_low": folate is not None and folate.klass is Klass.LOW,
        "baseline": baseline,
        "anaemia_at_start": anaemia_at_start,
        "deficient_at_start": deficient_at_start,
        "b12_recent": labs.current(results, [Analyte.B12, Analyte.HOLOTC], since=recent_since),
        "mma_recent": labs.current(results, [Analyte.MMA], since=recent_since),
    }


def _cancelled_by_normal(finding: Finding, first_line: LabResult | None) -> bool:
    """A deficiency Condition is cancelled by a later normal first-line result (§6.2)."""
    return (
        first_line is not None
        and first_line.klass is Klass.NORMAL
        and finding.when is not None
        and first_line.when > finding.when
    )


def _positive_ifab(
    results: Sequence[LabResult], parenteral: Sequence[date], settings: Settings
) -> tuple[Finding, ...]:
    return tuple(
        Finding(r.ref, _ifab_name(r, settings), r.when, profile=settings.profile)
        for r in results
        if r.analyte is Analyte.INTRINSIC_FACTOR_AB
        and r.klass is Klass.POSITIVE
        and not _post_injection(r.when, parenteral, settings)
    )


def _ifab_name(result: LabResult, settings: Settings) -> str:
    return render(
        settings.profile, "common.evidence_parts.ifab_positive", date=fmt_date(result.when)
    )


def _post_injection(when: date, parenteral: Sequence[date], settings: Settings) -> bool:
    """Return whether a result was drawn ≤ 14 days after a parenteral B12 dose [V] S-MAYO-B12."""
    return _days_after_injection(when, parenteral, settings) is not None


def _days_after_injection(when: date, parenteral: Sequence[date], settings: Settings) -> int | None:
    """Return the days since the latest parenteral dose within the exclusion window, or None."""
    gaps = [
        (when - d).days
        for d in parenteral
        if 0 <= (when - d).days <= settings.post_injection_exclusion_days
    ]
    return min(gaps) if gaps else None


def _low_folate(results: Sequence[LabResult], today: date, settings: Settings) -> LabResult | None:
    """Return the low current folate (serum, red-cell, whole-blood; 90 days), else the latest."""
    since = today - timedelta(days=settings.folate_days)
    latest = [
        labs.current(results, [a], since=since)
        for a in (Analyte.FOLATE_SERUM, Analyte.FOLATE_RBC, Analyte.FOLATE_BLOOD)
    ]
    present = [r for r in latest if r is not None]
    low = [r for r in present if r.klass is Klass.LOW]
    if low:
        return max(low, key=lambda r: r.when)
    return max(present, key=lambda r: r.when) if present else None


def _baseline(
    results: Sequence[LabResult],
    start: date | None,
    anaemia_conditions: Sequence[Finding],
    settings: Settings,
    patient: labs.Patient,
) -> tuple[tuple[LabResult, ...], bool]:
    """Return the baseline blood count before therapy start and whether it showed anaemia (§6.2)."""
    if start is None:
        return (), False
    since = start - timedelta(days=settings.blood_count_days)
    found = [
        r
        for a in (Analyte.HAEMOGLOBIN, Analyte.MCV, Analyte.HAEMATOCRIT, Analyte.RETICULOCYTES_PCT)
        if (r := labs.current(results, [a], since=since, until=start)) is not None
    ]
    abnormal = any(
        (r.analyte is Analyte.HAEMOGLOBIN and r.klass is Klass.LOW)
        or (r.analyte is Analyte.MCV and r.klass is Klass.HIGH)
        for r in found
    )
    return tuple(found), abnormal or bool(anaemia_conditions)


@dataclass(frozen=True, slots=True)
class _Status:
    status: B12Status
    reason: StatusBasis
    basis: str
    first_line: LabResult | None
    unusable: tuple[LabResult, ...]
    excluded: tuple[LabResult, ...]
    holotc: LabResult | None
    mma: LabResult | None
    homocysteine: LabResult | None
    mma_state: Marker
    homocysteine_state: Marker
    egfr: LabResult | None
    renal_flag: bool
    mma_renal_confounded: bool
    homocysteine_raised: bool


def _marker(result: LabResult | None) -> Marker:
    if result is None:
        return Marker.NONE
    return Marker.RAISED if result.klass is Klass.HIGH else Marker.NORMAL


def _b12_status(
    results: Sequence[LabResult],
    parenteral: Sequence[date],
    today: date,
    s: Settings,
    orders: Sequence[Order],
    drafts: Sequence[Order],
) -> _Status:
    """Return the first-line result and the refined B12 status (§4.1 post-injection, §6.2)."""
    since = today - timedelta(days=s.b12_status_days)
    first_line_results = [
        r
        for r in results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC)
        and since <= r.when <= today
        and not _post_injection(r.when, parenteral, s)
    ]
    first = labs.current(first_line_results, [Analyte.B12, Analyte.HOLOTC])
    unusable = tuple(r for r in first_line_results if not r.usable)
    # A result the post-injection rule set aside says so on the card that would have used it
    # (clinical-rules §11.3: "B12 520 ng/L on 30 Nov not used: drawn 6 days after an injection").
    excluded = tuple(
        replace(r, days_after_injection=days)
        for r in results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC)
        and r.usable
        and since <= r.when <= today
        and (days := _days_after_injection(r.when, parenteral, s)) is not None
    )
    window = timedelta(days=s.functional_days)
    anchor = first.when if first is not None else today
    lo, hi = (anchor - window, anchor + window) if first is not None else (today - window, today)
    mma = labs.current(results, [Analyte.MMA, Analyte.MMA_URINE], since=lo, until=hi)
    if (
        mma is not None
        and mma.analyte is Analyte.MMA_URINE
        and mma.basis is labs.Basis.DEFAULT_BAND
    ):
        mma = None  # urine MMA only through the lab's flag or range (§2.2)
    hcy = labs.current(results, [Analyte.HOMOCYSTEINE], since=lo, until=hi)
    egfr = labs.current(results, [Analyte.EGFR], since=today - timedelta(days=s.egfr_days))
    renal = egfr is not None and egfr.klass is Klass.LOW
    mma_state, hcy_state = _marker(mma), _marker(hcy)
    renal_confounded = (
        renal
        and mma_state is Marker.RAISED
        and mma is not None
        and mma.canonical is not None
        and mma.canonical <= s.mma_renal_ceiling_umol_l
    )
    status, reason = B12Status.UNKNOWN, StatusBasis.NO_RESULT
    holotc_used = None
    if first is not None:
        status = {
            Klass.LOW: B12Status.DEFICIENT,
            Klass.INDETERMINATE: B12Status.INDETERMINATE,
        }.get(first.klass, B12Status.NORMAL)
        reason = StatusBasis.FIRST_LINE
    if status is B12Status.INDETERMINATE and first is not None and first.analyte is Analyte.B12:
        holotc = labs.current(
            results, [Analyte.HOLOTC], since=first.when - window, until=first.when + window
        )
        if holotc is not None and holotc.canonical is not None:
            holotc_used = holotc
            if holotc.canonical < s.holotc_deficient_below_pmol_l:
                status, reason = B12Status.DEFICIENT, StatusBasis.HOLOTC_LOW
            elif holotc.canonical > s.holotc_indeterminate_max_pmol_l:
                status, reason = B12Status.NORMAL, StatusBasis.HOLOTC_NORMAL
    if status is B12Status.INDETERMINATE and mma_state is not Marker.NONE:
        if mma_state is Marker.RAISED and not renal_confounded:
            status, reason = B12Status.DEFICIENT, StatusBasis.MMA_RAISED
        elif mma_state is Marker.NORMAL:
            status, reason = B12Status.NORMAL, StatusBasis.MMA_NORMAL
    elif status is B12Status.INDETERMINATE and hcy_state is not Marker.NONE:
        folate = _low_folate(results, today, s)
        methotrexate = any(o.medication.methotrexate for o in (*orders, *drafts))
        confounded = renal or (folate is not None and folate.klass is Klass.LOW) or methotrexate
        if hcy_state is Marker.RAISED and not confounded:
            status, reason = B12Status.DEFICIENT, StatusBasis.HOMOCYSTEINE_RAISED
        elif hcy_state is Marker.NORMAL:
            status, reason = B12Status.NORMAL, StatusBasis.HOMOCYSTEINE_NORMAL
    basis = render(
        s.profile,
        f"common.evidence_parts.b12_status.{reason.value}",
        **(
            {"name": first.name, "klass": word(s.profile, "klass", first.klass.name)}
            if first is not None
            else {}
        ),
    )
    return _Status(
        status=status,
        reason=reason,
        basis=basis,
        first_line=first,
        unusable=unusable,
        excluded=excluded,
        holotc=holotc_used,
        mma=mma,
        homocysteine=hcy,
        mma_state=mma_state,
        homocysteine_state=hcy_state,
        egfr=egfr,
        renal_flag=renal,
        mma_renal_confounded=renal_confounded,
        homocysteine_raised=hcy_state is Marker.RAISED,
    )
