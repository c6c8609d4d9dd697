"""Optimizer update rules as Numba kernels, their registry, and the trajectory runner.

>>> from optimizers import make_config
>>> make_config("adam", lr=0.01).values["beta1"]
0.9
"""

import surfaces._numba_cache  # noqa: F401  (first: keys the Numba cache by source)
from optimizers.modifiers import Modifiers
from optimizers.registry import (
    HyperParam,
    OptimizerConfig,
    OptimizerSpec,
    get_spec,
    make_config,
    optimizer_names,
)
from optimizers.registry import SPECS as OPTIMIZERS
from optimizers.runner import SweepResult, Trajectory, sweep, trace

__all__ = [
    "OPTIMIZERS",
    "HyperParam",
    "Modifiers",
    "OptimizerConfig",
    "OptimizerSpec",
    "SweepResult",
    "Trajectory",
    "get_spec",
    "make_config",
    "optimizer_names",
    "sweep",
    "trace",
]
