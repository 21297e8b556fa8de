"""The `b12-cds` command: `evaluate` prints the service's own cards offline; `serve` wiring."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest

from service import cli
from tests.conftest import FIXTURES
from tests.conftest import TODAY
from tests.conftest import load


SCENARIOS: list[dict[str, Any]] = [
    s for s in load(FIXTURES / "scenarios.json") if not s.get("config")
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_evaluate_json_equals_the_service_answer(
    capsys: pytest.CaptureFixture[str], scenario: dict[str, Any]
) -> None:
    """`b12-cds evaluate --json` prints exactly what the HTTP service answers for a fixture."""
    path = FIXTURES / "hooks" / scenario["file"]
    assert 0 == cli.main(["evaluate", str(path), "--json", "--today", TODAY])
    expected = load(FIXTURES / "expected" / scenario["file"])
    assert expected == json.loads(capsys.readouterr().out)


def test_evaluate_profile_switches_the_regimen(capsys: pytest.CaptureFixture[str]) -> None:
    """`--profile us` suggests cyanocobalamin 309594 where uk suggests hydroxocobalamin 317106."""
    path = FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json"
    cli.main(["evaluate", str(path), "--json", "--today", TODAY, "--profile", "us"])
    text = capsys.readouterr().out
    assert ("309594" in text, "317106" in text) == (True, False)


def test_evaluate_summary_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    """The default output names the service, and each card's indicator, summary, rule, actions."""
    path = FIXTURES / "hooks" / "b12-order-select" / "ex14-folic-acid-deficient.json"
    assert 0 == cli.main(["evaluate", str(path), "--today", TODAY])
    out = capsys.readouterr().out
    assert out.startswith("b12-order-select (order-select) on 2026-11-29: 1 card(s)")
    assert "[CRITICAL] Folic acid ordered while B12 deficiency is untreated" in out
    assert "rule: folate-before-b12" in out
    assert "-> Remove the draft" in out


def test_evaluate_unknown_hook_names_the_option(tmp_path: Path) -> None:
    """A request for a hook no service answers stops with a message pointing at --service."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"hook": "appointment-book", "context": {}}), encoding="utf-8")
    with pytest.raises(SystemExit, match="--service"):
        cli.main(["evaluate", str(path)])


def test_production_app_freezes_the_heap() -> None:
    """The production app moves its long-lived objects out of the collector's generations."""
    before, threshold = gc.get_freeze_count(), gc.get_threshold()
    try:
        app = cli.production_app({"REQUIRE_JWT": False})
        assert app.name == "service"
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
