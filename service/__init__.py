"""b12-cds: a CDS Hooks 2.0 service for finding and treating vitamin B12 deficiency."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config_map: Mapping[str, Any] | None = None) -> Flask:
    """Build the b12-cds application.

    The modules are imported here, not at package import, so that `b12-cds` can report a broken
    value-set file (loaded with the clinical knowledge) as a one-line start-up error.

    Raises:
        cards.errors.ValueSetError: a value-set file is wrong; the message names file and line.
        ValueError: a clinical setting cannot be used; the message names the setting.
    """
    from service import audit
    from service import auth
    from service import config
    from service import cors
    from service import database
    from service import discovery
    from service import errors
    from service import feedback
    from service import health
    from service import hooks
    from service import logs
    from service import seams
    from service import server

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_prefixed_env("B12CDS")  # B12CDS_REQUIRE_JWT=false, ...
    app.config.from_mapping(config_map or {})  # an explicit mapping beats the environment
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the spec's member order
    logs.init_app(app)
    settings = app.extensions["b12cds.settings"] = config.clinical_settings(app.config)
    errors.init_app(app)
    session = seams.init_app(app).session
    store = database.init_app(app)
    auth.init_app(app, session, store)
    audit.init_app(app, store)
    cors.init_app(app)
    for blueprint in (discovery.bp, hooks.bp, feedback.bp, health.bp):
        app.register_blueprint(blueprint)
    if not os.environ.get(server.QUIET_START):  # `serve` said these once, before its workers
        log = logging.getLogger("b12cds")
        for warning in startup_warnings(app.config, settings):
            log.warning(warning)
        log.info("app created", extra={"auth": auth.describe_config(app)})
    return app


def startup_warnings(config: Mapping[str, Any], settings: Any) -> list[str]:
    """Return the warnings a start with this configuration must print (once per server)."""
    from service import config as cfg

    warnings = []
    if not cfg.as_bool(config["REQUIRE_JWT"]):
        warnings.append(
            "REQUIRE_JWT is false: CDS client JWTs are NOT checked. Local development only; "
            "never expose this service like this."
        )
    if config.get("TODAY"):
        warnings.append(
            "TODAY is set: the clock is frozen, so every lookback and window is measured from "
            "that date. Fixtures and demonstrations only; never in production."
        )
    if not settings.use_lab_reference_first:
        warnings.append(
            "use_lab_reference_first is false: lab flags and reference ranges are ignored and "
            "only the default bands classify results. Testing only; never in production."
        )
    return warnings
