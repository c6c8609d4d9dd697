"""What a step's view really does, and whether a student's prediction of it was right.

The runs are the Explorer's own (:func:`app.explorer.compute.compute` on the view's configuration),
so the player judges a prediction on exactly the race the page then reveals.  Every function here
is pure apart from that computation; answers from the browser are validated before they are judged.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from app.lessons.schema import Prediction, Step

NONE_OF_THEM = "none of them"


@dataclass(frozen=True)
class Truth:
    """The value a prediction is judged against, and how to say it.

    ``value``: click → (x, y) of the run's last point; first → the label of the first run to reach a
    minimum (or NONE_OF_THEM); diverge → bool; number → float.  ``choices`` lists the options a
    "first" question offers; ``span`` is the map's larger side (for click tolerances)."""

    kind: str
    value: Any
    text: str
    choices: tuple[str, ...] = ()
    span: float = 1.0
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-1.0, 1.0), (-1.0, 1.0))


@dataclass(frozen=True)
class Verdict:
    right: bool
    text: str


def view_config(view: str) -> Any:
    """The Explorer configuration a step's view link describes (repairs noted in ``.notes``)."""
    from app.explorer.state import from_query

    return from_query(urlsplit(view).query)


def canonical_link(view: str) -> str:
    """The link the page itself writes for a view (the Explorer's own form of its query; other pages'
    links as given), so the player can tell when a student has changed the view."""
    parts = urlsplit(view)
    if (parts.path.rstrip("/") or "/") != "/":
        return view
    from app.explorer.state import to_query

    return "/" + to_query(view_config(view))


@functools.lru_cache(maxsize=64)
def _result(view: str) -> Any:
    from app.explorer.compute import compute

    return compute(view_config(view))


def truth(step: Step) -> Truth:
    """The truth of ``step``'s prediction on the runs of its view; ValueError if the view cannot answer it."""
    p = step.prediction
    if p is None:
        raise ValueError("this step asks no prediction")
    result = _result(step.view)
    if result.surface is None:
        raise ValueError(f"the view's surface cannot be built: {result.error}")
    bounds = result.surface.bounds
    span = float(result.surface.span)
    runs = list(result.runs)
    if p.kind == "first":
        return _first(runs, p, result.surface, span, bounds)
    if not 1 <= p.run <= len(runs) or not runs[p.run - 1].ok:
        raise ValueError(f"the view has no run {p.run} to ask about")
    run = runs[p.run - 1]
    t = run.trajectory
    label = run.entry.label()
    if p.kind == "click":
        x, y = float(t.positions[-1, 0]), float(t.positions[-1, 1])
        where = "its last finite point" if t.diverged else "it stops"
        return Truth("click", (x, y), f"{label}: {where} at ({x:.3g}, {y:.3g})", span=span, bounds=bounds)
    if p.kind == "diverge":
        said = t.message if t.diverged else f"it does not diverge ({t.status} after {t.steps} steps)"
        return Truth("diverge", bool(t.diverged), f"{label}: {said}", span=span, bounds=bounds)
    value = _metric(run, p.metric, result.surface, span, p)
    return Truth("number", value, f"{label}: {p.metric.replace('_', ' ')} = {value:.4g}", span=span, bounds=bounds)


def _first(runs: list[Any], p: Prediction, surface: Any, span: float, bounds: Any) -> Truth:
    labels = tuple(r.entry.label() for r in runs)
    best, best_step = NONE_OF_THEM, math.inf
    for r in runs:
        k = _arrival(r, surface, span, p)
        if k is not None and k < best_step:
            best, best_step = r.entry.label(), k
    said = f"{best} is at a minimum first, at step {best_step}" if best != NONE_OF_THEM else "no run reaches a minimum"
    return Truth("first", best, said, choices=labels + (NONE_OF_THEM,), span=span, bounds=bounds)


def _arrival(run: Any, surface: Any, span: float, p: Prediction) -> int | None:
    """The first step at which ``run`` is within tolerance·span of a known minimum (None: never)."""
    if not run.ok or run.distance is None:
        return None
    close = np.flatnonzero(run.distance <= p.tolerance_or_default() * span)
    return int(close[0]) if close.size else None


def _metric(run: Any, metric: str, surface: Any, span: float, p: Prediction) -> float:
    t = run.trajectory
    if metric == "final_loss":
        return float(t.losses[-1])
    if metric == "final_x":
        return float(t.positions[-1, 0])
    if metric == "final_y":
        return float(t.positions[-1, 1])
    if metric == "stop_step":
        return float(t.steps)
    k = _arrival(run, surface, span, Prediction("first", "", tolerance=0.02))
    if k is None:
        raise ValueError(f"{run.entry.label()} never reaches a minimum, so its steps to one cannot be asked")
    return float(k)


# --------------------------------------------------------------------------- judging answers


def judge(step: Step, answer: Any) -> Verdict:
    """Whether ``answer`` (as the page sends it) predicts ``step``'s view; ValueError for an unusable answer.

    click: ``[x, y]`` within tolerance·span of the run's last point; first: one of the choices;
    diverge: ``"yes"``/``"no"``; number: a finite number within the relative tolerance."""
    p = step.prediction
    assert p is not None
    tr = truth(step)
    tol = p.tolerance_or_default()
    if p.kind == "click":
        x, y = _point(answer)
        d = math.hypot(x - tr.value[0], y - tr.value[1])
        right = d <= tol * tr.span
        return Verdict(right, f"{_mark(right)} You clicked ({x:.3g}, {y:.3g}), {d:.3g} away. {tr.text}.")
    if p.kind == "first":
        if answer not in tr.choices:
            raise ValueError("choose one of the listed options")
        right = answer == tr.value
        return Verdict(right, f"{_mark(right)} You chose {answer}. {tr.text}.")
    if p.kind == "diverge":
        if answer not in ("yes", "no"):
            raise ValueError("answer yes or no")
        right = (answer == "yes") == tr.value
        return Verdict(right, f"{_mark(right)} You said {answer}. {tr.text}.")
    value = _number(answer)
    right = abs(value - tr.value) <= tol * max(abs(tr.value), 1e-12)
    return Verdict(right, f"{_mark(right)} You said {value:.4g}. {tr.text} (within ±{tol:.0%} counts).")


def _mark(right: bool) -> str:
    return "Right." if right else "Not quite."


def _point(answer: Any) -> tuple[float, float]:
    if not (isinstance(answer, (list, tuple)) and len(answer) == 2):
        raise ValueError("click on the map to place your prediction")
    try:
        x, y = (_number(v) for v in answer)
    except ValueError:
        raise ValueError("click on the map to place your prediction") from None
    return x, y


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError("enter a number")
    try:
        x = float(v) if not isinstance(v, str) or len(v) <= 40 else math.nan
    except ValueError:
        raise ValueError("enter a number") from None
    if not math.isfinite(x) or abs(x) > 1e12:
        raise ValueError("enter a finite number")
    return x


def normalize_answer(step: Step, answer: Any) -> Any:
    """``answer`` as a class room keeps it: [x, y] (click), a listed choice (first), "yes"/"no"
    (diverge) or a float (number); ValueError with a reason for anything else."""
    p = step.prediction
    if p is None:
        raise ValueError("this step asks no prediction")
    if p.kind == "click":
        x, y = _point(answer)
        return [round(x, 6), round(y, 6)]
    if p.kind == "diverge":
        if answer not in ("yes", "no"):
            raise ValueError("answer yes or no")
        return answer
    if p.kind == "first":
        if not isinstance(answer, str) or answer not in truth(step).choices:
            raise ValueError("choose one of the listed options")
        return answer
    return _number(answer)
