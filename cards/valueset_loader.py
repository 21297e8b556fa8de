"""Code systems, value sets and their loader (clinical-rules §2); the sets are `cards.terminology`.

Every value set is a CSV file in the `cards.valuesets` package, named after the set, with a
provenance header of `#` lines and the columns `system,code,display,status,source`. `load()` reads
one file and checks every row. Matching follows clinical-rules §2.1: any coding of a concept may
match (never only the first), ICD-10-CM codes are compared with dots removed and upper-cased, and
an ICD-10-CM row ending in `*` matches every code that starts with its stem.

The single-ingredient product sets (`STRENGTH_SETS`) carry a sixth column, `strength`: the amount
of the ingredient in one unit (`0.4 mg`, `1000 ug`) or per mL (`1 mg/mL`), in UCUM, filled from the
code's own display and checked against it (clinical-rules §11.1 (b)); empty for an ingredient code,
a combination or a display that states no strength.
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

from cards import text as _text
from cards.errors import ValueSetError
from cards.strength import Strength
from cards.strength import parse_strength
from cards.strength import strengths_in_text


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
STRENGTH_COLUMNS: Final = (*COLUMNS, "strength")

# Product sets whose rows may state a strength (clinical-rules §11.1 (b)): their packaged file has
# the `strength` column; a site file of the same name may have it or not.
STRENGTH_SETS: Final[frozenset[str]] = frozenset(
    {"folate-products", "b12-products-oral-nasal", "b12-products-parenteral"}
)


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
    strength: Strength | None = None  # product sets only (§11.1 (b)); see `STRENGTH_SETS`

    def __post_init__(self) -> None:
        if self.strength is not None and not isinstance(self.strength, Strength):
            raise TypeError(f"Code.strength must be a Strength, not {self.strength!r}")
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
    packaged_columns: tuple[tuple[str, ...], ...] = (
        (STRENGTH_COLUMNS,) if name in STRENGTH_SETS else (COLUMNS,)
    )
    sources = [(label, text, packaged_columns)]
    if site is not None and (site / f"{name}.csv").is_file():
        site_columns: tuple[tuple[str, ...], ...] = (
            (STRENGTH_COLUMNS, COLUMNS) if name in STRENGTH_SETS else (COLUMNS,)
        )
        sources.append((*_read(name, site), site_columns))
    for file_label, file_text, columns in sources:
        for lineno, values in _rows(file_label, file_text, *columns):
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


def _rows(label: str, text: str, *allowed: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Return (line number, fields) for each data row, after checking the header line.

    The header must be one of `allowed` (the first is the one named in messages); every data row
    then has that header's number of fields.
    """
    rows: list[tuple[int, list[str]]] = []
    header_seen = False
    columns = allowed[0]
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
            if tuple(values) not in allowed:
                raise ValueSetError(
                    f"{label} line {lineno}: header is {','.join(values)!r}; the first line "
                    f"after the # comments must be {' or '.join(','.join(a) for a in allowed)}"
                )
            columns = tuple(values)
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
    system, code, display, status, source = values[:5]
    where = f"{label} line {lineno}"
    strength = _strength(where, code, display, values[5] if len(values) > 5 else "")
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
        return Code(system, code, display, status, source, strength)
    except ValueError as exc:
        raise ValueSetError(f"{where}: {exc}") from exc


def _strength(where: str, code: str, display: str, cell: str) -> Strength | None:
    """Return a row's strength after checking it is one the display states (§11.1 (b))."""
    try:
        strength = parse_strength(cell)
    except ValueError as exc:
        raise ValueSetError(f"{where}: {exc}") from exc
    if strength is None:
        return None
    stated = [found for found, _, _ in strengths_in_text(_text.normalise(display))]
    if strength not in stated:
        said = ", ".join(str(s) for s in stated) or "none"
        raise ValueSetError(
            f"{where}: strength {cell!r} of code {code} is not one its display states "
            f"(display says: {said}); fill the strength from the code's own display, or leave "
            "it empty"
        )
    return strength


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
