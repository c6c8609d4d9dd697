"""The :class:`Surface` value: a built-in surface with its parameters set, or a compiled formula."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surfaces import _datakernels, _kernels
from surfaces.catalog import Bounds, Minimum

#: the surfaces made of data points (see :mod:`surfaces.data`)
_DATA_SIDS = frozenset((_datakernels.LINREG, _datakernels.LOGREG, _datakernels.TINY_NET))


@dataclass(frozen=True, eq=False)
class Surface:
    """A concrete surface: a built-in with its parameters set, or a compiled formula."""

    name: str
    sid: int
    display_name: str
    description: str
    latex: str
    bounds: Bounds
    starts: tuple[tuple[float, float], ...]
    minima: tuple[Minimum, ...]
    log_contour: bool
    params: dict[str, float] = field(default_factory=dict)
    lesson: str = ""
    formula: str | None = None
    param_vector: np.ndarray = field(default_factory=lambda: np.zeros(0))
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    consts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    points: np.ndarray | None = None  # a data surface's points (see surfaces.data), as given (not centred)

    @property
    def kernel_args(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """(sid, params, code, consts): what every kernel needs to evaluate this surface."""
        return self.sid, self.param_vector, self.code, self.consts

    @property
    def point_args(self) -> tuple[int, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(sid, params, code, consts) for the kernels that evaluate one point at a time (``evaluate*`` and
        the trace kernel): :attr:`kernel_args`, with None for code and consts on an analytic built-in.

        Numba compiles those kernels for None without the formula interpreter and the data loops, so the
        first race on a fresh checkout compiles about 4 s sooner; they compute the same numbers."""
        if self.sid == _kernels.CUSTOM or self.sid in _DATA_SIDS:
            return self.kernel_args
        return self.sid, self.param_vector, None, None

    def jet(self, x: Any, y: Any) -> np.ndarray:
        """Array of shape ``broadcast(x, y).shape + (6,)``: f, fx, fy, fxx, fxy, fyy."""
        return self._batch(x, y, 6, _kernels.evaluate_many)

    def first_order(self, x: Any, y: Any) -> np.ndarray:
        """Array of shape ``broadcast(x, y).shape + (3,)``: f, fx, fy (the jet without its Hessian work)."""
        return self._batch(x, y, 3, _kernels.evaluate_grad_many)

    def _batch(self, x: Any, y: Any, width: int, kernel: Any) -> np.ndarray:
        xb, yb = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        xs = np.ascontiguousarray(xb).ravel()
        ys = np.ascontiguousarray(yb).ravel()
        out = np.empty((xs.size, width))
        with np.errstate(all="ignore"):
            kernel(*self.point_args, xs, ys, out)
        return out.reshape(xb.shape + (width,))

    def batch_jet(self, indices: Any, x: Any, y: Any) -> np.ndarray:
        """The jet (f, fx, fy, fxx, fxy, fyy) of the mean loss over the data points ``indices`` only.

        Shape ``broadcast(x, y).shape + (6,)``; ValueError on a surface without data or an index out
        of range.  Over every point in stored order it equals :meth:`jet` exactly."""
        if self.points is None:
            raise ValueError(f"surface {self.name!r} has no data points")
        idx = np.ascontiguousarray(indices, dtype=np.int64).ravel()
        if idx.size == 0 or idx.min() < 0 or idx.max() >= self.n_points:
            raise ValueError(f"batch indices must be in [0, {self.n_points}) and not empty")
        xb, yb = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        xs = np.ascontiguousarray(xb).ravel()
        ys = np.ascontiguousarray(yb).ravel()
        out = np.empty((xs.size, 6))
        with np.errstate(all="ignore"):
            _datakernels.data_jet_many(self.sid, self.param_vector, idx, xs, ys, True, out)
        return out.reshape(xb.shape + (6,))

    def value(self, x: Any, y: Any) -> Any:
        """f(x, y); a float for scalar input, else an array of the broadcast shape."""
        v = self.first_order(x, y)[..., 0]
        return float(v) if v.ndim == 0 else v

    def gradient(self, x: Any, y: Any) -> np.ndarray:
        """∇f with shape ``broadcast.shape + (2,)``."""
        return self.first_order(x, y)[..., 1:3]

    def hessian(self, x: Any, y: Any) -> np.ndarray:
        """∇²f with shape ``broadcast.shape + (2, 2)``."""
        j = self.jet(x, y)
        h = np.empty(j.shape[:-1] + (2, 2))
        h[..., 0, 0] = j[..., 3]
        h[..., 0, 1] = h[..., 1, 0] = j[..., 4]
        h[..., 1, 1] = j[..., 5]
        return h

    def grid(self, n: int = 200, bounds: Bounds | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Axis vectors and the n×n value grid over ``bounds`` (rows are y)."""
        (x0, x1), (y0, y1) = bounds or self.bounds
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y0, y1, n)
        z = self.value(xs[None, :], ys[:, None])
        return xs, ys, z

    @property
    def n_points(self) -> int:
        """Number of data points (0 for a surface that is not made of data)."""
        return 0 if self.points is None else int(self.points.shape[0])

    @property
    def span(self) -> float:
        """The larger side of the plotting box."""
        (x0, x1), (y0, y1) = self.bounds
        return max(x1 - x0, y1 - y0)

    def nearest_minimum(self, x: float, y: float) -> tuple[int, float]:
        """Index of and distance to the nearest known minimum; (-1, inf) if none is known."""
        if not self.minima:
            return -1, float("inf")
        d = [float(np.hypot(m.x - x, m.y - y)) for m in self.minima]
        k = int(np.argmin(d))
        return k, d[k]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON description (no arrays)."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "latex": self.latex,
            "formula": self.formula,
            "params": dict(self.params),
            "bounds": [list(self.bounds[0]), list(self.bounds[1])],
            "starts": [list(s) for s in self.starts],
            "minima": [{"x": m.x, "y": m.y, "value": m.value, "kind": m.kind} for m in self.minima],
            "log_contour": self.log_contour,
            **({"points": self.points.tolist()} if self.points is not None else {}),
        }
