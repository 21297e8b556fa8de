"""The layout of cards/: pure logic, one module per rule, a source beside every threshold."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from cards.services import RULES


CARDS = Path(__file__).resolve().parents[2] / "cards"
MODULES = sorted(CARDS.rglob("*.py"))
RULE_MODULES = sorted(p for p in (CARDS / "rules").glob("*.py") if p.name != "__init__.py")
FORBIDDEN = frozenset({"flask", "requests", "werkzeug", "service"})
# The rule catalogue of contract.md ("Rule ids").
CATALOGUE = frozenset(
    {
        "b12-neuro-untreated",
        "b12-deficiency-untreated",
        "folate-before-b12",
        "folate-low-b12-unknown",
        "potassium-monitoring",
        "hypokalaemia-on-treatment",
        "haematologic-response",
        "b12-indeterminate-functional-tests",
        "functional-b12-deficiency",
        "nitrous-oxide",
        "metformin-monitoring",
        "acid-suppression-monitoring",
        "bariatric-prophylaxis",
        "ileal-resection",
        "vegan-diet-supplement",
        "pernicious-anaemia-oral",
        "maintenance-overdue",
        "pregnancy-b12",
        "paediatric-specialist",
        "treatment-response-review",
        "b12-test-uninformative",
        "cyanocobalamin-safety",
    }
)
THRESHOLD_MODULES = [CARDS / "settings.py"]
SOURCE_TAG = re.compile(r"S-|\[U\]|\[V2?\]|§")


def _name(path: Path) -> str:
    """Return a module path relative to the project, as a test id."""
    return str(path.relative_to(CARDS.parent))


def _imports(tree: ast.AST) -> set[str]:
    """Return the top-level package of every absolute import in a module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_catalogue_has_22_rules():
    """Copy all 22 rule ids of the contract's catalogue."""
    assert 22 == len(CATALOGUE)


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_cards_is_pure(path):
    """Import neither flask, requests, werkzeug nor service anywhere in cards/."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    assert set() == _imports(tree) & FORBIDDEN


def _module_constants(tree: ast.Module) -> dict[str, object]:
    """Return the module-level names bound to a literal, and 'def' names mapped to None."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
        elif isinstance(node, ast.FunctionDef):
            found[node.name] = None
    return found


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_is_at_most_500_lines(path):
    """No module in cards/ passes 500 lines (issue 10): a longer one is split, like cards/facts/."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


@pytest.mark.parametrize("path", RULE_MODULES, ids=_name)
def test_rule_module_shape(path):
    """Give every rule module RULE_ID (the module name with dashes), TITLE and evaluate."""
    names = _module_constants(ast.parse(path.read_text(encoding="utf-8")))

    assert {"RULE_ID", "TITLE", "evaluate"} <= set(names)
    assert path.stem.replace("_", "-") == names["RULE_ID"]
    assert isinstance(names["TITLE"], str) and names["TITLE"]
    assert names["RULE_ID"] in CATALOGUE


def test_every_rule_module_is_registered():
    """Register every rule module in cards.services and nothing else."""
    assert {p.stem.replace("_", "-") for p in RULE_MODULES} == set(RULES)


def _comments_by_line(source: str) -> dict[int, str]:
    """Return the comment on each line of a module."""
    return {
        token.start[0]: token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }


def _numeric_defaults(tree: ast.Module) -> list[ast.AnnAssign]:
    """Return every annotated class attribute whose default is an int or float literal."""
    return [
        node
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.value, ast.Constant)
        and type(node.value.value) in (int, float)
    ]


@pytest.mark.parametrize("path", THRESHOLD_MODULES, ids=_name)
def test_every_numeric_default_has_a_source(path):
    """Put a source tag (S-..., [V], [V2], [U] or §) beside every numeric default."""
    source = path.read_text(encoding="utf-8")
    comments = _comments_by_line(source)

    untagged = [
        ast.unparse(node.target)
        for node in _numeric_defaults(ast.parse(source))
        if not any(
            SOURCE_TAG.search(comments.get(line, ""))
            for line in range(node.lineno, node.end_lineno + 1)
        )
    ]

    assert [] == untagged
