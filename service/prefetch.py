"""Resolve a service's prefetch keys: prefetched data, else a FHIR fetch, else 412.

Per key (contract.md): absent → fetched from `fhirServer` (all missing keys concurrently);
`null` → no data, no fetch; a Bundle → its resources, skipping `search.mode: outcome` entries
and OperationOutcomes (Epic's outcome-only searchset is "no data"); an OperationOutcome →
treated as absent, and so is a Patient resource whose id is not `context.patientId`. A prefetched
Bundle with a `next` link is completed from the FHIR server when the service can reach it;
otherwise the first page is used and the answer says it is partial.

Every resource, prefetched or fetched (all pages), that names another patient is dropped before
facts are built and counted as `foreign` (see `cards.subjects`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cards.services import Service
from cards.subjects import own_resources
from cards.subjects import patient_urls
from service.errors import PrefetchUnavailable
from service.fhir_client import FhirClient
from service.fhir_client import FhirError


log = logging.getLogger("b12cds")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Resolved:
    """The resources of every prefetch key, and what could not be completed."""

    resources: tuple[Mapping[str, Any], ...]
    fetched_keys: tuple[str, ...] = ()
    partial_keys: tuple[str, ...] = ()
    foreign: int = 0  # resources dropped because they name another patient


def _own(
    resources: list[Mapping[str, Any]],
    containers: list[Any],
    patient_id: str,
    fetched_keys: tuple[str, ...] = (),
    partial_keys: tuple[str, ...] = (),
) -> Resolved:
    """Return the resolved resources without those about anyone but the patient in context."""
    kept, foreign = own_resources(resources, patient_id, patient_urls(containers))
    return Resolved(tuple(kept), fetched_keys, partial_keys, foreign)


def _other_patient(value: Any, patient_id: str) -> bool:
    """Return whether a prefetch value is a Patient resource for someone else."""
    return (
        isinstance(value, dict)
        and value.get("resourceType") == "Patient"
        and value.get("id") != patient_id
    )


def resources_of(value: Any) -> list[Mapping[str, Any]] | None:
    """Return the resources a prefetch value holds, or None when it counts as absent."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return None
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        return None
    if kind != "Bundle":
        return [value]
    found: list[Mapping[str, Any]] = []
    for entry in value.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") not in (
            None,
            "OperationOutcome",
        ):
            found.append(resource)
    return found


def _has_next(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        for link in value.get("link") or []:
            if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
                return str(link["url"])
    return None


def render(template: str, patient_id: str) -> str:
    """Return a prefetch template with the patient id filled in (URL-encoded)."""
    return template.replace("{{context.patientId}}", quote(patient_id, safe=""))


def resolve(
    service: Service,
    prefetch: Mapping[str, Any] | None,
    patient_id: str,
    client: FhirClient | None,
    executor: Callable[[], ThreadPoolExecutor] | None = None,
) -> Resolved:
    """Return the resources for every prefetch key of the service, or raise 412."""
    given = prefetch or {}
    resources: list[Mapping[str, Any]] = []
    missing: dict[str, str] = {}
    partial: dict[str, str] = {}
    containers: list[Any] = [v for v in given.values() if isinstance(v, dict)]
    for key, template in service.prefetch.items():
        value = given.get(key, _MISSING)
        found = None if value is _MISSING else resources_of(value)
        if found is not None and _other_patient(value, patient_id):
            log.warning("prefetch for another patient treated as absent", extra={"key": key})
            found = None
        if found is None:
            missing[key] = render(template, patient_id)
            continue
        resources.extend(found)
        if (next_url := _has_next(value)) is not None:
            partial[key] = next_url
    if not missing and not partial:
        return _own(resources, containers, patient_id)
    if client is None:
        if missing:
            raise PrefetchUnavailable(
                "Required data was not prefetched and no FHIR server is reachable with "
                "authorization: " + ", ".join(sorted(missing)) + ".",
                [f"prefetch.{k}" for k in sorted(missing)],
            )
        log.warning("prefetch partial", extra={"keys": sorted(partial)})
        return _own(resources, containers, patient_id, partial_keys=tuple(sorted(partial)))
    jobs = {**missing, **{f"{k}#next": url for k, url in partial.items()}}
    still_partial: set[str] = set()
    results = _fetch_all(client, jobs, executor)
    failed = sorted(k.split("#")[0] for k, v in results.items() if v is None)
    if failed:
        raise PrefetchUnavailable(
            "Required data could not be fetched from the FHIR server: " + ", ".join(failed) + ".",
            [f"prefetch.{k}" for k in failed],
        )
    for job, body in results.items():
        found = resources_of(body) or []
        resources.extend(found)
        containers.append(body)
        if _has_next(body) is not None:  # a later page failed: the pages read so far stand
            still_partial.add(job.split("#")[0])
    if still_partial:
        log.warning("fetch partial", extra={"keys": sorted(still_partial)})
    return _own(
        resources,
        containers,
        patient_id,
        fetched_keys=tuple(sorted(missing)),
        partial_keys=tuple(sorted(still_partial)),
    )


def _fetch_all(
    client: FhirClient,
    jobs: Mapping[str, str],
    executor: Callable[[], ThreadPoolExecutor] | None,
) -> dict[str, dict[str, Any] | None]:
    """Fetch every query concurrently; a failed one maps to None (the reason is logged)."""

    def one(item: tuple[str, str]) -> tuple[str, dict[str, Any] | None]:
        key, query = item
        try:
            return key, client.fetch(query)
        except FhirError as exc:
            log.warning("fhir fetch failed", extra={"key": key, "error": type(exc).__name__})
            return key, None

    if len(jobs) == 1:
        return dict(one(item) for item in jobs.items())
    pool = executor() if executor is not None else ThreadPoolExecutor(max_workers=8)
    try:
        return dict(pool.map(one, jobs.items()))
    finally:
        if executor is None:
            pool.shutdown(wait=False)
