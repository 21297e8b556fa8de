"""Clinical settings: every threshold, window and option the rules read, with its source.

Defaults follow `clinical-rules.md` (§4.3 windows, §5 thresholds, §8 site profiles). A site changes
them through configuration, never code. Source tags (S-NG239, S-FDA-CN, ...) are those of
clinical-rules §10.1; [V] verified, [V2] secondary source, [U] unverified engineering default.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields
from enum import StrEnum
from typing import Any


class Profile(StrEnum):
    """Site profile: regimens, products and card language (clinical-rules §8)."""

    UK = "uk"
    US = "us"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every tunable number the rules use; frozen so a rule cannot change it."""

    profile: Profile = Profile.UK  # §8: uk (BNF/NICE, the default) or us (FDA label / AAFP)

    # §5 default bands, used only when neither the lab flag nor its range decides (§4.2).
    b12_deficient_below_pg_ml: float = 180.0  # [V2] S-NG239, S-AAFP25
    b12_indeterminate_max_pg_ml: float = 350.0  # [V2] S-NG239 (180–350 inclusive)
    holotc_deficient_below_pmol_l: float = 25.0  # [V2] S-NG239
    holotc_indeterminate_max_pmol_l: float = 70.0  # [V2] S-NG239
    mma_raised_above_umol_l: float = 0.40  # [V] S-MAYO-MMA, S-UHN
    mma_renal_ceiling_umol_l: float = 0.50  # [V] S-NO-MMA: ≤ 0.50 with renal flag "possibly renal"
    mma_strong_above_umol_l: float = 0.72  # [V] S-NO-MMA (wording only)
    homocysteine_raised_above_umol_l: float = 15.0  # [V] S-ARUP-HCY, S-UMICH
    folate_serum_low_below_ng_ml: float = 3.0  # [V] S-LC-FOL
    folate_rbc_low_below_nmol_l: float = 340.0  # [V2] S-WHO-FOL
    potassium_low_below_mmol_l: float = 3.5  # [V] S-K
    potassium_critical_below_mmol_l: float = 3.0  # [V] S-K band; escalation point a rule choice
    hb_low_male_g_dl: float = 13.0  # [U] conventional cut-off, configurable
    hb_low_female_g_dl: float = 12.0  # [U] also used for unknown sex
    hb_low_pregnant_g_dl: float = 11.0  # [U]
    mcv_high_above_fl: float = 100.0  # [U]
    hct_response_below_pct: float = 35.0  # [V] S-FDA-CN
    retic_response_factor: float = 2.0  # [V] S-FDA-CN: ≥ 2 × the lab's upper reference limit
    egfr_renal_flag_below: float = 60.0  # [U] no verified cut-off

    # §4.3 windows and lookbacks.
    b12_status_days: int = 365  # §4.3 default
    functional_days: int = 90  # §4.3 default
    folate_days: int = 90  # §4.3 default
    blood_count_days: int = 90  # §4.3 default
    egfr_days: int = 365  # §4.3 default
    post_injection_exclusion_days: int = 14  # [V] S-MAYO-B12
    first_course_gap_days: int = 365  # §4.3 default
    potassium_watch_hours: int = 48  # [V] S-FDA-CN
    hypokalaemia_window_hours: int = 72  # §4.3 default
    hypokalaemia_card_days: int = 14  # §7.6: T ≤ start + 14 days
    hypokalaemia_baseline_days: int = 7  # §7.6 (b): low potassium before an OSign start
    response_first_day: int = 5  # [V] S-FDA-CN: days 5–7
    response_warning_day: int = 7  # [V] S-FDA-CN
    response_last_day: int = 28  # §4.3 default
    review_interval_weeks_uk: int = 12  # [V2] S-NG239 (3 months)
    review_interval_weeks_us: int = 8  # [V2] S-CKS (about 8 weeks)
    review_interval_weeks_pregnant: int = 4  # [V2] S-NG239 (1 month in pregnancy)
    review_followup_min_days: int = 28  # §7.20: an Hb/MCV ≥ 28 days after the start ends it
    review_max_days: int = 365  # §4.3 default
    oral_b12_window_days: int = 35  # §6.2: oral/nasal doses count as current for 35 days
    pregnancy_max_weeks: int = 42  # §4.3 default
    finding_max_days: int = 365  # §6.1: a finding Observation counts for 365 days
    b12_recent_days: int = 365  # §4.3 "no B12 result within 12 months" (metformin, PPI, ileal)
    maintenance_history_days: int = 730  # §4.3: a dose this recent means "on maintenance"
    exposure_gap_days: int = 90  # §4.3: a gap that breaks a run of metformin/PPI records
    uninformative_injection_days: int = 14  # [V] S-MAYO-B12, S-MAYO-IF: tests after an injection
    established_therapy_days: int = 90  # §7.21 (b): therapy this old is "established"

    # §7.17 maintenance intervals and grace, by product and profile (days).
    maint_uk_hydroxo_neuro_days: int = 61  # [V2] S-BNF: every 2 months with neuro involvement
    maint_uk_hydroxo_days: int = 92  # [V2] S-BNF: every 2-3 months (3 months + grace)
    maint_uk_hydroxo_grace_days: int = 14  # §7.17
    maint_monthly_days: int = 31  # [V] S-FDA-OH: monthly (cyanocobalamin; every IM product in us)
    maint_monthly_grace_days: int = 7  # §7.17
    maint_oral_supply_days: int = 35  # §7.17: oral/nasal supply ended more than 35 days ago
    maint_critical_lapse_days: int = 90  # §7.17: critical with neuro history beyond this lapse

    # §5 other numeric defaults.
    age_min_adult: int = 16  # [V2] S-NG239 scope
    folate_min_daily_mg: float = 0.0  # [V] S-FDA-CN says > 0.1 mg/day; all doses trigger by default
    prenatal_folate_max_daily_mg: float = 0.4  # §7.3 routine pregnancy supplementation exemption
    protective_folate_max_daily_mg: float = 5.0  # §11.5: up to 5 mg/day protects in pregnancy
    metformin_min_months: float = 4.0  # [V] S-AAFP17: > 4 months
    acid_suppression_min_months: float = 12.0  # [V] S-AAFP17: > 12 months
    acid_suppression_older_age: int = 75  # [V] S-AAFP17: > 75 years
    ileal_resection_cm: float = 20.0  # [V] S-ILEUM: >= 20 cm at risk
    bariatric_min_daily_ug: float = 350.0  # [V2] S-ASMBS: oral >= 350 ug/day is a supplement
    allow_oral_min_daily_mg: float = 1.0  # §7.16: oral >= 1000 ug/day when allow_oral_in_PA
    infant_max_age_years: int = 1  # §7.19 infant branch, §7.22 (c): under 1 year

    # Options (clinical-rules §2, §4.2, §7.3).
    use_lab_reference_first: bool = True  # §4.2: lab flag, then lab range; off only in tests
    indeterminate_band_over_lab_normal: bool = True  # §4.2: lab-normal B12 <= 350 stays grey
    e53_8_requires_b12_text: bool = True  # §2.4: E53.8 counts only when it names B12
    z90_49_requires_ileal_text: bool = True  # §2.4: Z90.49 is not ileum-specific
    match_icd10_who: bool | None = None  # §11.12 [U]: WHO ICD-10 as ICD-10-CM (uk on, us off)
    neuro_include_depression: bool = False  # §2.4: depression 35489007 as a neuro finding
    treat_folinic_as_folate: bool = False  # §2.5: folinic acid counts as folic acid (§10.3)
    treat_methylfolate_as_folate: bool = False  # §2.5: L-methylfolate counts as folic acid
    assume_folic_acid_in_prenatal_text: bool = True  # §2.7: "prenatal vitamin" holds folic acid
    assume_folic_acid_in_multivitamin_text: bool = False  # §2.7: plain "multivitamin" text
    combination_b12_counts_as_treatment: bool = False  # §2.7: multivitamin B12 as treatment
    folate_unknown_b12_mode: str = "always"  # §7.3: or "macrocytosis-only"
    folate_exemptions: tuple[str, ...] = ("methotrexate", "pemetrexed", "prenatal")  # §7.3
    oral_first_non_neuro: bool = False  # §8: oral first line (uk S-CKS dietary; us S-AAFP17)
    allow_oral_in_PA: bool = False  # noqa: N815 - clinical-rules name; BSH rec 5 [V] (selected)
    bariatric_regimen: str = "oral-1000"  # or "im-monthly" (§7.13; S-AAFP17, S-ASMBS)
    folate_regimen: str = "profile"  # §11.6 uk 5mg-4-months S-CKS, us 1mg-daily S-US-DOSE [V2]
    vegan_regimen: str = "weekly-2000"  # or "daily-10", "seed" [U] (§7.15; S-VEGAN [V2])
    ileal_length_code: str = ""  # "system|code" of a resection-length Observation [U], site-set
    cyanokit_min_dose_mg: float = 1000.0  # §2.5 (b): a hydroxocobalamin dose ≥ 1 g is an antidote
    plausibility_guard: bool = True  # §3 [U]: values outside plausible ranges are unusable

    def __post_init__(self) -> None:
        """Resolve the profile defaults a site has not set (None): `match_icd10_who` (§11.12)."""
        if self.match_icd10_who is None:
            # §11.12: UK records carry WHO ICD-10; read as ICD-10-CM by default in uk only.
            object.__setattr__(self, "match_icd10_who", self.profile is Profile.UK)

    @property
    def review_interval_weeks(self) -> int:
        """Return the profile's treatment review interval (outside pregnancy)."""
        if self.profile is Profile.US:
            return self.review_interval_weeks_us
        return self.review_interval_weeks_uk

    @property
    def folate_regimen_choice(self) -> str:
        """Return the folic acid regimen of §11.6: `folate_regimen`, or the profile's when it is
        "profile" (uk "5mg-4-months" [V2] S-CKS; us "1mg-daily" [V2] S-US-DOSE)."""
        if self.folate_regimen != "profile":
            return self.folate_regimen
        return "1mg-daily" if self.profile is Profile.US else "5mg-4-months"

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Settings:
        """Return settings with the given overrides; unknown names raise ValueError."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown clinical setting(s): {', '.join(unknown)}")
        coerced: dict[str, Any] = {}
        for name, value in values.items():
            default = getattr(cls(), name)
            if name == "profile":
                coerced[name] = Profile(str(value).lower())
            elif isinstance(default, bool):
                coerced[name] = _as_bool(name, value)
            elif isinstance(default, int | float):
                coerced[name] = type(default)(value)
            elif isinstance(default, tuple):
                coerced[name] = tuple(value)
            elif name in _CHOICES:
                coerced[name] = _choice(name, value)
            else:
                coerced[name] = value
        return cls(**coerced)  # not replace(): profile defaults resolve for the chosen profile


# Settings that take one of a few words; anything else is refused at start-up.
_CHOICES: dict[str, tuple[str, ...]] = {
    "folate_unknown_b12_mode": ("always", "macrocytosis-only"),
    "bariatric_regimen": ("oral-1000", "im-monthly"),
    "vegan_regimen": ("weekly-2000", "daily-10", "seed"),
    "folate_regimen": ("profile", "5mg-4-months", "1mg-daily"),
}


def _choice(name: str, value: Any) -> str:
    text = str(value).strip().lower()
    if text not in _CHOICES[name]:
        raise ValueError(
            f"setting {name} must be one of {', '.join(_CHOICES[name])}, not {value!r}"
        )
    return text


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"setting {name} must be true or false, not {value!r}")
