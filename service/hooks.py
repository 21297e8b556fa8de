"""POST /cds-services/{id}: run one CDS service on a hook request and answer with its cards."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import request
from flask.typing import ResponseReturnValue

from cards.facts import Chart
from cards.facts import Facts
from cards.facts import Hook
from cards.facts import facts_from_fhir
from cards.model import Card
from cards.model import to_json
from cards.services import SERVICES
from cards.services import Service
from cards.subjects import belongs_to
from cards.subjects import patient_urls
from service import audit
from service import config as cfg
from service import hook_request
from service import prefetch
from service.auth import issuer_fhir_servers
from service.errors import BadRequest
from service.errors import UnknownService
from service.fhir_client import FhirClient
from service.hook_request import HookRequest
from service.hook_request import PatientViewContext
from service.seams import seams


bp = Blueprint("hooks", __name__)
log = logging.getLogger("b12cds")


def find_service(service_id: str) -> Service:
    """Return the service with this id, or raise 404."""
    try:
        return SERVICES[service_id]
    except KeyError:
        raise UnknownService(f"No CDS service with id {service_id!r}.") from None


def url_within(url: str, prefix: str) -> bool:
    """Return whether a URL lies under an allowlisted base URL.

    Scheme, host and port must be equal (no user info allowed) and the path must continue the
    prefix's path by whole segments: `https://fhir.example.org.evil.example/`,
    `https://fhir.example.org@evil.example/` and another port are all outside.
    """
    try:
        u, p = urlsplit(url), urlsplit(prefix)
        u_port, p_port = u.port, p.port
    except ValueError:
        return False
    default = {"https": 443, "http": 80}
    if u.username is not None or u.password is not None or u.scheme.lower() != p.scheme.lower():
        return False
    if (u.hostname or "") != (p.hostname or "") or not u.hostname:
        return False
    if (u_port or default.get(u.scheme.lower())) != (p_port or default.get(p.scheme.lower())):
        return False
    base = p.path.rstrip("/")
    return u.path.rstrip("/") == base or u.path.startswith(base + "/")


def fhir_server_allowed(url: str) -> bool:
    """Return whether the service may fetch from this FHIR base URL (SSRF guard)."""
    allowlist = cfg.as_list(current_app.config.get("FHIR_SERVER_ALLOWLIST"))
    allowlist += issuer_fhir_servers(request.environ.get("b12cds.client"))
    if allowlist:
        return any(url_within(url, prefix) for prefix in allowlist)
    return not cfg.as_bool(current_app.config["REQUIRE_JWT"])  # local development only


def fhir_client_for(hook: HookRequest) -> FhirClient | None:
    """Return a client for the hook's FHIR server, or None when it may not or cannot be used."""
    if not hook.fhirServer or hook.fhirAuthorization is None:
        return None
    if not fhir_server_allowed(hook.fhirServer):
        log.warning("fhirServer not allowlisted", extra={"hook_instance": hook.hookInstance})
        return None
    config = current_app.config
    return FhirClient(
        hook.fhirServer,
        hook.fhirAuthorization.access_token,
        seams().session,
        float(config["FHIR_TIMEOUT_S"]),
        int(config["FHIR_MAX_PAGES"]),
        int(config["FHIR_MAX_RESOURCES"]),
        int(config["FHIR_MAX_BYTES"]),
    )


def _facts(chart: Chart) -> Facts:
    settings = current_app.extensions["b12cds.settings"]
    return facts_from_fhir(chart, seams().today(), settings)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A hook call's cards and the counts its log line reports (no patient data)."""

    cards: list[Card]
    resources: int = 0
    unreadable: int = 0
    fetched_keys: tuple[str, ...] = ()
    partial_keys: tuple[str, ...] = ()
    foreign: int = 0


def check_drafts(hook: HookRequest, patient_id: str) -> None:
    """Raise 400 when a draft order names another patient (the id is never echoed)."""
    if not hook.draft_entries:
        return  # patient-view, or an empty draft Bundle: nothing to check
    containers = [hook.context.get("draftOrders"), *(hook.prefetch or {}).values()]
    urls = patient_urls(containers)
    if any(not belongs_to(draft, patient_id, urls) for draft in hook.draft_entries):
        raise BadRequest(
            "A draft order in context.draftOrders is not for the patient in context.patientId.",
            ["context.draftOrders"],
        )


def answer(service: Service, hook: HookRequest, context: PatientViewContext) -> Outcome:
    """Return the service's cards for a validated hook request (412 when data is missing).

    An order hook whose focused drafts are nothing this service checks is answered from the
    drafts alone, without asking the FHIR server for the chart. A draft order for another patient
    is a 400.
    """
    selections = tuple(getattr(context, "selections", ()) or ())
    check_drafts(hook, context.patientId)  # else 400
    drafts = tuple(hook.draft_entries)
    if service.hook is not Hook.PATIENT_VIEW:
        drafts_only = Chart(context.patientId, service.hook, (), drafts, selections)
        if not service.relevant(_facts(drafts_only)):
            return Outcome([])
    resolved = prefetch.resolve(service, hook.prefetch, context.patientId, fhir_client_for(hook))
    chart = Chart(context.patientId, service.hook, resolved.resources, drafts, selections)
    facts = _facts(chart)
    return Outcome(
        service.evaluate(facts, partial=resolved.partial_keys),
        resources=len(resolved.resources),
        unreadable=facts.unreadable_resources,
        fetched_keys=resolved.fetched_keys,
        partial_keys=resolved.partial_keys,
        foreign=resolved.foreign,
    )


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> ResponseReturnValue:
    """Run one CDS service on a hook request and answer with its cards."""
    started = time.perf_counter()
    service = find_service(service_id)  # else 404
    hook, context = hook_request.from_request(request, service)  # else 415 / 400
    outcome = answer(service, hook, context)  # else 412
    recorded = audit.auditor().record(  # bounded in time; the snooze holds back answered cards
        service.id,
        service.hook,
        hook.hookInstance,
        context.patientId,
        outcome.cards,
        seams().clock(),
    )
    log.info(
        "hook evaluated",
        extra={
            "service": service.id,
            "hook_instance": hook.hookInstance,
            "rules": [card.rule_id for card in recorded.shown],
            "cards": len(recorded.shown),
            "snoozed": recorded.snoozed,
            "audit": recorded.audit,
            "resources": outcome.resources,
            "unreadable_resources": outcome.unreadable,
            "foreign_resources": outcome.foreign,
            "fetched_keys": list(outcome.fetched_keys),
            "partial_keys": list(outcome.partial_keys),
            "ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return {"cards": [to_json(card) for card in recorded.shown]}
