"""Which source a card cites first, per profile (clinical-rules §11.4 over §7.0 and §10.1).

Rules only list their sources; the card builder (`compose.card_sources`) puts the profile's own
country first: in uk a UK source (S-CKS, S-NG239, S-BNF, S-BSH, S-MHRA, S-BNSSG), in us a US one
(S-FDA-CN, S-FDA-OH, S-AAFP17, S-ADA, S-ASMBS, S-US-DOSE) wherever the card cites one; where it
cites none (paediatric-specialist in us) its best available source stays first. The 1000 mcg US
regimens are credited to S-US-DOSE, not to the FDA label (whose own regimen is 100 mcg).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cards.model import Card
from cards.services import RULE_MODULES
from cards.settings import Profile
from cards.settings import Settings
from cards.sources import INTERNATIONAL
from cards.sources import SOURCES
from cards.sources import UK
from cards.sources import US
from cards.sources import ordered
from tests.unit.fhir import patient
from tests.unit.rules.test_more_rules import EXAMPLE_26
from tests.unit.rules.test_more_rules import EXAMPLE_41
from tests.unit.rules.test_more_rules import VEGAN
from tests.unit.rules.test_rules import EXAMPLE_1
from tests.unit.rules.test_rules import FA_DRAFT
from tests.unit.rules.test_rules import ORAL_B12
from tests.unit.rules.test_rules import OSEL
from tests.unit.rules.test_rules import _b12
from tests.unit.rules.test_rules import _run
from tests.unit.rules.test_rules import _treated


BY_URL = {ref.url: ref.tag for ref in SOURCES.values()}
LINK = re.compile(r"\]\(((?:[^()\s]|\([^()\s]*\))+)\)")
EXAMPLE_14 = [patient(58, "female"), _b12(150, 14)]
SELECT_FA = {"hook": OSEL, "drafts": [FA_DRAFT], "selections": ["MedicationRequest/fa-1"]}


def _cited(card: Card) -> list[str]:
    """Return the tags a card's detail cites, in order."""
    return [BY_URL[url] for url in LINK.findall(card.detail.rsplit("Sources:", 1)[-1])]


def _sources(resources: list[Any], profile: Profile, **chart: Any) -> dict[str, list[str]]:
    """Return each card's cited sources; the first must be the card's `source`."""
    cards = _run(resources, settings=Settings(profile=profile), **chart)
    for card in cards:
        assert card.source.url == SOURCES[_cited(card)[0]].url, (card.rule_id, _cited(card))
    return {card.rule_id: _cited(card) for card in cards}


def source_row(expected: dict[str, list[str]], resources: list[Any], id: str, **chart: Any) -> Any:
    """Return one row: expected cited sources per rule (first = card source), chart, options."""
    return pytest.param(expected, resources, chart, id=id)


UK_SOURCES = [
    source_row({"metformin-monitoring": ["S-MHRA", "S-AAFP17"]}, EXAMPLE_26, "metformin"),
    source_row({}, [*EXAMPLE_26, _b12(410, 200)], "metformin-silent-b12-within-a-year"),
    source_row({"vegan-diet-supplement": ["S-CKS", "S-VEGAN"]}, EXAMPLE_41, "vegan-cks-first"),
    source_row({}, [*EXAMPLE_41, ORAL_B12], "vegan-silent-on-oral-b12"),
    source_row(
        {"b12-neuro-untreated": ["S-CKS", "S-BSH", "S-FDA-CN"]}, EXAMPLE_1, "neuro-cks-first"
    ),
    source_row(
        {"b12-deficiency-untreated": ["S-CKS", "S-AAFP17"]}, EXAMPLE_14, "deficiency-cks-first"
    ),
    source_row(
        {"folate-before-b12": ["S-CKS", "S-BSH", "S-FDA-CN"]},
        EXAMPLE_14,
        "folate-before-b12-cks-then-bsh-then-fda-label",
        **SELECT_FA,
    ),
    source_row({"paediatric-specialist": ["S-NG239"]}, [patient(12), VEGAN], "child-ng239"),
    source_row(
        {"treatment-response-review": ["S-NG239", "S-CKS", "S-FDA-CN"]},
        _treated(100),
        "review-ng239-first",
    ),
]
US_SOURCES = [
    source_row({"metformin-monitoring": ["S-AAFP17", "S-MHRA"]}, EXAMPLE_26, "metformin-aafp"),
    source_row({}, [*EXAMPLE_26, _b12(410, 200)], "metformin-silent-b12-within-a-year"),
    source_row(
        {"vegan-diet-supplement": ["S-VEGAN", "S-CKS"]}, EXAMPLE_41, "vegan-no-us-source-stays"
    ),
    source_row({}, [*EXAMPLE_41, ORAL_B12], "vegan-silent-on-oral-b12"),
    source_row(
        {"b12-neuro-untreated": ["S-US-DOSE", "S-FDA-CN", "S-BSH"]},
        EXAMPLE_1,
        "neuro-regimen-is-us-practice-not-the-label",
    ),
    source_row(
        {"b12-deficiency-untreated": ["S-US-DOSE", "S-AAFP17"]},
        EXAMPLE_14,
        "deficiency-regimen-is-us-practice-not-the-label",
    ),
    source_row(
        {"folate-before-b12": ["S-FDA-CN", "S-CKS", "S-BSH"]},
        EXAMPLE_14,
        "folate-before-b12-fda-label-first",
        **SELECT_FA,
    ),
    source_row(
        {"paediatric-specialist": ["S-NG239"]}, [patient(12), VEGAN], "child-best-available"
    ),
    source_row(
        {"treatment-response-review": ["S-FDA-CN", "S-NG239", "S-CKS"]},
        _treated(100),
        "review-fda-label-first",
    ),
]


@pytest.mark.parametrize(("expected", "resources", "chart"), UK_SOURCES)
def test_uk_card_sources(expected, resources, chart):
    """In uk the card's source and the first cited is the UK one."""
    assert expected == _sources(resources, Profile.UK, **chart)


@pytest.mark.parametrize(("expected", "resources", "chart"), US_SOURCES)
def test_us_card_sources(expected, resources, chart):
    """In us the card's source and the first cited is the US one where the card has one."""
    assert expected == _sources(resources, Profile.US, **chart)


@pytest.mark.parametrize(
    ("tags", "country", "expected"),
    [
        (["S-FDA-CN", "S-CKS", "S-BSH"], UK, ["S-CKS", "S-BSH", "S-FDA-CN"]),
        (["S-FDA-CN", "S-CKS", "S-BSH"], US, ["S-FDA-CN", "S-CKS", "S-BSH"]),
        (["S-N2O", "S-NG239"], UK, ["S-NG239", "S-N2O"]),
        (["S-N2O", "S-NG239"], US, ["S-N2O", "S-NG239"]),
        (["S-ILEUM"], UK, ["S-ILEUM"]),
        (["S-CKS", "S-CKS", "S-AAFP17"], US, ["S-AAFP17", "S-CKS"]),
    ],
)
def test_ordered_puts_the_profiles_country_first(tags, country, expected):
    """Own country first, each group in the rule's order, a repeated tag cited once."""
    assert expected == ordered(tags, country)


def test_sources_are_pages_a_person_can_read():
    """No catalogued URL is an API endpoint (openFDA `api.fda.gov/...json?search=`, §11.4)."""
    api = re.compile(r"//api\.|/api/|\.json\b|[?&]search=|/rest/", re.I)
    for ref in SOURCES.values():
        assert not api.search(ref.url), ref
        assert ref.country in (UK, US, INTERNATIONAL), ref
    assert "bnf.nice.org.uk" in SOURCES["S-BNF"].url
    assert "9d4ac337-5f4d-ef47-e053-2a95a90a6dbf" in SOURCES["S-FDA-CN"].url
    assert "pernicious-anaemia-society.org" in SOURCES["S-PAS"].url


def test_the_pernicious_anaemia_society_page_stays_in_the_catalogue_beside_the_bnf():
    """Every rule that cites S-BNF for its regimens also lists the page that quotes them (S-PAS);
    cyanocobalamin-safety cites the BNF for an indication (Leber's optic atrophy), not a regimen."""
    with_bnf = [
        m for m in RULE_MODULES if "S-BNF" in m.SOURCES and m.RULE_ID != "cyanocobalamin-safety"
    ]
    assert with_bnf
    for module in with_bnf:
        assert "S-PAS" in module.SOURCES, module.RULE_ID


def test_us_regimen_sentence_credits_us_practice_not_the_label():
    """The 1000 mcg regimen is US practice (S-US-DOSE), not the FDA label's (§11.4)."""
    (card,) = _run(EXAMPLE_1, settings=Settings(profile=Profile.US))
    assert "Regimen as in US practice" in card.detail
    assert "FDA label and US practice" not in card.detail
    assert card.source.label == SOURCES["S-US-DOSE"].label
