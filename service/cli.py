"""The `b12-cds` command: `serve` (granian), `evaluate` (offline), `rules`, `wording`, `valuesets`.

The clinical knowledge (value sets, rules) is imported when a command runs, so a broken value-set
file stops every command with one line naming the file and line, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service import config as cfg


SERVICE_IDS = ("b12-order-select", "b12-order-sign", "b12-patient-view")  # contract.md


def production_app(overrides: dict[str, Any] | None = None) -> Any:
    """Return the app as a production worker runs it.

    The app's long-lived objects (value sets, models, config) are moved out of the garbage
    collector's generations, and young-generation collections are made rarer: a hook call
    allocates tens of thousands of short-lived objects, and full collections over the app's
    heap were the service's p99 tail (bench/README.md).
    """
    from service import create_app

    app = create_app(overrides)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app


def _serve(args: argparse.Namespace) -> int:
    """Run the production server (granian, service/server.py) on the embedded defaults.

    This process checks the configuration and prints every start-up warning once; the worker
    processes it starts read the same `B12CDS_` environment and start quietly.
    """
    from service import create_app
    from service import server

    if args.dev:
        os.environ["B12CDS_REQUIRE_JWT"] = "false"
        print(
            "b12-cds: DEVELOPMENT MODE - client JWTs are NOT checked and any fhirServer may be "
            "fetched from. Never expose this server beyond your own machine.",
            file=sys.stderr,
        )
        os.environ.setdefault(
            "B12CDS_CORS_ORIGINS", '["https://sandbox.cds-hooks.org", "http://localhost:8080"]'
        )
    if args.today:
        os.environ["B12CDS_TODAY"] = args.today
    if args.profile:
        os.environ["B12CDS_SITE_PROFILE"] = args.profile
    config = _environment_config()
    if cfg.as_bool(config["REQUIRE_JWT"]) and not cfg.as_mapping(config["TRUSTED_ISSUERS"]):
        raise ValueError(
            "B12CDS_TRUSTED_ISSUERS is empty, so every call would be refused: name the EHRs "
            "that may call (README, Connecting an EHR), or use --dev on your own machine"
        )
    from service import database

    app = create_app()  # value sets, settings and database checked, warnings printed: once, here
    database.engine(app).dispose()  # no connection of this process is carried into a worker
    server.run(
        server.ServeOptions(
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            header_timeout_s=float(config["CLIENT_HEADER_TIMEOUT_S"]),
            max_header_bytes=int(config["MAX_HEADER_BYTES"]),
        )
    )
    return 0


def _service_for(request_body: dict[str, Any], service_id: str | None) -> Any:
    from cards.services import SERVICES

    if service_id is not None:
        return SERVICES[service_id]
    hook = request_body.get("hook")
    for service in SERVICES.values():
        if service.hook.value == hook:
            return service
    raise SystemExit(f"b12-cds: no service answers hook {hook!r}; use --service")


def _resources(prefetch: dict[str, Any] | None) -> list[dict[str, Any]]:
    from service.prefetch import resources_of  # the same per-key rules as the service

    found: list[dict[str, Any]] = []
    for value in (prefetch or {}).values():
        found.extend(dict(r) for r in resources_of(value) or [])
    return found


def _environment_config(profile: str | None = None) -> dict[str, Any]:
    """Return the app config from the defaults and `B12CDS_` variables, as the service reads it."""
    config = dict(cfg.DEFAULTS)
    config.update({k[7:]: v for k, v in os.environ.items() if k.startswith("B12CDS_")})
    if profile:
        config["SITE_PROFILE"] = profile
    return config


def evaluate_file(
    path: Path, service_id: str | None, today: date, profile: str | None
) -> tuple[Any, list[dict[str, Any]]]:
    """Return the service and the cards for a hook request file, using only its prefetch."""
    from cards.facts import Chart
    from cards.facts import facts_from_fhir
    from cards.model import to_json
    from service.hook_request import HookRequest

    body = json.loads(path.read_text(encoding="utf-8"))
    service = _service_for(body, service_id)
    try:
        hook = HookRequest.model_validate(body)
        context = hook.typed_context(service.hook)
    except ValidationError as exc:
        message = f"b12-cds: {path} is not a valid {service.hook.value} request: {exc}"
        raise SystemExit(message) from None
    chart = Chart(
        patient_id=context.patientId,
        hook=service.hook,
        resources=tuple(_resources(hook.prefetch)),
        draft_orders=tuple(hook.draft_entries),
        selections=tuple(getattr(context, "selections", ())),
    )
    facts = facts_from_fhir(chart, today, cfg.clinical_settings(_environment_config(profile)))
    return service, [to_json(c) for c in service.evaluate(facts)]


def _evaluate(args: argparse.Namespace) -> int:
    today = date.fromisoformat(args.today) if args.today else date.today()
    service, cards = evaluate_file(Path(args.request), args.service, today, args.profile)
    if args.json:
        print(json.dumps({"cards": cards}, indent=2, ensure_ascii=False))
        return 0
    print(f"{service.id} ({service.hook.value}) on {today.isoformat()}: {len(cards)} card(s)")
    for card in cards:
        print()
        print(f"[{card['indicator'].upper()}] {card['summary']}")
        print(f"  rule: {card['source']['topic']['code']}   source: {card['source']['label']}")
        for line in card.get("detail", "").splitlines():
            print(f"  {line}")
        for suggestion in card.get("suggestions", []):
            flag = " (recommended)" if suggestion.get("isRecommended") else ""
            print(f"  -> {suggestion['label']}{flag}")
    return 0


def _rules(args: argparse.Namespace) -> int:
    """Print the rule catalogue for the active (or default) settings."""
    from cards.catalogue import render
    from cards.settings import Settings

    if args.defaults:
        settings = Settings.from_mapping({"profile": args.profile} if args.profile else {})
    else:
        settings = cfg.clinical_settings(_environment_config(args.profile))
    sys.stdout.write(render(settings))
    return 0


def _wording(args: argparse.Namespace) -> int:
    """Print every message cards can carry, with its placeholders (docs/wording.md)."""
    from cards import wording
    from cards.settings import Profile

    sys.stdout.write(wording.catalogue(Profile(args.profile) if args.profile else None))
    return 0


def _valuesets(args: argparse.Namespace) -> int:
    """Print every value set with its size, statuses and file (the start-up check runs first)."""
    from cards import terminology as vs

    site = vs.site_directory()
    print(f"{'value set':38} {'codes':>5} {'V':>4} {'V2':>4} {'U':>4}  site extension")
    for name, value_set in vs.VALUE_SETS.items():
        counts = {status: 0 for status in vs.STATUSES}
        for row in value_set.codes:
            counts[row.status] += 1
        extended = site is not None and (site / f"{name}.csv").is_file()
        print(
            f"{name:38} {len(value_set.codes):>5} {counts['V']:>4} {counts['V2']:>4} "
            f"{counts['U']:>4}  {site / f'{name}.csv' if extended and site else '-'}"
        )
    print(f"{len(vs.VALUE_SETS)} value sets loaded and checked")
    return 0


def _db(args: argparse.Namespace) -> int:
    """Migrate the configured database (DATABASE_URL, else the instance folder's SQLite file) to
    the newest schema revision, or print the revision it holds."""
    import sqlalchemy as sa

    from service import database
    from service import migrations

    app = _app_for_db()
    url = database.database_url(app.config, app.instance_path)
    engine = database.create_engine(url, float(app.config["FHIR_TIMEOUT_S"]))
    try:
        if args.action == "upgrade":
            revision = migrations.upgrade(engine)
            print(f"{database.describe(url)}: at schema revision {revision} (newest)")
        else:
            with engine.connect() as connection:
                found = migrations.check(connection)
            state = "newest" if found == migrations.head() else f"newest is {migrations.head()}"
            print(f"{database.describe(url)}: schema revision {found or 'none'} ({state})")
    except sa.exc.SQLAlchemyError as exc:
        print(f"b12-cds: database {database.describe(url)}: {type(exc).__name__}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def _report(args: argparse.Namespace) -> int:
    """Print (or write to -o FILE) the governance report of the configured database."""
    import sqlalchemy as sa

    from service import database
    from service import migrations
    from service import report

    if args.since and args.until and args.until < args.since:
        print("b12-cds: --until is before --since", file=sys.stderr)
        return 2
    app = _app_for_db()
    url = database.database_url(app.config, app.instance_path)
    engine = database.create_engine(url, float(app.config["FHIR_TIMEOUT_S"]))
    try:
        with engine.connect() as connection:
            found = migrations.check(connection)
        if found != migrations.head():
            print(f"b12-cds: {database.describe(url)}: run 'b12-cds db upgrade'", file=sys.stderr)
            return 2
        text = report.render(report.build(engine, args.since, args.until), args.format)
    except sa.exc.SQLAlchemyError as exc:
        print(f"b12-cds: database {database.describe(url)}: {type(exc).__name__}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def _app_for_db() -> Any:
    """Return a Flask app with the environment's configuration, without opening the database."""
    from flask import Flask

    from service import config as service_config

    app = Flask("service", instance_relative_config=True)
    app.config.from_mapping(service_config.DEFAULTS)
    app.config.from_prefixed_env("B12CDS")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `b12-cds` console script."""
    parser = argparse.ArgumentParser(prog="b12-cds", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the production server (granian)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument(
        "--dev",
        action="store_true",
        help="local development: turn JWT checking OFF (loud warning) and allow the Sandbox origin",
    )
    serve.add_argument("--today", help="freeze the clock at this ISO date (demos, fixtures)")
    serve.add_argument("--profile", choices=["uk", "us"], help="site profile (default uk)")
    serve.set_defaults(func=_serve)
    evaluate = sub.add_parser("evaluate", help="print the cards for a hook request file")
    evaluate.add_argument("request", help="a CDS Hooks request JSON file with prefetch")
    evaluate.add_argument("--json", action="store_true", help="print the raw CDS Hooks response")
    evaluate.add_argument("--service", choices=SERVICE_IDS, help="default: from the hook")
    evaluate.add_argument("--today", help="evaluation date (ISO); default today")
    evaluate.add_argument("--profile", choices=["uk", "us"], help="site profile (default uk)")
    evaluate.set_defaults(func=_evaluate)
    rules = sub.add_parser("rules", help="print the rule catalogue (Markdown, docs/rules.md)")
    rules.add_argument("--profile", choices=["uk", "us"], help="site profile (default uk)")
    rules.add_argument(
        "--defaults",
        action="store_true",
        help="ignore B12CDS_ settings: the catalogue docs/rules.md holds",
    )
    rules.set_defaults(func=_rules)
    wording = sub.add_parser(
        "wording", help="print every sentence a card can carry (Markdown, docs/wording.md)"
    )
    wording.add_argument(
        "--profile", choices=["uk", "us"], help="one profile's wording (default: both side by side)"
    )
    wording.set_defaults(func=_wording)
    valuesets = sub.add_parser("valuesets", help="load and check every value set, list them")
    valuesets.set_defaults(func=_valuesets)
    db = sub.add_parser("db", help="the database: migrate it, or show its schema revision")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=_db)
    governance = sub.add_parser("report", help="the governance report of card audit and feedback")
    governance.add_argument("--since", type=_iso_date, help="first day (ISO date, UTC), inclusive")
    governance.add_argument("--until", type=_iso_date, help="last day (ISO date, UTC), inclusive")
    governance.add_argument("--format", choices=["html", "md", "csv"], default="html")
    governance.add_argument("-o", "--output", help="write to this file (default: stdout)")
    governance.set_defaults(func=_report)
    args = parser.parse_args(argv)
    from cards.errors import ValueSetError
    from service.migrations import SchemaAhead

    try:
        result: int = args.func(args)
    except SchemaAhead as exc:
        print(f"b12-cds: cannot start: {exc}", file=sys.stderr)
        return 2
    except ValueSetError as exc:
        print(f"b12-cds: cannot start: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a clinical setting that cannot be used
        print(f"b12-cds: cannot start: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":  # pragma: no cover - `python -m service.cli`
    sys.exit(main())
