"""A small FHIR REST client over an injected `requests.Session`, with its own error tree.

FhirError
├── FhirUnauthorized   401/403 from the server
├── FhirNotFound       404
└── FhirUnavailable    timeouts, connection errors, redirects, 5xx, non-JSON answers, too many
                       pages, resources or bytes

`prefetch.resolve` turns every one of these into a 412 (a later page's: a partial answer).

Bounds, per client (one client serves one hook call): every request of a `fetch` (connect, headers
and the whole body of every page) shares one deadline of `timeout_s`; the body is read in chunks
against that deadline, so a server that drips a byte at a time cannot stretch it (each socket read
would otherwise reset requests' timeout). Headers are read by http.client, one socket read at a
time, so a watchdog timer cuts the request's sockets when the deadline passes: the session must use
`DeadlineAdapter`, whose connections let the watchdog find them. All fetches of the client together
read at most `max_bytes` (a thread-safe budget shared by concurrent keys), and a search holds at
most `max_resources` entries, counted page by page before anything is built from them. Redirects are
never followed: a 3xx could send the token outside the allowlisted base. A page after the first that
fails leaves the search partial (the pages read so far, with the `next` link that failed), which the
answer then says; the first page failing fails the fetch.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool


log = logging.getLogger("b12cds")
CHUNK_BYTES = 64 * 1024
_ACTIVE = threading.local()  # the watch of the request this thread is making, if any


class _Watch:
    """The connections one request uses, so that its deadline can cut them mid-read."""

    def __init__(self) -> None:
        self.connections: list[HTTPConnection] = []
        self.expired = False
        self._lock = threading.Lock()

    def add(self, connection: HTTPConnection) -> None:
        """Remember a connection the request is about to use."""
        with self._lock:
            self.connections.append(connection)

    def expire(self) -> None:
        """The deadline passed: shut every socket down, so a blocked read returns at once."""
        with self._lock:
            self.expired = True
            connections = list(self.connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Watched(HTTPConnection):
    """A connection that joins the watch of the request this thread is making."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        """Send a request, first telling the current watch about this connection."""
        watch = getattr(_ACTIVE, "watch", None)
        if watch is not None:
            watch.add(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose connections a FhirClient deadline can cut (headers included)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with connection classes the watchdog can find."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[assignment]  # subclasses
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class FhirError(Exception):
    """Base of the FHIR client's errors."""


class FhirUnauthorized(FhirError):
    """The FHIR server refused the token (401/403)."""


class FhirNotFound(FhirError):
    """The FHIR server has no such resource (404)."""


class FhirUnavailable(FhirError):
    """The FHIR server timed out, failed (5xx), redirected or answered something not FHIR JSON."""


class _Budget:
    """A byte budget shared by the concurrent fetches of one hook call."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        """Count bytes read; raise FhirUnavailable once the call has read more than the limit."""
        with self._lock:
            self.used += count
            over = self.used > self.limit
        if over:
            raise FhirUnavailable("too many bytes")


def pooled_session() -> requests.Session:
    """Return the pooled session the app fetches with: no retries, and deadlines that cut."""
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class FhirClient:
    """Read and search one FHIR server with a Bearer token, a deadline and size bounds."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        session: requests.Session,
        timeout_s: float,
        max_pages: int = 5,
        max_resources: int = 5000,
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session
        self.timeout_s = timeout_s
        self.max_pages = max_pages
        self.max_resources = max_resources
        self.budget = _Budget(max_bytes)
        self.headers = {"Accept": "application/fhir+json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, query: str, deadline: float | None = None) -> dict[str, Any]:
        """Return the JSON resource at a path relative to the base (or an absolute URL)."""
        url = urljoin(self.base_url, query)
        if not url.startswith(self.base_url):
            raise FhirUnavailable("URL outside the FHIR server")  # never follow links elsewhere
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        watch = _Watch()
        watchdog = threading.Timer(_remaining(deadline), watch.expire)
        watchdog.daemon = True
        _ACTIVE.watch = watch
        watchdog.start()
        try:
            content = self._exchange(url, deadline)
        except FhirUnavailable:
            if watch.expired:
                raise FhirUnavailable("deadline") from None
            raise
        finally:
            watchdog.cancel()
            _ACTIVE.watch = None
        try:
            body = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise FhirUnavailable("not JSON") from exc
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FhirUnavailable("not a FHIR resource")
        return body

    def _exchange(self, url: str, deadline: float) -> bytes:
        """Return the body of a 2xx answer to a GET, or raise the FhirError it amounts to."""
        try:
            response = self.session.get(
                url,
                headers=self.headers,
                timeout=_remaining(deadline),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise FhirUnavailable(type(exc).__name__) from exc
        try:
            if response.status_code in (401, 403):
                raise FhirUnauthorized(str(response.status_code))
            if response.status_code == 404:
                raise FhirNotFound("404")
            if response.status_code >= 300:  # 3xx included: redirects are never followed
                raise FhirUnavailable(str(response.status_code))
            return self._read_body(response, deadline)
        finally:
            response.close()

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """Return the body, read chunk by chunk within the deadline and the byte budget."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and self.budget.used + int(declared) > self.budget.limit:
            raise FhirUnavailable("too many bytes")  # refused before reading a byte
        chunks: list[bytes] = []
        raw = response.raw
        try:
            while True:
                _set_read_timeout(raw, deadline)
                chunk = raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    break
                self.budget.take(len(chunk))
                chunks.append(chunk)
                if time.monotonic() >= deadline:
                    raise FhirUnavailable("deadline")
        except FhirError:
            raise
        except (requests.RequestException, OSError, ValueError) as exc:
            raise FhirUnavailable(type(exc).__name__) from exc
        except Exception as exc:  # urllib3's own errors (ReadTimeoutError, ProtocolError, ...)
            raise FhirUnavailable(type(exc).__name__) from exc
        return b"".join(chunks)

    def fetch(self, query: str) -> dict[str, Any]:
        """Return a read or a search; searches follow `next` links within the page bound.

        All pages are merged into the first Bundle. The whole fetch shares one deadline of
        `timeout_s`, so a slow server cannot hold the hook longer than the timeout.
        """
        deadline = time.monotonic() + self.timeout_s
        first = self.get(query, deadline)
        if first.get("resourceType") != "Bundle":
            return first
        entries = self._entries(first, [])
        page = first
        pages = 1
        while (next_url := _next_link(page)) is not None:
            if pages >= self.max_pages or len(entries) >= self.max_resources:
                raise FhirUnavailable("too many pages")
            try:
                page = self.get(next_url, deadline)
            except FhirError as exc:  # the pages so far stand; the answer will say it is partial
                log.warning("fhir page failed: partial", extra={"error": type(exc).__name__})
                return _merged(first, entries, unread=next_url)
            entries = self._entries(page, entries)
            pages += 1
        return _merged(first, entries)

    def _entries(self, page: dict[str, Any], so_far: list[Any]) -> list[Any]:
        """Return the entries so far plus this page's, or fail above `max_resources`."""
        found = page.get("entry") or []
        if not isinstance(found, list):
            raise FhirUnavailable("not a FHIR Bundle")
        if len(so_far) + len(found) > self.max_resources:
            raise FhirUnavailable("too many resources")
        return so_far + found


def _merged(first: dict[str, Any], entries: list[Any], unread: str | None = None) -> dict[str, Any]:
    """Return the first page holding every entry read; `unread` is kept as its `next` link."""
    merged = dict(first)
    merged["entry"] = entries
    merged.pop("link", None)
    if unread is not None:
        merged["link"] = [{"relation": "next", "url": unread}]
    return merged


def _remaining(deadline: float) -> float:
    """Return the seconds left before the deadline, or fail when none are left."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise FhirUnavailable("deadline")
    return left


def _set_read_timeout(raw: Any, deadline: float) -> None:
    """Make the next socket read wait no longer than the time left (a read resets no clock)."""
    left = _remaining(deadline)
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(left)


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None
