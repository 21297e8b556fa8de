"""CORS for browser clients such as the CDS Hooks Sandbox: origins from CORS_ORIGINS.

Preflights (OPTIONS) need no auth; `Authorization` and `Content-Type` are allowed headers.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from service import config as cfg


def init_app(app: Flask) -> None:
    """Enable CORS on the service routes for the configured origins (none by default)."""
    origins = cfg.as_list(app.config.get("CORS_ORIGINS"))
    if not origins:
        return
    CORS(
        app,
        resources={r"/cds-services*": {"origins": origins}, r"/healthz": {"origins": origins}},
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
