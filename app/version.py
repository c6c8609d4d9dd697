"""The installed version of Descent Lab (one small module that every layer may import)."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """The package version, or ``0+unknown`` when running from a checkout that is not installed."""
    try:
        return metadata.version("descent-lab")
    except metadata.PackageNotFoundError:
        return "0+unknown"
