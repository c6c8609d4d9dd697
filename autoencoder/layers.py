"""The pieces an ``Autoencoder`` is made of: parameter blocks, batch-norm statistics, activations.

``autoencoder.model`` re-exports every public name here, so ``from autoencoder.model import Block`` keeps
working; this module only keeps the model's file a readable size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


@dataclass(frozen=True)
class Block:
    """One parameter array inside the flat vector."""

    name: str  # e.g. "W0", "b0", "gamma1", "beta1", "skip"
    kind: str  # weight | bias | gamma | beta | skip
    layer: int  # dense layer index (the skip belongs to the output layer)
    offset: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        return self.offset + self.size

    def view(self, theta: np.ndarray) -> np.ndarray:
        return theta[self.offset : self.stop].reshape(self.shape)


@dataclass
class BatchNormState:
    """Running mean and variance of every batch-norm layer (not trained by the optimizer)."""

    mean: list[np.ndarray]
    var: list[np.ndarray]
    momentum: float = 0.1
    updates: int = 0

    def update(self, stats: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """Fold one training batch's (mean, unbiased variance) per layer into the running averages."""
        m = self.momentum
        for k, (mu, var) in enumerate(stats):
            self.mean[k] *= 1.0 - m
            self.mean[k] += m * mu
            self.var[k] *= 1.0 - m
            self.var[k] += m * var
        if stats:
            self.updates += 1

    def copy(self) -> BatchNormState:
        return BatchNormState([a.copy() for a in self.mean], [a.copy() for a in self.var], self.momentum, self.updates)

    def assign(self, other: BatchNormState) -> None:
        for k in range(len(self.mean)):
            self.mean[k][...] = other.mean[k]
            self.var[k][...] = other.var[k]
        self.updates = other.updates

    def to_dict(self) -> dict[str, Any]:
        return {"mean": [a.tolist() for a in self.mean], "var": [a.tolist() for a in self.var],
                "momentum": self.momentum}  # fmt: skip


def activate(name: str, u: np.ndarray) -> np.ndarray:
    """Activation of ``u`` (a new array; u is left alone)."""
    if name == "relu":
        return np.maximum(u, 0.0)
    if name == "sigmoid":
        out = np.tanh(0.5 * u)  # σ(u) = (1 + tanh(u/2))/2: no overflow for large |u|
        out *= 0.5
        out += 0.5
        return out
    if name == "tanh":
        return np.tanh(u)
    return u.copy()


def activation_grad_inplace(name: str, da: np.ndarray, u: np.ndarray, a: np.ndarray) -> np.ndarray:
    """da ⊙ act'(u), written into da (given u and a = act(u))."""
    if name == "relu":
        da *= u > 0.0
    elif name == "sigmoid":
        da *= a * (1.0 - a)
    elif name == "tanh":
        da *= 1.0 - a * a
    return da
