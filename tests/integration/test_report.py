"""The governance report (issue 12, point 6): rows in CARD_AUDIT and FEEDBACK give exact counts
on SQLite and on a real PostgreSQL; the CSV is one row per rule per week; the HTML report of a
seeded set of >= 5,000 cards and >= 1,000 feedback items opens in headless Chromium without
console errors and is not blank."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.seed_learning import seed
from service import migrations
from service import report
from service.cli import main
from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.database import create_engine
from tests.servers import postgres_server
from tests.servers import require_binary


SYSTEM = "https://b12-cds.org/fhir/CodeSystem/override-reason"
MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)  # ISO week 2026-W45
NEXT_WEEK = datetime(2026, 11, 10, 9, tzinfo=UTC)  # 2026-W46


@pytest.fixture(name="postgres_url", scope="module")
def _postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _audit(card: str, rule: str, patient: str, at: datetime, snoozed: bool = False) -> dict:
    return {
        "card_uuid": card,
        "rule_id": rule,
        "service": "b12-patient-view",
        "hook": "patient-view",
        "indicator": "warning",
        "suggestion_uuids": [f"{card}-s1", f"{card}-s2"],
        "hook_instance": "hi",
        "patient_hash": patient,
        "shown_at": at,
        "snoozed": snoozed,
    }


def _feedback(n: int, card: str, outcome: str, at: datetime, **more: object) -> dict:
    row: dict[str, object] = {
        "item_key": f"{n:064d}",
        "service": "b12-patient-view",
        "card_uuid": card,
        "outcome": outcome,
        "accepted_suggestions": [],
        "outcome_at": at,
        "received_at": at,
        "rule_id": None,
        "patient_hash": None,
        "override_system": None,  # every row names every column: an executemany uses the first's
        "override_code": None,
        "override_display": None,
    }
    row.update(more)
    return row


def _hand_made(url: str) -> sa.Engine:
    engine = create_engine(url, 3.0)
    migrations.upgrade(engine)
    audit = [
        _audit("a1", "rule-a", "p1", MONDAY),
        _audit("a1", "rule-a", "p1", MONDAY),  # the same card again for p1: a repeat firing
        _audit("a2", "rule-a", "p2", MONDAY),
        _audit("a3", "rule-a", "p3", MONDAY),
        _audit("a4", "rule-a", "p4", MONDAY, snoozed=True),
        _audit("b1", "rule-b", "p1", NEXT_WEEK),
    ]
    feedback = [
        _feedback(1, "a1", "accepted", MONDAY, accepted_suggestions=["a1-s2"], rule_id="rule-a"),
        _feedback(
            2,
            "a2",
            "overridden",
            MONDAY,
            override_system=SYSTEM,
            override_code="already-treated-elsewhere",
            override_display="Already treated elsewhere",
        ),  # no rule_id stored: the audit row of its card names the rule
        _feedback(3, "b1", "overridden", NEXT_WEEK, rule_id="rule-b"),  # no reason given
        _feedback(4, "zz", "accepted", MONDAY),  # a card no audit row knows
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(CARD_AUDIT), audit)
        connection.execute(sa.insert(FEEDBACK), feedback)
    return engine


def _check_counts(url: str) -> None:
    engine = _hand_made(url)
    try:
        built = report.build(engine)
        since_next = report.build(engine, since=date(2026, 11, 9))
    finally:
        engine.dispose()
    rules = {r.rule_id: r for r in built.rules}
    a = rules["rule-a"]
    assert (a.total.shown, a.total.snoozed, a.total.distinct_patients) == (4, 1, 3)
    assert (a.total.accepted, a.total.overridden, a.total.no_feedback) == (1, 1, 1)
    assert a.cards_per_patient == pytest.approx(4 / 3)
    assert a.repeat_patients == 1
    assert dict(a.suggestions) == {"suggestion 2": 1}
    assert a.top_reasons == [("Already treated elsewhere", 1)]
    low, high = a.total.wilson or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.0945, 0.9055)  # 1 of 2, z = 1.96
    b = rules["rule-b"]
    assert (b.total.shown, b.total.overridden, b.total.no_feedback) == (1, 1, 0)
    assert b.top_reasons == [(report.NO_REASON, 1)]
    assert built.unknown_feedback == 1
    assert built.weeks == ["2026-W45", "2026-W46"]
    assert [r.rule_id for r in since_next.rules] == ["rule-b"]


def test_report_counts_are_exact_on_sqlite(tmp_path):
    _check_counts(f"sqlite:///{tmp_path / 'r.sqlite'}")


def test_report_counts_are_exact_on_postgres(postgres_url):
    _check_counts(postgres_url)


def test_wilson_interval_matches_published_values():
    assert report.wilson_interval(0, 0) is None
    low, high = report.wilson_interval(0, 10) or (1, 1)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.2775)
    low, high = report.wilson_interval(81, 263) or (0, 0)  # Wilson 1927 style worked example
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_a_mostly_overridden_rule_is_flagged_in_plain_language(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'f.sqlite'}", 3.0)
    migrations.upgrade(engine)
    audit = [_audit(f"c{n}", "noisy", f"p{n}", MONDAY) for n in range(20)]
    feedback = [
        _feedback(
            n,
            f"c{n}",
            "overridden" if n < 17 else "accepted",
            MONDAY,
            override_code="already-treated-elsewhere" if n < 10 else "patient-declined",
            accepted_suggestions=[] if n < 17 else [f"c{n}-s1"],
        )
        for n in range(20)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(CARD_AUDIT), audit)
        connection.execute(sa.insert(FEEDBACK), feedback[:19])
    assert report.build(engine).rules[0].flag is None  # 19 items: below the minimum
    with engine.begin() as connection:
        connection.execute(sa.insert(FEEDBACK), feedback[19:])
    flag = report.build(engine).rules[0].flag
    engine.dispose()
    assert flag == "overridden 85% of the time, most often: already treated elsewhere"


def test_csv_is_one_row_per_rule_per_week(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    _hand_made(url).dispose()
    monkeypatch.setenv("B12CDS_DATABASE_URL", url)
    assert main(["report", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["rule_id"], r["iso_week"]) for r in rows] == [
        ("rule-a", "2026-W45"),
        ("rule-b", "2026-W46"),
    ]
    assert set(rows[0]) == set(report.CSV_COLUMNS)
    assert (rows[0]["cards_shown"], rows[0]["snoozed"], rows[0]["acceptance_rate"]) == (
        "4",
        "1",
        "0.5000",
    )
    assert main(["report", "--format", "md", "--since", "2026-11-09"]) == 0
    markdown = capsys.readouterr().out
    assert "| rule-b |" in markdown and "| rule-a |" not in markdown
    for secret in ("p1", "p2", "a1-s2"):  # no patient hash, no uuid
        assert f" {secret} " not in markdown


def test_report_refuses_bad_dates_and_an_unmigrated_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("B12CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert main(["report"]) == 2
    assert "db upgrade" in capsys.readouterr().err
    assert main(["report", "--since", "2026-11-09", "--until", "2026-11-01"]) == 2
    with pytest.raises(SystemExit):
        main(["report", "--since", "yesterday"])


def test_seeded_html_report_opens_in_chromium_without_errors(tmp_path, monkeypatch):
    chromium = require_binary("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'seed.sqlite'}"
    engine = create_engine(url, 3.0)
    migrations.upgrade(engine)
    assert seed(engine, seed=12, cards=6000, feedback=1200) == (6000, 1200)
    engine.dispose()
    monkeypatch.setenv("B12CDS_DATABASE_URL", url)
    page_file = tmp_path / "report.html"
    assert main(["report", "-o", str(page_file)]) == 0
    html = page_file.read_text(encoding="utf-8")
    for external in ("<script", "<link", "<img", 'src="', 'href="http', "@import"):
        assert external not in html, external  # one self-contained file, no fetched resource
    assert not re.search(r"url\(\s*['\"]?(?!#)", html)  # only the SVGs' own #clip paths
    assert "@font-face" not in html and "system-ui" in html
    assert "<svg" in html and "overridden" in html and "@media print" in html
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        fetched: list[str] = []
        page.route("**/*", lambda route: (fetched.append(route.request.url), route.continue_()))
        page.goto(page_file.as_uri())
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        pdf = page.pdf(format="A4")
        browser.close()
    assert errors == []
    assert fetched == [page_file.as_uri()]  # the page itself, nothing else
    assert scroll_width <= 1366  # reads on a laptop screen without sideways scrolling
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    _assert_not_blank(shot)


def _assert_not_blank(path: Path) -> None:
    from PIL import Image  # comes with matplotlib

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counted = rgb.getcolors(rgb.width * rgb.height) or []
        total = rgb.width * rgb.height
    colours = len(counted)
    white = sum(n for n, colour in counted if colour == (255, 255, 255))
    non_white = (total - white) / total
    assert colours > 50, colours
    assert non_white > 0.02, non_white
