"""Structured JSON logs without patient data.

Log service id, hook instance, rule ids, counts and timings; never names, identifiers (the
patient id included), values, tokens, bodies, or FHIR URLs with a query string.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC
from datetime import datetime

from flask import Flask


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__  # the type only: no values
        return json.dumps(entry, default=str)


def init_app(app: Flask) -> None:
    """Send the `b12cds` logger to stderr as JSON, once per process."""
    logger = logging.getLogger("b12cds")
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "b12cds", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.b12cds = True  # type: ignore[attr-defined]  # marks our handler
        logger.addHandler(handler)
