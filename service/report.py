"""The governance report (issue 12): what the service showed and what clinicians did with it.

`b12-cds report` reads the CARD_AUDIT and FEEDBACK tables (service/database.py) and prints, per
rule: cards shown (audit rows not snoozed), distinct patients, accepted (and which suggestion),
overridden (top reasons), cards without feedback, the acceptance rate with a 95% Wilson score
interval, repeat firings per patient, snoozed; and per ISO week the trend. Formats: one
self-contained HTML file (inline SVG charts from matplotlib), Markdown, or CSV (one row per rule
per week). Only counts are reported: no patient id, hash, comment or value.

Definitions (also in README, "Governance report"):
- A card is *shown* once per audit row that is not snoozed; the period filters on `shown_at`.
- Feedback belongs to the rule the audit knew (FEEDBACK.rule_id, else the audit row of its card
  uuid); the period filters on `outcome_at`. Feedback for a card no audit row names is counted
  apart, as "feedback for unknown cards".
- *No feedback*: distinct card uuids shown in the period that have no feedback item at all.
- *Acceptance rate*: accepted / (accepted + overridden) feedback items.
- The suggestion labels are not stored, so an accepted suggestion is named by its position on
  the card ("suggestion 1" is the first the card carried); a uuid the card did not carry is
  "not on the card".
- *Flag*: a rule whose override rate is at least FLAG_OVERRIDE_RATE (60%) over at least
  FLAG_MIN_FEEDBACK (20) feedback items is flagged in plain language.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.database import utc


FLAG_OVERRIDE_RATE = 0.6
FLAG_MIN_FEEDBACK = 20
TOP_REASONS = 5
Z_95 = 1.959963984540054
NO_REASON = "no reason given"
CSV_COLUMNS = (
    "rule_id",
    "iso_week",
    "cards_shown",
    "distinct_patients",
    "snoozed",
    "accepted",
    "overridden",
    "no_feedback",
    "acceptance_rate",
    "wilson_low",
    "wilson_high",
)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """Return the Wilson score interval of a proportion (None when there are no trials)."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    return max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator)


@dataclass
class Counts:
    """The counts of one rule, overall or in one week."""

    shown: int = 0
    snoozed: int = 0
    accepted: int = 0
    overridden: int = 0
    no_feedback: int = 0
    patients: set[str] = field(default_factory=set, repr=False)
    shown_cards: set[str] = field(default_factory=set, repr=False)

    @property
    def distinct_patients(self) -> int:
        return len(self.patients)

    @property
    def feedback(self) -> int:
        return self.accepted + self.overridden

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.feedback if self.feedback else None

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.feedback if self.feedback else None

    @property
    def wilson(self) -> tuple[float, float] | None:
        return wilson_interval(self.accepted, self.feedback)


@dataclass
class RuleReport:
    """Everything the report says about one rule."""

    rule_id: str
    total: Counts = field(default_factory=Counts)
    weeks: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    reasons: Counter[str] = field(default_factory=Counter)
    suggestions: Counter[str] = field(default_factory=Counter)
    patient_cards: Counter[str] = field(default_factory=Counter, repr=False)

    @property
    def cards_per_patient(self) -> float | None:
        patients = self.total.distinct_patients
        return self.total.shown / patients if patients else None

    @property
    def repeat_patients(self) -> int:
        """Patients shown this rule's cards more than once."""
        return sum(1 for n in self.patient_cards.values() if n > 1)

    @property
    def top_reasons(self) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]

    @property
    def flag(self) -> str | None:
        """A plain-language warning when clinicians mostly override this rule."""
        rate = self.total.override_rate
        if rate is None or self.total.feedback < FLAG_MIN_FEEDBACK or rate < FLAG_OVERRIDE_RATE:
            return None
        text = f"overridden {round(rate * 100)}% of the time"
        named = [(r, n) for r, n in self.top_reasons if r != NO_REASON]
        if not named:
            return text
        reason = named[0][0]
        return f"{text}, most often: {reason[:1].lower()}{reason[1:]}"


@dataclass
class Report:
    """The governance report for a period."""

    since: date | None
    until: date | None
    rules: list[RuleReport]
    weeks: list[str]
    unknown_feedback: int
    generated_at: datetime

    @property
    def total_shown(self) -> int:
        return sum(r.total.shown for r in self.rules)

    @property
    def total_feedback(self) -> int:
        return sum(r.total.feedback for r in self.rules)

    @property
    def flagged(self) -> list[RuleReport]:
        return [r for r in self.rules if r.flag]


def iso_week(value: datetime) -> str:
    year, week, _ = utc(value).isocalendar()
    return f"{year}-W{week:02d}"


def _reason(row: Any) -> str:
    display = (row.override_display or "").strip()
    if display:
        return display
    code = (row.override_code or "").strip()
    return code.replace("-", " ") if code else NO_REASON


def build(
    engine: Engine,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> Report:
    """Read the audit and feedback tables and count, per rule and per ISO week.

    `since` and `until` are inclusive UTC dates; either may be None (open).
    """
    start = datetime.combine(since, time.min, UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None

    def inside(value: datetime) -> bool:
        moment = utc(value)
        return (start is None or moment >= start) and (end is None or moment < end)

    audit_columns = (
        CARD_AUDIT.c.card_uuid,
        CARD_AUDIT.c.rule_id,
        CARD_AUDIT.c.suggestion_uuids,
        CARD_AUDIT.c.patient_hash,
        CARD_AUDIT.c.shown_at,
        CARD_AUDIT.c.snoozed,
    )
    feedback_columns = (
        FEEDBACK.c.card_uuid,
        FEEDBACK.c.outcome,
        FEEDBACK.c.accepted_suggestions,
        FEEDBACK.c.override_code,
        FEEDBACK.c.override_display,
        FEEDBACK.c.outcome_at,
        FEEDBACK.c.rule_id,
    )
    with engine.connect() as connection:
        audit = connection.execute(sa.select(*audit_columns).order_by(CARD_AUDIT.c.id)).all()
        feedback = connection.execute(sa.select(*feedback_columns).order_by(FEEDBACK.c.id)).all()

    card_rule: dict[str, str] = {}
    card_suggestions: dict[str, list[str]] = {}
    for row in audit:
        card_rule.setdefault(row.card_uuid, row.rule_id)
        card_suggestions.setdefault(row.card_uuid, list(row.suggestion_uuids or []))
    rules: dict[str, RuleReport] = {}

    def rule(rule_id: str) -> RuleReport:
        return rules.setdefault(rule_id, RuleReport(rule_id))

    for row in audit:
        if not inside(row.shown_at):
            continue
        found = rule(row.rule_id)
        week = found.weeks[iso_week(row.shown_at)]
        for counts in (found.total, week):
            if row.snoozed:
                counts.snoozed += 1
            else:
                counts.shown += 1
                counts.patients.add(row.patient_hash)
                counts.shown_cards.add(row.card_uuid)
        if not row.snoozed:
            found.patient_cards[row.patient_hash] += 1

    answered: set[str] = {item.card_uuid for item in feedback}
    unknown = 0
    for item in feedback:
        if not inside(item.outcome_at):
            continue
        rule_id = item.rule_id or card_rule.get(item.card_uuid)
        if rule_id is None:
            unknown += 1
            continue
        found = rule(rule_id)
        week = found.weeks[iso_week(item.outcome_at)]
        if item.outcome == "accepted":
            for counts in (found.total, week):
                counts.accepted += 1
            carried = card_suggestions.get(item.card_uuid, [])
            for uuid in item.accepted_suggestions or []:
                name = f"suggestion {carried.index(uuid) + 1}" if uuid in carried else None
                found.suggestions[name or "not on the card"] += 1
        else:
            for counts in (found.total, week):
                counts.overridden += 1
            found.reasons[_reason(item)] += 1

    for found in rules.values():
        for counts in (found.total, *found.weeks.values()):
            counts.no_feedback = len(counts.shown_cards - answered)
    weeks = sorted({w for r in rules.values() for w in r.weeks})
    return Report(
        since=since,
        until=until,
        rules=sorted(rules.values(), key=lambda r: (-r.total.shown, r.rule_id)),
        weeks=weeks,
        unknown_feedback=unknown,
        generated_at=now or datetime.now(UTC),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _interval(value: tuple[float, float] | None) -> str:
    return "-" if value is None else f"{value[0] * 100:.1f}–{value[1] * 100:.1f}%"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def to_csv(report: Report) -> str:
    """One row per rule per ISO week in which the rule fired or had feedback."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for found in sorted(report.rules, key=lambda r: r.rule_id):
        for week in sorted(found.weeks):
            counts = found.weeks[week]
            wilson = counts.wilson
            rate = counts.acceptance_rate
            writer.writerow(
                [
                    found.rule_id,
                    week,
                    counts.shown,
                    counts.distinct_patients,
                    counts.snoozed,
                    counts.accepted,
                    counts.overridden,
                    counts.no_feedback,
                    "" if rate is None else f"{rate:.4f}",
                    "" if wilson is None else f"{wilson[0]:.4f}",
                    "" if wilson is None else f"{wilson[1]:.4f}",
                ]
            )
    return out.getvalue()


def _period(report: Report) -> str:
    since = report.since.isoformat() if report.since else "the first record"
    until = report.until.isoformat() if report.until else "the last record"
    return f"{since} to {until}"


def _listing(pairs: list[tuple[str, int]] | Counter[str]) -> str:
    items = pairs.most_common() if isinstance(pairs, Counter) else pairs
    return "; ".join(f"{name} ({n})" for name, n in items) or "-"


def to_markdown(report: Report) -> str:
    """The report as Markdown tables."""
    lines = [
        "# b12-cds governance report",
        "",
        f"Period: {_period(report)}. Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.",
        f"{report.total_shown} cards shown, {report.total_feedback} feedback items, "
        f"{report.unknown_feedback} feedback items for cards the audit does not know.",
        "",
    ]
    if report.flagged:
        lines += ["## Flags", ""]
        lines += [f"- **{r.rule_id}**: {r.flag}" for r in report.flagged]
        lines.append("")
    lines += [
        "## Per rule",
        "",
        "| rule | shown | patients | cards/patient | repeat patients | accepted | overridden "
        "| no feedback | acceptance (95% CI) | snoozed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in report.rules:
        t = r.total
        lines.append(
            f"| {r.rule_id} | {t.shown} | {t.distinct_patients} | {_ratio(r.cards_per_patient)} "
            f"| {r.repeat_patients} | {t.accepted} | {t.overridden} | {t.no_feedback} "
            f"| {_percent(t.acceptance_rate)} ({_interval(t.wilson)}) | {t.snoozed} |"
        )
    lines += ["", "## Reasons and suggestions", ""]
    lines += ["| rule | top override reasons | accepted suggestions |", "|---|---|---|"]
    for r in report.rules:
        lines.append(f"| {r.rule_id} | {_listing(r.top_reasons)} | {_listing(r.suggestions)} |")
    lines += ["", "## Per week (cards shown / feedback items)", ""]
    lines.append("| rule | " + " | ".join(report.weeks) + " |")
    lines.append("|---|" + "---:|" * len(report.weeks))
    for r in report.rules:
        cells = []
        for week in report.weeks:
            c = r.weeks.get(week)
            cells.append(f"{c.shown} / {c.feedback}" if c else "0 / 0")
        lines.append(f"| {r.rule_id} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Flag: override rate at least {FLAG_OVERRIDE_RATE:.0%} over at least "
        f"{FLAG_MIN_FEEDBACK} feedback items. Acceptance = accepted / (accepted + overridden).",
        "",
    ]
    return "\n".join(lines)


def _svg(figure: Any) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]
    start, end = text.find("<metadata>"), text.find("</metadata>")  # RDF about the tool: drop it
    return text[:start] + text[end + len("</metadata>") :] if start >= 0 and end > start else text


def _charts(report: Report) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    matplotlib.rcParams.update(
        {"svg.fonttype": "none", "svg.hashsalt": "b12-cds", "font.family": "sans-serif"}
    )
    charts: dict[str, str] = {}
    x = range(len(report.weeks))
    shown = [sum(r.weeks[w].shown for r in report.rules if w in r.weeks) for w in report.weeks]
    accepted = [
        sum(r.weeks[w].accepted for r in report.rules if w in r.weeks) for w in report.weeks
    ]
    overridden = [
        sum(r.weeks[w].overridden for r in report.rules if w in r.weeks) for w in report.weeks
    ]
    figure, axis = plt.subplots(figsize=(7.5, 2.8))
    axis.bar(x, shown, color="#9ecae1", label="cards shown")
    axis.plot(x, accepted, color="#2ca02c", marker="o", label="accepted")
    axis.plot(x, overridden, color="#d62728", marker="o", label="overridden")
    axis.set_xticks(list(x), report.weeks, rotation=45, ha="right", fontsize=8)
    axis.set_ylabel("per ISO week")
    axis.legend(fontsize=8, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    charts["trend"] = _svg(figure)
    plt.close(figure)

    rated = [r for r in report.rules if r.total.feedback]
    if rated:
        figure, axis = plt.subplots(figsize=(7.5, 0.35 * len(rated) + 0.9))
        rates = [(r.total.acceptance_rate or 0.0) * 100 for r in rated]
        lows = [
            rate - r.total.wilson[0] * 100
            for rate, r in zip(rates, rated, strict=True)
            if r.total.wilson
        ]
        highs = [
            r.total.wilson[1] * 100 - rate
            for rate, r in zip(rates, rated, strict=True)
            if r.total.wilson
        ]
        y = range(len(rated))
        colours = ["#d62728" if r.flag else "#1f77b4" for r in rated]
        axis.barh(list(y), rates, xerr=[lows, highs], color=colours, capsize=2)
        axis.set_yticks(list(y), [r.rule_id for r in rated], fontsize=8)
        axis.invert_yaxis()
        axis.set_xlim(0, 100)
        axis.set_xlabel("acceptance rate, % (95% Wilson interval); red: flagged")
        axis.spines[["top", "right"]].set_visible(False)
        charts["acceptance"] = _svg(figure)
        plt.close(figure)
    return charts


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline SVG, no scripts, system fonts)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("service", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        period=_period(report),
        charts={k: jinja2.utils.markupsafe.Markup(v) for k, v in _charts(report).items()},
        percent=_percent,
        interval=_interval,
        ratio=_ratio,
        listing=_listing,
        flag_rate=f"{FLAG_OVERRIDE_RATE:.0%}",
        flag_min=FLAG_MIN_FEEDBACK,
    )


def render(report: Report, fmt: str) -> str:
    """Return the report in a format: html, md or csv."""
    if fmt == "csv":
        return to_csv(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"unknown report format {fmt!r}: html, md or csv")
