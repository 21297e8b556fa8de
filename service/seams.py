"""The outside world the app is handed: FHIR HTTP session and clock. Tests swap one with
`dataclasses.replace(seams(app), clock=...)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime

import requests
from flask import Flask
from flask import current_app

from service.fhir_client import pooled_session


@dataclass(frozen=True, slots=True)
class Seams:
    """Injected dependencies of one app."""

    session: requests.Session
    clock: Callable[[], datetime]

    def today(self) -> date:
        """Return the evaluation date T."""
        return self.clock().date()


def _fixed_clock(day: date) -> Callable[[], datetime]:
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return lambda: moment


def init_app(app: Flask) -> Seams:
    """Create the app's seams: one pooled requests.Session, and the clock (TODAY freezes it)."""
    session = pooled_session()
    today = app.config.get("TODAY")
    clock = _fixed_clock(date.fromisoformat(str(today))) if today else (lambda: datetime.now(UTC))
    seams = Seams(session=session, clock=clock)
    app.extensions["b12cds"] = seams
    return seams


def seams(app: Flask | None = None) -> Seams:
    """Return the seams of an app (the current one by default)."""
    target = app if app is not None else current_app
    found: Seams = target.extensions["b12cds"]
    return found


def replace_seams(app: Flask, new: Seams) -> None:
    """Install new seams (tests)."""
    app.extensions["b12cds"] = new
