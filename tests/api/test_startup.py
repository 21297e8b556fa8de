"""A broken value-set file stops start-up with one line naming the file and the line.

Value sets are loaded and checked once, when the clinical knowledge is imported. A site extends a
packaged set by a CSV of the same name in `B12CDS_VALUE_SET_DIR`; these tests break such a file
and start the real command in a fresh interpreter, as an operator would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
HEADER = "# site extension for a test\nsystem,code,display,status,source\n"


def _python(
    site: Path | None, *args: str, check: bool = False, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter with only the given B12CDS_ variables (and the site folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("B12CDS_")}
    if site is not None:
        env["B12CDS_VALUE_SET_DIR"] = str(site)
    env.update({f"B12CDS_{name}": value for name, value in variables.items()})
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def _run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _python(site, "-m", "service.cli", *args)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param(
            "http://loinc.org,62238-1,eGFR CKD-EPI,U,site lab\n"
            "http://snomed.info/sctx,123,bad system,V,site\n",
            "egfr-loinc.csv line 4: unknown system URI 'http://snomed.info/sctx'",
            id="bad-system-uri",
        ),
        pytest.param(
            "http://loinc.org,33914-3,eGFR MDRD again,V,site\n",
            "egfr-loinc.csv line 3: duplicate code 33914-3 in http://loinc.org "
            "(first in cards/valuesets/egfr-loinc.csv line",
            id="duplicate-of-packaged-code",
        ),
        pytest.param(
            "http://loinc.org,62238-1,eGFR CKD-EPI,U,\n",
            "egfr-loinc.csv line 3: missing source for code 62238-1",
            id="missing-source",
        ),
    ],
)
@pytest.mark.parametrize("command", [["valuesets"], ["serve", "--dev", "--port", "0"]])
def test_broken_value_set_stops_start_up(tmp_path, rows, message, command):
    """Every command, `serve` included, refuses to start and names the file and the line."""
    (tmp_path / "egfr-loinc.csv").write_text(HEADER + rows, encoding="utf-8")
    result = _run(tmp_path, *command)
    assert 2 == result.returncode, result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("b12-cds: cannot start:") or "cannot start" in result.stderr


def test_site_file_must_extend_a_packaged_set(tmp_path):
    """A site file whose name matches no value set is refused, not silently ignored."""
    (tmp_path / "egfr.csv").write_text(HEADER, encoding="utf-8")
    result = _run(tmp_path, "valuesets")
    assert 2 == result.returncode
    assert "egfr.csv: no packaged value set is named 'egfr'" in result.stderr


def test_site_extension_adds_codes_to_the_prefetch_filter(tmp_path):
    """A valid site row joins its set and, for a set read from Observations, the prefetch."""
    (tmp_path / "egfr-loinc.csv").write_text(
        HEADER + "http://loinc.org,62238-1,eGFR CKD-EPI (site),U,site lab\n", encoding="utf-8"
    )
    (tmp_path / "vegan-vegetarian-diet.csv").write_text(
        HEADER + "http://loinc.org,99999-9,Diet recorded as vegan (site),U,site form\n",
        encoding="utf-8",
    )
    script = (
        "from cards.services import SERVICES;"
        "query = SERVICES['b12-patient-view'].prefetch['observations'];"
        "print('62238-1' in query, '99999-9' in query)"
    )
    result = _python(tmp_path, "-c", script, check=True)
    assert "True True" == result.stdout.strip()


def test_create_app_raises_naming_file_and_line(tmp_path):
    """create_app itself raises the ValueSetError (a WSGI server then refuses to boot)."""
    (tmp_path / "neuro-findings.csv").write_text(
        HEADER + "http://snomed.info/sct,91019004,duplicate paraesthesia,V,site\n",
        encoding="utf-8",
    )
    script = "from service import create_app; create_app()"
    result = _python(tmp_path, "-c", script, check=False)
    assert 0 != result.returncode
    assert "ValueSetError" in result.stderr
    assert "neuro-findings.csv line 3: duplicate code 91019004" in result.stderr


def test_site_order_codes_give_the_paediatric_referral(tmp_path):
    """No paediatric referral code was sourced: a site's order-codes.csv row adds the suggestion."""
    (tmp_path / "order-codes.csv").write_text(
        "# site orderables\nname,system,code,display,status,source\n"
        "paediatric_referral,http://snomed.info/sct,999000001,Referral to paediatrics (site),"
        "U,site order catalogue\n",
        encoding="utf-8",
    )
    script = (
        "import json, sys;"
        "from service.cli import evaluate_file;"
        "from datetime import date;"
        "from pathlib import Path;"
        "_, cards = evaluate_file(Path(sys.argv[1]), None, date(2026, 11, 29), None);"
        "print(json.dumps(cards))"
    )
    fixture = ROOT / "fhir_fixtures/hooks/b12-patient-view/ex20-child-neuro-deficient.json"
    result = _python(tmp_path, "-c", script, str(fixture), check=True)
    (card,) = json.loads(result.stdout)
    (suggestion,) = card["suggestions"]
    resource = suggestion["actions"][0]["resource"]
    assert "999000001" == resource["code"]["coding"][0]["code"]
    assert "urgent" == resource["priority"]


def test_jwt_checking_is_on_by_default(monkeypatch):
    """With no configuration at all, a service call without a token gets 401 (REQUIRE_JWT=true)."""
    from service import create_app

    for name in [k for k in os.environ if k.startswith("B12CDS_")]:
        monkeypatch.delenv(name)
    app = create_app()
    assert app.config["REQUIRE_JWT"] is True
    rv = app.test_client().post("/cds-services/b12-patient-view", json={})
    assert 401 == rv.status_code


def test_jwt_checking_off_is_logged_loudly_once(caplog):
    """Turning REQUIRE_JWT off logs one warning at start."""
    import logging

    from service import create_app

    with caplog.at_level(logging.WARNING, logger="b12cds"):
        create_app({"REQUIRE_JWT": False})
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 == len(warnings)
    assert "NOT checked" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param('{"metformin_months": 6}', "unknown clinical setting(s): metformin_months",
                     id="unknown-name"),
        pytest.param('{"vegan_regimen": "monthly"}', "vegan_regimen must be one of",
                     id="bad-choice"),
        pytest.param('{"allow_oral_in_PA": "perhaps"}', "allow_oral_in_PA must be true or false",
                     id="bad-boolean"),
    ],
)  # fmt: skip
def test_bad_clinical_setting_stops_start_up(settings, message):
    """A clinical setting that cannot be used stops `b12-cds` with one line naming it."""
    result = _python(None, "-m", "service.cli", "rules", CLINICAL_SETTINGS=settings)
    assert 2 == result.returncode
    assert "Traceback" not in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("config", "phrase"),
    [
        pytest.param({"TODAY": "2026-11-29"}, "TODAY is set", id="frozen-clock"),
        pytest.param(
            {"CLINICAL_SETTINGS": {"use_lab_reference_first": False}},
            "use_lab_reference_first is false",
            id="lab-reference-off",
        ),
    ],
)
def test_testing_only_switches_are_logged_loudly(caplog, config, phrase):
    """A frozen clock or ignored lab ranges in a running app is announced at start (H22)."""
    import logging

    from service import create_app

    with caplog.at_level(logging.WARNING, logger="b12cds"):
        create_app({"REQUIRE_JWT": True, **config})
    assert [phrase] == [
        phrase for r in caplog.records if r.levelno == logging.WARNING and phrase in r.getMessage()
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(
            "http://snomed.info/sctt,91019004,Paresthesia (finding),V,S-CORE",
            "unknown system URI 'http://snomed.info/sctt'",
            id="bad-system-uri",
        ),
        pytest.param(
            "http://snomed.info/sct,386033004,Neuropathy again,V,S-CORE",
            "duplicate code 386033004",
            id="duplicate",
        ),
    ],
)
def test_broken_packaged_value_set_stops_start_up(tmp_path, line, message):
    """A mis-edited packaged CSV (in a copy of the code) stops start-up naming file and line."""
    shutil.copytree(ROOT / "cards", tmp_path / "cards")
    shutil.copytree(ROOT / "service", tmp_path / "service")
    broken = tmp_path / "cards" / "valuesets" / "neuro-findings.csv"
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text + line + "\n", encoding="utf-8")
    lineno = len((text + line).splitlines())
    env = {k: v for k, v in os.environ.items() if not k.startswith("B12CDS_")}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "valuesets"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 2 == result.returncode, result.stderr
    assert f"cards/valuesets/neuro-findings.csv line {lineno}: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_site_cyanokit_code_excludes_the_antidote_from_treatment(tmp_path):
    """With the site's Cyanokit code, a kit coded as plain hydroxocobalamin is not treatment."""
    (tmp_path / "cyanide-antidote-products.csv").write_text(
        HEADER + "http://snomed.info/sct,999000002,Cyanokit (site formulary),U,site formulary\n",
        encoding="utf-8",
    )
    body = json.loads(
        (ROOT / "fhir_fixtures/hooks/b12-patient-view/ex01-neuro-paraesthesia.json").read_text()
    )
    kit = {
        "resourceType": "MedicationRequest",
        "id": "kit-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pat-ex01"},
        "authoredOn": "2026-11-20",
        "medicationCodeableConcept": {
            "coding": [
                {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5514"},
                {"system": "http://snomed.info/sct", "code": "999000002"},
            ]
        },
    }
    body["prefetch"]["medicationRequests"]["entry"] = [{"resource": kit}]
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body), encoding="utf-8")
    script = (
        "import json, sys;"
        "from datetime import date;"
        "from pathlib import Path;"
        "from service.cli import evaluate_file;"
        "_, cards = evaluate_file(Path(sys.argv[1]), None, date(2026, 11, 29), None);"
        "print(json.dumps([c['source']['topic']['code'] for c in cards]))"
    )
    with_code = _python(tmp_path, "-c", script, str(request), check=True)
    assert ["b12-neuro-untreated"] == json.loads(with_code.stdout)
    (tmp_path / "cyanide-antidote-products.csv").unlink()
    without = _python(tmp_path, "-c", script, str(request), check=True)
    assert [] == json.loads(without.stdout)  # read as IM hydroxocobalamin: treated
