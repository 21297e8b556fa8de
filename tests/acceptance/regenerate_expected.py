"""Rewrite fhir_fixtures/expected/ and expected-other-profile/:
`python -m tests.acceptance.regenerate_expected`.

Run it only after a deliberate change to card text or suggestions, then review the diff: the
expected files are the reviewed answers the acceptance tests hold the service to.
"""

from __future__ import annotations

import json
import sys

from tests.acceptance.test_fixtures import EXPECTED
from tests.acceptance.test_fixtures import EXPECTED_OTHER_PROFILE
from tests.acceptance.test_fixtures import SCENARIOS
from tests.acceptance.test_fixtures import _answer
from tests.acceptance.test_fixtures import other_profile


def main() -> int:
    """Write one expected response per scenario; print how many files changed."""
    changed = 0
    for scenario in SCENARIOS:
        for folder, asked in (
            (EXPECTED, scenario),
            (EXPECTED_OTHER_PROFILE, other_profile(scenario)),
        ):
            path = folder / scenario["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(_answer(asked), indent=2, ensure_ascii=False) + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                changed += 1
                print(f"updated {path.relative_to(EXPECTED.parent.parent)}")
    print(f"{changed} of {2 * len(SCENARIOS)} expected files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
