"""R20 `treatment-response-review`: review the response once a course has had time to work.

clinical-rules §7.20. Review at 3 months (NG239; 1 month in pregnancy) [V2] S-NG239, or about
8 weeks [V2] S-CKS; blood indices usually recover within about 2 months [V] S-FDA-CN.

§11.7 (second edition): silent for an established lifelong course (`Facts.established_course`:
on a maintenance regimen, a lifelong indication recorded and the course on record started more
than 365 days before T), and silent when `maintenance-overdue` fires (cards/services.py).
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "treatment-response-review"
TITLE = "Review of the response to B12 treatment"
HOOKS = ("patient-view",)
SOURCES = ("S-NG239", "S-CKS", "S-FDA-CN")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "not-clinically-relevant",
    "record-incorrect",
    "will-review-later",
)
SETTINGS = (
    "review_interval_weeks_uk",
    "review_interval_weeks_us",
    "review_interval_weeks_pregnant",
    "review_followup_min_days",
    "review_max_days",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return info when treatment has run past the review interval with no follow-up count."""
    s = facts.settings
    start = facts.any_therapy_start_date
    if facts.hook is not Hook.PATIENT_VIEW or start is None or not facts.on_any_b12:
        return []
    if facts.established_course:  # §11.7: a review of a new course, not of lifelong maintenance
        return []
    weeks = s.review_interval_weeks_pregnant if facts.pregnant else s.review_interval_weeks
    elapsed = (facts.today - start).days
    followup_since = start + timedelta(days=s.review_followup_min_days)
    if (
        not (facts.deficient_at_start or facts.anaemia_at_start)
        or not weeks * 7 <= elapsed <= s.review_max_days
        or facts.latest(Analyte.HAEMOGLOBIN, Analyte.MCV, since=followup_since) is not None
    ):
        return []
    weeks_ago = elapsed // 7
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(facts.baseline)
    c.line("started", started=fmt_date(start), weeks=weeks_ago)
    c.evidence += [c.say("evidence.baseline", result=r.describe()) for r in facts.baseline]
    c.evidence += compose.b12_evidence(facts)[:1]
    c.act("review", "no_improvement")
    c.offers.append(compose.lab_test(facts, "blood_count", c.refs, recommended=True))
    refs = [*c.refs, start.isoformat()]
    sources = ["S-NG239", "S-CKS", "S-FDA-CN"]
    return [c.card(Indicator.INFO, "summary", sources, refs=refs, weeks=weeks_ago)]
