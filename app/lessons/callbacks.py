"""The lesson player's callbacks.

Data flow (no server-side state)::

    click on the prediction map ──> the point store, its marker, the sentence saying where  (server)
    Reveal ──> the verdict (judged on the view's real runs) and the view uncovered            (server)
    the view's frame: hidden/locked controls, "you changed the view", keys        (assets/lesson.js)

Callbacks use named inputs and outputs; each gathers its arguments, calls a pure function of this
module, and returns.  Every value from the browser is checked before it is used.
"""

from __future__ import annotations

import math
from typing import Any

from dash import Input, Output, Patch, State, no_update

from app.lessons.figures import point_trace
from app.lessons.ids import Ids
from app.lessons.library import library
from app.lessons.truth import judge


def clicked_point(click: Any) -> tuple[float, float] | None:
    """(x, y) of a plotly clickData, or None when it carries no finite point."""
    try:
        pt = click["points"][0]
        x, y = float(pt["x"]), float(pt["y"])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 1e9:
        return None
    return x, y


def point_outputs(click: Any, previous: Any) -> dict[str, Any]:
    """The point store, the map's marker (a figure patch) and the sentence for a click on the map."""
    p = clicked_point(click)
    if p is None:
        return {"point": no_update, "figure": no_update, "said": no_update}
    fig = Patch()
    if previous is None:
        fig["data"].append(point_trace(p))
    else:
        fig["data"][2] = point_trace(p)
    return {"point": [p[0], p[1]], "figure": fig,
            "said": f"Your prediction: ({p[0]:.3g}, {p[1]:.3g}). Press “Reveal the run” when you are sure."}  # fmt: skip


def reveal_outputs(where: Any, choice: Any, number: Any, point: Any) -> dict[str, Any]:
    """The verdict for the answer given on step ``where`` ({"id", "step"}), and ``cover_hidden``: True once
    the answer was judged (the view is uncovered), else no_update (the view stays covered)."""
    lesson = library().get(where.get("id")) if isinstance(where, dict) and isinstance(where.get("id"), str) else None
    k = where.get("step") if isinstance(where, dict) else None
    if lesson is None or not isinstance(k, int) or not 1 <= k <= len(lesson.steps):
        return {"verdict": "This lesson has changed; reload the page.", "cover_hidden": no_update}
    step = lesson.steps[k - 1]
    if step.prediction is None:
        return {"verdict": no_update, "cover_hidden": True}
    answer = {"click": point, "number": number}.get(step.prediction.kind, choice)
    if answer is None or answer == "":
        return {"verdict": "Give your prediction first.", "cover_hidden": no_update}
    try:
        verdict = judge(step, answer)
    except ValueError as exc:
        return {"verdict": str(exc)[:200].capitalize() + ".", "cover_hidden": no_update}
    text = verdict.text + (f" {step.prediction.explain}" if step.prediction.explain else "")
    return {"verdict": text, "cover_hidden": True}


def register_callbacks(app: Any) -> None:
    @app.callback(
        output={"point": Output(Ids.POINT, "data"), "figure": Output(Ids.PRED_MAP, "figure"),
                "said": Output(Ids.PRED_POINT, "children")},
        inputs={"click": Input(Ids.PRED_MAP, "clickData")},
        state={"previous": State(Ids.POINT, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def place_point(click: Any, previous: Any) -> dict[str, Any]:
        return point_outputs(click, previous)

    @app.callback(
        output={"verdict": Output(Ids.VERDICT, "children"), "cover_hidden": Output(Ids.COVER, "hidden")},
        inputs={"n_clicks": Input(Ids.REVEAL, "n_clicks")},
        state={"where": State(Ids.LESSON, "data"), "choice": State(Ids.CHOICE, "value"),
               "number": State(Ids.NUMBER, "value"), "point": State(Ids.POINT, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def reveal(n_clicks: Any, where: Any, choice: Any, number: Any, point: Any) -> dict[str, Any]:
        return reveal_outputs(where, choice, number, point)
