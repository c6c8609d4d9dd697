"""The class room's callbacks.

Data flow (the room itself lives in the shared store; see :mod:`app.lessons.rooms`)::

    teacher: Start ──> a new room, its secret in the browser's session store, the room box
             a step's page loads (session store) ──> the room moves to this lesson and step
             the view plays or is scrubbed (assets/room.js) ──> the room's k and play state
             timer ──> how many answered, and their answers                   (server)
             Reveal to the class ──> the room revealed; the teacher's view uncovered
    student: timer ──> joins once (a slot and its secret in the session store), then the room's
             state ──> assets/room.js follows it (other step: reload; k, play; reveal)
             Send my answer ──> the answer, checked, kept in the room

Each callback gathers its arguments, calls a pure function of this module, and returns.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ClientsideFunction, Input, Output, State, no_update

from app.lessons.ids import Ids
from app.lessons.library import library
from app.lessons.room_layout import JOIN_PATH, ROOM_PREFIX, room_panel, room_store, start_panel
from app.lessons.rooms import (
    RoomError,
    answers,
    create_room,
    drive,
    join,
    load_room,
    my_answer,
    send_answer,
    valid_code,
)
from app.lessons.truth import judge, normalize_answer, truth


def _where(where: Any) -> tuple[Any, int] | None:
    """(lesson, step) of a player's LESSON store, or None when it names none."""
    if not isinstance(where, dict) or not isinstance(where.get("id"), str) or not isinstance(where.get("step"), int):
        return None
    lesson = library().get(where["id"])
    if lesson is None or not 1 <= where["step"] <= len(lesson.steps):
        return None
    return lesson, where["step"]


def _teacher(store: Any) -> tuple[str, str] | None:
    if isinstance(store, dict) and isinstance(store.get("code"), str) and isinstance(store.get("token"), str):
        return store["code"], store["token"]
    return None


def _panel(kv: Any, code: str, base_url: str, lesson: Any, k: int) -> list[Any]:
    from app.lessons.room_figures import qr_data_uri

    url = base_url.rstrip("/") + ROOM_PREFIX + code
    return room_panel(code, url, qr_data_uri(url), lesson.steps[k - 1].prediction is not None)


def start_outputs(kv: Any, where: Any, base_url: str) -> dict[str, Any]:
    """A new room on the page's lesson and step: the teacher's store and the room box."""
    found = _where(where)
    if found is None:
        return {"store": no_update, "panel": start_panel("This page's lesson is not known; reload it.")}
    lesson, k = found
    try:
        room, token = create_room(kv, lesson.id, k)
    except RoomError as exc:
        return {"store": no_update, "panel": start_panel(str(exc))}
    return {"store": {"code": room.code, "token": token}, "panel": _panel(kv, room.code, base_url, lesson, k)}


def arrive_outputs(kv: Any, store: Any, where: Any, base_url: str) -> dict[str, Any]:
    """A teacher's page loaded: the room moves to its lesson and step, and the box shows the room
    (or the start button, with the store cleared, when the room has ended)."""
    found, mine = _where(where), _teacher(store)
    if found is None or mine is None:
        return {"store": no_update, "panel": no_update}
    lesson, k = found
    try:
        drive(kv, mine[0], mine[1], len(lesson.steps), lesson=lesson.id, step=k)
    except RoomError as exc:
        return {"store": None, "panel": start_panel(str(exc))}
    return {"store": no_update, "panel": _panel(kv, mine[0], base_url, lesson, k)}


def tally_outputs(kv: Any, store: Any, where: Any, shown: Any = None) -> dict[str, Any]:
    """How many students joined and answered, and the figure of their answers; the figure only when the
    answers differ from those it shows (``shown``: the key of the figure on screen), so an idle room
    costs a few bytes a tick."""
    found, mine = _where(where), _teacher(store)
    room = load_room(kv, mine[0]) if mine else None
    if found is None or room is None:
        return {"count": no_update, "figure": no_update, "key": no_update}
    lesson, k = found
    joined, got = answers(kv, room)
    step = lesson.steps[k - 1]
    if step.prediction is None:
        return {"count": f"{joined} student{'s' if joined != 1 else ''} following.", "figure": no_update,
                "key": no_update}  # fmt: skip
    key = json.dumps([room.code, room.lesson, room.step, room.revealed, got], sort_keys=True)
    said = f"{len(got)} of {joined} student{'s' if joined != 1 else ''} answered."
    if room.revealed:
        said += f" Revealed: {truth(step).text}."
    if key == shown:
        return {"count": said, "figure": no_update, "key": no_update}
    from app.explorer.compute import build_surface
    from app.lessons.room_figures import tally_figure
    from app.lessons.truth import view_config

    tr = truth(step)
    cfg = view_config(step.view)
    surface = build_surface(cfg) if step.prediction.kind == "click" else None
    fig = tally_figure(step.prediction.kind, got, tr.choices, cfg, surface)
    return {"count": said, "figure": fig, "key": key}


def reveal_class_outputs(kv: Any, store: Any, where: Any) -> dict[str, Any]:
    found, mine = _where(where), _teacher(store)
    if found is None or mine is None:
        return {"cover_hidden": no_update}
    try:
        drive(kv, mine[0], mine[1], len(found[0].steps), revealed=True)
    except RoomError:
        return {"cover_hidden": no_update}
    return {"cover_hidden": True}


def view_sync(kv: Any, store: Any, where: Any, view: Any) -> None:
    """Pass the teacher's view state ({"k", "playing"}) to the room (nothing for anything malformed)."""
    found, mine = _where(where), _teacher(store)
    if found is None or mine is None or not isinstance(view, dict):
        return
    changes = {key: view[key] for key in ("k", "playing") if key in view}
    try:
        drive(kv, mine[0], mine[1], len(found[0].steps), **changes)
    except RoomError:
        return


def end_outputs(kv: Any, store: Any) -> dict[str, Any]:
    mine = _teacher(store)
    room = load_room(kv, mine[0]) if mine else None
    if room is not None and mine is not None:
        from app.lessons.rooms import is_teacher

        if is_teacher(room, mine[1]):
            kv.delete(f"room:{room.code}")
            kv.delete(f"room-slot:{room.slot}")
    return {"store": None, "panel": start_panel()}


# --------------------------------------------------------------------------- students


def student_outputs(kv: Any, store: Any, where: Any) -> dict[str, Any]:
    """A student's tick: join once, then the room's public state with this student's verdict once revealed."""
    code = valid_code(where.get("room")) if isinstance(where, dict) else None
    if code is None:
        return {"store": no_update, "state": no_update, "cover_hidden": no_update, "verdict": no_update}
    room = load_room(kv, code)
    if room is None:
        return {"store": no_update, "state": {"ended": True}, "cover_hidden": no_update,
                "verdict": "The class room has ended."}  # fmt: skip
    out: dict[str, Any] = {"store": no_update, "cover_hidden": no_update, "verdict": no_update}
    mine = store if isinstance(store, dict) and store.get("code") == code else None
    if mine is None:
        try:
            slot, token = join(kv, code)
        except RoomError as exc:
            return {**out, "state": room.public(), "verdict": str(exc)}
        mine = {"code": code, "slot": slot, "token": token}
        out["store"] = mine
    out["state"] = room.public()
    found = _where(where)
    if room.revealed and found is not None and found[0].id == room.lesson and found[1] == room.step:
        step = found[0].steps[found[1] - 1]
        out["cover_hidden"] = True
        a = my_answer(kv, room, mine.get("slot"))
        if step.prediction is not None:
            try:
                out["verdict"] = judge(step, a).text if a is not None else f"You did not answer. {truth(step).text}."
            except ValueError:
                out["verdict"] = truth(step).text
    return out


def send_outputs(kv: Any, store: Any, where: Any, choice: Any, number: Any, point: Any) -> str:
    """A student's answer sent to the room: what the status line says."""
    found = _where(where)
    if found is None or not isinstance(store, dict):
        return "This page is not part of a class room; reload it."
    lesson, k = found
    step = lesson.steps[k - 1]
    if step.prediction is None:
        return "This step asks no prediction."
    raw = {"click": point, "number": number}.get(step.prediction.kind, choice)
    if raw is None or raw == "":
        return "Give your prediction first."
    try:
        answer = normalize_answer(step, raw)
        send_answer(kv, store.get("code"), store.get("slot"), store.get("token"), k, answer)
    except (ValueError, RoomError) as exc:
        return str(exc)[:200].rstrip(".").capitalize() + "."
    return "Answer sent. The run appears when your teacher reveals it."


def register_callbacks(app: Any) -> None:
    from flask import request

    def base_url() -> str:
        return request.host_url if request else "/"

    @app.callback(output={"store": Output(Ids.ROOM_TEACHER, "data"), "panel": Output(Ids.ROOM_PANEL, "children")},
                  inputs={"n": Input(Ids.ROOM_START, "n_clicks")}, state={"where": State(Ids.LESSON, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def start(n: Any, where: Any) -> dict[str, Any]:
        if not n:  # a button drawn by another callback, not pressed
            return {"store": no_update, "panel": no_update}
        return start_outputs(room_store(), where, base_url())

    @app.callback(output={"store": Output(Ids.ROOM_TEACHER, "data", allow_duplicate=True),
                          "panel": Output(Ids.ROOM_PANEL, "children", allow_duplicate=True)},
                  inputs={"store": Input(Ids.ROOM_TEACHER, "modified_timestamp")},
                  state={"data": State(Ids.ROOM_TEACHER, "data"), "where": State(Ids.LESSON, "data")},
                  prevent_initial_call="initial_duplicate")  # fmt: skip
    def arrive(store: Any, data: Any, where: Any) -> dict[str, Any]:
        return arrive_outputs(room_store(), data, where, base_url())

    @app.callback(output={"count": Output(Ids.ROOM_COUNT, "children"), "figure": Output(Ids.ROOM_TALLY, "figure"),
                          "key": Output(Ids.TALLY_KEY, "data")},
                  inputs={"n": Input(Ids.ROOM_TICK, "n_intervals")},
                  state={"store": State(Ids.ROOM_TEACHER, "data"), "where": State(Ids.LESSON, "data"),
                         "shown": State(Ids.TALLY_KEY, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def tally(n: Any, store: Any, where: Any, shown: Any) -> dict[str, Any]:
        return tally_outputs(room_store(), store, where, shown)

    @app.callback(output={"cover_hidden": Output(Ids.COVER, "hidden", allow_duplicate=True)},
                  inputs={"n": Input(Ids.ROOM_REVEAL, "n_clicks")},
                  state={"store": State(Ids.ROOM_TEACHER, "data"), "where": State(Ids.LESSON, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def reveal_class(n: Any, store: Any, where: Any) -> dict[str, Any]:
        if not n:
            return {"cover_hidden": no_update}
        return reveal_class_outputs(room_store(), store, where)

    @app.callback(output={"store": Output(Ids.ROOM_TEACHER, "data", allow_duplicate=True),
                          "panel": Output(Ids.ROOM_PANEL, "children", allow_duplicate=True)},
                  inputs={"n": Input(Ids.ROOM_END, "n_clicks")}, state={"store": State(Ids.ROOM_TEACHER, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def end(n: Any, store: Any) -> dict[str, Any]:
        if not n:
            return {"store": no_update, "panel": no_update}
        return end_outputs(room_store(), store)

    @app.callback(output=Output("room-view-sink", "data"), inputs={"view": Input(Ids.ROOM_VIEW, "data")},
                  state={"store": State(Ids.ROOM_TEACHER, "data"), "where": State(Ids.LESSON, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def sync(view: Any, store: Any, where: Any) -> Any:
        view_sync(room_store(), store, where, view)
        return no_update

    @app.callback(output={"store": Output(Ids.ROOM_STUDENT, "data"), "state": Output(Ids.ROOM_STATE, "data"),
                          "cover_hidden": Output(Ids.COVER, "hidden", allow_duplicate=True),
                          "verdict": Output(Ids.VERDICT, "children", allow_duplicate=True)},
                  inputs={"n": Input(Ids.STUDENT_TICK, "n_intervals")},
                  state={"store": State(Ids.ROOM_STUDENT, "data"), "where": State(Ids.LESSON, "data")},
                  prevent_initial_call="initial_duplicate")  # fmt: skip
    def follow(n: Any, store: Any, where: Any) -> dict[str, Any]:
        return student_outputs(room_store(), store, where)

    @app.callback(output=Output(Ids.ROOM_STATUS, "children"), inputs={"n": Input(Ids.ROOM_SEND, "n_clicks")},
                  state={"store": State(Ids.ROOM_STUDENT, "data"), "where": State(Ids.LESSON, "data"),
                         "choice": State(Ids.CHOICE, "value"), "number": State(Ids.NUMBER, "value"),
                         "point": State(Ids.POINT, "data")},
                  prevent_initial_call=True)  # fmt: skip
    def send(n: Any, store: Any, where: Any, choice: Any, number: Any, point: Any) -> Any:
        if not n:
            return no_update
        return send_outputs(room_store(), store, where, choice, number, point)

    app.clientside_callback(ClientsideFunction(namespace="descentRoom", function_name="follow"),
                            Output("room-sink", "data"), Input(Ids.ROOM_STATE, "data"), prevent_initial_call=True)

    @app.callback(output=Output("room-join-location", "href"), inputs={"n": Input(Ids.JOIN_GO, "n_clicks")},
                  state={"code": State(Ids.JOIN_CODE, "value")}, prevent_initial_call=True)  # fmt: skip
    def go(n: Any, code: Any) -> Any:
        c = valid_code(code)
        return ROOM_PREFIX + c if c else JOIN_PATH + "/" + "bad"
