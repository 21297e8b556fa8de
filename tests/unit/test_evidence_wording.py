"""Evidence-line words are content too: common.toml [evidence_parts] (issue 10).

The lab, status, finding, dose and order lines are assembled from `common.evidence_parts.*`;
Python passes the numbers, units, dates and codes. Logic reads identifiers (StatusBasis), never
the rendered words.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cards import wording
from cards.facts import Dose
from cards.facts import Finding
from cards.facts import StatusBasis
from cards.medications import B12Product
from cards.medications import Route
from cards.settings import Profile
from tests.unit.test_wording import _prose


ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_MODULES = (
    "cards/labs.py",
    "cards/facts/model.py",
    "cards/facts/laboratory.py",
    "cards/facts/medications.py",
    "cards/medications.py",
)


@pytest.mark.parametrize("module", EVIDENCE_MODULES)
def test_evidence_modules_hold_no_prose(module):
    assert [] == _prose(ROOT / module)


@pytest.mark.parametrize("reason", list(StatusBasis))
def test_every_status_basis_has_its_words(reason):
    key = f"common.evidence_parts.b12_status.{reason.value}"
    assert key in wording.MESSAGES


@pytest.mark.parametrize("profile", list(Profile))
def test_finding_and_dose_lines_render_as_before(profile):
    finding = Finding(
        "Condition/1",
        "Vegan diet",
        date(2021, 6, 8),
        active=False,
        provisional=True,
        by_text=True,
        profile=profile,
    )
    assert finding.describe() == (
        "Vegan diet, recorded 8 Jun 2021, no longer active, provisional, "
        "identified from the record text"
    )
    assert Finding("Condition/2", "Vegan diet", None, profile=profile).describe() == "Vegan diet"
    dose = Dose(
        date(2026, 11, 19), B12Product.HYDROXOCOBALAMIN, Route.PARENTERAL, "X/1", profile=profile
    )
    assert (
        dose.describe() == "hydroxocobalamin parenteral on 19 Nov 2026 (from administration record)"
    )
    unknown = Dose(date(2026, 1, 2), B12Product.UNSPECIFIED, Route.UNKNOWN, "X/2", "statement")
    assert unknown.describe() == "cobalamin on 2 Jan 2026 (from statement record)"
