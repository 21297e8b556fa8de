"""A small FHIR REST client over an injected `requests.Session`, with its own error tree.

FhirError
├── FhirUnauthorized   401/403 from the server
├── FhirNotFound       404
└── FhirUnavailable    timeouts, connection errors, 5xx, non-JSON answers, too many pages

`prefetch.resolve` turns every one of these into a 412.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin

import requests


class FhirError(Exception):
    """Base of the FHIR client's errors."""


class FhirUnauthorized(FhirError):
    """The FHIR server refused the token (401/403)."""


class FhirNotFound(FhirError):
    """The FHIR server has no such resource (404)."""


class FhirUnavailable(FhirError):
    """The FHIR server timed out, failed (5xx) or answered something that is not FHIR JSON."""


class FhirClient:
    """Read and search one FHIR server with a Bearer token, a timeout and a page bound."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        session: requests.Session,
        timeout_s: float,
        max_pages: int = 5,
        max_resources: int = 5000,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session
        self.timeout_s = timeout_s
        self.max_pages = max_pages
        self.max_resources = max_resources
        self.headers = {"Accept": "application/fhir+json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, query: str, deadline: float | None = None) -> dict[str, Any]:
        """Return the JSON resource at a path relative to the base (or an absolute URL)."""
        url = urljoin(self.base_url, query)
        if not url.startswith(self.base_url):
            raise FhirUnavailable("URL outside the FHIR server")  # never follow links elsewhere
        timeout = self.timeout_s
        if deadline is not None:
            timeout = max(0.05, min(timeout, deadline - time.monotonic()))
        try:
            response = self.session.get(url, headers=self.headers, timeout=timeout)
        except requests.RequestException as exc:
            raise FhirUnavailable(type(exc).__name__) from exc
        if response.status_code in (401, 403):
            raise FhirUnauthorized(str(response.status_code))
        if response.status_code == 404:
            raise FhirNotFound("404")
        if response.status_code >= 300:
            raise FhirUnavailable(str(response.status_code))
        try:
            body = response.json()
        except ValueError as exc:
            raise FhirUnavailable("not JSON") from exc
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FhirUnavailable("not a FHIR resource")
        return body

    def fetch(self, query: str) -> dict[str, Any]:
        """Return a read or a search; searches follow `next` links within the page bound.

        All pages are merged into the first Bundle. The whole fetch shares one deadline of
        `timeout_s`, so a slow server cannot hold the hook longer than the timeout.
        """
        deadline = time.monotonic() + self.timeout_s
        first = self.get(query, deadline)
        if first.get("resourceType") != "Bundle":
            return first
        entries = list(first.get("entry") or [])
        page = first
        pages = 1
        while (next_url := _next_link(page)) is not None:
            if pages >= self.max_pages or len(entries) >= self.max_resources:
                raise FhirUnavailable("too many pages")
            if time.monotonic() >= deadline:
                raise FhirUnavailable("deadline")
            page = self.get(next_url, deadline)
            entries.extend(page.get("entry") or [])
            pages += 1
        merged = dict(first)
        merged["entry"] = entries
        merged.pop("link", None)
        return merged


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None
