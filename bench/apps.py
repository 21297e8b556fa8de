"""WSGI entry points for the benchmark's two gunicorn servers.

gunicorn "bench.apps:service_app()"   the real service, JWT off, clock frozen at the chart's T
gunicorn "bench.apps:noop_app()"      the baseline: parse the JSON body, answer no cards
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import request

from bench.chart import T
from service.cli import production_app


def service_app() -> Flask:
    """Return the b12-cds app as `b12-cds serve --dev --today T` builds it (JWT off)."""
    app: Flask = production_app({"REQUIRE_JWT": False, "TODAY": T})
    return app


def noop_app() -> Flask:
    """Return a Flask app whose only route parses the JSON body and returns no cards."""
    app = Flask("b12cds_bench_noop")

    @app.post("/cds-services/<service_id>")
    def hook(service_id: str) -> dict[str, Any]:
        request.get_json()
        return {"cards": []}

    return app
