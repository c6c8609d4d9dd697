"""Analytic loss surfaces with exact gradients and Hessians.

>>> s = get_surface("rosenbrock", b=100)
>>> s.value(1.0, 1.0)
0.0

A :class:`Surface` bundles the metadata a UI needs (bounds, minima, starts,
LaTeX) with the arguments the optimizer kernels take (``kernel_args``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import surfaces._numba_cache  # noqa: F401  (first: keys the Numba cache by source)
from surfaces.catalog import BY_NAME, DATA_SURFACES, SPECS, Bounds, Minimum, SurfaceParam, SurfaceSpec
from surfaces.surface import Surface

__all__ = [
    "Bounds",
    "Minimum",
    "Surface",
    "SurfaceParam",
    "SurfaceSpec",
    "get_surface",
    "list_surfaces",
    "surface_names",
]


def surface_names() -> list[str]:
    """Names of the built-in surfaces, in catalogue order."""
    return [s.name for s in SPECS]


def list_surfaces() -> list[SurfaceSpec]:
    """The built-in surface specifications, in catalogue order."""
    return list(SPECS)


def resolve_params(spec: SurfaceSpec, overrides: dict[str, Any] | None = None) -> dict[str, float]:
    """Defaults merged with ``overrides``; unknown names and out-of-range values raise ValueError."""
    overrides = dict(overrides or {})
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise ValueError(f"surface '{spec.name}' has no parameter {unknown[0]!r} (parameters: {allowed})")
    out: dict[str, float] = {}
    for p in spec.params:
        raw = overrides.get(p.name, p.default)
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{spec.name}.{p.name} must be a number, got {raw!r}") from None
        if not np.isfinite(v) or not p.low <= v <= p.high:
            raise ValueError(f"{spec.name}.{p.name} must be in [{p.low:g}, {p.high:g}], got {raw!r}")
        if p.integer and v != int(v):
            raise ValueError(f"{spec.name}.{p.name} must be a whole number, got {raw!r}")
        out[p.name] = v
    return out


def get_surface(name: str, points: Any = None, **params: Any) -> Surface:
    """The built-in surface ``name`` with ``params`` set (validated), or a typed formula.

    A name starting with ``formula:`` is parsed as a user formula (see ``surfaces.formula``).
    A data surface (``linreg``, ``logreg``, ``tiny_net``) is drawn from its parameters, or made of
    ``points`` when given (rows as :func:`surfaces.data.check_points` takes them).
    """
    if name.startswith("formula:"):
        from surfaces.formula import surface_from_formula

        return surface_from_formula(name[len("formula:") :], **params)
    spec = BY_NAME.get(name)
    if spec is None:
        raise ValueError(f"unknown surface {name!r} (known: {', '.join(surface_names())})")
    values = resolve_params(spec, params)
    if spec.name in DATA_SURFACES:
        from surfaces.data_surface import make_data_surface

        return make_data_surface(spec, values, points)
    if points is not None:
        raise ValueError(f"surface '{spec.name}' is not made of data points")
    return Surface(
        name=spec.name,
        sid=spec.sid,
        display_name=spec.display_name,
        description=spec.description,
        latex=spec.latex,
        bounds=spec.bounds,
        starts=spec.starts,
        minima=tuple(spec.minima(values)),
        log_contour=spec.log_contour,
        params=values,
        lesson=spec.lesson,
        param_vector=np.array([values[p.name] for p in spec.params], dtype=np.float64),
    )
