"""Fixtures of the fuzz tests."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service import create_app
from tests.conftest import base_config


@pytest.fixture(name="fuzz_client")
def _fuzz_client() -> FlaskClient:
    """Return a client of an app with JWT checking off and the clock at the fixtures' T."""
    return create_app(base_config(REQUIRE_JWT=False)).test_client()
