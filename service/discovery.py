"""GET /cds-services: the discovery document, built from the services registry."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask.typing import ResponseReturnValue

from cards.services import SERVICES


bp = Blueprint("discovery", __name__)


@bp.get("/cds-services")
def discovery() -> ResponseReturnValue:
    """List the three B12 services with their code-filtered prefetch templates, titled and
    described in the app's site profile (cards/wording/services.toml)."""
    profile = current_app.extensions["b12cds.settings"].profile
    return {"services": [service.discovery(profile) for service in SERVICES.values()]}
