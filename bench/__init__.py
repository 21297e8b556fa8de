"""b12-cds benchmark: the service under gunicorn against a no-op Flask endpoint (README.md)."""
