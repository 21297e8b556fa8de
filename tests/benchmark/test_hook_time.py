"""Our own time per hook: every fixture request through the Flask test client, 50 times each.

Off by default (pyproject: `-m "not benchmark"`); run with `pytest -m benchmark tests/benchmark`.
Prints p50/p99 per fixture and per service. Never asserts on time, only on status 200: a timing
assertion would fail on a loaded CI machine and say nothing about the code. The production-server
measurement is `python -m bench.run` (bench/README.md).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import TODAY
from tests.conftest import load


pytestmark = pytest.mark.benchmark

RUNS = 50
HOOKS = FIXTURES / "hooks"
SCENARIOS: dict[str, dict[str, Any]] = {s["file"]: s for s in load(FIXTURES / "scenarios.json")}
SERVICE_IDS = sorted(p.name for p in HOOKS.iterdir() if p.is_dir())


def _percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return sorted_ms[max(1, math.ceil(p / 100 * len(sorted_ms))) - 1]


def _time_fixture(path: Path, service_id: str) -> list[float]:
    """Return RUNS sorted timings (ms) of one fixture; every answer must be 200."""
    config = SCENARIOS.get(f"{service_id}/{path.name}", {}).get("config", {})
    app = create_app({"TESTING": True, "REQUIRE_JWT": False, "TODAY": TODAY, **config})
    client = app.test_client()
    body = path.read_bytes()
    url = f"/cds-services/{service_id}"
    timings = []
    for _ in range(RUNS + 1):  # the first call is a warm-up, not timed
        started = time.perf_counter()
        response = client.post(url, data=body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, json.dumps(response.get_json())[:500]
        timings.append(elapsed)
    return sorted(timings[1:])


@pytest.mark.parametrize("service_id", SERVICE_IDS)
def test_hook_time(service_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Print p50/p99 of our own time for each fixture of one service."""
    lines = [f"\n{service_id}: {RUNS} runs per fixture, Flask test client, JWT off"]
    every: list[float] = []
    for path in sorted((HOOKS / service_id).glob("*.json")):
        timings = _time_fixture(path, service_id)
        every.extend(timings)
        p50, p99 = _percentile(timings, 50), _percentile(timings, 99)
        lines.append(f"  {path.stem:62} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    every.sort()
    lines.append(
        f"  {'all fixtures':62} p50 {_percentile(every, 50):6.2f} ms"
        f"  p99 {_percentile(every, 99):6.2f} ms"
    )
    with capsys.disabled():
        print("\n".join(lines))
