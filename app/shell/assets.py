"""Where the CSS and the clientside JavaScript are served from."""

from __future__ import annotations

from pathlib import Path


def _assets_dir() -> Path:
    """The repository's top-level ``assets/`` (a checkout), else ``app/assets`` (an installed wheel)."""
    package = Path(__file__).resolve().parents[1]
    top = package.parent / "assets"
    return top if (top / "explorer.js").is_file() else package / "assets"


#: CSS and the clientside JavaScript
ASSETS_DIR = _assets_dir()
