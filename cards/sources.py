"""The guidelines and labels cards cite (clinical-rules §10.1), by source tag."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reference:
    """A citable source: short label for `source.label`, URL for `source.url`."""

    tag: str
    label: str
    url: str


_ALL = (
    Reference(
        "S-CKS",
        "NICE CKS: Anaemia - B12 and folate deficiency",
        "https://cks.nice.org.uk/topics/anaemia-b12-folate-deficiency/",
    ),
    Reference(
        "S-NG239",
        "NICE NG239: Vitamin B12 deficiency in over 16s",
        "https://www.nice.org.uk/guidance/ng239",
    ),
    Reference(
        "S-BNF",
        "BNF: hydroxocobalamin",
        "https://pernicious-anaemia-society.org/treatment/",
    ),
    Reference(
        "S-FDA-CN",
        "FDA label: cyanocobalamin injection",
        "https://api.fda.gov/drug/label.json?search=set_id%3A9d4ac337-5f4d-ef47-e053-2a95a90a6dbf",
    ),
    Reference(
        "S-FDA-OH",
        "FDA label: hydroxocobalamin injection",
        "https://api.fda.gov/drug/label.json?search=openfda.generic_name%3A%22Hydroxocobalamin%22",
    ),
    Reference(
        "S-BSH",
        "BSH guideline: cobalamin and folate disorders (2014)",
        "https://onlinelibrary.wiley.com/doi/10.1111/bjh.12959",
    ),
    Reference(
        "S-AAFP17",
        "AAFP 2017: Vitamin B12 deficiency",
        "https://pubmed.ncbi.nlm.nih.gov/28925645/",
    ),
    Reference(
        "S-MAYO-MMA",
        "Mayo Clinic Laboratories: methylmalonic acid, serum",
        "http://genetics.testcatalog.org/show/MMAP",
    ),
    Reference(
        "S-NO-MMA",
        "Norwegian laboratory handbook: methylmalonate",
        "https://labhandbok.no/labhaandbok/metylmalonat/",
    ),
    Reference(
        "S-BNSSG",
        "BNSSG Remedy: vitamin B12 interim guidelines",
        "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12-interim-guidelines",
    ),
    Reference(
        "S-US-DOSE",
        "US cyanocobalamin dosing summary",
        "https://www.drugs.com/dosage/cyanocobalamin.html",
    ),
    Reference("S-K", "StatPearls: Hypokalemia", "https://www.ncbi.nlm.nih.gov/books/NBK482465/"),
    Reference(
        "S-MHRA",
        "MHRA Drug Safety Update: metformin and reduced vitamin B12 levels",
        "https://www.gov.uk/drug-safety-update/metformin-and-reduced-vitamin-b12-levels-new-advice-for-monitoring-patients-at-risk",
    ),
    Reference(
        "S-ADA",
        "ADA Standards of Care: metformin and vitamin B12",
        "https://diabetesjournals.org/care/issue/48/Supplement_1",
    ),
    Reference(
        "S-N2O",
        "Kinsella & Green: anesthesia paresthetica, nitrous oxide and B12 (Arch Surg 1993)",
        "https://www.ncbi.nlm.nih.gov/pubmed/8250714",
    ),
    Reference(
        "S-ASMBS",
        "ASMBS integrated nutritional guidelines (Parrott et al., SOARD 2017)",
        "https://doi.org/10.1016/j.soard.2016.12.018",
    ),
    Reference(
        "S-ILEUM",
        "Ileal resection length and B12 malabsorption (Nutrition 2006;22:1210)",
        "https://linkinghub.elsevier.com/retrieve/pii/S0899-9007(06)00325-X",
    ),
    Reference(
        "S-MAYO-B12",
        "Mayo Clinic Laboratories: vitamin B12 assay",
        "https://yumaregional.testcatalog.org/show/B12",
    ),
    Reference(
        "S-MAYO-IF",
        "Mayo Clinic Laboratories: intrinsic factor blocking antibodies",
        "https://one-dh.testcatalog.org/show/IFBA",
    ),
    Reference(
        "S-VEGAN",
        "Vegan Society-type B12 guidance (secondary summary)",
        "https://www.tonyhall.co/2019/08/vitamin-b12.html",
    ),
    Reference(
        "S-UMICH",
        "Michigan Medicine Laboratories: homocysteine, total, plasma",
        "https://mlabs.umich.edu/tests/homocysteine-total-plasma",
    ),
    Reference(
        "S-COCH",
        "Cochrane review: oral versus IM vitamin B12 (Wang et al., 2018)",
        "https://doi.org/10.1002/14651858.CD004655.pub3",
    ),
    Reference(
        "S-LC-FOL",
        "Labcorp: folate, RBC and serum",
        "https://labcorp.com/tests/285700/folate-rbc-and-serum",
    ),
    Reference(
        "S-PDDI",
        "HL7 PDDI-CDS implementation guide (value sets)",
        "https://build.fhir.org/ig/HL7/PDDI-CDS/",
    ),
)
SOURCES = {ref.tag: ref for ref in _ALL}


def source(tag: str) -> Reference:
    """Return the reference for a source tag; KeyError names a tag that is not catalogued."""
    return SOURCES[tag]
