"""The curvature lens: what the exact Hessian at each iterate says about a run.

Three pure pieces, none touching Dash:

* :func:`cross_arms` — the eigen-cross drawn at a ball on the 2-D map: the two eigen-directions of
  H(θ_k), each arm of half-length ∝ 1/√|λ| (clamped to [:data:`CROSS_MIN`, :data:`CROSS_MAX`] of the
  view's span), dashed where λ < 0.  ``assets/curvature.js`` draws the same arms from the payload
  (:func:`app.explorer.compute.cross_payload`; the constants travel with it, so both sides agree).
* :func:`stability_series` and :func:`stability_panel` — η_k·λ_max(H(θ_k)) against the step, with
  gradient descent's bound 2 and heavy ball's 2(1 + μ) drawn only for the runs they apply to.
* :func:`error_split` and :func:`error_split_panel` — on the quadratic surface, |⟨θ_k − θ*, v_i⟩| along
  each (fixed) eigenvector, with the prediction of the per-direction linear recurrence drawn dashed.

Runs that diverged end early; non-finite values become gaps (NaN → ``null``), never JSON infinities.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.explorer.compute import CROSS_MAX, CROSS_MIN, CROSS_SCALE, Result, Run
from app.shell.style import color, escape
from optimizers.stepper import Stepper

#: the surface whose error split has a closed form, and the optimizers whose recurrence is predicted
QUADRATIC = "quadratic"
_BOUND_NAMES = {"sgd", "momentum"}


# --------------------------------------------------------------------------- the cross


def arm_length(lam: float, span: float) -> float:
    """Half-length of the arm along an eigenvector with eigenvalue ``lam`` on a view of ``span``."""
    a = abs(float(lam))
    raw = math.inf if a == 0.0 or not math.isfinite(a) else CROSS_SCALE * span / math.sqrt(a)
    return min(max(raw, CROSS_MIN * span), CROSS_MAX * span)


def cross_arms(t: Any, k: int, span: float) -> list[dict[str, Any]]:
    """The two arms at row ``k`` of trajectory ``t``: ``{"dir": (x, y), "half": h, "dashed": λ < 0, "lam": λ}``.

    Empty if the Hessian there was not finite (a zero eigenvector row)."""
    out = []
    for lam, vec in ((t.lambda_min[k], t.eigvec_min[k]), (t.lambda_max[k], t.eigvec_max[k])):
        if not np.any(vec):
            return []
        out.append({"dir": (float(vec[0]), float(vec[1])), "half": arm_length(lam, span),
                    "dashed": bool(lam < 0), "lam": float(lam)})  # fmt: skip
    return out


# --------------------------------------------------------------------------- stability


def learning_rates(run: Run, n: int) -> np.ndarray:
    """η_k for k = 0..n−1: the learning rate of the step taken from iterate k (the schedule's, if any)."""
    t = run.trajectory
    assert t is not None
    st = Stepper(t.config, 2, t.modifiers)
    return np.array([st.lr(k) for k in range(n)], dtype=np.float64)


def stability_series(run: Run) -> np.ndarray:
    """η_k·λ_max(H(θ_k)) for every recorded row of ``run`` (NaN where the Hessian was not finite)."""
    t = run.trajectory
    assert t is not None and t.lambda_max is not None
    n = t.positions.shape[0]
    ok = np.any(t.eigvec_max != 0, axis=1)
    return np.where(ok, learning_rates(run, n) * t.lambda_max, np.nan)


def stability_bound(run: Run) -> tuple[float, str] | None:
    """The bound on η·λ_max a run is stable under on a quadratic, and its label; None if none applies.

    Gradient descent (SGD without momentum): 2.  Heavy ball (torch's SGD momentum or the textbook form,
    no Nesterov): 2(1 + μ).  With dampening or weight decay, and for every other rule, no bound is drawn."""
    t = run.trajectory
    if t is None or run.entry.name not in _BOUND_NAMES:
        return None
    v = dict(run.entry.values)
    if float(v.get("weight_decay", 0.0)) or float(v.get("dampening", 0.0)) or bool(v.get("nesterov", 0)):
        return None
    mu = float(v.get("momentum", 0.0))
    if mu == 0.0:
        return 2.0, "GD bound 2"
    return 2.0 * (1.0 + mu), f"heavy-ball bound 2(1+μ) = {2.0 * (1.0 + mu):.3g}"


def stability_panel(result: Result, idx_of: Any, line: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The stability chart's traces (every run's η·λ_max, and the bound lines that apply) and its note.

    ``idx_of(n)`` gives the decimated rows of a run of n rows; ``line(x, y, col, name, what, dash)`` draws a
    diagnostic line (both from :mod:`app.explorer.diagnostics`)."""
    steps = max(result.config.steps, 1)
    data: list[dict[str, Any]] = []
    bounds: dict[float, str] = {}
    others = []
    for run in result.runs:
        t = run.trajectory
        if t is None or t.lambda_max is None:
            continue
        s = stability_series(run)
        idx = idx_of(s.shape[0])
        data.append(line(idx.astype(np.float64), s[idx], color(run.entry.color), run.entry.label(), "η·λ_max", "solid"))
        b = stability_bound(run)
        if b is None:
            others.append(run.entry.spec.display_name)
        else:
            bounds.setdefault(b[0], b[1])
    for value, text in sorted(bounds.items()):
        data.append({"type": "scatter", "mode": "lines+text", "x": [0, steps], "y": [value, value],
                     "text": ["", escape(text)], "textposition": "top left", "textfont": {"size": 11, "color": "#374151"},
                     "line": {"color": "#374151", "width": 1.2, "dash": "dash"}, "hoverinfo": "skip",
                     "showlegend": False, "name": text})  # fmt: skip
    note = None
    if others:
        names = ", ".join(dict.fromkeys(others))
        note = f"bounds 2, 2(1+μ) apply to GD / heavy ball only<br>none drawn for: {escape(names)}"
    return data, note


# --------------------------------------------------------------------------- error split on the quadratic


def quadratic_axes(result: Result) -> tuple[np.ndarray, np.ndarray, float, float] | None:
    """(v_min, v_max, λ_min, λ_max) of the quadratic surface's constant Hessian; None on any other surface."""
    cfg = result.config
    if cfg.surface != QUADRATIC or result.surface is None:
        return None
    p = dict(result.surface.params) if hasattr(result.surface, "params") else dict(cfg.surface_params)
    kappa = float(p.get("kappa", 10.0))
    th = math.radians(float(p.get("angle", 0.0)))
    c, s = math.cos(th), math.sin(th)
    return np.array([c, s]), np.array([-s, c]), 1.0 / kappa, 1.0


def _predictable(run: Run) -> bool:
    t = run.trajectory
    if t is None or run.entry.name not in ("sgd", "momentum"):
        return False
    m = t.modifiers
    return m.noise == 0 and m.clip == "none"


def predicted_error(run: Run, lam: float, e0: float, n: int) -> np.ndarray | None:
    """The error along an eigen-direction with eigenvalue ``lam`` for rows 0..n−1, from the run's linear
    recurrence, or None if the rule has none here (adaptive, second-order, noise or clipping).

    Gradient descent: e_{k+1} = (1 − η_k λ) e_k, i.e. |1 − ηλ|^k |e_0| at a constant rate.  Heavy ball in
    torch's form (b₁ = g₁, then b ← μb + (1 − τ)g; θ ← θ − ηb; Nesterov steps g + μb) and in the
    textbook form (v ← μv − ηg; θ ← θ + v) is the 2×2 recurrence on (e, b), the companion matrix
    [[1 + μ − ηλ, −μ], [1, 0]] in (e_k, e_{k−1}) at a constant rate.  Weight decay adds to λ."""
    t = run.trajectory
    if not _predictable(run):
        return None
    assert t is not None
    v = dict(run.entry.values)
    lam = lam + float(v.get("weight_decay", 0.0))
    mu = float(v.get("momentum", 0.0 if run.entry.name == "sgd" else 0.9))
    tau = float(v.get("dampening", 0.0))
    nesterov = run.entry.name == "sgd" and bool(v.get("nesterov", 0))
    textbook = run.entry.name == "momentum" and v.get("convention") == "textbook"
    lrs = learning_rates(run, n)
    out = np.empty(n)
    e, b = float(e0), 0.0
    out[0] = e
    for k in range(1, n):
        eta, g = lrs[k - 1], lam * e
        if textbook:
            b = mu * b - eta * g
            e = e + b
        else:
            if mu == 0.0:
                b = g
            else:
                b = g if k == 1 else mu * b + (1.0 - tau) * g
            e = e - eta * (g + mu * b if nesterov else b)
        out[k] = e
    return out


def error_split(result: Result, run: Run) -> dict[str, Any] | None:
    """Measured ⟨θ_k − θ*, v_i⟩ along v_min and v_max (θ* = 0), and the predictions (None where there is
    none), for a run on the quadratic; None on any other surface."""
    axes = quadratic_axes(result)
    t = run.trajectory
    if axes is None or t is None:
        return None
    vmin, vmax, lmin, lmax = axes
    out: dict[str, Any] = {}
    for key, vec, lam in (("min", vmin, lmin), ("max", vmax, lmax)):
        e = t.positions @ vec
        out[key] = e
        out[f"pred_{key}"] = predicted_error(run, lam, float(e[0]), e.shape[0])
    return out


def error_split_panel(result: Result, idx_of: Any, line: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Traces of the error split (measured solid, predicted dashed; the steep direction v_max thick, the slow
    v_min thin), and a note (why the panel is empty elsewhere)."""
    if quadratic_axes(result) is None:
        return [], "the error split is drawn on the quadratic surface (its Hessian is constant)"
    data: list[dict[str, Any]] = []
    for run in result.runs:
        split = error_split(result, run)
        if split is None:
            continue
        col, name = color(run.entry.color), run.entry.label()
        for key, what, width in (("max", "|e| along v_max (steep)", 2.4), ("min", "|e| along v_min (slow)", 1.3)):
            idx = idx_of(split[key].shape[0])
            x = idx.astype(np.float64)
            tr = line(x, _abs_positive(split[key])[idx], col, name, what, "solid")
            tr["line"]["width"] = width
            data.append(tr)
            pred = split[f"pred_{key}"]
            if pred is not None:
                tp = line(x, _abs_positive(pred)[idx], "#111827", name, f"predicted {what}", "dash")
                tp["line"]["width"] = 1.1
                data.append(tp)
    return data, None


def _abs_positive(a: np.ndarray) -> np.ndarray:
    y = np.abs(a)
    return np.where(np.isfinite(y) & (y > 0), y, np.nan)
