"""GET /cds-services: the discovery document, built from the services registry."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from cards.services import SERVICES


bp = Blueprint("discovery", __name__)


@bp.get("/cds-services")
def discovery() -> ResponseReturnValue:
    """List the three B12 services with their code-filtered prefetch templates."""
    return {"services": [service.discovery() for service in SERVICES.values()]}
