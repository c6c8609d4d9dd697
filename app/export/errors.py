"""The one error type of the exporters (a module of its own so every exporter can raise it)."""

from __future__ import annotations


class ExportError(Exception):
    """An export that cannot be produced, with a one-line reason for the user."""
