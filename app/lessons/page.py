"""The lesson pages' entry: what the router and ``create_app`` call (``/lessons`` and ``/lesson/<id>``)."""

from __future__ import annotations

from typing import Any

from app.lessons import callbacks, room_callbacks
from app.lessons.layout import INDEX_PATH, PLAYER_PREFIX, TITLE, index, player, render_player
from app.lessons.library import library
from app.lessons.room_layout import JOIN_PATH, ROOM_PREFIX, join_page, room_store
from app.lessons.rooms import load_room, valid_code


def room_page(query: dict[str, str], rest: str) -> Any:
    """``/room/<code>``: the teacher's current step for a student, or the join page with the reason."""
    code = valid_code(rest.strip("/"))
    if code is None:
        return join_page("That is not a room code: 8 letters and digits." if rest.strip("/") else "")
    room = load_room(room_store(), code)
    lesson = library().get(room.lesson) if room is not None else None
    if room is None or lesson is None:
        return join_page(f"There is no class room {code} (it may have ended).")
    k = min(max(room.step, 1), len(lesson.steps))
    return render_player(lesson, k, presenting=False, student=code)


def join(query: dict[str, str]) -> Any:
    """``/room``: the page where a student types a room's code."""
    return join_page()


def register_callbacks(app: Any) -> None:
    callbacks.register_callbacks(app)
    room_callbacks.register_callbacks(app)


__all__ = ["INDEX_PATH", "JOIN_PATH", "PLAYER_PREFIX", "ROOM_PREFIX", "TITLE", "index", "join", "player",
           "register_callbacks", "room_page"]
