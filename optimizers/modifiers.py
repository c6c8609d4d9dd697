"""Modifiers shared by every first-order optimizer: schedule, clipping, noise, minibatches.

``Modifiers`` is the validated, user-facing description; ``vector()`` packs it
for the kernels (see ``_modkernels`` for the rules themselves).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from optimizers import _slots as slots

SCHEDULES: dict[str, int] = {
    "constant": slots.SCHED_CONSTANT,
    "step": slots.SCHED_STEP,
    "exponential": slots.SCHED_EXPONENTIAL,
    "cosine": slots.SCHED_COSINE,
    "cosine_restarts": slots.SCHED_COSINE_RESTARTS,
    "warmup": slots.SCHED_WARMUP,
}
CLIP_MODES: dict[str, int] = {"none": slots.CLIP_NONE, "value": slots.CLIP_VALUE_MODE, "norm": slots.CLIP_NORM}

#: schedule name → its parameters (name, default, low, high, description), as torch.optim.lr_scheduler names them
SCHEDULE_PARAMS: dict[str, tuple[tuple[str, float, float, float, str], ...]] = {
    "constant": (),
    "step": (("step_size", 100, 1, 1e6, "steps between decays"), ("gamma", 0.5, 0.0, 1.0, "decay factor")),
    "exponential": (("gamma", 0.99, 0.0, 1.0, "decay factor per step"),),
    "cosine": (("T_max", 500, 1, 1e6, "steps of one half cosine"), ("eta_min", 0.0, 0.0, 1e6, "final learning rate")),
    "cosine_restarts": (
        ("T_0", 100, 1, 1e6, "steps until the first restart"),
        ("eta_min", 0.0, 0.0, 1e6, "lowest learning rate"),
        ("T_mult", 1, 1, 10, "period growth factor after each restart"),
    ),
    "warmup": (
        ("start_factor", 0.1, 1e-6, 1.0, "fraction of η at step 0"),
        ("total_iters", 50, 1, 1e6, "steps of linear warm-up"),
    ),
}

MAX_SEED = 2**53
MAX_BATCH = 4096  # the most points a data surface has (surfaces.data.MAX_POINTS)


@dataclass(frozen=True)
class Modifiers:
    """Gradient noise σ (seeded), clipping, a learning-rate schedule, and the minibatch size.

    ``batch_size`` B matters on data surfaces only: each step's gradient is the mean over B points
    sampled without replacement and reshuffled every epoch from ``seed`` (see
    ``optimizers._batchkernels``); 0, or B ≥ n, is the full batch."""

    noise: float = 0.0
    seed: int = 0
    clip: str = "none"
    clip_value: float = 1.0
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, float], ...] = ()
    batch_size: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.noise) and 0.0 <= self.noise <= 1e6):
            raise ValueError(f"noise must be in [0, 1e6], got {self.noise!r}")
        if int(self.seed) != self.seed or not 0 <= self.seed < MAX_SEED:
            raise ValueError(f"seed must be a whole number in [0, 2^53), got {self.seed!r}")
        if self.clip not in CLIP_MODES:
            raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {self.clip!r}")
        if not (math.isfinite(self.clip_value) and self.clip_value > 0.0):
            raise ValueError(f"clip_value must be a positive number, got {self.clip_value!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        b = self.batch_size
        if isinstance(b, bool) or not isinstance(b, (int, float)) or int(b) != b or not 0 <= b <= MAX_BATCH:
            raise ValueError(f"batch_size must be a whole number in [0, {MAX_BATCH}] (0: the full batch), got {b!r}")
        allowed = {p[0]: p for p in SCHEDULE_PARAMS[self.schedule]}
        for key, value in self.schedule_params:
            if key not in allowed:
                names = ", ".join(allowed) or "none"
                raise ValueError(f"schedule '{self.schedule}' has no parameter {key!r} (parameters: {names})")
            _, _, lo, hi, _ = allowed[key]
            if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
                raise ValueError(f"{self.schedule}.{key} must be in [{lo:g}, {hi:g}], got {value!r}")

    @property
    def active(self) -> bool:
        return self.noise > 0 or self.clip != "none" or self.schedule != "constant" or self.batch_size > 0

    def schedule_values(self) -> dict[str, float]:
        """Schedule parameters with defaults filled in."""
        given = dict(self.schedule_params)
        return {name: float(given.get(name, default)) for name, default, *_ in SCHEDULE_PARAMS[self.schedule]}

    def vector(self) -> np.ndarray:
        """The kernels' modifier vector."""
        v = np.zeros(slots.N_MODS)
        v[slots.NOISE_SIGMA] = self.noise
        v[slots.SEED] = float(self.seed)
        v[slots.CLIP_MODE] = CLIP_MODES[self.clip]
        v[slots.CLIP_VALUE] = self.clip_value
        v[slots.SCHED_KIND] = SCHEDULES[self.schedule]
        v[slots.BATCH_SIZE] = float(self.batch_size)
        vals = list(self.schedule_values().values())
        for k, slot in enumerate((slots.SCHED_A, slots.SCHED_B, slots.SCHED_C)):
            if k < len(vals):
                v[slot] = vals[k]
        return v

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schedule_params"] = self.schedule_values()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Modifiers:
        params = d.get("schedule_params") or {}
        return cls(
            noise=float(d.get("noise", 0.0)),
            seed=int(d.get("seed", 0)),
            clip=str(d.get("clip", "none")),
            clip_value=float(d.get("clip_value", 1.0)),
            schedule=str(d.get("schedule", "constant")),
            schedule_params=tuple((str(k), float(v)) for k, v in dict(params).items()),
            batch_size=int(d.get("batch_size", 0)),
        )


NO_MODIFIERS = Modifiers()
