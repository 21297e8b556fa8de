"""Errors of the clinical knowledge that stop start-up (importable without loading it)."""

from __future__ import annotations


class ValueSetError(ValueError):
    """A value set file that cannot be used; the message names the file, the line and the fix."""
