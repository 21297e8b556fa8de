"""The value sets the rules use (clinical-rules §2), each with its purpose and source above it.

Every value set is a CSV file in the `cards.valuesets` package, read and checked by
`cards.valueset_loader.load()` (which holds the code systems, `Code`, `ValueSet` and the file
format; its names are re-exported here, so `cards.terminology` stays the one place to import from).
Matching follows clinical-rules §2.1: any coding of a concept may match (never only the first),
ICD-10-CM codes are compared with dots removed and upper-cased, and an ICD-10-CM row ending in `*`
matches every code that starts with its stem.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cards.errors import ValueSetError as ValueSetError
from cards.valueset_loader import COLUMNS as COLUMNS
from cards.valueset_loader import ICD10_WHO as ICD10_WHO
from cards.valueset_loader import ICD10CM as ICD10CM
from cards.valueset_loader import KNOWN_SYSTEMS as KNOWN_SYSTEMS
from cards.valueset_loader import LOINC as LOINC
from cards.valueset_loader import ORDER_CODE_COLUMNS as ORDER_CODE_COLUMNS
from cards.valueset_loader import RXNORM as RXNORM
from cards.valueset_loader import SITE_DIRECTORY_ENV as SITE_DIRECTORY_ENV
from cards.valueset_loader import SNOMED as SNOMED
from cards.valueset_loader import STATUSES as STATUSES
from cards.valueset_loader import TEXT_RULE_ONLY_SETS as TEXT_RULE_ONLY_SETS
from cards.valueset_loader import UCUM as UCUM
from cards.valueset_loader import VERIFIED_STATUSES as VERIFIED_STATUSES
from cards.valueset_loader import Code as Code
from cards.valueset_loader import ValueSet as ValueSet
from cards.valueset_loader import _subset
from cards.valueset_loader import _without
from cards.valueset_loader import check_site_directory as check_site_directory
from cards.valueset_loader import load as load
from cards.valueset_loader import load_order_codes as load_order_codes
from cards.valueset_loader import normalise_code as normalise_code
from cards.valueset_loader import site_directory as site_directory


# Site extensions, read once at start (`B12CDS_VALUE_SET_DIR`); see `site_directory`.
_SITE: Final = site_directory()

# --- Laboratory value sets (clinical-rules §2.2, all LOINC) -----------------------------------

# Total serum/plasma cobalamin, mass and molar units; the first-line B12 test.
# Source: 2132-9 [V] S-ARUP-B12, S-LOINC3, MIMIC; 14685-2 [V] S-LOINC1 (16695-9 is whole blood).
SERUM_B12: Final = load("b12-serum-loinc", site=_SITE)

# Holotranscobalamin ("active B12"), the other first-line test.
# Source: 72160-5 [V2] S-HOLO.
HOLOTC: Final = load("holotc-loinc", site=_SITE)

# Methylmalonic acid, serum/plasma (functional test).
# Source: 13964-2 [V] S-LOINC1, S-MAYO-MMA.
MMA: Final = load("mma-loinc", site=_SITE)

# Urine MMA/creatinine; no default band, so only the lab's flag or range classifies it.
# Source: 13776-0, 13775-2 [V2] LOINC-C.
MMA_URINE: Final = load("mma-urine-loinc", site=_SITE)

# Total homocysteine, serum/plasma (functional test).
# Source: 13965-9, 2428-1 [V] S-LOINC1, S-LOINC2, S-ARUP-HCY (2155-0 is not homocysteine).
HOMOCYSTEINE: Final = load("homocysteine-loinc", site=_SITE)

# Serum/plasma folate.
# Source: 2284-8, 14732-2 [V] S-LOINC1, S-LOINC2, S-LOINC3.
FOLATE_SERUM: Final = load("folate-serum-loinc", site=_SITE)

# Red-cell folate (its own threshold).
# Source: 2283-0 [V] S-ARUP-FOL; 14731-4 [V] S-LOINC1 (15152-2 is bilirubin).
FOLATE_RBC: Final = load("folate-rbc-loinc", site=_SITE)

# Whole-blood/haemolysate folate; lab flag or range only.
# Source: 2282-2 [V2] S-LC-FOL; 25415-1 [V] S-LOINC1.
FOLATE_BLOOD: Final = load("folate-blood-loinc", site=_SITE)

# `folate-loinc`: every folate test (no CSV of its own); rules use the three parts above.
# Source: clinical-rules §2.2, union of the three folate sets.
FOLATE_ANY: Final = ValueSet("folate-loinc", (FOLATE_SERUM | FOLATE_RBC | FOLATE_BLOOD).codes)

# Potassium in serum, plasma or blood (red-cell potassium 2824-1 deliberately left out).
# Source: ten codes [V] S-PDDI (2823-3 also S-LOINC1).
POTASSIUM: Final = load("potassium-loinc", site=_SITE)

# Haemoglobin.
# Source: 718-7 [V] S-LOINC1, S-CBC.
HAEMOGLOBIN: Final = load("haemoglobin-loinc", site=_SITE)

# Haematocrit.
# Source: 4544-3, 20570-8 [V] S-LOINC1, S-ARUP-FOL.
HAEMATOCRIT: Final = load("haematocrit-loinc", site=_SITE)

# Mean cell volume.
# Source: 787-2, 30428-7 [V] S-LOINC1, S-CBC.
MCV: Final = load("mcv-loinc", site=_SITE)

# Reticulocytes (% family and 14196-0 count; no conversion between them).
# Source: four codes [V] S-LOINC1.
RETICULOCYTES: Final = load("reticulocyte-loinc", site=_SITE)

# eGFR (MDRD family); renal impairment is read from eGFR, not from conditions.
# Source: 33914-3 [V] S-LOINC1, S-PDDI; 50044-7, 48642-3, 48643-1 [V] S-PDDI.
EGFR: Final = load("egfr-loinc", site=_SITE)

# Intrinsic factor antibodies; a positive result marks pernicious anaemia.
# Source: four codes [V2] LOINC-C, S-MAYO-IF, MAYO/AMS (5140-4 is invalid).
INTRINSIC_FACTOR_AB: Final = load("intrinsic-factor-ab-loinc", site=_SITE)

# Every laboratory set of clinical-rules §2.2, in document order.
LABORATORY_SETS: Final = (
    SERUM_B12,
    HOLOTC,
    MMA,
    MMA_URINE,
    HOMOCYSTEINE,
    FOLATE_SERUM,
    FOLATE_RBC,
    FOLATE_BLOOD,
    POTASSIUM,
    HAEMOGLOBIN,
    HAEMATOCRIT,
    MCV,
    RETICULOCYTES,
    EGFR,
    INTRINSIC_FACTOR_AB,
)

# --- Condition, finding and procedure value sets (clinical-rules §2.4) -------------------------

# B12 deficiency with or without anaemia; E53.8 counts only when its text names B12/cobalamin
# (setting `e53_8_requires_b12_text`, text rule `cards.text.B12_TEXT_WORDS`).
# Source: SNOMED [V] S-CORE, S-PEDS, GMSDE, VSAC-C; ICD-10-CM D51*, E53.8 [V] S-ICD.
B12_DEFICIENCY_CONDITIONS: Final = load("b12-deficiency-conditions", site=_SITE)

# Pernicious anaemia (also marked by a positive intrinsic factor antibody).
# Source: 84027009, 234361004 [V] S-CORE, S-PEDS, GMSDE; D51.0 [V] S-ICD.
PERNICIOUS_ANAEMIA_CONDITIONS: Final = load("pernicious-anaemia-conditions", site=_SITE)

# Megaloblastic and macrocytic anaemia.
# Source: SNOMED [V] S-CORE; D52.1, D52.9, D53.1 [V] S-ICD.
MEGALOBLASTIC_ANAEMIA_CONDITIONS: Final = load("megaloblastic-anaemia-conditions", site=_SITE)

# The coded `anaemia` fact: megaloblastic set, the anaemia members of b12-deficiency-conditions
# (all rows but 190634004, 237934001, 1186880002, 420920007 and E53.8) and pernicious anaemia.
# Source: clinical-rules §2.4 (`megaloblastic-anaemia-conditions` heading).
ANAEMIA_CONDITIONS: Final = ValueSet(
    "anaemia-conditions",
    (
        MEGALOBLASTIC_ANAEMIA_CONDITIONS
        | _without(
            "b12-deficiency-anaemia",
            B12_DEFICIENCY_CONDITIONS,
            ("190634004", "237934001", "1186880002", "420920007", "E53.8"),
        )
        | PERNICIOUS_ANAEMIA_CONDITIONS
    ).codes,
)

# Findings compatible with B12 neurological involvement (non-specific: cards say "possible").
# Source: SNOMED [V] S-CORE, S-PEDS, VSAC-C, GMSDE, OHDSI-PL (81308009 [V2]); ICD-10-CM [V] S-ICD.
NEURO_FINDINGS: Final = load("neuro-findings", site=_SITE)

# Depressive disorder: joins NEURO_FINDINGS only with setting `neuro_include_depression`.
# Source: 35489007 [V] S-CORE (clinical-rules §2.4, neuro-findings note).
DEPRESSION_CONDITIONS: Final = load("depression-conditions", site=_SITE)

# Optic atrophy, for the Leber's caution of cyanocobalamin-safety (plus text "leber").
# Source: 76976005 [V] S-CORE; H47.22 [U] S-FDA-CN.
OPTIC_ATROPHY_CONDITIONS: Final = load("optic-atrophy-conditions", site=_SITE)

# Bariatric surgery, as status conditions or procedures.
# Source: SNOMED [V] S-CORE, VSAC-C; Z98.84, O99.84* [V] S-ICD.
BARIATRIC_SURGERY: Final = load("bariatric-surgery", site=_SITE)

# Gastrectomy: irreversible loss of intrinsic factor.
# Source: 53442002, 49209004 [V] S-CORE; Z90.3 [V] S-ICD.
GASTRECTOMY: Final = load("gastrectomy", site=_SITE)

# Ileal resection; Z90.49 counts only with ileal text (`cards.text.ILEAL_WORDS`).
# Source: SNOMED [V] VSAC-C; Z90.49, K90.829 [V] S-ICD.
ILEAL_RESECTION: Final = load("ileal-resection", site=_SITE)

# Crohn's disease of the ileum: context for the ileal-resection card, never a trigger.
# Source: 38106008 [V] S-CORE; K50.0* [V] S-ICD (clinical-rules §2.4, ileal-resection note).
CROHNS_ILEUM_CONDITIONS: Final = load("crohns-ileum-conditions", site=_SITE)

# Current pregnancy.
# Source: 77386006 [V] S-CORE; Z33.1, O99.01*, O99.28x, O99.84x [V] S-ICD.
PREGNANCY: Final = load("pregnancy", site=_SITE)

# Mother currently breastfeeding.
# Source: 866041003 [V] S-PEDS; Z39.1 [V] S-ICD.
BREASTFEEDING: Final = load("breastfeeding", site=_SITE)

# Breastfed infant (context for paediatric-specialist).
# Source: 169741004 [V] S-CORE.
BREASTFED_INFANT: Final = load("breastfed-infant", site=_SITE)

# Vegan or vegetarian diet: regime, education and deficiency proxies, plus text (mentions_vegan).
# Source: 1255165006 [V2] OFF; others [V] VSAC-C, S-PEDS; D51.3 [V] S-ICD.
VEGAN_VEGETARIAN_DIET: Final = load("vegan-vegetarian-diet", site=_SITE)

# Documented recreational or toxic nitrous oxide exposure (plus text N2O_EXPOSURE_WORDS).
# Source: F18*, T59.0X* [V] S-ICD; 73891003 [V] S-PEDS.
NITROUS_OXIDE_EXPOSURE: Final = load("nitrous-oxide-exposure", site=_SITE)

# Conditions that raise MMA independently of B12.
# Source: E71.120 [V] S-ICD.
MMA_CONFOUNDERS: Final = load("mma-confounders", site=_SITE)

# The `code=` filter of the `observations` prefetch: every LOINC code of §2.2, plus any LOINC
# code of a finding set the rules read from Observations (none is packaged; a site recording a
# diet or nitrous oxide use as a LOINC-coded Observation adds it to the set and so to the
# prefetch, as clinical-rules §2.4 asks), sorted.
# Source: clinical-rules §2.2 ("the prefetch filters on the union of all the LOINC sets").
OBSERVATION_LOINC_CODES: Final[tuple[str, ...]] = tuple(
    sorted(
        {
            code
            for value_set in (
                *LABORATORY_SETS,
                NEURO_FINDINGS,
                DEPRESSION_CONDITIONS,
                VEGAN_VEGETARIAN_DIET,
                NITROUS_OXIDE_EXPOSURE,
            )
            for code in value_set.codes_for(LOINC)
        }
    )
)

# --- Medication value sets (clinical-rules §2.5) ----------------------------------------------

# Vitamin B12 ingredients (ingredient-level matching).
# Source: 11248 [V] PGKB, CLAIME; 5514 [V2] PGKB.
B12_INGREDIENTS: Final = load("b12-ingredients", site=_SITE)

# Hydroxocobalamin and cyanocobalamin products for IM/deep SC use (dm+d ids for recognition only).
# Source: RxNorm [V] FDA-NDC, S-NDC; dm+d [V]/[V2] GMSDE.
B12_PRODUCTS_PARENTERAL: Final = load("b12-products-parenteral", site=_SITE)

# Oral (and nasal) B12 products.
# Source: 309593, 1233038, 446450 [V2] CDSH.
B12_PRODUCTS_ORAL_NASAL: Final = load("b12-products-oral-nasal", site=_SITE)

# The hydroxocobalamin rows of the B12 sets (a Cyanokit exclusion candidate; no route = parenteral).
# Source: clinical-rules §2.5 displays of 5514, 317106 and the three dm+d hydroxocobalamin ampoules.
HYDROXOCOBALAMIN: Final = _subset(
    "hydroxocobalamin",
    (B12_INGREDIENTS, B12_PRODUCTS_PARENTERAL),
    ("5514", "317106", "39111511000001100", "2858311000001109", "11558811000001104"),
)

# The cyanocobalamin rows of the B12 sets (for cyanocobalamin-safety).
# Source: clinical-rules §2.5 displays: 11248 "vitamin B12 (cyanocobalamin)", 309594, 309593 and
# the two dm+d cyanocobalamin ampoules.
CYANOCOBALAMIN: Final = _subset(
    "cyanocobalamin",
    (B12_INGREDIENTS, B12_PRODUCTS_PARENTERAL, B12_PRODUCTS_ORAL_NASAL),
    ("11248", "309594", "309593", "37084011000001108", "1070911000001108"),
)

# The mecobalamin (methylcobalamin) products; no verified ingredient code exists [U].
# Source: clinical-rules §2.5: 1233038, 446450 [V2] CDSH.
MECOBALAMIN: Final = _subset("mecobalamin", (B12_PRODUCTS_ORAL_NASAL,), ("1233038", "446450"))

# Folic acid alone or in combinations (309596 is folic acid + liver extract + B12).
# Source: RxNorm [V]/[V2] PGKB, FDA-NDC, CDSH, S-NDCLIST; dm+d [V] GMSDE.
FOLATE_PRODUCTS: Final = load("folate-products", site=_SITE)

# Reduced folates: not folic acid by default (`treat_folinic_as_folate`,
# `treat_methylfolate_as_folate`).
# Source: 6313 [V] PGKB, CPIC; 1025342 [V2] PGKB; 1013623 [V2] CDSH.
FOLATE_EXEMPT_PRODUCTS: Final = load("folate-exempt-products", site=_SITE)

# Nitrous oxide ingredient and products (RxNorm 7442 is nitric oxide: excluded).
# Source: 7486 [V2] PGKB; products [V] S-PEDS.
NITROUS_OXIDE_PRODUCTS: Final = load("nitrous-oxide-products", site=_SITE)

# Metformin.
# Source: 6809 [V] PGKB, CPIC, CLAIME.
METFORMIN: Final = load("metformin", site=_SITE)

# Proton pump inhibitors and H2-receptor antagonists (ingredients).
# Source: [V] S-PDDI, PGKB, ATC-PY.
ACID_SUPPRESSANTS: Final = load("acid-suppressants", site=_SITE)

# Methotrexate (pemetrexed has no verified code: text only).
# Source: 6851 [V] PGKB, CPIC, S-PEDS, OHDSI-PL.
METHOTREXATE: Final = load("methotrexate", site=_SITE)

# Site codes of the hydroxocobalamin 5 g cyanide antidote (none packaged: no verified code).
# Source: clinical-rules §2.5 (c); the text and dose rules live in cards.medications.
CYANIDE_ANTIDOTE_PRODUCTS: Final = load("cyanide-antidote-products", site=_SITE)

# Every medication code of §2.5: a coding in here is "known", so the text fallback of
# clinical-rules §2.7 (step 4) does not run for it.
MEDICATION_CODES: Final = ValueSet(
    "medication-codes",
    (
        B12_INGREDIENTS
        | B12_PRODUCTS_PARENTERAL
        | B12_PRODUCTS_ORAL_NASAL
        | FOLATE_PRODUCTS
        | FOLATE_EXEMPT_PRODUCTS
        | NITROUS_OXIDE_PRODUCTS
        | METFORMIN
        | ACID_SUPPRESSANTS
        | METHOTREXATE
    ).codes,
)

# --- Routes and order codes (clinical-rules §2.6) ---------------------------------------------

# Intramuscular and subcutaneous routes.
# Source: 78421000, 34206005 [V] S-ROUTE.
ROUTE_PARENTERAL: Final = load("route-parenteral", site=_SITE)

# Intravenous route (still parenteral; raises cyanocobalamin-safety for cyanocobalamin).
# Source: 47625008 [V] S-ROUTE.
ROUTE_INTRAVENOUS: Final = load("route-intravenous", site=_SITE)

# Oral route.
# Source: 26643006 [V] S-ROUTE.
ROUTE_ORAL: Final = load("route-oral", site=_SITE)

# Nasal route.
# Source: 46713006 [V2] S-ROUTE.
ROUTE_NASAL: Final = load("route-nasal", site=_SITE)

# Codes written into suggested ServiceRequests, by name; a site's own order-codes.csv (in
# `B12CDS_VALUE_SET_DIR`) replaces rows by name; paediatric_referral has no sourced code and is
# absent unless the site adds it.
# Source: clinical-rules §2.6 (S-ARUP-B12, S-HOLO, S-MAYO-MMA, S-ARUP-HCY, S-PDDI, S-CBC, S-LOINC1,
# S-LOINC2, VSAC-C).
ORDER_CODES: Final = load_order_codes(site=_SITE)

# --- Codes that must never match (clinical-rules §2.3) ----------------------------------------

# Known mis-mappings (16695-9 whole-blood cobalamin, 15152-2, 2155-0, 5140-4, RxNorm 7442 nitric
# oxide, SNOMED 183561007 and 300488009): never in a positive set; log and ignore when seen.
# Source: clinical-rules §2.3 (MIMIC, LOINC-C, S-LOINC1, S-LOINC2, PGKB).
EXCLUDED_CODES: Final = load("excluded-codes", site=_SITE)

# Every positive value set loaded from a CSV, by name (excluded-codes and order-codes are apart).
VALUE_SETS: Final[Mapping[str, ValueSet]] = MappingProxyType(
    {
        value_set.name: value_set
        for value_set in (
            *LABORATORY_SETS,
            B12_DEFICIENCY_CONDITIONS,
            PERNICIOUS_ANAEMIA_CONDITIONS,
            MEGALOBLASTIC_ANAEMIA_CONDITIONS,
            NEURO_FINDINGS,
            DEPRESSION_CONDITIONS,
            OPTIC_ATROPHY_CONDITIONS,
            BARIATRIC_SURGERY,
            GASTRECTOMY,
            ILEAL_RESECTION,
            CROHNS_ILEUM_CONDITIONS,
            PREGNANCY,
            BREASTFEEDING,
            BREASTFED_INFANT,
            VEGAN_VEGETARIAN_DIET,
            NITROUS_OXIDE_EXPOSURE,
            MMA_CONFOUNDERS,
            B12_INGREDIENTS,
            B12_PRODUCTS_PARENTERAL,
            B12_PRODUCTS_ORAL_NASAL,
            FOLATE_PRODUCTS,
            FOLATE_EXEMPT_PRODUCTS,
            NITROUS_OXIDE_PRODUCTS,
            METFORMIN,
            ACID_SUPPRESSANTS,
            METHOTREXATE,
            CYANIDE_ANTIDOTE_PRODUCTS,
            ROUTE_PARENTERAL,
            ROUTE_INTRAVENOUS,
            ROUTE_ORAL,
            ROUTE_NASAL,
        )
    }
)

# Every file in the site folder must extend a packaged set (a typo would otherwise be ignored).
check_site_directory(_SITE, [*VALUE_SETS, EXCLUDED_CODES.name, "order-codes"])
