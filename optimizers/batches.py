"""The minibatch sequence of a run on a data surface, for the pages, exports and tests.

The kernels draw the batches themselves (``optimizers._batchkernels``); these functions
call the same compiled code, so the Python side names exactly the points each step used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizers._batchkernels import epoch_order
from optimizers.modifiers import Modifiers

#: the most epochs' orders :func:`schedule` lists (a longer run repeats no work: it is cut here)
MAX_EPOCHS_LISTED = 4096


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """Epoch ``epoch``'s order of the points 0..n−1 for ``seed``."""
    perm = np.empty(int(n), dtype=np.int64)
    epoch_order(perm, np.uint64(int(seed)), int(epoch))
    return perm


def effective_batch_size(n_points: int, batch_size: int) -> int:
    """B when steps use minibatches of B of ``n_points`` points (0 < B < n), else 0: the full batch."""
    return int(batch_size) if 0 < int(batch_size) < int(n_points) else 0


def regime(n_points: int, batch_size: int) -> str:
    """The seeds' names: "online" (B = 1), "mini-batch" (1 < B < n), "full batch"."""
    b = effective_batch_size(n_points, batch_size)
    return "full batch" if b == 0 else "online" if b == 1 else "mini-batch"


def step_indices(n: int, batch_size: int, seed: int, t: int) -> np.ndarray:
    """The points step ``t`` (1-based) took its gradient over."""
    b = effective_batch_size(n, batch_size)
    if b == 0:
        return np.arange(int(n), dtype=np.int64)
    per = -(-int(n) // b)
    j, epoch = (t - 1) % per, (t - 1) // per
    return epoch_permutation(n, seed, epoch)[j * b : min((j + 1) * b, int(n))]


@dataclass(frozen=True)
class BatchSchedule:
    """Which points every step of a run used: step t's batch is ``orders[e][lo:hi]`` with
    e, lo, hi from :meth:`bounds`.  ``orders`` has one row per epoch the run reached."""

    n: int
    batch_size: int
    seed: int
    orders: np.ndarray  # (epochs, n) int64

    @property
    def per_epoch(self) -> int:
        return -(-self.n // self.batch_size)

    def bounds(self, t: int) -> tuple[int, int, int]:
        """(epoch, lo, hi) of step t (1-based)."""
        j, epoch = (t - 1) % self.per_epoch, (t - 1) // self.per_epoch
        return epoch, j * self.batch_size, min((j + 1) * self.batch_size, self.n)

    def indices(self, t: int) -> np.ndarray:
        epoch, lo, hi = self.bounds(t)
        return self.orders[epoch, lo:hi]

    def epoch_starts(self, steps: int) -> list[int]:
        """The steps that begin an epoch (1, 1 + ⌈n/B⌉, …) up to ``steps``."""
        return list(range(1, int(steps) + 1, self.per_epoch))

    def to_dict(self) -> dict[str, object]:
        return {"n": self.n, "batch_size": self.batch_size, "seed": self.seed, "per_epoch": self.per_epoch,
                "orders": self.orders.tolist()}  # fmt: skip


def schedule(n_points: int, modifiers: Modifiers, steps: int) -> BatchSchedule | None:
    """The batch sequence of a ``steps``-step run with ``modifiers`` on ``n_points`` points; None on the full batch."""
    b = effective_batch_size(n_points, modifiers.batch_size)
    if b == 0 or steps < 1:
        return None
    per = -(-int(n_points) // b)
    epochs = min(-(-int(steps) // per), MAX_EPOCHS_LISTED)
    orders = np.stack([epoch_permutation(n_points, modifiers.seed, e) for e in range(epochs)])
    return BatchSchedule(int(n_points), b, int(modifiers.seed), orders)
