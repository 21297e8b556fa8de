"""The rule catalogue is generated from the code, complete, and checked in as docs/rules.md."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from cards.catalogue import CATALOGUE_TEXTS
from cards.catalogue import entry
from cards.catalogue import render
from cards.catalogue import setting_notes
from cards.services import RULE_MODULES
from cards.services import SERVICES
from cards.settings import Profile
from cards.settings import Settings
from cards.sources import SOURCES
from service.cli import main


ROOT = Path(__file__).resolve().parents[2]
CONTRACT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
CONTRACT_RULE_IDS = re.findall(
    r"`([a-z0-9-]+)`", CONTRACT.split("## Rule ids", 1)[1].split("\n", 1)[1]
)
HOOK_NAMES = {s.hook.value for s in SERVICES.values()}


def test_docs_rules_md_is_the_generated_catalogue():
    """docs/rules.md equals `b12-cds rules --defaults`: regenerate it after changing a rule."""
    expected = render(Settings())
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert expected == actual, "run: b12-cds rules --defaults > docs/rules.md"


def test_every_contract_rule_id_has_a_module():
    """The 22 rule ids of the contract are exactly the rule modules."""
    assert 22 == len(CONTRACT_RULE_IDS)
    assert sorted(CONTRACT_RULE_IDS) == sorted(m.RULE_ID for m in RULE_MODULES)


@pytest.mark.parametrize("module", RULE_MODULES, ids=lambda m: m.RULE_ID)
def test_rule_module_describes_itself(module):
    """Each rule names its hooks, sources and settings; its wording file's `[catalogue]` table
    gives its trigger, indicator and suggestions."""
    assert set(module.HOOKS) <= HOOK_NAMES and module.HOOKS
    assert isinstance(module.TITLE, str) and len(module.TITLE) > 3
    for part in CATALOGUE_TEXTS:
        assert not hasattr(module, part.upper()), f"{part} lives in the wording file now"
        for profile in Profile:
            assert len(entry(module.RULE_ID, part, profile)) > 3
    assert module.SOURCES and set(module.SOURCES) <= set(SOURCES)
    assert set(module.SETTINGS) <= {f.name for f in fields(Settings)}
    named = entry(module.RULE_ID, "trigger") + entry(module.RULE_ID, "indicator")
    for name in re.findall(r"`([a-z0-9_]+)`", named):
        assert name in {f.name for f in fields(Settings)}, name


@pytest.mark.parametrize("module", RULE_MODULES, ids=lambda m: m.RULE_ID)
def test_rule_runs_in_exactly_the_services_of_its_hooks(module):
    """A rule is wired into the service of every hook it declares, and no other."""
    services = {s.hook.value for s in SERVICES.values() if module.RULE_ID in s.rule_ids}
    assert set(module.HOOKS) == services


def test_every_setting_carries_its_source_or_meaning():
    """Every setting has a comment beside its default, shown in the catalogue."""
    notes = setting_notes()
    assert [] == [f.name for f in fields(Settings) if not notes.get(f.name)]


def test_us_catalogue_shows_the_us_values(capsys):
    """`b12-cds rules --profile us` shows the us profile and its values."""
    assert 0 == main(["rules", "--defaults", "--profile", "us"])
    out = capsys.readouterr().out
    assert "site profile `us`" in out
    assert out == render(Settings(profile=Profile.US))


def test_catalogue_reflects_overrides():
    """Active values are shown: an override appears in the catalogue."""
    text = render(Settings(metformin_min_months=6.0))
    assert "`metformin_min_months` = 6.0" in text
