"""Configuration → trajectories: the pure computation behind every Explorer view.

:func:`compute` builds the surface, traces every optimizer and derives the
per-step diagnostics.  It never raises for bad user input: a formula that does
not parse becomes ``Result.error``; an optimizer whose hyperparameters do not
combine (or whose start is undefined) becomes ``Run.error``.

:func:`payload` packs a result for the browser's animation engine
(``assets/explorer.js``): float64 arrays travel as base64 strings, which the
engine decodes into ``Float64Array`` views (plotly ≥ 6 would otherwise send
``{dtype, bdata}`` objects anyway, and plain lists cost ~10× more to encode).
"""

from __future__ import annotations

import base64
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.explorer.config import ExplorerConfig, OptimizerEntry
from app.shell.surface_grid import ZScale
from optimizers import Trajectory, trace
from surfaces import Surface, get_surface

#: optimizer state rows that carry a "momentum" direction: name → (sign to turn it into a step direction, label)
_MOMENTUM_STATE = {
    "momentum_buffer": (-1.0, "−b"),
    "exp_avg": (-1.0, "−m"),
    "velocity": (1.0, "v"),
    "direction": (1.0, "d"),
}
#: optimizers whose stored direction is too uninformative to draw (L-BFGS keeps a scratch row)
_NO_MOMENTUM_ARROW = {"lbfgs"}

#: the curvature cross at a ball: arm half-length CROSS_SCALE·span/√|λ|, clamped to [CROSS_MIN, CROSS_MAX]·span
#: (see app.explorer.curvature_panel.cross_arms)
CROSS_SCALE = 0.06
CROSS_MIN = 0.02
CROSS_MAX = 0.12
#: the angle sent for a row whose Hessian was not finite (no cross there): outside [−π, π]
NO_HESSIAN = 10.0

#: the names of a schedule-free run's two points, wherever the page shows them (map, hover, race board, card)
GRADIENT_POINT = "y (gradient point)"
AVERAGED_POINT = "x (averaged, evaluated)"
#: how the map draws them: the run's solid path is y, its thin dashed companion x
TWO_POINTS = f"solid: {GRADIENT_POINT} · dashed: {AVERAGED_POINT}"


@dataclass(frozen=True, eq=False)
class Run:
    """One optimizer's run and its derived series (all of length ``steps + 1``)."""

    entry: OptimizerEntry
    trajectory: Trajectory | None = None
    error: str | None = None
    grad_norm: np.ndarray | None = None
    distance: np.ndarray | None = None  # to the nearest known minimum; None if none is known

    @property
    def ok(self) -> bool:
        return self.trajectory is not None

    @property
    def status_text(self) -> str:
        if self.error:
            return self.error
        t = self.trajectory
        assert t is not None
        if t.status == "completed":
            return f"f = {_sig(float(t.losses[-1]))} after {t.steps} steps"
        return t.message


@dataclass(frozen=True, eq=False)
class Result:
    config: ExplorerConfig
    surface: Surface | None
    runs: tuple[Run, ...] = ()
    error: str | None = None  # the surface could not be built (formula error)


def build_surface(cfg: ExplorerConfig) -> Surface:
    """The configured surface; ValueError (FormulaError for formulas) with a one-line reason.

    A data surface is made of the configuration's edited points when it has them, and keeps the
    catalogue's plotting box (the map, the start and the surface's samples share one box)."""
    name, kwargs = cfg.surface_args()
    if not cfg.is_data:
        return get_surface(name, **kwargs)
    surface = get_surface(name, points=cfg.points, **kwargs)
    return dataclasses.replace(surface, bounds=cfg.bounds)


def compute(cfg: ExplorerConfig) -> Result:
    """Trace every optimizer of ``cfg``; never raises for bad input."""
    try:
        surface = build_surface(cfg)
    except ValueError as exc:
        return Result(cfg, None, (), _one_line(exc))
    mods = cfg.modifiers()
    minima = np.array([(m.x, m.y) for m in surface.minima], dtype=np.float64).reshape(-1, 2)
    runs = []
    for entry in cfg.optimizers:
        try:
            t = trace(surface, entry.config(), cfg.start, cfg.steps, mods)
        except ValueError as exc:
            runs.append(Run(entry, error=_one_line(exc)))
            continue
        gn = np.hypot(t.gradients[:, 0], t.gradients[:, 1])
        dist = None
        if minima.size:
            d = t.positions[:, None, :] - minima[None, :, :]
            dist = np.sqrt((d**2).sum(axis=2)).min(axis=1)
        runs.append(Run(entry, t, None, gn, dist))
    return Result(cfg, surface, tuple(runs))


def end_marker(run: Run, cfg: ExplorerConfig) -> tuple[float, float, str, str] | None:
    """Marker of a run that diverged or stalled: (x, y, message, text position), or None.

    The marker sits where the path last leaves the plotting box (or at its last
    point if that is inside), nudged inside the box, with its label on the inner side.
    """
    t = run.trajectory
    if t is None or t.status not in ("diverged", "stalled"):
        return None
    (x0, x1), (y0, y1) = cfg.bounds
    pos = t.positions
    inside = (pos[:, 0] >= x0) & (pos[:, 0] <= x1) & (pos[:, 1] >= y0) & (pos[:, 1] <= y1)
    if inside[-1]:
        x, y = float(pos[-1, 0]), float(pos[-1, 1])
    else:
        idx = np.nonzero(inside)[0]
        k = int(idx[-1]) if idx.size else 0
        p, q = pos[k], pos[min(k + 1, len(pos) - 1)]
        d = q - p
        frac = 1.0
        for axis, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
            if d[axis] > 0:
                frac = min(frac, (hi - p[axis]) / d[axis])
            elif d[axis] < 0:
                frac = min(frac, (lo - p[axis]) / d[axis])
        frac = max(frac, 0.0)
        x, y = float(p[0] + frac * d[0]), float(p[1] + frac * d[1])
    mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
    x, y = min(max(x, x0 + mx), x1 - mx), min(max(y, y0 + my), y1 - my)
    # label towards the inside of the box
    gaps = {"bottom center": y1 - y, "top center": y - y0, "middle left": x1 - x, "middle right": x - x0}
    gaps = {k: v / (y1 - y0 if "center" in k else x1 - x0) for k, v in gaps.items()}
    where = min(gaps, key=gaps.get)
    return x, y, t.message, where


# --------------------------------------------------------------------------- arrows


def momentum_series(run: Run) -> tuple[np.ndarray, str] | None:
    """The optimizer's momentum-like state as a step direction, and its label; None if it has none."""
    t = run.trajectory
    if t is None or run.entry.name in _NO_MOMENTUM_ARROW:
        return None
    for name, arr in t.state.items():
        if name in _MOMENTUM_STATE:
            sign, label = _MOMENTUM_STATE[name]
            if name == "momentum_buffer" and dict(run.entry.values).get("convention") == "textbook":
                sign, label = 1.0, "v"
            if not np.any(arr):
                return None
            return sign * arr, label
    return None


def next_updates(t: Trajectory) -> np.ndarray:
    """Row k: the step taken from iterate k (θ_{k+1} − θ_k); the last row is zero."""
    u = np.zeros_like(t.updates)
    u[:-1] = t.updates[1:]
    return u


# --------------------------------------------------------------------------- payload


def b64(a: np.ndarray, dtype: str = "<f8") -> str:
    """Little-endian float bytes of ``a`` (float64, or float32 with ``dtype="<f4"``), base64-encoded.

    Non-finite values become 0; float32 keeps 7 digits, enough for values that are
    only displayed (losses, gradient norms, arrow directions), not for positions.
    """
    arr = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if dtype == "<f4":
        arr = np.clip(arr, -3.0e38, 3.0e38)
    return base64.b64encode(np.ascontiguousarray(arr, dtype=dtype).tobytes()).decode("ascii")


def unb64(text: str, dtype: str = "<f8") -> np.ndarray:
    """Inverse of :func:`b64` (for tests)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype).astype(np.float64)


def payload(result: Result, trace_index: dict[str, Any], scale: ZScale | None) -> dict[str, Any]:
    """What the animation engine needs, sent once per change (see ``assets/explorer.js``).

    ``slots`` lists the runs that have a trajectory, each with its colour (the key keeps the
    name the page's script and the benchmarks read); ``index`` is the map's trace layout."""
    cfg = result.config
    (x0, x1), (y0, y1) = cfg.bounds
    span = max(x1 - x0, y1 - y0)
    runs = []
    arrows = None
    for run in result.runs:
        if not run.ok:
            continue
        t = run.trajectory
        assert t is not None
        runs.append(
            {
                "color": run.entry.color,
                "label": run.entry.label(),
                "status": t.status,
                "stop": t.stop_step,
                "message": t.message,
                "end": list(end_marker(run, cfg) or []) or None,
                "len": int(t.positions.shape[0]),
                "x": b64(t.positions[:, 0]),
                "y": b64(t.positions[:, 1]),
                "f": b64(t.losses, "<f4"),
                "g": b64(run.grad_norm, "<f4"),
                **averaged_payload(t),
                **cross_payload(t),
            }
        )
        if run.entry.color == cfg.arrows:
            mom = momentum_series(run)
            u = next_updates(t)
            g = _direction_scale(-t.gradients)
            uu = _direction_scale(u)
            mm = _direction_scale(mom[0]) if mom else None
            arrows = {
                "color": run.entry.color,
                "gx": b64(g[:, 0], "<f4"),
                "gy": b64(g[:, 1], "<f4"),
                "ux": b64(uu[:, 0], "<f4"),
                "uy": b64(uu[:, 1], "<f4"),
                "mx": b64(mm[:, 0], "<f4") if mm is not None else None,
                "my": b64(mm[:, 1], "<f4") if mm is not None else None,
                "mlabel": mom[1] if mom else None,
            }
    return {
        "v": 1,
        "steps": cfg.steps,
        "view": cfg.view,
        "bounds": [[x0, x1], [y0, y1]],
        "start": list(cfg.start),
        "arrowLength": 0.09 * span,
        "cross": cross_constants(span),
        "z": scale.to_dict() if scale is not None else None,
        "index": trace_index,
        "slots": runs,  # the runs, one per colour (the key the page and the benchmarks read)
        "arrows": arrows,
    }


def averaged_payload(t: Trajectory) -> dict[str, Any]:
    """A schedule-free run's averaged point x (float64 positions, float32 losses f(x)), drawn beside its
    iterate y; ``None`` values for every other run."""
    if t.averaged is None or t.averaged_losses is None:
        return {"ax": None, "ay": None, "af": None}
    return {"ax": b64(t.averaged[:, 0]), "ay": b64(t.averaged[:, 1]), "af": b64(t.averaged_losses, "<f4")}


def cross_payload(t: Any) -> dict[str, Any]:
    """Per-run payload of the cross (float32 base64, every step: the cross uses the exact step's values):
    ``lmin``, ``lmax`` and ``ang``, the angle of v_max (v_min is its perpendicular; :data:`NO_HESSIAN` where
    the Hessian was not finite)."""
    if t.lambda_min is None:
        return {"lmin": None, "lmax": None, "ang": None}
    v = t.eigvec_max
    ok = np.any(v != 0, axis=1)
    ang = np.where(ok, np.arctan2(v[:, 1], v[:, 0]), NO_HESSIAN)
    return {"lmin": b64(t.lambda_min, "<f4"), "lmax": b64(t.lambda_max, "<f4"), "ang": b64(ang, "<f4")}


def cross_constants(span: float) -> dict[str, float]:
    """The arm rule's constants in data units, for the browser."""
    return {"c": CROSS_SCALE * span, "lo": CROSS_MIN * span, "hi": CROSS_MAX * span, "none": NO_HESSIAN}


def _direction_scale(v: np.ndarray) -> np.ndarray:
    """Rows rescaled to unit length (zero rows stay zero): arrows show directions, and float32 holds them."""
    n = np.hypot(v[:, 0], v[:, 1])
    with np.errstate(all="ignore"):
        out = np.where((n > 0)[:, None] & np.isfinite(n)[:, None], v / n[:, None], 0.0)
    return out


def warm() -> None:
    """Load (or compile) the Numba kernels once, so the first user does not wait: the default view's, then the
    trace kernel's other variants (Newton's method reads the Hessian; a typed formula runs the interpreter)."""
    from app.explorer.config import DEFAULT
    from optimizers import make_config

    compute(DEFAULT)
    surfaces = [get_surface("beale")]
    try:
        surfaces.append(get_surface("formula:x^2 + y^2"))
    except (ImportError, ValueError):  # the formula module is optional
        pass
    for surface in surfaces:
        for name in ("adam", "newton"):
            trace(surface, make_config(name), (1.0, 1.0), steps=2)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _sig(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}"
