"""Value set files, their loader and code matching (clinical-rules §2)."""

import ast
from importlib import resources
from pathlib import Path

import pytest

from cards import terminology
from cards import text
from cards.terminology import ICD10_WHO
from cards.terminology import ICD10CM
from cards.terminology import KNOWN_SYSTEMS
from cards.terminology import LOINC
from cards.terminology import RXNORM
from cards.terminology import SNOMED
from cards.terminology import Code
from cards.terminology import ValueSet
from cards.terminology import ValueSetError
from cards.terminology import load
from cards.terminology import load_order_codes


CSV_NAMES = sorted(
    entry.name.removesuffix(".csv")
    for entry in resources.files("cards.valuesets").iterdir()
    if entry.name.endswith(".csv")
)
SET_NAMES = [name for name in CSV_NAMES if name != "order-codes"]
POSITIVE_NAMES = [name for name in SET_NAMES if name != "excluded-codes"]
HEADER = "system,code,display,status,source\n"

# The known mis-mappings of clinical-rules §2.3.
BAD_CODES = [
    (LOINC, "16695-9"),
    (LOINC, "15152-2"),
    (LOINC, "2155-0"),
    (LOINC, "5140-4"),
    (RXNORM, "7442"),
    (SNOMED, "183561007"),
    (SNOMED, "300488009"),
]


def _write(directory: Path, name: str, text: str) -> Path:
    """Write a value set file into a test folder and return its path."""
    path = directory / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(name="broken_dir")
def _broken_dir(tmp_path: Path) -> Path:
    """Return an empty folder for hand-written value set files."""
    return tmp_path


@pytest.mark.parametrize("name", SET_NAMES)
def test_every_value_set_file_loads(name: str) -> None:
    """Each value set CSV in the package loads under its own name."""
    assert name == load(name).name


def test_order_codes_file_loads() -> None:
    """order-codes.csv loads as a mapping from order name to code."""
    assert "b12" in load_order_codes()


def test_every_value_set_file_has_a_constant() -> None:
    """Every positive value set file is exposed through VALUE_SETS (so a rule can use it)."""
    assert sorted(POSITIVE_NAMES) == sorted(terminology.VALUE_SETS)


@pytest.mark.parametrize("name", CSV_NAMES)
def test_every_file_starts_with_a_provenance_header(name: str) -> None:
    """Each CSV opens with # comments naming its purpose, its sources and the compile date."""
    text = resources.files("cards.valuesets").joinpath(f"{name}.csv").read_text("utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert text.startswith(f"# {name}: ")
    assert any("2026-11-29" in line for line in comments)
    assert any("Sources" in line for line in comments)


@pytest.mark.parametrize("name", SET_NAMES)
def test_no_code_repeats_within_a_file(name: str) -> None:
    """No system and code pair appears twice in one value set."""
    rows = load(name).codes
    keys = [(row.system, terminology.normalise_code(row.system, row.code)) for row in rows]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name", SET_NAMES)
def test_every_system_is_known(name: str) -> None:
    """Every row uses one of the known code system URIs."""
    assert set() == {row.system for row in load(name).codes} - KNOWN_SYSTEMS


@pytest.mark.parametrize("name", [n for n in SET_NAMES if n not in terminology.TEXT_RULE_ONLY_SETS])
def test_every_set_has_a_verified_code(name: str) -> None:
    """Every set holds a V or V2 code, so a U code is never the only way to match."""
    assert any(row.status in {"V", "V2"} for row in load(name).codes)


def test_the_only_set_without_a_verified_code_is_backed_by_text_and_dose_rules() -> None:
    """The Cyanokit set ships empty (no verified code): its text and dose rules stand alone."""
    assert {"cyanide-antidote-products"} == set(terminology.TEXT_RULE_ONLY_SETS)
    assert () == load("cyanide-antidote-products").codes
    assert {"cyanokit", "cyanide"} <= set(text.CYANIDE_ANTIDOTE_WORDS)


def test_order_codes_have_known_systems_and_no_paediatric_code() -> None:
    """Order codes use known systems and leave out the unsourced paediatric referral."""
    codes = terminology.ORDER_CODES
    assert set() == {code.system for code in codes.values()} - KNOWN_SYSTEMS
    assert "paediatric_referral" not in codes
    assert "308474002" == codes["neurology_referral"].code
    assert "183567007" == codes["haematology_referral"].code


@pytest.mark.parametrize(("system", "code"), BAD_CODES, ids=[code for _, code in BAD_CODES])
def test_known_mis_mappings_are_in_no_positive_set(system: str, code: str) -> None:
    """The codes of clinical-rules §2.3 match no positive set and are all in excluded-codes."""
    matched = [vs.name for vs in terminology.VALUE_SETS.values() if vs.contains(system, code)]
    assert [] == matched
    assert terminology.EXCLUDED_CODES.contains(system, code)


@pytest.mark.parametrize(("system", "code"), BAD_CODES, ids=[code for _, code in BAD_CODES])
def test_known_mis_mappings_are_not_order_codes(system: str, code: str) -> None:
    """No suggested order uses a code of clinical-rules §2.3."""
    assert (system, code) not in {(c.system, c.code) for c in terminology.ORDER_CODES.values()}


@pytest.mark.parametrize("code", ["D51.0", "d510", "D51.9", "D51", " D51.3 "])
def test_icd10cm_stem_matches_every_code_under_it(code: str) -> None:
    """The D51* row matches D51 and its children, whatever the dots and case."""
    assert terminology.B12_DEFICIENCY_CONDITIONS.contains(ICD10CM, code)


@pytest.mark.parametrize("code", ["D52.0", "D5", "E53.9", "XD51.0", ""])
def test_icd10cm_stem_does_not_match_other_codes(code: str) -> None:
    """D51* matches no code outside its stem (a prefix match, never a substring match)."""
    assert not terminology.B12_DEFICIENCY_CONDITIONS.contains(ICD10CM, code)


@pytest.mark.parametrize(
    ("value_set", "code"),
    [
        (terminology.NITROUS_OXIDE_EXPOSURE, "F18.10"),
        (terminology.NITROUS_OXIDE_EXPOSURE, "f1890"),
        (terminology.NITROUS_OXIDE_EXPOSURE, "T59.0X1A"),
        (terminology.PREGNANCY, "O99.011"),
        (terminology.BARIATRIC_SURGERY, "O99.843"),
        (terminology.CROHNS_ILEUM_CONDITIONS, "K50.011"),
    ],
    ids=["F18.10", "f1890", "T59.0X1A", "O99.011", "O99.843", "K50.011"],
)
def test_other_icd10cm_stems_match(value_set: ValueSet, code: str) -> None:
    """F18*, T59.0X*, O99.01*, O99.84* and K50.0* match their child codes."""
    assert value_set.contains(ICD10CM, code)


def test_icd10cm_exact_codes_ignore_dots_and_case() -> None:
    """ICD-10-CM rows match with dots removed and upper-cased (E53.8 = e538)."""
    value_set = terminology.B12_DEFICIENCY_CONDITIONS
    assert value_set.contains(ICD10CM, "e538")
    assert value_set.contains(ICD10CM, "E53.8")
    assert not value_set.contains(ICD10CM, "E53.81")


def test_non_icd_codes_match_exactly() -> None:
    """LOINC codes match only with their exact text and system."""
    assert terminology.SERUM_B12.contains(LOINC, "2132-9")
    assert not terminology.SERUM_B12.contains(LOINC, "21329")
    assert not terminology.SERUM_B12.contains(SNOMED, "2132-9")
    assert not terminology.SERUM_B12.contains(None, "2132-9")
    assert not terminology.SERUM_B12.contains(LOINC, None)


def test_who_icd10_matches_only_when_the_setting_is_on() -> None:
    """WHO ICD-10 codes match ICD-10-CM rows only with match_icd10_who."""
    value_set = terminology.B12_DEFICIENCY_CONDITIONS
    assert not value_set.contains(ICD10_WHO, "D51.0")
    assert value_set.contains(ICD10_WHO, "D51.0", match_icd10_who=True)


def test_matches_looks_at_every_coding() -> None:
    """A concept matches when any coding matches, not only the first."""
    codings = [
        {"system": "http://example.org/local", "code": "PA"},
        {"code": "84027009"},
        {"system": SNOMED, "code": "84027009", "display": "Pernicious anemia"},
    ]
    row = terminology.PERNICIOUS_ANAEMIA_CONDITIONS.matches(codings)
    assert row is not None
    assert "84027009" == row.code


def test_matches_returns_none_without_a_matching_coding() -> None:
    """No matching coding, no codings, or malformed codings give None."""
    value_set = terminology.PERNICIOUS_ANAEMIA_CONDITIONS
    assert value_set.matches([{"system": SNOMED, "code": "190634004"}]) is None
    assert value_set.matches([]) is None
    assert value_set.matches(None) is None
    assert value_set.matches(["84027009", {"system": SNOMED, "code": 84027009}]) is None


def test_matches_concept_reads_the_coding_list() -> None:
    """A CodeableConcept dict matches through its coding list."""
    concept = {"text": "B12 deficiency", "coding": [{"system": ICD10CM, "code": "D51.3"}]}
    row = terminology.B12_DEFICIENCY_CONDITIONS.matches_concept(concept)
    assert row is not None
    assert "D51*" == row.code
    assert terminology.B12_DEFICIENCY_CONDITIONS.matches_concept({"text": "B12"}) is None


def test_codes_for_lists_one_system_in_file_order() -> None:
    """codes_for returns the codes of one system as written, stems included."""
    assert ("D51*", "E53.8") == terminology.B12_DEFICIENCY_CONDITIONS.codes_for(ICD10CM)


def test_union_names_both_sets_and_keeps_each_code_once() -> None:
    """a | b holds the codes of both sets once and is named "a|b"."""
    union = terminology.PERNICIOUS_ANAEMIA_CONDITIONS | terminology.PERNICIOUS_ANAEMIA_CONDITIONS
    assert "pernicious-anaemia-conditions|pernicious-anaemia-conditions" == union.name
    assert terminology.PERNICIOUS_ANAEMIA_CONDITIONS.codes == union.codes
    both = terminology.SERUM_B12 | terminology.HOLOTC
    assert both.contains(LOINC, "2132-9")
    assert both.contains(LOINC, "72160-5")


def test_anaemia_conditions_hold_only_the_anaemia_members() -> None:
    """ANAEMIA_CONDITIONS joins the anaemia rows of the three sets of clinical-rules §2.4."""
    value_set = terminology.ANAEMIA_CONDITIONS
    for code in ("49472006", "234360003", "53165003", "84027009"):
        assert value_set.contains(SNOMED, code), code
    assert value_set.contains(ICD10CM, "D51.0")
    assert value_set.contains(ICD10CM, "D53.1")
    for code in ("190634004", "237934001", "1186880002", "420920007"):
        assert not value_set.contains(SNOMED, code), code
    assert not value_set.contains(ICD10CM, "E53.8")


def test_observation_loinc_codes_cover_the_laboratory_sets() -> None:
    """The prefetch code filter holds every §2.2 LOINC code, sorted, without 16695-9."""
    codes = terminology.OBSERVATION_LOINC_CODES
    for code in ("2132-9", "14685-2", "13964-2", "2823-3", "718-7", "72160-5", "2284-8"):
        assert code in codes
    assert "16695-9" not in codes
    assert tuple(sorted(set(codes))) == codes


def test_cobalamin_subsets_do_not_overlap() -> None:
    """Hydroxocobalamin, cyanocobalamin and mecobalamin rows are told apart."""
    hydroxo = {row.code for row in terminology.HYDROXOCOBALAMIN.codes}
    cyano = {row.code for row in terminology.CYANOCOBALAMIN.codes}
    meco = {row.code for row in terminology.MECOBALAMIN.codes}
    assert set() == hydroxo & cyano
    assert set() == (hydroxo | cyano) & meco
    assert terminology.HYDROXOCOBALAMIN.contains(RXNORM, "317106")
    assert terminology.CYANOCOBALAMIN.contains(RXNORM, "309594")


def test_nitric_oxide_is_not_a_nitrous_oxide_product() -> None:
    """RxNorm 7442 (nitric oxide) is not nitrous oxide; 7486 is."""
    assert not terminology.NITROUS_OXIDE_PRODUCTS.contains(RXNORM, "7442")
    assert terminology.NITROUS_OXIDE_PRODUCTS.contains(RXNORM, "7486")


def test_broken_file_with_unknown_system_names_file_and_line(broken_dir: Path) -> None:
    """An unknown system URI is reported with the file and line number."""
    path = _write(
        broken_dir,
        "bad-system",
        "# comment\n" + HEADER + "http://loinc.org,2132-9,B12,V,S-ARUP-B12\n"
        "http://loinc.org/,14685-2,B12 molar,V,S-LOINC1\n",
    )
    with pytest.raises(ValueSetError) as caught:
        load("bad-system", directory=broken_dir)
    message = str(caught.value)
    assert str(path) in message
    assert "line 4" in message
    assert "unknown system URI" in message


def test_broken_file_with_duplicate_code_names_file_and_line(broken_dir: Path) -> None:
    """A repeated code (after ICD-10-CM dot and case folding) is reported with both lines."""
    path = _write(
        broken_dir,
        "bad-duplicate",
        HEADER + "http://hl7.org/fhir/sid/icd-10-cm,D51.0,PA,V,S-ICD\n"
        "http://hl7.org/fhir/sid/icd-10-cm,d510,PA again,V,S-ICD\n",
    )
    with pytest.raises(ValueSetError) as caught:
        load("bad-duplicate", directory=broken_dir)
    message = str(caught.value)
    assert str(path) in message
    assert "line 3" in message
    assert "duplicate code" in message
    assert "line 2" in message


def test_broken_file_with_missing_source_names_file_and_line(broken_dir: Path) -> None:
    """A row without a source is reported with the file and line number."""
    path = _write(broken_dir, "bad-source", HEADER + "http://loinc.org,2132-9,B12,V,\n")
    with pytest.raises(ValueSetError) as caught:
        load("bad-source", directory=broken_dir)
    message = str(caught.value)
    assert str(path) in message
    assert "line 2" in message
    assert "missing source" in message


def test_broken_file_with_missing_code_names_file_and_line(broken_dir: Path) -> None:
    """A row without a code is reported with the file and line number."""
    _write(broken_dir, "bad-code", HEADER + "http://loinc.org,,B12,V,S-ARUP-B12\n")
    with pytest.raises(ValueSetError, match=r"line 2: missing code"):
        load("bad-code", directory=broken_dir)


def test_broken_file_with_bracketed_status_says_how_to_fix(broken_dir: Path) -> None:
    """A status in brackets ("[V]") is rejected with a hint to drop the brackets."""
    _write(broken_dir, "bad-status", HEADER + "http://loinc.org,2132-9,B12,[V],S-ARUP-B12\n")
    with pytest.raises(ValueSetError, match=r"line 2: status '\[V\]'.*without brackets"):
        load("bad-status", directory=broken_dir)


def test_set_of_only_unverified_codes_is_rejected(broken_dir: Path) -> None:
    """A set holding only U codes is rejected: a [U] code never stands alone."""
    _write(broken_dir, "only-u", HEADER + "http://loinc.org,2132-9,B12,U,S-ARUP-B12\n")
    with pytest.raises(ValueSetError, match="never stands alone"):
        load("only-u", directory=broken_dir)


def test_stem_outside_icd10cm_is_rejected(broken_dir: Path) -> None:
    """A trailing '*' is a stem only in ICD-10-CM rows."""
    _write(broken_dir, "bad-stem", HEADER + "http://snomed.info/sct,1234*,x,V,S-CORE\n")
    with pytest.raises(ValueSetError, match=r"line 2: .*ICD-10-CM rows only"):
        load("bad-stem", directory=broken_dir)


def test_wrong_header_and_field_count_are_reported(broken_dir: Path) -> None:
    """A wrong header or an unquoted comma is reported with its line."""
    _write(broken_dir, "bad-header", "system,code,display,source\n")
    with pytest.raises(ValueSetError, match=r"line 1: header"):
        load("bad-header", directory=broken_dir)
    _write(broken_dir, "bad-fields", HEADER + "http://loinc.org,2132-9,B12, serum,V,S\n")
    with pytest.raises(ValueSetError, match=r"line 2: 6 fields"):
        load("bad-fields", directory=broken_dir)


def test_missing_file_and_path_like_name_are_reported(broken_dir: Path) -> None:
    """A missing file or a name with a folder in it raises ValueSetError, not OSError."""
    with pytest.raises(ValueSetError, match="cannot read"):
        load("no-such-set", directory=broken_dir)
    with pytest.raises(ValueSetError, match="plain lower-case file name"):
        load("../valuesets/b12-serum-loinc")


def test_broken_order_codes_file_is_reported(broken_dir: Path) -> None:
    """A repeated order name in order-codes.csv is reported with its line."""
    _write(
        broken_dir,
        "order-codes",
        "name,system,code,display,status,source\n"
        "b12,http://loinc.org,2132-9,B12,V,S-ARUP-B12\n"
        "b12,http://loinc.org,14685-2,B12,V,S-LOINC1\n",
    )
    with pytest.raises(ValueSetError, match=r"line 3: duplicate order name"):
        load_order_codes(directory=broken_dir)


def test_code_checks_itself() -> None:
    """Code rejects an unknown status, a spaced code and an empty source."""
    with pytest.raises(ValueError, match="status"):
        Code(LOINC, "2132-9", "B12", "[V]", "S-ARUP-B12")
    with pytest.raises(ValueError, match="code"):
        Code(LOINC, "2132 9", "B12", "V", "S-ARUP-B12")
    with pytest.raises(ValueError, match="source"):
        Code(LOINC, "2132-9", "B12", "V", " ")


def test_value_set_rejects_duplicates() -> None:
    """A ValueSet built in code rejects the same code twice."""
    row = Code(ICD10CM, "D51.0", "PA", "V", "S-ICD")
    same = Code(ICD10CM, "d510", "PA", "V", "S-ICD")
    with pytest.raises(ValueError, match="duplicate"):
        ValueSet("twice", (row, same))


@pytest.mark.parametrize("module", ["terminology.py", "text.py"])
def test_module_imports_no_web_library(module: str) -> None:
    """cards/ stays pure: these modules import neither flask, requests nor service."""
    source = (Path(terminology.__file__).parent / module).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert set() == imported & {"flask", "requests", "service"}
