"""The pieces an ``Autoencoder`` is made of: parameter blocks, initialisations, batch norm, activations, skips.

``autoencoder.model`` re-exports every public name here, so ``from autoencoder.model import Block`` keeps
working; this module only keeps the model's file a readable size.

Skip connections (``SKIPS``): each is a learned linear map, initialised to zero (so a new model computes
exactly what the same model without it computes), added to a layer's pre-activation.

* ``"shallow"``: x S (d × d), from the input to the output layer: the path around everything.
* ``"deep"``: a_i D (w × w), from the activation a_i of encoder hidden layer i to the pre-activation of
  decoder hidden layer j, the innermost pair around the bottleneck whose widths mirror, w = hidden[i] =
  hidden[j] (see ``deep_skip_pair``).  Layer j then computes z_j = a_{j−1} W_j + a_i D and, with batch
  norm, normalises that sum (the skip is added before batch norm, like the weights' product); without
  batch norm it adds its bias as usual.
* ``"both"``: the two together; ``"none"``: neither.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
SKIPS = ("none", "shallow", "deep", "both")
INITS = ("xavier", "xavier_uniform", "he", "naive")
#: standard deviation of the lecture's "small random values" initialisation
NAIVE_STD = 0.01

INIT_DESCRIPTIONS = {
    "xavier": "Xavier: W ~ N(0, 1/n_in), keeps the signal's variance through linear layers",
    "xavier_uniform": "Glorot & Bengio: W ~ U(−a, a), a = √(6/(n_in + n_out)), so Var W = 2/(n_in + n_out)",
    "he": "He (MSRA): W ~ N(0, 2/n_in), compensates ReLU zeroing half of its inputs",
    "naive": f"small random values: W ~ N(0, {NAIVE_STD}²), the signal shrinks layer by layer",
}


def init_variance(init: str, n_in: int, n_out: int) -> float:
    """The variance each initialisation gives a weight (the formulas the lecture derives)."""
    if init == "xavier":
        return 1.0 / n_in
    if init == "xavier_uniform":
        return 2.0 / (n_in + n_out)
    if init == "he":
        return 2.0 / n_in
    if init == "naive":
        return NAIVE_STD**2
    raise ValueError(f"unknown init {init!r} (known: {', '.join(INITS)})")


def parse_skip(value: Any) -> str:
    """One of ``SKIPS`` from a name or, for older callers and saved models, a bool (True → "shallow", False → "none").

    Anything else is refused with a one-line reason.
    """
    if isinstance(value, (bool, np.bool_)):
        return "shallow" if value else "none"
    if isinstance(value, str):
        name = value.strip().lower()
        if name in SKIPS:
            return name
    raise ValueError(f"skip must be one of {', '.join(SKIPS)} (or a bool: True = shallow), got {value!r}")


def deep_skip_pair(hidden: Sequence[int]) -> tuple[int, int]:
    """The hidden layers (i, j) a deep skip joins: from layer i's activation to layer j's pre-activation.

    The rule: k is the bottleneck (the first narrowest hidden layer); (i, j) = (k − s, k + s) for the
    smallest s ≥ 1 with both layers present and hidden[k − s] == hidden[k + s] (the innermost mirrored
    pair around the bottleneck).  For (32, 8, 32) that is (0, 2); for (64, 32, 8, 32, 64) it is (1, 3).
    Raises ValueError naming the hidden sizes when there is no such pair (one hidden layer, a bottleneck
    at either end, or widths that never mirror).
    """
    hidden = tuple(int(h) for h in hidden)
    k = int(np.argmin(hidden)) if hidden else 0
    for s in range(1, min(k, len(hidden) - 1 - k) + 1):
        if hidden[k - s] == hidden[k + s]:
            return k - s, k + s
    raise ValueError(
        f"a deep skip joins two hidden layers of equal width at the same distance either side of the bottleneck "
        f"(the narrowest layer, {hidden[k]} wide); hidden sizes {hidden} have no such pair"
    )


@dataclass(frozen=True)
class Block:
    """One parameter array inside the flat vector."""

    name: str  # e.g. "W0", "b0", "gamma1", "beta1", "skip" (the shallow skip S), "skip_deep" (the deep skip D)
    kind: str  # weight | bias | gamma | beta | skip
    layer: int  # dense layer index (a skip belongs to the layer whose pre-activation it feeds)
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
