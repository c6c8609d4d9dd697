"""What a class room adds to the lesson pages: the teacher's room box, the student's page, the join page.

A teacher starts a room from any step of a lesson (the box under the step's text); the box then
shows the room's code, its join link and QR code, how many students answered and their answers,
and a button that reveals the run to the whole class.  Students open ``/room/<code>`` (or type the
code on ``/room``): the page shows the teacher's current step and follows it.
"""

from __future__ import annotations

import functools
from typing import Any

from dash import dcc, html

from app.lessons.header import header
from app.lessons.ids import Ids

ROOM_PREFIX = "/room/"
JOIN_PATH = "/room"
TEACHER_TICK_MS = 1500
#: a student's page asks for the room's state this often.  The last of a class to see a teacher's step or
#: reveal waits about one interval plus a request, so 1000 ms gave p95 1006–1030 ms over three runs of
#: ``bench/bench_load.py --classroom`` (50 students, 2 workers); at 900 ms it was 909–926 ms in three of four runs
#: (one on a machine otherwise busy: 1211 ms), for 9 % more polls (59 → 64 a second) and about 0.03 more of a
#: core on the server (0.31 → 0.34, within the runs' spread).
STUDENT_TICK_MS = 900


@functools.lru_cache(maxsize=1)
def room_store() -> Any:
    """The deployment's shared key-value store (the job store's; Redis with REDIS_URL)."""
    from app.hosting.jobs import make_manager
    from app.hosting.kv import kv_for

    return kv_for(make_manager())


def teacher_box() -> html.Section:
    """The room box of a player page: a start button until this browser drives a room (then the callback
    fills it with :func:`room_panel`), and the stores and timer the room needs."""
    return html.Section(className="room-box", **{"aria-label": "Class room"}, children=[
        html.Div(id=Ids.ROOM_PANEL, children=start_panel()),
        dcc.Store(id=Ids.ROOM_TEACHER, storage_type="session"),
        dcc.Store(id=Ids.ROOM_VIEW),
        dcc.Store(id="room-view-sink"),
        dcc.Store(id=Ids.TALLY_KEY),
        dcc.Interval(id=Ids.ROOM_TICK, interval=TEACHER_TICK_MS),
    ])  # fmt: skip


def start_panel(problem: str = "") -> list[Any]:
    return [
        html.H2("Class room", className="room-title"),
        html.P("Start a room and your students follow this lesson on their own screens: your step, your view, "
               "and your reveal. Their predictions come back here.", className="lesson-hint"),
        html.Button("Start a class room", id=Ids.ROOM_START, className="btn", type="button"),
        html.P(problem, className="room-problem", role="alert") if problem else None,
    ]  # fmt: skip


def room_panel(code: str, join_url: str, qr_uri: str, has_prediction: bool) -> list[Any]:
    """The box of a running room: its code, join link and QR code, the answers, the class's reveal."""
    return [
        html.H2("Class room", className="room-title"),
        html.P(["Join at ", html.A(join_url, href=join_url, className="room-link"), " with the code"]),
        html.P(code, id=Ids.ROOM_CODE, className="room-code", **{"aria-label": f"room code {' '.join(code)}"}),
        html.Img(src=qr_uri, alt=f"QR code of {join_url}", className="room-qr", width="180", height="180"),
        html.P("No students yet.", id=Ids.ROOM_COUNT, className="room-count", **{"aria-live": "polite"}),
        dcc.Graph(id=Ids.ROOM_TALLY, className="room-tally", config={"displayModeBar": False},
                  style=None if has_prediction else {"display": "none"}),
        html.Div(className="room-actions", children=[
            html.Button("Reveal to the class", id=Ids.ROOM_REVEAL, className="btn", type="button",
                        disabled=not has_prediction),
            html.Button("End the room", id=Ids.ROOM_END, className="btn secondary", type="button"),
        ]),
    ]  # fmt: skip


def student_bar(code: str) -> html.Div:
    """A student's bar: which room, whether they follow it, and the stores and timer of following."""
    return html.Div(className="room-student", children=[
        html.P(["Following class room ", html.Strong(code), "."], className="room-following"),
        html.Button("Explore on my own", id=Ids.ROOM_FOLLOW, className="btn secondary", type="button",
                    **{"aria-pressed": "false"}),
        html.P("", id=Ids.ROOM_STATUS, className="room-status", **{"aria-live": "polite"}),
        dcc.Store(id=Ids.ROOM_STUDENT, storage_type="session"),
        dcc.Store(id=Ids.ROOM_STATE),
        dcc.Store(id="room-sink"),
        dcc.Interval(id=Ids.STUDENT_TICK, interval=STUDENT_TICK_MS),
    ])  # fmt: skip


def join_page(problem: str = "") -> html.Div:
    return html.Div(className="lesson-page", children=[
        header(),
        html.Main(className="lesson-index-main", children=[
            html.H1("Join a class room"),
            html.P(problem, className="room-problem", role="alert") if problem else None,
            html.Label("Room code", htmlFor=Ids.JOIN_CODE, className="lesson-label"),
            dcc.Input(id=Ids.JOIN_CODE, type="text", maxLength=12, autoComplete="off", className="room-join-input",
                      placeholder="e.g. K7QM2XRA"),
            html.Button("Join", id=Ids.JOIN_GO, className="btn", type="button"),
            dcc.Location(id="room-join-location", refresh=True),
        ]),
    ])  # fmt: skip
