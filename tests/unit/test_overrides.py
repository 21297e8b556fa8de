"""The override-reason code system and each rule's list (issue 12 point 3)."""

from __future__ import annotations

import pytest

from cards import catalogue
from cards import overrides
from cards.model import TOPIC_SYSTEM
from cards.services import RULE_MODULES
from cards.settings import Profile
from cards.settings import Settings
from cards.wording import MESSAGES


RULES = [m.RULE_ID for m in RULE_MODULES]
SAFETY_RULES = (  # can fire critical, or caution about an order being signed now
    "b12-neuro-untreated",
    "folate-before-b12",
    "hypokalaemia-on-treatment",
    "nitrous-oxide",
    "maintenance-overdue",
    "paediatric-specialist",
    "cyanocobalamin-safety",
    "b12-test-uninformative",
)


def test_the_system_is_the_projects_own_beside_the_topic_system() -> None:
    assert overrides.OVERRIDE_SYSTEM.rsplit("/", 1)[0] == TOPIC_SYSTEM.rsplit("/", 1)[0]
    assert overrides.OVERRIDE_SYSTEM != TOPIC_SYSTEM


def test_every_code_has_its_display_and_every_display_a_code() -> None:
    keys = {k.removeprefix("overrides.reason.") for k in MESSAGES if k.startswith("overrides.")}
    assert keys == set(overrides.REASONS)
    assert len(set(overrides.REASONS)) == len(overrides.REASONS)


@pytest.mark.parametrize("rule_id", RULES)
def test_each_rule_lists_known_codes_once(rule_id: str) -> None:
    codes = overrides.reasons_of(rule_id)
    assert codes
    assert len(set(codes)) == len(codes)
    assert set(codes) <= set(overrides.REASONS)


def test_every_code_is_offered_by_some_rule() -> None:
    used = {code for rule_id in RULES for code in overrides.reasons_of(rule_id)}
    assert used == set(overrides.REASONS)


@pytest.mark.parametrize("rule_id", SAFETY_RULES)
def test_a_safety_rule_never_offers_will_review_later(rule_id: str) -> None:
    assert "will-review-later" not in overrides.reasons_of(rule_id)


def test_b12_deficiency_excluded_is_offered_on_the_folic_acid_safety_card() -> None:
    assert "b12-deficiency-excluded" in overrides.reasons_of("folate-before-b12")
    assert "b12-deficiency-excluded" not in overrides.reasons_of("b12-deficiency-untreated")


def test_an_unknown_code_or_rule_is_an_error() -> None:
    with pytest.raises(KeyError):
        overrides.display(Profile.UK, "no-such-reason")
    with pytest.raises(KeyError):
        overrides.reasons_of("no-such-rule")


@pytest.mark.parametrize("profile", [Profile.UK, Profile.US])
def test_the_catalogue_lists_each_rules_reasons_with_displays(profile: Profile) -> None:
    text = catalogue.render(Settings(profile=profile))
    assert overrides.OVERRIDE_SYSTEM in text
    for section in text.split("\n## `")[1:]:
        rule_id = section.split("`", 1)[0]
        line = next(x for x in section.splitlines() if x.startswith("- **Override reasons:** "))
        expected = "; ".join(
            f"`{c}` {overrides.display(profile, c)}" for c in overrides.reasons_of(rule_id)
        )
        assert line == f"- **Override reasons:** {expected}"
