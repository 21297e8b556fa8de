"""GET /healthz: liveness and readiness, without patient data or configuration secrets."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version

from flask import Blueprint
from flask import current_app
from flask.typing import ResponseReturnValue

from cards.services import SERVICES
from service import config as cfg
from service.audit import auditor
from service.database import database


bp = Blueprint("health", __name__)


def _version() -> str:
    try:
        return version("b12-cds")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report that the app is up, its version, how many services it serves and its profile."""
    replay_ok = current_app.extensions["b12cds.auth"]["replay"].ping()
    checks = {"value_sets": "ok"}  # loaded and checked at import, or the app would not start
    checks["replay_cache"] = "ok" if replay_ok else "unavailable"  # Redis, or the database
    # the card audit: its database answers, and the last write of this worker did not miss
    audit_ok = not auditor().failing and database(current_app).ping()
    checks["audit"] = "ok" if audit_ok else "unavailable"
    return {
        "status": "ok" if replay_ok and audit_ok else "degraded",
        "version": _version(),
        "services": len(SERVICES),
        "site_profile": current_app.extensions["b12cds.settings"].profile.value,
        "jwt_required": cfg.as_bool(current_app.config["REQUIRE_JWT"]),
        "checks": checks,
    }
