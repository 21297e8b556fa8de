"""Turn a Synthea transaction Bundle (a whole patient chart) into a prefetched hook request.

The acceptance tests and the benchmark use it on the conformance corpus's Synthea charts: each of
our prefetch keys becomes a searchset of the chart's resources of that type, as an EHR that
prefetches everything would send it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import PREFETCH_KEYS


# Prefetch key -> resource type; the order follows the discovery templates.
SEARCH_KEYS = {k: t for k, t in PREFETCH_KEYS.items() if k != "patient"}
_HOOK_INSTANCES = uuid.UUID("5f0c7a4e-1d2b-4c7e-9a51-0b12cd5a0001")  # uuid5 namespace


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a searchset Bundle holding the resources as matches."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def hook_request_from_chart(path: Path | str, hook: str = "patient-view") -> dict[str, Any]:
    """Return a hook request for the chart's patient with every prefetch key filled from it.

    Order hooks get an empty `draftOrders` collection: add the orders (and, for order-select,
    the `selections`) the case needs.
    """
    chart = json.loads(Path(path).read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in chart["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    for key, resource_type in SEARCH_KEYS.items():
        prefetch[key] = _searchset([r for r in resources if r["resourceType"] == resource_type])
    context: dict[str, Any] = {"userId": "Practitioner/example", "patientId": patient["id"]}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid5(_HOOK_INSTANCES, f"{Path(path).name}/{hook}")),
        "context": context,
        "prefetch": prefetch,
    }
