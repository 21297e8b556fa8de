"""The guidelines and labels cards cite (clinical-rules §10.1), by source tag.

Every URL opens a page a clinician can read, never an API endpoint (§11.4): the FDA labels are
their DailyMed pages (S-FDA-CN by the same SPL set id as before), the BNF its own hydroxocobalamin
monograph; the Pernicious Anaemia Society page that quotes the BNF regimens stays in the rules
catalogue under its own name (S-PAS). Each reference has the country whose guidance it is: `uk`
(NICE, BNF, BSH, MHRA, an NHS formulary), `us` (FDA labels, AAFP, ADA, ASMBS, US dosing
summaries) or `international` (laboratory catalogues, papers, other summaries). `ordered` puts
the profile's own country first, so a card's source (its first source) is a UK one in `uk` and
a US one in `us` wherever the card cites one (§11.4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


UK, US, INTERNATIONAL = "uk", "us", "international"


@dataclass(frozen=True, slots=True)
class Reference:
    """A citable source: short label for `source.label`, URL for `source.url` (a page a person
    can read), and the country whose guidance it is (`uk`, `us` or `international`)."""

    tag: str
    label: str
    url: str
    country: str


_ALL = (
    Reference(
        "S-CKS",
        "NICE CKS: Anaemia - B12 and folate deficiency",
        "https://cks.nice.org.uk/topics/anaemia-b12-folate-deficiency/",
        UK,
    ),
    Reference(
        "S-NG239",
        "NICE NG239: Vitamin B12 deficiency in over 16s",
        "https://www.nice.org.uk/guidance/ng239",
        UK,
    ),
    Reference(
        "S-BNF",
        "BNF: hydroxocobalamin",
        "https://bnf.nice.org.uk/drugs/hydroxocobalamin/",
        UK,
    ),
    Reference(
        "S-PAS",
        "Pernicious Anaemia Society: treatment (BNF regimens as quoted)",
        "https://pernicious-anaemia-society.org/treatment/",
        UK,
    ),
    Reference(
        "S-FDA-CN",
        "FDA label: cyanocobalamin injection",
        "https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid=9d4ac337-5f4d-ef47-e053-2a95a90a6dbf",
        US,
    ),
    Reference(
        "S-FDA-OH",
        "FDA label: hydroxocobalamin injection",
        "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=hydroxocobalamin",
        US,
    ),
    Reference(
        "S-BSH",
        "BSH guideline: cobalamin and folate disorders (2014)",
        "https://onlinelibrary.wiley.com/doi/10.1111/bjh.12959",
        UK,
    ),
    Reference(
        "S-AAFP17",
        "AAFP 2017: Vitamin B12 deficiency",
        "https://pubmed.ncbi.nlm.nih.gov/28925645/",
        US,
    ),
    Reference(
        "S-MAYO-MMA",
        "Mayo Clinic Laboratories: methylmalonic acid, serum",
        "http://genetics.testcatalog.org/show/MMAP",
        INTERNATIONAL,
    ),
    Reference(
        "S-NO-MMA",
        "Norwegian laboratory handbook: methylmalonate",
        "https://labhandbok.no/labhaandbok/metylmalonat/",
        INTERNATIONAL,
    ),
    Reference(
        "S-BNSSG",
        "BNSSG Remedy: vitamin B12 interim guidelines",
        "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12-interim-guidelines",
        UK,
    ),
    Reference(
        "S-US-DOSE",
        "US cyanocobalamin dosing summary",
        "https://www.drugs.com/dosage/cyanocobalamin.html",
        US,
    ),
    Reference(
        "S-K",
        "StatPearls: Hypokalemia",
        "https://www.ncbi.nlm.nih.gov/books/NBK482465/",
        INTERNATIONAL,
    ),
    Reference(
        "S-MHRA",
        "MHRA Drug Safety Update: metformin and reduced vitamin B12 levels",
        "https://www.gov.uk/drug-safety-update/metformin-and-reduced-vitamin-b12-levels-new-advice-for-monitoring-patients-at-risk",
        UK,
    ),
    Reference(
        "S-ADA",
        "ADA Standards of Care: metformin and vitamin B12",
        "https://diabetesjournals.org/care/issue/48/Supplement_1",
        US,
    ),
    Reference(
        "S-N2O",
        "Kinsella & Green: anesthesia paresthetica, nitrous oxide and B12 (Arch Surg 1993)",
        "https://www.ncbi.nlm.nih.gov/pubmed/8250714",
        INTERNATIONAL,
    ),
    Reference(
        "S-ASMBS",
        "ASMBS integrated nutritional guidelines (Parrott et al., SOARD 2017)",
        "https://doi.org/10.1016/j.soard.2016.12.018",
        US,
    ),
    Reference(
        "S-ILEUM",
        "Ileal resection length and B12 malabsorption (Nutrition 2006;22:1210)",
        "https://linkinghub.elsevier.com/retrieve/pii/S0899-9007(06)00325-X",
        INTERNATIONAL,
    ),
    Reference(
        "S-MAYO-B12",
        "Mayo Clinic Laboratories: vitamin B12 assay",
        "https://yumaregional.testcatalog.org/show/B12",
        INTERNATIONAL,
    ),
    Reference(
        "S-MAYO-IF",
        "Mayo Clinic Laboratories: intrinsic factor blocking antibodies",
        "https://one-dh.testcatalog.org/show/IFBA",
        INTERNATIONAL,
    ),
    Reference(
        "S-VEGAN",
        "Vegan Society-type B12 guidance (secondary summary)",
        "https://www.tonyhall.co/2019/08/vitamin-b12.html",
        INTERNATIONAL,
    ),
    Reference(
        "S-UMICH",
        "Michigan Medicine Laboratories: homocysteine, total, plasma",
        "https://mlabs.umich.edu/tests/homocysteine-total-plasma",
        INTERNATIONAL,
    ),
    Reference(
        "S-COCH",
        "Cochrane review: oral versus IM vitamin B12 (Wang et al., 2018)",
        "https://doi.org/10.1002/14651858.CD004655.pub3",
        INTERNATIONAL,
    ),
    Reference(
        "S-LC-FOL",
        "Labcorp: folate, RBC and serum",
        "https://labcorp.com/tests/285700/folate-rbc-and-serum",
        INTERNATIONAL,
    ),
    Reference(
        "S-PDDI",
        "HL7 PDDI-CDS implementation guide (value sets)",
        "https://build.fhir.org/ig/HL7/PDDI-CDS/",
        INTERNATIONAL,
    ),
)

SOURCES = {ref.tag: ref for ref in _ALL}


def source(tag: str) -> Reference:
    """Return the reference for a source tag; KeyError names a tag that is not catalogued."""
    return SOURCES[tag]


def ordered(tags: Iterable[str], country: str) -> list[str]:
    """Return a card's sources with the country's own first, each group in the rule's order.

    The rule lists its sources best first; in `uk` the UK ones move to the front and in `us` the
    US ones, so the card's source (the first) is the profile's own wherever the card cites one,
    and otherwise the rule's best available stays first (§11.4). A tag listed twice is cited once.
    """
    unique = list(dict.fromkeys(tags))
    return [t for t in unique if source(t).country == country] + [
        t for t in unique if source(t).country != country
    ]
