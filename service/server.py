"""The HTTP server behind `b12-cds serve`: granian, and a bridge that buffers each request first.

granian (Rust, hyper) parses HTTP/1.1 and holds every connection without a Python thread, and
drops a client that has not sent its whole header block within the header timeout. Its own WSGI
mode reads the body from a Python thread, so 64 clients that stall their bodies held every
thread (bench/README.md measured it). So `serve` runs granian's ASGI interface with
`BufferedWsgi` in front of the Flask app: the body is read on the event loop, against a deadline
and `MAX_CONTENT_LENGTH` however it is sent (Content-Length or chunked), and only a complete
request takes one of the worker's threads. a2wsgi, the maintained ASGI-to-WSGI adapter, streams
the body into the thread instead (a slow client holds the thread again) and cost measured
throughput; our bridge makes one thread hop per request and collects the (small JSON) answer.

Everything the bridge refuses is a JSON OperationOutcome, like the app's own errors, with the
CORS grant the app would give the same origin: 408 body not received within the body timeout,
413 body over MAX_CONTENT_LENGTH, 431 header block over MAX_HEADER_BYTES. Each closes the
connection. A request granian cannot parse as HTTP/1.1 (a Content-Length that is not a number,
two that disagree) gets granian's bare 400; a header block past granian's own read buffer (twice
MAX_HEADER_BYTES, at least 64 KiB) its bare 431.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


log = logging.getLogger("b12cds")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Set by `serve` for its worker processes: their apps start without repeating the start-up
# warnings the server has already printed once (not a B12CDS_ setting: never read into config).
QUIET_START = "_B12CDS_QUIET_START"
THREADS = "_B12CDS_THREADS"  # `serve --threads`: the bridge's thread pool in each worker
HEALTH_PATH = "/healthz"  # answered on a thread of its own (BufferedWsgi.health_pool)


_GONE = b"<client gone>"  # _body's answer when the client left (compared by identity)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may take before it reaches a Python thread."""

    max_body: int  # MAX_CONTENT_LENGTH
    max_header_bytes: int = 32 * 1024  # a 16 KiB JWT and an EHR's usual headers fit
    body_timeout_s: float = 15.0  # from the end of the headers to the last body byte


def outcome(status: int, code: str, text: str) -> bytes:
    """Return the JSON OperationOutcome the service answers with (service/errors.py shape)."""
    issue = {"severity": "error", "code": code, "details": {"text": text}, "diagnostics": text}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}).encode()


_REFUSALS = {
    408: ("timeout", "The request body was not received in time."),
    413: ("too-long", "The request body is too large."),
    431: ("too-long", "The request headers are too large."),
}


async def _refuse(send: Send, status: int, origin: bytes | None = None) -> None:
    """Answer a refusal; `origin` is the request's Origin when CORS_ORIGINS grants it."""
    code, text = _REFUSALS[status]
    body = outcome(status, code, text)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if origin is not None:  # a browser client reads the refusal instead of a CORS error
        headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    log.warning("request refused by the server", extra={"status": status})


class BufferedWsgi:
    """An ASGI app that reads the whole request, then runs a WSGI app on a thread pool."""

    def __init__(
        self, app: WsgiApp, limits: Limits, threads: int, cors_origins: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.limits = limits
        self.cors_origins = frozenset(o.encode("latin-1") for o in cors_origins)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="b12cds")
        # /healthz has a thread of its own: a probe is answered even while every other thread
        # waits on a slow FHIR server (up to FHIR_TIMEOUT_S), and probes never take one of those.
        self.health_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="b12cds-health")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (http; lifespan is acknowledged)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        origin = next((v for k, v in headers if k == b"origin" and v in self.cors_origins), None)
        if sum(len(k) + len(v) + 4 for k, v in headers) > self.limits.max_header_bytes:
            await _refuse(send, 431, origin)
            return
        declared = [int(v) for k, v in headers if k == b"content-length" and v.isdigit()]
        if declared and max(declared) > self.limits.max_body:
            await _refuse(send, 413, origin)  # said up front: not a byte of it is read
            return
        try:
            async with asyncio.timeout(self.limits.body_timeout_s):
                body = await self._body(receive)
        except TimeoutError:
            await _refuse(send, 408, origin)
            return
        if body is _GONE:
            return  # the client left: nobody is there to answer, so the app is not run
        if body is None:
            await _refuse(send, 413, origin)
            return
        environ = self._environ(scope, headers, body)
        pool = self.health_pool if scope["path"] == HEALTH_PATH else self.pool
        status, response_headers, payload = await asyncio.get_running_loop().run_in_executor(
            pool, self._call, environ
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _body(self, receive: Receive) -> bytes | None:
        """Return the whole body, None as soon as it grows past the limit, or _GONE when the
        client disconnected before sending it all."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _GONE
            chunk = message.get("body") or b""
            size += len(chunk)
            if size > self.limits.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    def _environ(scope: Scope, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
        """Return the PEP 3333 environ of a buffered request (the body is complete)."""
        server = scope.get("server") or ("127.0.0.1", 80)
        client = scope.get("client")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
            "PATH_INFO": scope["path"].encode().decode("latin-1"),
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1] if server[1] is not None else 80),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "CONTENT_LENGTH": str(len(body)),  # chunked or not, the app reads exactly this
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if client:
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
        for raw_name, raw_value in headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name in ("content-length", "transfer-encoding"):
                continue  # the body is already complete
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run the WSGI app on a pool thread; return its status, headers and whole body."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: None  # write() is not used by Flask

        result = self.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return int(str(status).split(" ", 1)[0]), list(headers), payload


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How `b12-cds serve` runs granian."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 4
    header_timeout_s: float = 10.0
    max_header_bytes: int = 32 * 1024  # MAX_HEADER_BYTES: granian's read buffer is twice this
    target: str = "service.server:worker_app"


def log_config() -> dict[str, Any]:
    """Return granian's logging configuration: its lines as JSON objects, like the app's."""
    return {
        "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def run(options: ServeOptions) -> None:
    """Run granian in the foreground until it is stopped (SIGINT or SIGTERM)."""
    from granian.constants import HTTPModes
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    os.environ[QUIET_START] = "1"  # the workers' apps: start-up warnings were printed once here
    os.environ[THREADS] = str(options.threads)
    Server(
        options.target,
        address=options.host,
        port=options.port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=options.workers,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(
            header_read_timeout=int(options.header_timeout_s * 1000),
            # bounds the memory a connection's header block can take before the bridge sees it
            max_buffer_size=max(64 * 1024, 2 * options.max_header_bytes),
        ),
        log_dictconfig=log_config(),
        log_access=False,  # access logs would carry query strings
        respawn_failed_workers=True,
    ).serve()


def wrap(app: Any, threads: int | None = None) -> BufferedWsgi:
    """Return the ASGI app granian serves for a Flask app, with the app's limits."""
    from service.config import DEFAULTS

    def setting(key: str) -> Any:
        value = app.config.get(key)
        return DEFAULTS[key] if value is None else value

    limits = Limits(
        max_body=int(setting("MAX_CONTENT_LENGTH")),
        max_header_bytes=int(setting("MAX_HEADER_BYTES")),
        body_timeout_s=float(setting("CLIENT_BODY_TIMEOUT_S")),
    )
    from service.config import as_list

    count = threads or int(os.environ.get(THREADS) or 4)
    return BufferedWsgi(app, limits, count, as_list(app.config.get("CORS_ORIGINS")))


def worker_app() -> BufferedWsgi:
    """granian's factory in each worker: the production app behind the buffering bridge."""
    from service.cli import production_app

    return wrap(production_app())
