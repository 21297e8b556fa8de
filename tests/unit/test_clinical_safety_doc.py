"""docs/clinical-safety.md stays honest: controls cite real tests, each rating fits the matrix.

The hazard log (DCB0129 style) cites pytest node ids as the proof of each control. These checks read
the document and the cited test files (with `ast`, without running them): the file exists, the test
function is defined at module level, a `[parameter id]` is one the file can produce (a literal id in
the file, or an existing fixture file), each hazard has its fields and at least one control, each
control cites a test, the ratings follow the document's risk matrix, and the summary table agrees
with the sections. Running the cited tests is the normal test run's job.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "clinical-safety.md").read_text(encoding="utf-8")
HOOKS = ROOT / "fhir_fixtures" / "hooks"

REFERENCE = re.compile(r"(tests/[\w/.-]+\.py)::(\w+)(?:\[([^\]\n]*)\])?")
HEADING = re.compile(r"^### (H\d{2}) (.+)$", re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,3} ", re.MULTILINE)
FIXTURE = re.compile(r"[\w.-]+/[\w.-]+\.json")
RISK = re.compile(r"L([1-5]) × S([1-5]) → ([1-5])")
RISK_WITH_LABEL = re.compile(RISK.pattern + r" \(([A-Za-z ]+)\)")
CONTROLS = "**Controls and the tests that prove them.**"
FIELDS = (
    "**Hazard.**",
    "**Causes.**",
    "**Effects on the patient.**",
    CONTROLS,
    "**Initial risk.**",
    "**Residual risk.**",
    "**Further action for the deploying site.**",
)
LABELS = {1: "Very low", 2: "Low", 3: "Medium", 4: "High", 5: "Very high"}
# The NHS DCB0129/DCB0160 matrix: likelihood -> ratings for severity 1 (Minor) to 5 (Catastrophic).
MATRIX = {
    5: (3, 4, 4, 5, 5),
    4: (2, 3, 3, 4, 5),
    3: (2, 2, 3, 3, 4),
    2: (1, 2, 2, 3, 4),
    1: (1, 1, 2, 2, 3),
}
HIGHEST_ACCEPTED_RESIDUAL = 3
# The hazards the project requires, found by a word in their heading.
REQUIRED_TOPICS = {
    "unit or molar/mass confusion": "unit",
    "folic acid hidden in a combination product": "combination",
    "stale or post-injection result": "post-injection",
    "child given an adult dose": "child",
    "critical card lost to alert fatigue": "fatigue",
    "fhir server returning partial data": "partial",
    # clinical-rules §11 (issue 11)
    "false prenatal folic acid alert": "prenatal",
    "low result hidden by a same-time one": "same time",
    "protective folic acid deleted": "protective",
    "combined B12 and folate deficiency missed": "combined",
    # issue 12: the snooze of answered cards
    "advice hidden that still applies": "still applies",
}


@dataclass(frozen=True)
class Hazard:
    """One `### Hnn title` section of the log."""

    id: str
    title: str
    body: str


def _hazards() -> list[Hazard]:
    """Return every hazard section, its body ending at the next heading of any level."""
    starts = [m.start() for m in ANY_HEADING.finditer(DOC)] + [len(DOC)]
    found = []
    for match in HEADING.finditer(DOC):
        end = min(s for s in starts if s > match.start())
        found.append(Hazard(match.group(1), match.group(2).strip(), DOC[match.end() : end]))
    return found


HAZARDS = _hazards()
HAZARD_IDS = [h.id for h in HAZARDS]
REFERENCES = sorted({m.groups() for m in REFERENCE.finditer(DOC)}, key=lambda g: tuple(map(str, g)))
FUNCTIONS = sorted({(path, name) for path, name, _ in REFERENCES})
PARAMETER_IDS = sorted((p, n, i) for p, n, i in REFERENCES if i is not None)


def _field(hazard: Hazard, name: str) -> str:
    """Return the paragraph that starts with a field marker."""
    paragraph = hazard.body.split(name, 1)[1].split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def _controls(hazard: Hazard) -> list[str]:
    """Return each control: a `- ` item after the controls marker, with its indented lines."""
    items: list[str] = []
    for line in hazard.body.split(CONTROLS, 1)[1].splitlines():
        if line.startswith("**"):
            break
        if line.startswith("- "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def _risk(text: str) -> tuple[int, int, int, str]:
    """Return likelihood, severity, rating and label of the first `Ln × Sn → n (label)`."""
    match = RISK_WITH_LABEL.search(text)
    assert match, f"no 'L? × S? → ? (label)' in: {text[:80]}"
    likelihood, severity, rating = (int(g) for g in match.groups()[:3])
    return likelihood, severity, rating, match.group(4)


@cache
def _module(path: str) -> ast.Module:
    """Return the parsed test file (compile-time warnings of that file are not this test's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)


def _function(path: str, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """Return the module-level function of that name, if the file defines one."""
    for node in _module(path).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


@cache
def _string_literals(path: str) -> frozenset[str]:
    """Return every string constant in the test file (where literal parameter ids live)."""
    return frozenset(
        node.value
        for node in ast.walk(_module(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_hazard_ids_run_in_order_without_gaps():
    """Hazards are numbered H01, H02, ... once each."""
    assert HAZARD_IDS
    assert [f"H{n:02d}" for n in range(1, len(HAZARD_IDS) + 1)] == HAZARD_IDS


@pytest.mark.parametrize("hazard", HAZARDS, ids=HAZARD_IDS)
def test_each_hazard_has_every_field_in_order(hazard):
    """A hazard has its hazard, causes, effects, controls, both risks and the site's action."""
    positions = [hazard.body.find(name) for name in FIELDS]
    assert -1 not in positions, [f for f, p in zip(FIELDS, positions, strict=True) if p == -1]
    assert sorted(positions) == positions
    for name in FIELDS:
        assert 1 == hazard.body.count(name), name
        if name != CONTROLS:
            assert _field(hazard, name), f"{name} is empty"


@pytest.mark.parametrize("hazard", HAZARDS, ids=HAZARD_IDS)
def test_every_hazard_cites_at_least_one_test(hazard):
    """Each hazard names at least one test node id."""
    assert REFERENCE.search(hazard.body)


@pytest.mark.parametrize("hazard", HAZARDS, ids=HAZARD_IDS)
def test_every_control_names_a_test(hazard):
    """Each hazard lists controls, and each control cites at least one test."""
    controls = _controls(hazard)
    assert controls
    assert [] == [c[:80] for c in controls if not REFERENCE.search(c)]


@pytest.mark.parametrize(("path", "name"), FUNCTIONS, ids=[f"{p}::{n}" for p, n in FUNCTIONS])
def test_cited_test_exists(path, name):
    """A cited file exists under tests/ and defines the test function at module level."""
    assert (ROOT / path).is_file(), f"{path} does not exist"
    assert name.startswith("test_"), f"{name} is not a test function"
    assert _function(path, name) is not None, f"{path} defines no module-level {name}"


@pytest.mark.parametrize(
    ("path", "name", "param"),
    PARAMETER_IDS,
    ids=[f"{p}::{n}:{i}" for p, n, i in PARAMETER_IDS],
)
def test_cited_parameter_id_is_plausible(path, name, param):
    """A `[id]` belongs to a parametrized test and is a literal id or names an existing fixture."""
    function = _function(path, name)
    assert function is not None, f"{path} defines no module-level {name}"
    decorators = [ast.unparse(d) for d in function.decorator_list]
    assert any("parametrize" in d for d in decorators), f"{name} is not parametrized"
    literals = _string_literals(path)
    if param in literals:
        return
    fixture = FIXTURE.search(param)
    assert fixture, f"[{param}] is neither a literal id in {path} nor a fixture file"
    assert (HOOKS / fixture.group()).is_file(), f"no fixture {fixture.group()}"
    rest = (param[: fixture.start()] + param[fixture.end() :]).strip("-")
    assert not rest or rest in literals, f"[{param}]: '{rest}' is not a literal id in {path}"


def test_the_risk_matrix_is_the_one_checked():
    """The document's matrix is the DCB0129 matrix these checks apply."""
    row = re.compile(r"^\| ([1-5]) ([A-Za-z ]+?) \|" + r" ([1-5]) \|" * 5 + r"$", re.MULTILINE)
    found = {int(m.group(1)): tuple(int(g) for g in m.groups()[2:]) for m in row.finditer(DOC)}
    labels = {int(m.group(1)): m.group(2) for m in row.finditer(DOC)}
    assert MATRIX == found
    assert LABELS == labels


@pytest.mark.parametrize("hazard", HAZARDS, ids=HAZARD_IDS)
def test_ratings_follow_the_matrix(hazard):
    """Each rating is read from the matrix, and the residual risk is no worse and acceptable."""
    initial = _risk(_field(hazard, "**Initial risk.**"))
    residual = _risk(_field(hazard, "**Residual risk.**"))
    for likelihood, severity, rating, label in (initial, residual):
        assert MATRIX[likelihood][severity - 1] == rating, (likelihood, severity, rating)
        assert LABELS[rating] == label, (rating, label)
    assert residual[0] <= initial[0], "residual likelihood above initial"
    assert residual[1] <= initial[1], "residual severity above initial"
    assert residual[2] <= initial[2], "residual rating above initial"
    assert residual[2] <= HIGHEST_ACCEPTED_RESIDUAL, "an unacceptable residual risk"


def test_summary_table_agrees_with_the_sections():
    """The summary lists every hazard once, with its section's title and ratings."""
    row = re.compile(r"^\| (H\d{2}) \| (.+?) \| (L.+?) \| (L.+?) \|$", re.MULTILINE)
    summary = {m.group(1): m.groups()[1:] for m in row.finditer(DOC)}
    assert HAZARD_IDS == list(summary)
    for hazard in HAZARDS:
        title, initial, residual = summary[hazard.id]
        assert hazard.title == title
        assert RISK.fullmatch(initial) and RISK.fullmatch(residual), hazard.id
        assert initial == RISK.search(_field(hazard, "**Initial risk.**")).group()
        assert residual == RISK.search(_field(hazard, "**Residual risk.**")).group()


@pytest.mark.parametrize("word", REQUIRED_TOPICS.values(), ids=list(REQUIRED_TOPICS))
def test_required_hazard_is_logged(word):
    """Each hazard the project requires has a section whose heading names it."""
    assert any(word in h.title.lower() for h in HAZARDS), f"no hazard heading mentions {word!r}"
