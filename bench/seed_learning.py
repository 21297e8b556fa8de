"""A deterministic synthetic learning-loop data set: CARD_AUDIT and FEEDBACK rows (issue 12).

`seed(engine, seed=12)` fills the tables with several weeks of cards over many rules and
patients, and feedback with realistic override reasons (the project's override-reason system,
the sibling of cards.model.TOPIC_SYSTEM). No real patient: the hashes are HMACs of synthetic ids.

    python -m bench.seed_learning sqlite:///seed.sqlite [--cards 6000 --feedback 1200 --seed 12]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import random
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cards.model import TOPIC_SYSTEM
from service import migrations
from service.database import CARD_AUDIT
from service.database import FEEDBACK


OVERRIDE_SYSTEM = TOPIC_SYSTEM.rsplit("/", 1)[0] + "/override-reason"
REASONS = (
    ("already-treated-elsewhere", "Already treated elsewhere"),
    ("result-not-current", "Result not current"),
    ("patient-declined", "Patient declined"),
    ("not-clinically-relevant", "Not clinically relevant"),
    ("will-review-later", "Will review later"),
)
# rule id -> (service, hook, indicator, how many suggestions, how often it is overridden)
RULES = {
    "b12-deficiency-untreated": ("b12-patient-view", "patient-view", "warning", 2, 0.45),
    "metformin-monitoring": ("b12-patient-view", "patient-view", "info", 1, 0.85),
    "folate-before-b12": ("b12-order-sign", "order-sign", "critical", 2, 0.2),
    "maintenance-overdue": ("b12-patient-view", "patient-view", "warning", 1, 0.55),
    "acid-suppression-monitoring": ("b12-order-select", "order-select", "info", 1, 0.75),
    "b12-test-uninformative": ("b12-order-select", "order-select", "warning", 2, 0.6),
    "vegan-diet-supplement": ("b12-patient-view", "patient-view", "info", 1, 0.3),
    "nitrous-oxide": ("b12-patient-view", "patient-view", "warning", 2, 0.4),
}
START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed(
    engine: Engine, seed: int = 12, cards: int = 6000, feedback: int = 1200, weeks: int = 8
) -> tuple[int, int]:
    """Fill CARD_AUDIT with `cards` rows and FEEDBACK with `feedback` rows; return both counts."""
    if feedback > cards:
        raise ValueError("cannot give more feedback items than cards")
    rng = random.Random(seed)
    key = rng.randbytes(32)
    patients = [
        hmac.new(key, f"synthetic-{n}".encode(), hashlib.sha256).hexdigest()
        for n in range(max(1, cards // 3))
    ]
    names = sorted(RULES)
    weights = [1 + i for i in range(len(names))]
    card_of: dict[tuple[str, str], tuple[str, list[str]]] = {}
    audit_rows = []
    for _ in range(cards):
        rule_id = rng.choices(names, weights)[0]
        service, hook, indicator, n_suggestions, _rate = RULES[rule_id]
        patient = rng.choice(patients)
        known = card_of.get((rule_id, patient))
        if known is None or rng.random() < 0.3:  # new evidence: a new card uuid
            known = (_uuid(rng), [_uuid(rng) for _ in range(n_suggestions)])
            card_of[(rule_id, patient)] = known
        shown_at = START + timedelta(seconds=rng.randrange(weeks * 7 * 86400))
        audit_rows.append(
            {
                "card_uuid": known[0],
                "rule_id": rule_id,
                "service": service,
                "hook": hook,
                "indicator": indicator,
                "suggestion_uuids": known[1],
                "hook_instance": _uuid(rng),
                "patient_hash": patient,
                "shown_at": shown_at,
                "snoozed": indicator != "critical" and rng.random() < 0.05,
            }
        )
    shown = [row for row in audit_rows if not row["snoozed"]]
    feedback_rows = []
    for row in rng.sample(shown, min(feedback, len(shown))):
        rate = RULES[str(row["rule_id"])][4]
        outcome_at = row["shown_at"] + timedelta(seconds=rng.randrange(30, 600))
        item: dict[str, object] = {
            "item_key": hashlib.sha256(f"{seed}:{len(feedback_rows)}".encode()).hexdigest(),
            "service": row["service"],
            "card_uuid": row["card_uuid"],
            "outcome_at": outcome_at,
            "received_at": outcome_at + timedelta(seconds=1),
            "rule_id": row["rule_id"],
            "patient_hash": row["patient_hash"],
            "unknown_card": False,
            "unknown_suggestions": False,
            "user_comment": None,
            "override_system": None,
            "override_code": None,
            "override_display": None,
        }
        if rng.random() < rate:
            code, display = rng.choices(REASONS, (5, 3, 2, 2, 1))[0]
            item.update(outcome="overridden", accepted_suggestions=[])
            if rng.random() < 0.9:
                item.update(override_system=OVERRIDE_SYSTEM, override_code=code)
                item.update(override_display=display)
        else:
            suggestions = list(row["suggestion_uuids"])  # type: ignore[call-overload]
            item.update(outcome="accepted", accepted_suggestions=[rng.choice(suggestions)])
        feedback_rows.append(item)
    with engine.begin() as connection:
        connection.execute(sa.insert(CARD_AUDIT), audit_rows)
        connection.execute(sa.insert(FEEDBACK), feedback_rows)
    return len(audit_rows), len(feedback_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", help="a SQLAlchemy database URL, e.g. sqlite:///seed.sqlite")
    parser.add_argument("--cards", type=int, default=6000)
    parser.add_argument("--feedback", type=int, default=1200)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    engine = sa.create_engine(args.url)
    migrations.upgrade(engine)
    print(seed(engine, args.seed, args.cards, args.feedback, args.weeks))


if __name__ == "__main__":
    main()
