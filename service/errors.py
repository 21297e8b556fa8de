"""Errors the service answers with; each becomes one OperationOutcome.

CdsError                  500  base; never raised for bad input
├── BadRequest            400  malformed JSON, invalid hook request, hook not matching the service
├── Unauthorized          401  JWT missing or invalid (the answer never says which)
├── UnknownService        404  service id not in the registry
├── PrefetchUnavailable   412  required data neither prefetched nor fetchable (`processing`)
├── PayloadTooLarge       413  body larger than MAX_CONTENT_LENGTH
├── UnsupportedMediaType  415  body is not JSON
└── StoreUnavailable      503  the database cannot store the request now (the client may retry)

One handler turns these, werkzeug's HTTP errors (unknown route, 405, 413) and anything
unexpected into the same JSON OperationOutcome: never HTML, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask import Response
from flask import jsonify
from werkzeug.exceptions import HTTPException


log = logging.getLogger("b12cds")


class CdsError(Exception):
    """Base error: 500, FHIR issue code `exception`."""

    status = 500
    code = "exception"

    def __init__(self, diagnostics: str, expression: list[str] | None = None) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.expression = expression or []


class BadRequest(CdsError):
    """Raised by the hook and feedback parsers: 400, issue code `invalid`."""

    status = 400
    code = "invalid"


class Unauthorized(CdsError):
    """Raised by auth: 401, issue code `login`. The body never says why."""

    status = 401
    code = "login"

    def __init__(self, reason: str) -> None:
        super().__init__("The request is not authorised.")
        self.reason = reason  # for the log line only


class UnknownService(CdsError):
    """Raised by the service lookup: 404, issue code `not-found`."""

    status = 404
    code = "not-found"


class PrefetchUnavailable(CdsError):
    """Raised by prefetch.resolve: 412, issue code `incomplete`."""

    status = 412
    code = "processing"  # as the CDS Hooks specification's own 412 example


class UnsupportedMediaType(CdsError):
    """Raised when the body is not JSON: 415, issue code `not-supported`."""

    status = 415
    code = "not-supported"


class StoreUnavailable(CdsError):
    """Raised when the database cannot store a request now: 503, issue code `transient`."""

    status = 503
    code = "transient"


_WERKZEUG_CODES = {404: "not-found", 405: "not-supported", 413: "too-long", 415: "not-supported"}


def operation_outcome(
    status: int, code: str, diagnostics: str, expression: list[str] | None = None
) -> Response:
    """Return a JSON OperationOutcome response."""
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code,
        "details": {"text": diagnostics},
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = expression
    response = jsonify({"resourceType": "OperationOutcome", "issue": [issue]})
    response.status_code = status
    return response


def _cds_error(error: CdsError) -> Response:
    response = operation_outcome(error.status, error.code, error.diagnostics, error.expression)
    if isinstance(error, Unauthorized):
        log.warning("request refused", extra={"status": 401, "reason": error.reason})
        response.headers["WWW-Authenticate"] = "Bearer"  # RFC 7235: a 401 names its scheme
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    text = {
        404: "No such endpoint.",
        405: "Method not allowed on this endpoint.",
        413: "The request body is too large.",
    }.get(status, error.description or error.name)
    response = operation_outcome(status, _WERKZEUG_CODES.get(status, "exception"), text)
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]  # werkzeug sets it
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("unexpected error", extra={"error_type": type(error).__name__})
    return operation_outcome(500, "exception", "Internal error; the request was not processed.")


def init_app(app: Flask) -> None:
    """Register the one error handler family."""
    app.register_error_handler(CdsError, _cds_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
