"""Numba kernels of the shared modifiers: lr schedules, gradient clipping, noise.

Order inside a step, as in a torch training loop: the gradient gets noise
(mimicking a minibatch), is clipped, then the optimizer steps with the
scheduled learning rate.

The noise generator is SplitMix64 with a Box–Muller transform: tiny,
deterministic across platforms, and easy to reproduce in plain Python (the
tests do), so a seed means the same noise everywhere.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from optimizers._slots import (
    CLIP_MODE,
    CLIP_NORM,
    CLIP_VALUE,
    CLIP_VALUE_MODE,
    NOISE_SIGMA,
    SCHED_A,
    SCHED_B,
    SCHED_C,
    SCHED_COSINE,
    SCHED_COSINE_RESTARTS,
    SCHED_EXPONENTIAL,
    SCHED_KIND,
    SCHED_STEP,
    SCHED_WARMUP,
)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(inline="always", cache=True, error_model="numpy")
def splitmix64(state):
    """Next (output, state) of SplitMix64."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31)), state


@njit(inline="always", cache=True, error_model="numpy")
def normal(state):
    """A standard normal draw (Box–Muller, cosine branch) and the new state."""
    a, state = splitmix64(state)
    b, state = splitmix64(state)
    u1 = (float(a >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    u2 = (float(b >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2), state


@njit(cache=True, error_model="numpy")
def scheduled_lr(base, mods, k):
    """Learning rate for the step after ``k`` completed steps (torch's lr_scheduler rules)."""
    kind = int(mods[SCHED_KIND])
    a = mods[SCHED_A]
    b = mods[SCHED_B]
    if kind == SCHED_STEP:  # StepLR(step_size=a, gamma=b)
        return base * b ** math.floor(k / a)
    if kind == SCHED_EXPONENTIAL:  # ExponentialLR(gamma=a)
        return base * a**k
    if kind == SCHED_COSINE:  # CosineAnnealingLR(T_max=a, eta_min=b)
        return b + (base - b) * (1.0 + math.cos(math.pi * k / a)) * 0.5
    if kind == SCHED_COSINE_RESTARTS:  # CosineAnnealingWarmRestarts(T_0=a, T_mult=c, eta_min=b)
        t_mult = mods[SCHED_C]
        if t_mult == 1.0:
            t_cur = k % a
            t_i = a
        else:
            n = math.floor(math.log(k / a * (t_mult - 1.0) + 1.0) / math.log(t_mult))
            t_cur = k - a * (t_mult**n - 1.0) / (t_mult - 1.0)
            t_i = a * t_mult**n
            # the logarithm can round across an integer at a restart epoch (e.g. T_0=5, T_mult=3, k=605)
            if t_cur >= t_i:
                t_cur -= t_i
                t_i *= t_mult
            elif t_cur < 0.0:
                t_i /= t_mult
                t_cur += t_i
        return b + (base - b) * (1.0 + math.cos(math.pi * t_cur / t_i)) * 0.5
    if kind == SCHED_WARMUP:  # LinearLR(start_factor=a, end_factor=1, total_iters=b)
        frac = min(k, b) / b
        return base * (a + (1.0 - a) * frac)
    return base


@njit(cache=True, error_model="numpy")
def apply_noise_and_clip(mods, g, rng):
    """Add N(0, σ²) noise to ``g`` in place, then clip it; returns the new rng state."""
    sigma = mods[NOISE_SIGMA]
    if sigma > 0.0:
        for i in range(g.size):
            z, rng = normal(rng)
            g[i] += sigma * z
    mode = int(mods[CLIP_MODE])
    c = mods[CLIP_VALUE]
    if mode == CLIP_VALUE_MODE:
        for i in range(g.size):
            if g[i] > c:
                g[i] = c
            elif g[i] < -c:
                g[i] = -c
    elif mode == CLIP_NORM:
        s = 0.0
        for i in range(g.size):
            s += g[i] * g[i]
        coef = c / (math.sqrt(s) + 1e-6)
        if coef < 1.0:
            for i in range(g.size):
                g[i] *= coef
    return rng
