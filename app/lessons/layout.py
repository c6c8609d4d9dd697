"""The lesson pages: the index (``/lessons``) and the player (``/lesson/<id>?step=k``).

The player shows one step: its text (Markdown and LaTeX), its prediction (if any) and its view,
embedded in a frame with the step's hidden and locked controls.  Back and Next are plain links
(a presenter's clicker sends PageUp/PageDown, which ``assets/lesson.js`` maps onto them), so every
step has its own address.  ``present=1`` is the presenter mode: large type, the view wide.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from dash import dcc, html

from app.lessons.controls import AUTOPLAY, REPLAY, selectors
from app.lessons.header import INDEX_PATH, header
from app.lessons.ids import AT_ATTRIBUTE, AUTOPLAY_ATTR, HIDE_ATTR, LOCK_ATTR, NAMES_ATTRIBUTE, REPLAY_ATTR, VIEW_ATTR, Ids, names_json
from app.lessons.library import library
from app.lessons.schema import NOTES, Lesson, Step

PLAYER_PREFIX = "/lesson/"
TITLE = "Lessons"


def index(query: dict[str, str]) -> html.Div:
    """Every lesson, grouped by the lecture note it follows, and the files that could not be read."""
    lib = library()
    groups = []
    for note, note_title in NOTES.items():
        items = [lesson for lesson in lib.lessons.values() if lesson.note == note]
        if not items:
            continue
        groups.append(html.Section(className="lesson-group", children=[
            html.H2(f"Lecture note {note}: {note_title}"),
            html.Ul(className="lesson-list", children=[
                html.Li(className="lesson-item", children=[
                    html.A(lesson.title, href=player_href(lesson.id, 1), className="lesson-link"),
                    html.Span(f" · {len(lesson.steps)} step{'s' if len(lesson.steps) != 1 else ''}", className="lesson-count"),
                    html.P(lesson.summary, className="lesson-summary") if lesson.summary else None,
                ]) for lesson in items
            ]),
        ]))  # fmt: skip
    problems = []
    if lib.errors:
        problems = [html.Section(className="lesson-problems", children=[
            html.H2("Lesson files that could not be read"),
            html.Ul([html.Li(e, className="lesson-problem") for e in lib.errors]),
        ])]  # fmt: skip
    return html.Div(className="lesson-page lesson-index", children=[
        header(),
        html.Main(className="lesson-index-main", children=[
            html.H1("Lessons"),
            html.P("Each lesson walks through one argument of a lecture note, step by step, on live views of "
                   "Descent Lab. Some steps ask for a prediction before they show the run. Keys: → or Page Down "
                   "for the next step, ← or Page Up for the previous one.", className="lesson-intro"),
            *groups, *problems,
        ]),
    ])  # fmt: skip


def player_href(lesson_id: str, step: int, present: bool = False) -> str:
    q = {"step": str(step)}
    if present:
        q["present"] = "1"
    return f"{PLAYER_PREFIX}{lesson_id}?{urlencode(q)}"


def step_number(query: dict[str, str], n_steps: int) -> int:
    """The 1-based step a link asks for, clamped to the lesson (1 for anything unreadable)."""
    raw = query.get("step", "1")
    try:
        k = int(raw) if len(raw) <= 6 else 1
    except ValueError:
        k = 1
    return min(max(k, 1), n_steps)


def player(query: dict[str, str], rest: str) -> html.Div:
    """The player for ``/lesson/<rest>``; an explanation with a link to the index if there is no such lesson."""
    lesson = library().get(rest.strip("/"))
    if lesson is None:
        return html.Div(className="lesson-page", children=[
            header(),
            html.Main(className="lesson-index-main", children=[
                html.H1("No such lesson"),
                html.P(["There is no lesson called ", html.Code(rest[:60] or "(empty)"), ". ",
                        html.A("All lessons", href=INDEX_PATH), "."]),
            ]),
        ])  # fmt: skip
    return render_player(lesson, step_number(query, len(lesson.steps)), query.get("present") == "1")


def render_player(lesson: Lesson, k: int, presenting: bool, student: str | None = None) -> html.Div:
    """Step ``k`` of ``lesson``; ``student``: the code of the class room a student follows (no step links,
    answers go to the room), else the teacher's page with its room box."""
    step = lesson.steps[k - 1]
    return html.Div(className="lesson-page lesson-player" + (" present" if presenting else "") + (" student" if student else ""),
                    **{NAMES_ATTRIBUTE: names_json(), AT_ATTRIBUTE: f"{lesson.id}:{k}"}, children=[
        header(),
        html.Main(className="lesson-main", children=[
            html.Section(className="lesson-side", **{"aria-label": "Lesson text"}, children=[
                _text_column(lesson, step, k, presenting, student),
            ]),
            html.Section(className="lesson-stage", **{"aria-label": "The lesson's view"}, children=[_view(step)]),
        ]),
        dcc.Store(id=Ids.LESSON, data={"id": lesson.id, "step": k, "room": student}),
        dcc.Store(id=Ids.POINT),
    ])  # fmt: skip


def _text_column(lesson: Lesson, step: Step, k: int, presenting: bool, student: str | None) -> html.Div:
    from app.lessons.room_layout import student_bar, teacher_box

    n = len(lesson.steps)
    if student:
        nav = html.P(f"Step {k} of {n}", className="lesson-counter", **{"aria-live": "polite"})
    else:
        nav = _nav(lesson, k, n, presenting)
    return html.Div(id=Ids.TEXT, className="lesson-text", children=[
        html.P(className="lesson-crumbs", children=[
            html.A("Lessons", href="/lessons"), f" · lecture note {lesson.note}",
        ]),
        html.H1(lesson.title, className="lesson-title"),
        student_bar(student) if student else None,
        nav,
        html.Div(id=Ids.CHANGED, className="lesson-changed", hidden=True, role="status", children=[
            "You changed the view: the text describes the step's own view. ",
            html.Button("Back to the step's view", id=Ids.RESET, className="btn", type="button"),
        ]),
        dcc.Markdown(step.text, mathjax=True, className="lesson-claims"),
        _prediction(step, student) if step.prediction is not None else None,
        None if student else html.P(html.A("Leave presenter mode" if presenting else "Presenter mode",
                                           href=player_href(lesson.id, k, not presenting)), className="lesson-present-link"),
        None if student else teacher_box(),
    ])  # fmt: skip


def _nav(lesson: Lesson, k: int, n: int, presenting: bool) -> html.Nav:
    return html.Nav(className="lesson-nav", **{"aria-label": "Lesson steps"}, children=[
        html.A("← Back", id=Ids.BACK, href=player_href(lesson.id, k - 1, presenting) if k > 1 else None,
               className="btn lesson-step-link" + (" disabled" if k == 1 else ""), **{"aria-disabled": str(k == 1).lower()}),
        html.Span(f"Step {k} of {n}", className="lesson-counter", **{"aria-live": "polite"}),
        html.A("Next →", id=Ids.NEXT, href=player_href(lesson.id, k + 1, presenting) if k < n else None,
               className="btn lesson-step-link" + (" disabled" if k == n else ""), **{"aria-disabled": str(k == n).lower()}),
    ])  # fmt: skip


def _prediction(step: Step, student: str | None = None) -> html.Div:
    p = step.prediction
    assert p is not None
    from app.lessons.truth import truth

    try:
        tr = truth(step)
    except ValueError as exc:
        return html.Div(className="lesson-prediction", children=[html.P(f"This step's prediction cannot be asked: {exc}")])
    if p.kind == "click":
        from app.explorer.compute import build_surface
        from app.lessons.figures import prediction_map
        from app.lessons.truth import view_config

        cfg = view_config(step.view)
        answer = [
            dcc.Graph(id=Ids.PRED_MAP, figure=prediction_map(cfg, build_surface(cfg)), className="lesson-pred-map",
                      config={"displayModeBar": False, "scrollZoom": False, "doubleClick": False}),
            html.P("Tap or click the map to place your prediction.", id=Ids.PRED_POINT, className="lesson-hint",
                   **{"aria-live": "polite"}),
        ]  # fmt: skip
    else:
        answer = []
    options = list(tr.choices) if p.kind == "first" else ["yes", "no"] if p.kind == "diverge" else []
    # every prediction block holds the choice and the number field (the reveal callback reads both)
    answer += [
        dcc.RadioItems(id=Ids.CHOICE, options=[{"label": o, "value": o} for o in options], className="lesson-choices",
                       labelClassName="lesson-choice", style=None if options else {"display": "none"}),
        html.Div(hidden=p.kind != "number", children=[
            html.Label("Your answer", htmlFor=Ids.NUMBER, className="lesson-label"),
            dcc.Input(id=Ids.NUMBER, type="number", step="any", className="lesson-number", debounce=False),
        ]),
    ]  # fmt: skip
    return html.Div(className="lesson-prediction", role="group", **{"aria-labelledby": "lesson-question"}, children=[
        html.H2("Predict first", className="lesson-predict-title"),
        html.P(p.question, id="lesson-question", className="lesson-question"),
        *answer,
        html.Button("Send my answer", id=Ids.ROOM_SEND, className="btn primary", type="button") if student
        else html.Button("Reveal the run", id=Ids.REVEAL, className="btn primary", type="button"),
        html.Div(id=Ids.VERDICT, className="lesson-verdict", **{"aria-live": "polite"}),
    ])  # fmt: skip


def _view(step: Step) -> html.Div:
    """The step's view in a frame, covered until a prediction is revealed."""
    from app.lessons.truth import canonical_link

    page = step.page
    link = canonical_link(step.view)
    attrs = {
        HIDE_ATTR: json.dumps(selectors(page, step.hide)),
        LOCK_ATTR: json.dumps(selectors(page, step.lock)),
        VIEW_ATTR: link,
        REPLAY_ATTR: json.dumps(list(REPLAY.get(page, ()))),
        AUTOPLAY_ATTR: json.dumps(list(AUTOPLAY.get(page, ()))),
    }
    cover = html.Div(id=Ids.COVER, className="lesson-cover", hidden=step.prediction is None, children=[
        html.P("Make your prediction first: the run appears when you reveal it."),
    ])  # fmt: skip
    return html.Div(className="lesson-view-wrap", children=[
        html.Iframe(id=Ids.FRAME, src=link, className="lesson-frame", title="The step's view (a live Descent Lab page)",
                    **attrs),
        cover,
    ])  # fmt: skip
