"""A dense autoencoder in numpy whose parameters live in one flat float64 vector.

Layers (rows of a batch are samples, ``u = a W + b``)::

    x ─ W0,b0 ─ act ─ W1,b1 ─ act ─ … ─ W_L,b_L ─ output activation ─ x̂
    ╰────────── + x S (shallow skip) ───────────╯

    (32, 8, 32):  x ─ W0 ─ a0 ─ W1 ─ a1 ─ W2 ─ a2 ─ W3 ─ x̂
                            ╰ + a0 D (deep skip) ╯

* ``hidden`` gives the hidden widths, e.g. (32, 8, 32); the output has the
  input's width.  Each hidden layer has its own activation (linear, relu,
  sigmoid, tanh); the output layer has ``output_activation``.
* Batch norm (optional, hidden layers only) normalises the pre-activation with
  the minibatch mean and (biased) variance in training mode and with running
  averages in evaluation mode, then applies a learned per-feature scale γ and
  shift β (Ioffe & Szegedy 2015).  A layer followed by batch norm has no bias
  (β takes its place; a bias there would get a zero gradient).  The running
  averages follow torch.nn.BatchNorm1d: r ← (1 − m)·r + m·batch, the variance
  averaged unbiased, m = 0.1 by default.  They are not parameters: they live in
  a ``BatchNormState`` that the caller owns and updates.
* Skip connections (``skip``, one of ``SKIPS``; see ``autoencoder.layers``):
  "shallow" adds a learned linear map of the input, x S (d × d, initialised to
  zero), to the output layer's pre-activation: a path around everything.
  "deep" adds a_i D (zero-initialised, its own block "skip_deep") from encoder
  hidden layer i's activation to the pre-activation (before batch norm) of the
  mirrored decoder layer j, the innermost equal-width pair around the
  bottleneck (``deep_skip_pair``; hidden[0] → hidden[2] for (32, 8, 32)).
  "both" has the two, "none" neither.  A bool still works: True is "shallow".
* Losses: mean squared error over all pixels, or binary cross-entropy (which
  needs a sigmoid output; computed from the logits for stability).

Every W, b, γ, β, S and D is a view into the flat vector, so the optimizer kernels
step the vector unchanged.  ``loss_and_grad`` computes the loss and the exact
gradient by a hand-written backward pass; ``dtype=np.float32`` runs the
matrix products in single precision (the vector and the gradient stay float64).

>>> import numpy as np
>>> m = Autoencoder(64, hidden=(8,))
>>> m.n_params
1096
>>> theta = m.init_params("xavier", seed=0)
>>> x = np.random.default_rng(0).random((5, 64))
>>> f, g, _ = m.loss_and_grad(theta, x)
>>> g.shape == theta.shape
True
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoencoder.backprop import loss_and_grad, numerical_gradient
from autoencoder.layers import (
    ACTIVATIONS,
    INIT_DESCRIPTIONS,
    INITS,
    NAIVE_STD,
    SKIPS,
    BatchNormState,
    Block,
    activate,
    deep_skip_pair,
    init_variance,
    parse_skip,
)

__all__ = ["ACTIVATIONS", "INITS", "INIT_DESCRIPTIONS", "LOSSES", "MAX_PARAMS", "NAIVE_STD", "SKIPS", "Autoencoder",
           "BatchNormState", "Block", "ModelSpec", "deep_skip_pair", "init_variance", "numerical_gradient",
           "parse_hidden", "parse_skip"]  # fmt: skip

LOSSES = ("mse", "bce")
#: the most parameters a model may have
MAX_PARAMS = 5_000_000
MAX_LAYERS = 16
MAX_WIDTH = 100_000


def _check_name(value: str, allowed: Sequence[str], what: str) -> str:
    v = str(value).strip().lower()
    if v not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return v


class Autoencoder:
    """Architecture, parameter layout, forward and backward passes (stateless; see module doc)."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int] = (32, 8, 32),
        activation: str | Sequence[str] = "relu",
        output_activation: str = "sigmoid",
        loss: str = "mse",
        batch_norm: bool = False,
        skip: str | bool = "none",
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
    ) -> None:
        if isinstance(n_in, bool) or int(n_in) != n_in or not 1 <= int(n_in) <= MAX_WIDTH:
            raise ValueError(f"the input width must be a whole number in [1, {MAX_WIDTH}], got {n_in!r}")
        hidden = tuple(hidden)
        if not 1 <= len(hidden) <= MAX_LAYERS:
            raise ValueError(f"give 1 to {MAX_LAYERS} hidden layer sizes, got {len(hidden)}")
        for h in hidden:
            if isinstance(h, bool) or int(h) != h or not 1 <= int(h) <= MAX_WIDTH:
                raise ValueError(f"hidden layer sizes must be whole numbers in [1, {MAX_WIDTH}], got {h!r}")
        self.n_in = int(n_in)
        self.hidden = tuple(int(h) for h in hidden)
        if isinstance(activation, str):
            acts = (activation,) * len(self.hidden)
        else:
            acts = tuple(activation)
            if len(acts) != len(self.hidden):
                raise ValueError(f"give one activation per hidden layer ({len(self.hidden)}), got {len(acts)}")
        self.activations = tuple(_check_name(a, ACTIVATIONS, "activation") for a in acts)
        self.output_activation = _check_name(output_activation, ACTIVATIONS, "output activation")
        self.loss_name = _check_name(loss, LOSSES, "loss")
        if self.loss_name == "bce" and self.output_activation != "sigmoid":
            raise ValueError("binary cross-entropy needs outputs in (0, 1): use output activation sigmoid")
        self.batch_norm = bool(batch_norm)
        self.skip = parse_skip(skip)
        #: hidden layers (i, j) the deep skip joins, from i's activation to j's pre-activation (None: no deep skip)
        self.deep_skip_pair: tuple[int, int] | None = deep_skip_pair(self.hidden) if self.has_deep_skip else None
        if not (0.0 < bn_momentum <= 1.0):
            raise ValueError(f"batch-norm momentum must be in (0, 1], got {bn_momentum!r}")
        if not (bn_eps > 0.0 and math.isfinite(bn_eps)):
            raise ValueError(f"batch-norm eps must be positive, got {bn_eps!r}")
        self.bn_momentum = float(bn_momentum)
        self.bn_eps = float(bn_eps)
        self.sizes = (self.n_in, *self.hidden, self.n_in)
        self.n_layers = len(self.sizes) - 1
        count = sum(self.sizes[i] * self.sizes[i + 1] for i in range(self.n_layers)) + self.n_in
        count += sum(self.hidden) * (2 if self.batch_norm else 1) + (self.n_in**2 if self.has_shallow_skip else 0)
        if self.deep_skip_pair is not None:
            count += self.hidden[self.deep_skip_pair[0]] * self.hidden[self.deep_skip_pair[1]]
        if count > MAX_PARAMS:
            raise ValueError(f"the model would have {count:,} parameters; the limit is {MAX_PARAMS:,}")
        self.blocks: list[Block] = []
        off = 0

        def add(name: str, kind: str, layer: int, shape: tuple[int, ...]) -> None:
            nonlocal off
            b = Block(name, kind, layer, off, shape)
            self.blocks.append(b)
            off = b.stop

        self._layer_blocks: list[dict[str, Block]] = []
        for l in range(self.n_layers):
            n0, n1 = self.sizes[l], self.sizes[l + 1]
            add(f"W{l}", "weight", l, (n0, n1))
            if self.has_bn(l):
                add(f"gamma{l}", "gamma", l, (n1,))
                add(f"beta{l}", "beta", l, (n1,))
            else:
                add(f"b{l}", "bias", l, (n1,))
            self._layer_blocks.append({b.kind: b for b in self.blocks if b.layer == l})
        # the skips come after every layer's blocks (the shallow one first), so a model without them has the
        # same layout as the layers of one with them, and a shallow model's vector is what it always was
        self.skip_block: Block | None = None  # S, the shallow skip
        self.deep_skip_block: Block | None = None  # D, the deep skip
        if self.has_shallow_skip:
            add("skip", "skip", self.n_layers - 1, (self.n_in, self.n_in))
            self.skip_block = self.blocks[-1]
        if self.deep_skip_pair is not None:
            i, j = self.deep_skip_pair
            add("skip_deep", "skip", j, (self.hidden[i], self.hidden[j]))
            self.deep_skip_block = self.blocks[-1]
        self.n_params = off
        assert self.n_params == count
        self._local = threading.local()  # per-thread scratch vectors (see _workspace)

    def __getstate__(self) -> dict[str, Any]:  # picklable (background jobs, caches): drop the scratch vectors
        state = self.__dict__.copy()
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ---------------------------------------------------------------- description
    @property
    def has_shallow_skip(self) -> bool:
        """Whether x S feeds the output layer (skip "shallow" or "both")."""
        return self.skip in ("shallow", "both")

    @property
    def has_deep_skip(self) -> bool:
        """Whether a_i D feeds decoder layer j (skip "deep" or "both"; see ``deep_skip_pair``)."""
        return self.skip in ("deep", "both")

    def has_bn(self, layer: int) -> bool:
        """Whether dense layer ``layer`` is followed by batch norm (hidden layers only)."""
        return self.batch_norm and layer < self.n_layers - 1

    @property
    def bn_layers(self) -> list[int]:
        return [l for l in range(self.n_layers) if self.has_bn(l)]

    def layer_activation(self, layer: int) -> str:
        return self.output_activation if layer == self.n_layers - 1 else self.activations[layer]

    @property
    def bottleneck(self) -> int:
        """Index of the narrowest hidden layer (the code)."""
        return int(np.argmin(self.hidden))

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_in": self.n_in,
            "hidden": list(self.hidden),
            "activation": list(self.activations),
            "output_activation": self.output_activation,
            "loss": self.loss_name,
            "batch_norm": self.batch_norm,
            "skip": self.skip,
            "bn_momentum": self.bn_momentum,
            "bn_eps": self.bn_eps,
            "n_params": self.n_params,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Autoencoder:
        """The model ``to_dict`` describes; a dict saved when ``skip`` was a bool reads as "shallow" / "none"."""
        return cls(
            int(d["n_in"]), tuple(d.get("hidden", (32, 8, 32))), d.get("activation", "relu"),
            d.get("output_activation", "sigmoid"), d.get("loss", "mse"), bool(d.get("batch_norm", False)),
            d.get("skip", "none"), float(d.get("bn_momentum", 0.1)), float(d.get("bn_eps", 1e-5)),
        )  # fmt: skip

    def describe(self) -> str:
        parts = [str(self.n_in)]
        for l, h in enumerate(self.hidden):
            parts.append(f"{h}{' bn' if self.has_bn(l) else ''} {self.activations[l]}")
        parts.append(f"{self.n_in} {self.output_activation}")
        extra = " + shallow skip" if self.has_shallow_skip else ""
        if self.deep_skip_pair is not None:
            extra += " + deep skip (hidden {} → {})".format(*self.deep_skip_pair)
        return " → ".join(parts) + extra + f" ({self.n_params:,} parameters, {self.loss_name})"

    # ---------------------------------------------------------------- parameters
    def views(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """name → view into ``theta`` for every block."""
        self._check_theta(theta)
        return {b.name: b.view(theta) for b in self.blocks}

    def _check_theta(self, theta: np.ndarray) -> None:
        if theta.ndim != 1 or theta.shape[0] != self.n_params:
            raise ValueError(f"expected a parameter vector of length {self.n_params}, got shape {theta.shape}")

    def init_params(self, init: str = "xavier", seed: int = 0) -> np.ndarray:
        """A new flat parameter vector: weights from ``init``, biases and β zero, γ one, skips zero."""
        init = _check_name(init, INITS, "init")
        rng = np.random.default_rng(seed)
        theta = np.zeros(self.n_params)
        for b in self.blocks:
            v = b.view(theta)
            if b.kind == "weight":
                n0, n1 = b.shape
                var = init_variance(init, n0, n1)
                if init == "xavier_uniform":
                    a = math.sqrt(3.0 * var)
                    v[...] = rng.uniform(-a, a, size=b.shape)
                else:
                    v[...] = rng.standard_normal(b.shape) * math.sqrt(var)
            elif b.kind == "gamma":
                v[...] = 1.0
        return theta

    def new_bn_state(self) -> BatchNormState:
        return BatchNormState(
            [np.zeros(self.sizes[l + 1]) for l in self.bn_layers],
            [np.ones(self.sizes[l + 1]) for l in self.bn_layers],
            self.bn_momentum,
        )

    # ---------------------------------------------------------------- passes
    def _workspace(self, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """This thread's (parameter, gradient) scratch vectors of ``dtype``, reused between calls."""
        bufs = getattr(self._local, "bufs", None)
        if bufs is None:
            bufs = self._local.bufs = {}
        key = np.dtype(dtype).str
        if key not in bufs:
            bufs[key] = (np.empty(self.n_params, dtype=dtype), np.empty(self.n_params, dtype=dtype))
        return bufs[key]

    def _params(
        self, theta: np.ndarray, dtype: Any
    ) -> tuple[list[dict[str, np.ndarray]], np.ndarray | None, np.ndarray | None]:
        """Per-layer parameter views of ``dtype`` (views of theta for float64, else of one cast copy), S and D.

        S (the shallow skip) and D (the deep skip) are None when the model does not have them.
        """
        if np.dtype(dtype) == theta.dtype:
            src = theta
        else:
            src = self._workspace(dtype)[0]
            np.copyto(src, theta, casting="same_kind")
        layers = [{k: b.view(src) for k, b in blocks.items()} for blocks in self._layer_blocks]
        shallow = self.skip_block.view(src) if self.skip_block is not None else None
        deep = self.deep_skip_block.view(src) if self.deep_skip_block is not None else None
        return layers, shallow, deep

    def forward(
        self,
        theta: np.ndarray,
        x: np.ndarray,
        *,
        train: bool = False,
        bn_state: BatchNormState | None = None,
        dtype: Any = np.float64,
        logits: bool = False,
    ) -> np.ndarray:
        """Reconstruction of ``x`` (n × d).  Evaluation mode (the default) uses ``bn_state``'s running averages.

        Training mode normalises with the batch's own statistics (and does not
        touch ``bn_state``).  ``logits=True`` returns the output layer's
        pre-activation instead.
        """
        self._check_theta(theta)
        dtype = np.dtype(dtype).type
        x = self._check_x(x, dtype)
        if self.batch_norm and not train and bn_state is None:
            raise ValueError("evaluation mode with batch norm needs the running statistics (bn_state)")
        ps, skip, deep = self._params(theta, dtype)
        deep_from, deep_to = self.deep_skip_pair or (-1, -1)
        a = a_deep = x
        bn_k = 0
        L = self.n_layers
        for l in range(L):
            p = ps[l]
            u = a @ p["weight"]
            if l == deep_to:  # the deep skip joins the pre-activation before batch norm
                u += a_deep @ deep
            if self.has_bn(l):
                if train:
                    mu = u.mean(axis=0)
                    var = u.var(axis=0)
                else:
                    mu = bn_state.mean[bn_k].astype(dtype, copy=False)
                    var = bn_state.var[bn_k].astype(dtype, copy=False)
                bn_k += 1
                u -= mu
                u *= p["gamma"] / np.sqrt(var + dtype(self.bn_eps))
                u += p["beta"]
            else:
                u += p["bias"]
            if l == L - 1:
                if skip is not None:
                    u += x @ skip
                if logits:
                    return u
            a = activate(self.layer_activation(l), u)
            if l == deep_from:
                a_deep = a
        return a

    def _check_x(self, x: np.ndarray, dtype: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"expected inputs of shape (n, {self.n_in}), got {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("empty batch")
        return x.astype(dtype, copy=False)

    def _loss_from_output(self, u: np.ndarray, y: np.ndarray, t: np.ndarray) -> float:
        n = y.size
        if self.loss_name == "bce":
            # mean of softplus(u) − t·u, which is −t log σ(u) − (1 − t) log(1 − σ(u))
            return float(np.sum(np.logaddexp(0.0, u) - t * u, dtype=np.float64) / n)
        d = (y - t).reshape(-1)
        return float(np.dot(d, d)) / n

    def loss(
        self,
        theta: np.ndarray,
        x: np.ndarray,
        target: np.ndarray | None = None,
        *,
        train: bool = False,
        bn_state: BatchNormState | None = None,
        dtype: Any = np.float64,
        chunk: int = 8192,
    ) -> float:
        """Mean loss of reconstructing ``target`` (default: ``x``) from ``x``.

        Evaluation mode is processed in chunks of ``chunk`` rows (bounded memory).
        """
        t_all = x if target is None else target
        if train and self.batch_norm:
            chunk = max(len(x), 1)
        total = 0.0
        n = len(x)
        for s in range(0, n, chunk):
            xs = x[s : s + chunk]
            t = self._check_x(t_all[s : s + chunk], dtype)
            u = self.forward(theta, xs, train=train, bn_state=bn_state, dtype=dtype, logits=True)
            y = u if self.loss_name == "bce" else activate(self.output_activation, u)
            total += self._loss_from_output(u, y, t) * len(xs)
        return total / n

    def reconstruct(
        self, theta: np.ndarray, x: np.ndarray, bn_state: BatchNormState | None = None, *, clip: bool = True
    ) -> np.ndarray:
        """Evaluation-mode reconstruction, clipped to the pixel range [0, 1] by default."""
        y = self.forward(theta, x, train=False, bn_state=bn_state)
        return np.clip(y, 0.0, 1.0) if clip else y

    def loss_and_grad(
        self,
        theta: np.ndarray,
        x: np.ndarray,
        target: np.ndarray | None = None,
        *,
        out: np.ndarray | None = None,
        dtype: Any = np.float64,
        scale: float = 1.0,
        accumulate: bool = False,
    ) -> tuple[float, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Training-mode loss, its gradient, and the batch statistics of every batch-norm layer.

        The gradient goes into ``out`` (float64, length n_params) when given;
        ``scale`` multiplies it, and ``accumulate`` adds to ``out`` instead of
        overwriting it (used to sum a full batch in chunks).  The statistics
        are (mean, unbiased variance) per batch-norm layer, ready for
        ``BatchNormState.update``; the caller decides whether to fold them in.
        """
        return loss_and_grad(self, theta, x, target, out=out, dtype=dtype, scale=scale, accumulate=accumulate)

    # ---------------------------------------------------------------- linear analysis
    def decoder_matrix(self, theta: np.ndarray) -> np.ndarray:
        """For an all-linear model: the d × k map from the code to the output (product of the decoder's weights).

        Its column space is the subspace the reconstructions live in (shifted by
        the bias); for a trained linear autoencoder it is the PCA subspace.
        """
        if any(a != "linear" for a in self.activations) or self.output_activation != "linear" or self.batch_norm:
            raise ValueError("the decoder is a single matrix only for a linear model without batch norm")
        if self.skip != "none":
            raise ValueError("a model with a skip connection has no bottleneck to analyse")
        v = self.views(theta)
        m = np.eye(self.hidden[self.bottleneck])
        for l in range(self.bottleneck + 1, self.n_layers):
            m = m @ v[f"W{l}"]
        return m.T


@dataclass
class ModelSpec:
    """The user-facing description of a model (what a form or the CLI collects)."""

    hidden: tuple[int, ...] = (32, 8, 32)
    activation: str | tuple[str, ...] = "relu"
    output_activation: str = "sigmoid"
    loss: str = "mse"
    init: str = "xavier"
    batch_norm: bool = False
    skip: str | bool = "none"  # one of SKIPS; a bool is read as before (True: "shallow") and stored as its name
    bn_momentum: float = 0.1
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.skip = parse_skip(self.skip)

    def build(self, n_in: int) -> Autoencoder:
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        return Autoencoder(
            n_in, self.hidden, self.activation, self.output_activation, self.loss, self.batch_norm, self.skip,
            self.bn_momentum,
        )  # fmt: skip


def parse_hidden(text: str) -> tuple[int, ...]:
    """'32,8,32' → (32, 8, 32), with a one-line reason for bad input."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError(f"hidden sizes must be comma-separated whole numbers, e.g. 32,8,32; got {text!r}")
    out = []
    for p in parts:
        try:
            v = int(p)
        except ValueError:
            raise ValueError(
                f"hidden sizes must be comma-separated whole numbers, e.g. 32,8,32; got {text!r}"
            ) from None
        if not 1 <= v <= MAX_WIDTH:
            raise ValueError(f"hidden layer sizes must be in [1, {MAX_WIDTH}], got {v}")
        out.append(v)
    return tuple(out)
