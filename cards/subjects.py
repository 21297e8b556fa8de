"""Which patient a FHIR resource is about, so that another patient's data never becomes cards.

A resource that names a patient (`subject` or `patient`) is kept only when that element is a
reference to the patient in context: relative (`Patient/123`), absolute
(`https://fhir.example.org/r4/Patient/123`, also with `/_history/2`), or a `urn:uuid:` resolved
through the `fullUrl` of a Patient entry in the request's Bundles (or equal to
`urn:uuid:<patientId>`, as Synthea writes it). Anything else that names a subject is foreign and
dropped: another patient, a Group or any non-Patient subject, a reference that cannot be
resolved, or a subject given only by identifier or display (nothing shows it is this patient).
A Patient resource is kept only when its id is the patient's. A resource that names no subject
at all (a bundled Medication) is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any


PATIENT_ELEMENTS = ("subject", "patient")
_HISTORY = re.compile(r"/_history/[^/]*$")


def patient_urls(containers: Iterable[Any]) -> dict[str, str]:
    """Return `fullUrl` -> Patient id for every Patient entry of the Bundles among `containers`."""
    urls: dict[str, str] = {}
    for container in containers:
        # JSON objects are dicts: `isinstance(x, dict)` is several times cheaper than the
        # Mapping ABC check, and this loop sees every entry of every prefetched Bundle.
        if not isinstance(container, dict) or container.get("resourceType") != "Bundle":
            continue
        entries = container.get("entry")
        for entry in entries if isinstance(entries, list) else ():
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
                continue
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str) and isinstance(resource.get("id"), str):
                urls[full_url] = resource["id"]
    return urls


def patient_of_reference(reference: str, urls: Mapping[str, str]) -> str | None:
    """Return the id of the Patient a reference names, or None if it names no known Patient."""
    reference = _HISTORY.sub("", reference.strip())
    if reference in urls:
        return urls[reference]
    if reference.startswith(("urn:uuid:", "urn:oid:")):
        return None  # resolved only through a Bundle entry's fullUrl (or the Synthea form below)
    segments = reference.rstrip("/").split("/")
    if len(segments) >= 2 and segments[-2] == "Patient" and segments[-1]:
        return segments[-1]
    return None


def belongs_to(resource: Mapping[str, Any], patient_id: str, urls: Mapping[str, str]) -> bool:
    """Return whether a resource is about the patient in context, or names no subject at all."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    for element in PATIENT_ELEMENTS:
        if element not in resource:
            continue
        value = resource[element]
        reference = value.get("reference") if isinstance(value, dict) else None
        if not isinstance(reference, str):
            return False  # identifier or display only, or not a Reference: not shown to be ours
        if reference in urls:
            if urls[reference] != patient_id:
                return False
            continue
        if reference == f"Patient/{patient_id}" or reference.strip() == f"urn:uuid:{patient_id}":
            continue  # the usual forms, without the parsing below
        if patient_of_reference(reference, urls) != patient_id:
            return False
    return True


def own_resources(
    resources: Iterable[Mapping[str, Any]], patient_id: str, urls: Mapping[str, str]
) -> tuple[list[Mapping[str, Any]], int]:
    """Return the resources about the patient in context and how many others were dropped."""
    kept: list[Mapping[str, Any]] = []
    foreign = 0
    for resource in resources:
        if belongs_to(resource, patient_id, urls):
            kept.append(resource)
        else:
            foreign += 1
    return kept, foreign
