"""The lesson pages' entry: what the router and ``create_app`` call (``/lessons`` and ``/lesson/<id>``)."""

from __future__ import annotations

from app.lessons.callbacks import register_callbacks
from app.lessons.layout import INDEX_PATH, PLAYER_PREFIX, TITLE, index, player

__all__ = ["INDEX_PATH", "PLAYER_PREFIX", "TITLE", "index", "player", "register_callbacks"]
