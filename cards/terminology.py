"""Code systems, value sets and their loader (clinical-rules §2).

Every value set is a CSV file in the `cards.valuesets` package, named after the set, with a
provenance header of `#` lines and the columns `system,code,display,status,source`. `load()` reads
one file and checks every row; the constants at the bottom are the sets the rules use, each with its
purpose and source above it. Matching follows clinical-rules §2.1: any coding of a concept may match
(never only the first), ICD-10-CM codes are compared with dots removed and upper-cased, and an
ICD-10-CM row ending in `*` matches every code that starts with its stem.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

from cards.errors import ValueSetError


# Code system URIs (clinical-rules §2.1).
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"  # SNOMED CT, including the UK dm+d drug extension
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO: Final = "http://hl7.org/fhir/sid/icd-10"  # matched to ICD-10-CM rows only by setting
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM: Final = "http://unitsofmeasure.org"
KNOWN_SYSTEMS: Final = frozenset({LOINC, SNOMED, ICD10CM, ICD10_WHO, RXNORM, UCUM})

# Verification status of a row (clinical-rules §1): V primary source, V2 secondary, U unverified.
STATUSES: Final = ("V", "V2", "U")
VERIFIED_STATUSES: Final = frozenset({"V", "V2"})

COLUMNS: Final = ("system", "code", "display", "status", "source")
ORDER_CODE_COLUMNS: Final = ("name", *COLUMNS)

# Sets allowed to hold only [U] codes, or none, because a text rule (clinical-rules §2.7) backs
# them and only a site can supply a code: the Cyanokit exclusion (§2.5 (c)) stands on its text
# and dose rules, and a site adds its own code for the kit.
TEXT_RULE_ONLY_SETS: Final[frozenset[str]] = frozenset({"cyanide-antidote-products"})

_PACKAGE = "cards.valuesets"
_ICD_SYSTEMS = frozenset({ICD10CM, ICD10_WHO})
_STEM = "*"
_NAME = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
_ORDER_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def normalise_code(system: str, code: str) -> str:
    """Return a code as compared: ICD-10 without dots and upper-cased, any other code stripped."""
    code = code.strip()
    if system in _ICD_SYSTEMS:
        return code.replace(".", "").upper()
    return code


@dataclass(frozen=True, slots=True)
class Code:
    """One value set row: a coding with its verification status and source tags."""

    system: str
    code: str
    display: str
    status: str
    source: str

    def __post_init__(self) -> None:
        for name in COLUMNS:
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"Code.{name} must be a string, not {getattr(self, name)!r}")
        if ":" not in self.system or _has_space(self.system):
            raise ValueError(f"system must be an absolute URI, not {self.system!r}")
        if not self.code or _has_space(self.code):
            raise ValueError(f"code must be non-empty and without spaces, not {self.code!r}")
        if _STEM in self.code:
            if self.system != ICD10CM:
                raise ValueError(
                    f"code {self.code!r}: a trailing '*' (stem) is allowed in ICD-10-CM rows only"
                )
            if self.code.index(_STEM) != len(self.code) - 1 or len(self.code) < 2:
                raise ValueError(
                    f"code {self.code!r}: write a stem as the code prefix then one '*'"
                )
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if not self.source.strip():
            raise ValueError("source must name where the code comes from (clinical-rules §10.1)")

    @property
    def is_stem(self) -> bool:
        """Return True for an ICD-10-CM stem row (`F18*`), which matches by prefix."""
        return self.code.endswith(_STEM)

    @property
    def verified(self) -> bool:
        """Return True when the row is [V] or [V2], so it may stand alone in a set."""
        return self.status in VERIFIED_STATUSES


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A named, frozen set of codes with a precomputed lookup."""

    name: str
    codes: tuple[Code, ...]
    _exact: Mapping[tuple[str, str], Code] = field(init=False, repr=False, compare=False)
    _stems: Mapping[str, tuple[tuple[str, Code], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a value set needs a name")
        if not isinstance(self.codes, tuple):
            object.__setattr__(self, "codes", tuple(self.codes))
        exact: dict[tuple[str, str], Code] = {}
        stems: dict[str, list[tuple[str, Code]]] = {}
        seen: set[tuple[str, str]] = set()
        for row in self.codes:
            if not isinstance(row, Code):
                raise TypeError(f"value set {self.name}: {row!r} is not a Code")
            key = (row.system, normalise_code(row.system, row.code))
            if key in seen:
                raise ValueError(f"value set {self.name}: duplicate code {row.code} ({row.system})")
            seen.add(key)
            if row.is_stem:
                stems.setdefault(row.system, []).append((key[1][: -len(_STEM)], row))
            else:
                exact[key] = row
        object.__setattr__(self, "_exact", MappingProxyType(exact))
        frozen_stems = {system: tuple(rows) for system, rows in stems.items()}
        object.__setattr__(self, "_stems", MappingProxyType(frozen_stems))

    def find(
        self, system: str | None, code: str | None, *, match_icd10_who: bool = False
    ) -> Code | None:
        """Return the row matching one coding, or None.

        Args:
            system: the coding's system URI; compared exactly.
            code: the coding's code; ICD-10 codes are compared without dots and upper-cased.
            match_icd10_who: also compare WHO ICD-10 codes with the ICD-10-CM rows
                (setting `match_icd10_who`, clinical-rules §2.1).
        """
        if not isinstance(system, str) or not isinstance(code, str) or not code.strip():
            return None
        systems = [system]
        if match_icd10_who and system == ICD10_WHO:
            systems.append(ICD10CM)
        for candidate in systems:
            normalised = normalise_code(candidate, code)
            row = self._exact.get((candidate, normalised))
            if row is not None:
                return row
            for stem, stem_row in self._stems.get(candidate, ()):
                if normalised.startswith(stem):
                    return stem_row
        return None

    def contains(
        self, system: str | None, code: str | None, *, match_icd10_who: bool = False
    ) -> bool:
        """Return True when the coding `system`/`code` is in the set."""
        return self.find(system, code, match_icd10_who=match_icd10_who) is not None

    def matches(
        self, codings: Iterable[Mapping[str, object]] | None, *, match_icd10_who: bool = False
    ) -> Code | None:
        """Return the row matched by the first coding that matches, looking at every coding.

        Args:
            codings: FHIR Coding objects as dicts with "system" and "code" keys; entries that
                are not mappings, or lack either key, are skipped.
            match_icd10_who: see `find`.
        """
        if codings is None:
            return None
        for coding in codings:
            if not isinstance(coding, Mapping):
                continue
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                row = self.find(system, code, match_icd10_who=match_icd10_who)
                if row is not None:
                    return row
        return None

    def matches_concept(
        self, concept: Mapping[str, object] | None, *, match_icd10_who: bool = False
    ) -> Code | None:
        """Return the row matched by any coding of a FHIR CodeableConcept dict, or None."""
        if not isinstance(concept, Mapping):
            return None
        codings = concept.get("coding")
        if not isinstance(codings, list):
            return None
        return self.matches(codings, match_icd10_who=match_icd10_who)

    def codes_for(self, system: str) -> tuple[str, ...]:
        """Return the codes of one system, in file order, as written (stems keep their `*`)."""
        return tuple(row.code for row in self.codes if row.system == system)

    def __or__(self, other: object) -> ValueSet:
        """Return the union of two sets, named "a|b"; a code in both keeps the left row."""
        if not isinstance(other, ValueSet):
            return NotImplemented
        left = {(row.system, normalise_code(row.system, row.code)) for row in self.codes}
        extra = tuple(
            row
            for row in other.codes
            if (row.system, normalise_code(row.system, row.code)) not in left
        )
        return ValueSet(f"{self.name}|{other.name}", self.codes + extra)


SITE_DIRECTORY_ENV: Final = "B12CDS_VALUE_SET_DIR"


def site_directory() -> Path | None:
    """Return the folder of site value-set extensions (`B12CDS_VALUE_SET_DIR`), if set.

    A site adds its own codes (a local eGFR code, a Cyanokit code, dm+d VMPs) by putting a CSV
    with the same name and columns as a packaged set in this folder: its rows are added to the
    packaged rows, which stay as the floor (clinical-rules §2.1). It is read once, at start.
    """
    value = os.environ.get(SITE_DIRECTORY_ENV, "").strip()
    return Path(value) if value else None


def load(name: str, directory: Path | None = None, site: Path | None = None) -> ValueSet:
    """Return the value set in `<name>.csv`, after checking every row.

    Args:
        name: the value set name, which is also the file name without `.csv`.
        directory: read the file from this folder instead of the `cards.valuesets` package.
        site: a folder of site extensions; `<site>/<name>.csv`, when present, adds its rows.

    Raises:
        ValueSetError: the file is missing or wrong; the message names the file and line and
            says how to fix it.
    """
    label, text = _read(name, directory)
    codes: list[Code] = []
    first_line: dict[tuple[str, str], str] = {}
    sources = [(label, text)]
    if site is not None and (site / f"{name}.csv").is_file():
        sources.append(_read(name, site))
    for file_label, file_text in sources:
        for lineno, values in _rows(file_label, file_text, COLUMNS):
            row = _code(file_label, lineno, values)
            key = (row.system, normalise_code(row.system, row.code))
            if key in first_line:
                raise ValueSetError(
                    f"{file_label} line {lineno}: duplicate code {row.code} in {row.system} "
                    f"(first in {first_line[key]}); delete one of the two rows"
                )
            first_line[key] = f"{file_label} line {lineno}"
            codes.append(row)
    if not codes and name not in TEXT_RULE_ONLY_SETS:
        raise ValueSetError(f"{label}: no codes; add at least one [V] or [V2] row")
    if codes and not any(row.verified for row in codes) and name not in TEXT_RULE_ONLY_SETS:
        raise ValueSetError(
            f"{label}: every code is U, and a [U] code never stands alone (clinical-rules §2.1); "
            "add a V or V2 code, or add the set to TEXT_RULE_ONLY_SETS if a §2.7 text rule backs it"
        )
    return ValueSet(name, tuple(codes))


def check_site_directory(site: Path | None, known: Iterable[str]) -> None:
    """Refuse a site folder that is missing or holds a file no packaged value set is named after."""
    if site is None:
        return
    if not site.is_dir():
        raise ValueSetError(f"{SITE_DIRECTORY_ENV}={site}: not a folder")
    names = set(known)
    for path in sorted(site.glob("*.csv")):
        if path.stem not in names:
            raise ValueSetError(
                f"{path}: no packaged value set is named {path.stem!r}; a site file extends a "
                f"packaged set and takes its name (one of: {', '.join(sorted(names))})"
            )


def load_order_codes(directory: Path | None = None, site: Path | None = None) -> Mapping[str, Code]:
    """Return the codes written into suggested orders (order-codes.csv), by name.

    Args:
        directory: read the file from this folder instead of the `cards.valuesets` package.
        site: a folder of site extensions; its `order-codes.csv` replaces rows by name (a local
            orderable code) and may add names no source gave a code for (`paediatric_referral`).

    Raises:
        ValueSetError: the file is missing or wrong; the message names the file and line.
    """
    sources = [_read("order-codes", directory)]
    if site is not None and (site / "order-codes.csv").is_file():
        sources.append(_read("order-codes", site))
    codes: dict[str, Code] = {}
    for label, text in sources:
        seen: set[str] = set()
        for lineno, values in _rows(label, text, ORDER_CODE_COLUMNS):
            name = values[0]
            if not _ORDER_NAME.match(name):
                raise ValueSetError(
                    f"{label} line {lineno}: order name {name!r} must be lower_snake_case"
                )
            if name in seen:
                raise ValueSetError(f"{label} line {lineno}: duplicate order name {name!r}")
            seen.add(name)
            row = _code(label, lineno, values[1:])
            if row.is_stem:
                raise ValueSetError(f"{label} line {lineno}: an order code cannot be a stem")
            codes[name] = row  # a site row replaces the packaged row of the same name
    return MappingProxyType(codes)


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text)


def _read(name: str, directory: Path | None) -> tuple[str, str]:
    """Return a label for messages and the text of `<name>.csv`."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueSetError(
            f"value set name {name!r} must be a plain lower-case file name such as "
            "'b12-serum-loinc' (no folder, no '.csv')"
        )
    filename = f"{name}.csv"
    try:
        if directory is None:
            label = f"cards/valuesets/{filename}"
            text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8-sig")
        else:
            path = Path(directory) / filename
            label = str(path)
            text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueSetError(
            f"{label}: cannot read the value set file ({exc.strerror or exc}); "
            "check the name or add the file"
        ) from exc
    return label, text


def _rows(label: str, text: str, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Return (line number, fields) for each data row, after checking the header line."""
    rows: list[tuple[int, list[str]]] = []
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            values = [value.strip() for value in next(csv.reader([line], strict=True))]
        except csv.Error as exc:
            raise ValueSetError(
                f"{label} line {lineno}: {exc}; put double quotes around a field holding a comma"
            ) from exc
        if not header_seen:
            if tuple(values) != columns:
                raise ValueSetError(
                    f"{label} line {lineno}: header is {','.join(values)!r}; the first line "
                    f"after the # comments must be {','.join(columns)}"
                )
            header_seen = True
            continue
        if len(values) != len(columns):
            raise ValueSetError(
                f"{label} line {lineno}: {len(values)} fields where {len(columns)} are expected "
                f"({','.join(columns)}); put double quotes around a field holding a comma"
            )
        rows.append((lineno, values))
    if not header_seen:
        raise ValueSetError(f"{label}: no header line; add {','.join(columns)} after the comments")
    return rows


def _code(label: str, lineno: int, values: list[str]) -> Code:
    """Return the Code of one data row, or raise a ValueSetError saying how to fix the row."""
    system, code, display, status, source = values
    where = f"{label} line {lineno}"
    if system not in KNOWN_SYSTEMS:
        raise ValueSetError(
            f"{where}: unknown system URI {system!r}; use one of {', '.join(sorted(KNOWN_SYSTEMS))}"
        )
    if not code:
        raise ValueSetError(f"{where}: missing code; fill the code column or delete the row")
    if not source:
        raise ValueSetError(
            f"{where}: missing source for code {code}; name the clinical-rules §10.1 source tag(s)"
        )
    if status not in STATUSES:
        raise ValueSetError(
            f"{where}: status {status!r} for code {code} is not V, V2 or U; write it without "
            "brackets and put any note in the display"
        )
    try:
        return Code(system, code, display, status, source)
    except ValueError as exc:
        raise ValueSetError(f"{where}: {exc}") from exc


def _subset(name: str, sources: Iterable[ValueSet], wanted: Iterable[str]) -> ValueSet:
    """Return the rows of `sources` whose code is in `wanted`; every wanted code must exist."""
    wanted = tuple(wanted)
    rows = tuple(row for source in sources for row in source.codes if row.code in wanted)
    missing = sorted(set(wanted) - {row.code for row in rows})
    if missing:
        raise ValueSetError(f"{name}: codes {', '.join(missing)} are in none of its source sets")
    return ValueSet(name, rows)


def _without(name: str, source: ValueSet, dropped: Iterable[str]) -> ValueSet:
    """Return `source` without the rows whose code is in `dropped`; each must exist."""
    dropped = frozenset(dropped)
    missing = sorted(dropped - {row.code for row in source.codes})
    if missing:
        raise ValueSetError(f"{name}: codes {', '.join(missing)} are not in {source.name}")
    return ValueSet(name, tuple(row for row in source.codes if row.code not in dropped))


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
