"""A fault-injecting FHIR server for the tests: a real HTTP server on a loopback address.

`FaultServer` runs the standard library's `ThreadingHTTPServer` in a thread on a free port and
answers each path by the fault chosen for it (`route(prefix, mode, ...)`, the longest prefix
wins; unrouted paths get 404). Every request is recorded with its path, query and headers, so a
test can assert which requests reached the server and whether they carried a token.

Modes: `json` (a body, any status), `status` (an OperationOutcome with a status such as 500 or 401),
`redirect` (302 to a location), `drip` (the body one byte per interval), `drip-headers` (a header
block one byte per interval, never ended), `hang` (accept, never answer), `invalid-json`, `endless-
next` (every page links to one more), `huge` (one page of many entries, generated fast). `stop()`
releases hanging and dripping handlers and closes the socket, so no test leaves a thread or a port
behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.servers import free_port


FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str  # without the query
    query: str
    headers: dict[str, str]


@dataclass
class _Route:
    mode: str
    options: dict[str, Any] = field(default_factory=dict)


def searchset(entries: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    """Return a searchset Bundle of resources (each given as a resource dict)."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource, "search": {"mode": "match"}} for resource in entries],
    }
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def other_patients_observations(patient: str = "other") -> dict[str, Any]:
    """Return a Bundle of a deficient B12 and its Patient, all for another patient."""
    b12 = {
        "resourceType": "Observation",
        "id": "other-b12",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2132-9"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {
            "value": 90,
            "unit": "ng/L",
            "system": "http://unitsofmeasure.org",
            "code": "ng/L",
        },
    }
    return searchset([b12, {"resourceType": "Patient", "id": patient, "gender": "female"}])


class _Handler(BaseHTTPRequestHandler):
    server: _Server  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Stay quiet: pytest shows what the tests assert."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        """Record the request, then answer with the fault routed for its path."""
        parts = urlsplit(self.path)
        fault = self.server.fault
        fault.record(Received("GET", parts.path, parts.query, dict(self.headers.items())))
        route = fault.route_for(parts.path)
        if route is None:
            self._send(404, b'{"resourceType": "OperationOutcome"}')
            return
        getattr(self, "_" + route.mode.replace("-", "_"))(parts.path, parts.query, route.options)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", FHIR_JSON)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, path: str, query: str, options: dict[str, Any]) -> None:
        self._send(int(options.get("status", 200)), json.dumps(options["body"]).encode())

    def _status(self, path: str, query: str, options: dict[str, Any]) -> None:
        outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
        self._send(int(options["status"]), json.dumps(outcome).encode())

    def _redirect(self, path: str, query: str, options: dict[str, Any]) -> None:
        location = str(options["location"])
        self._send(int(options.get("status", 302)), b"", {"Location": location})

    def _invalid_json(self, path: str, query: str, options: dict[str, Any]) -> None:
        self._send(200, b'{"resourceType": "Bundle", "entry": [')

    def _endless_next(self, path: str, query: str, options: dict[str, Any]) -> None:
        number = int(query.rpartition("page=")[2] or 0) if "page=" in query else 0
        next_url = self.server.fault.url(f"{path}?patient=p1&page={number + 1}")
        observation = {"resourceType": "Observation", "id": f"o{number}", "status": "final"}
        self._send(200, json.dumps(searchset([observation], next_url)).encode())

    def _huge(self, path: str, query: str, options: dict[str, Any]) -> None:
        self._send(200, self.server.fault.huge_page(int(options.get("entries", 73_000))))

    def _drip(self, path: str, query: str, options: dict[str, Any]) -> None:
        body = json.dumps(options.get("body") or searchset([])).encode()
        interval = float(options.get("interval", 1.0))
        self.send_response(200)
        self.send_header("Content-Type", FHIR_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        stopped = self.server.fault.stopped
        try:
            self.wfile.flush()
            for offset in range(len(body)):
                self.wfile.write(body[offset : offset + 1])
                self.wfile.flush()
                if stopped.wait(interval):
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def _drip_headers(self, path: str, query: str, options: dict[str, Any]) -> None:
        """A status line, then a header block one byte per interval that never ends."""
        interval = float(options.get("interval", 1.0))
        stopped = self.server.fault.stopped
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            while not stopped.wait(interval):
                self.wfile.write(b"X")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _hang(self, path: str, query: str, options: dict[str, Any]) -> None:
        self.server.fault.stopped.wait(float(options.get("for_s", 60)))
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fault: FaultServer


class FaultServer:
    """A FHIR server on `host` that answers each path with the fault routed to it."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.received: list[Received] = []
        self.stopped = threading.Event()
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._huge: dict[int, bytes] = {}
        self._server = _Server((host, self.port), _Handler)
        self._server.fault = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        """Return the server's root URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base + path

    def route(self, prefix: str, mode: str, **options: Any) -> None:
        """Answer every path starting with `prefix` by a fault mode (see the module docstring)."""
        if not hasattr(_Handler, "_" + mode.replace("-", "_")):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._routes[prefix] = _Route(mode, options)

    def route_for(self, path: str) -> _Route | None:
        """Return the route of the longest matching prefix, if any."""
        with self._lock:
            matches = [p for p in self._routes if path.startswith(p)]
            return self._routes[max(matches, key=len)] if matches else None

    def record(self, received: Received) -> None:
        """Remember one request (thread-safe)."""
        with self._lock:
            self.received.append(received)

    def requests_to(self, prefix: str = "/") -> list[Received]:
        """Return the recorded requests whose path starts with `prefix`."""
        with self._lock:
            return [r for r in self.received if r.path.startswith(prefix)]

    def huge_page(self, entries: int) -> bytes:
        """Return (once built, from cache) a searchset page of `entries` minimal Observations."""
        with self._lock:
            if entries not in self._huge:
                one = '{"resource":{"resourceType":"Observation","id":"o%d","status":"final"}}'
                body = ",".join(one % n for n in range(entries))
                self._huge[entries] = (
                    '{"resourceType":"Bundle","type":"searchset","entry":[' + body + "]}"
                ).encode()
            return self._huge[entries]

    def start(self) -> FaultServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release waiting handlers, stop serving and close the listening socket."""
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def fault_server(host: str = "127.0.0.1") -> Iterator[FaultServer]:
    """Run a FaultServer for the duration of a `with` block."""
    server = FaultServer(host).start()
    try:
        yield server
    finally:
        server.stop()
