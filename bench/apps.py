"""Entry points for the benchmark's two servers (bench/serve.py starts them).

service_asgi / service_app()   the real service, JWT off, clock frozen at the chart's T
noop_asgi / noop_app()         the baseline: parse the JSON body, answer no cards

The `_asgi` factories are what granian runs, as `b12-cds serve` does (the buffering bridge of
service/server.py in front of the Flask app); the `_app` ones are the WSGI apps gunicorn runs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import request

from bench.chart import T
from service.cli import production_app
from service.server import BufferedWsgi
from service.server import wrap


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


def service_asgi() -> BufferedWsgi:
    """Return the service as `b12-cds serve` runs it in each granian worker."""
    return wrap(service_app())


def noop_asgi() -> BufferedWsgi:
    """Return the no-op app behind the same bridge, so both pay the same server costs."""
    return wrap(noop_app())
