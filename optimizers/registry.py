"""What each optimizer is, for people and for the kernels.

Every optimizer has a name, a display name, its hyperparameters (default,
valid range, slider range, log scale or not, symbol), its update rule in
LaTeX, and notes on the convention it follows.  ``make_config`` validates user
values at the boundary and packs them into the kernels' hyperparameter vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizers._slots import HP_NESTEROV, N_HP, NESTEROV
from optimizers.catalog import SPECS
from optimizers.spec import HyperParam, OptimizerSpec

__all__ = ["BY_NAME", "SPECS", "HyperParam", "OptimizerConfig", "OptimizerSpec", "get_spec", "make_config",
           "optimizer_names"]


BY_NAME: dict[str, OptimizerSpec] = {s.name: s for s in SPECS}


def optimizer_names() -> list[str]:
    return [s.name for s in SPECS]


def get_spec(name: str) -> OptimizerSpec:
    spec = BY_NAME.get(name)
    if spec is None:
        raise ValueError(f"unknown optimizer {name!r} (known: {', '.join(optimizer_names())})")
    return spec


@dataclass(frozen=True, eq=False)
class OptimizerConfig:
    """A validated optimizer configuration and its kernel vector."""

    spec: OptimizerSpec
    values: dict[str, Any]
    vector: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def label(self) -> str:
        """Short human label listing the values that differ from the defaults."""
        changed = [f"{k}={_fmt(v)}" for k, v in self.values.items() if v != self.spec.param(k).default_value()]
        return self.spec.display_name + (f" ({', '.join(changed)})" if changed else "")

    def state_rows(self) -> list[tuple[str, int]]:
        """(name, row) of the state rows worth showing, with L-BFGS's direction row resolved."""
        out = []
        for name, row in self.spec.state_names:
            if row < 0:
                row = 2 * int(self.values["history"])
            out.append((name, row))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "hyperparameters": dict(self.values), "convention": self.spec.convention}


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _check_combination(spec: OptimizerSpec, vals: dict[str, Any]) -> None:
    """Rules that involve more than one hyperparameter (torch's constructor checks)."""
    if spec.name == "sgd" and vals["nesterov"] and (vals["momentum"] <= 0 or vals["dampening"] != 0):
        raise ValueError("nesterov requires momentum > 0 and dampening = 0")
    if spec.name in ("momentum", "nesterov") and vals["convention"] == "textbook" and vals.get("dampening", 0) != 0:
        raise ValueError("dampening applies to the torch convention only")
    if spec.name == "rprop" and vals["step_min"] > vals["step_max"]:
        raise ValueError("step_min must not exceed step_max")
    if spec.name == "delta_bar_delta" and vals["gain_min"] > vals["gain_max"]:
        raise ValueError("gain_min must not exceed gain_max")
    if spec.name in ("cg", "lbfgs") and not vals["c1"] < vals["c2"]:
        raise ValueError("the line search needs c1 < c2")


def make_config(name: str, **overrides: Any) -> OptimizerConfig:
    """Validate ``overrides`` against optimizer ``name`` and pack the kernel vector.

    Raises ValueError naming the first bad key or value.
    """
    spec = get_spec(name)
    known = set(spec.keys())
    for key in overrides:
        if key not in known:
            raise ValueError(f"optimizer '{name}' has no hyperparameter {key!r} (has: {', '.join(spec.keys())})")
    vec = np.zeros(N_HP)
    values: dict[str, Any] = {}
    for p in spec.params:
        raw = overrides.get(p.key, p.default_value())
        v = p.coerce(raw)
        vec[p.slot] = v
        if p.kind == "bool":
            values[p.key] = bool(v)
        elif p.kind == "choice":
            values[p.key] = p.choices[int(v)]
        elif p.kind == "int":
            values[p.key] = int(v)
        else:
            values[p.key] = v
    if spec.oid == NESTEROV:
        vec[HP_NESTEROV] = 1.0
    _check_combination(spec, values)
    return OptimizerConfig(spec=spec, values=values, vector=vec)
