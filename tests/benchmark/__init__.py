"""Timing runs, off by default (`pytest -m benchmark`); they print and never assert on time."""
