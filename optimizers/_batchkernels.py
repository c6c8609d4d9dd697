"""Minibatches of a data surface: which points step t's gradient is the mean over.

Sampling is without replacement: an epoch is a permutation of the n points cut into
consecutive batches of B (the last one smaller when B does not divide n, as a data loader
with ``drop_last=False`` does), and every epoch is a fresh permutation.  The permutation of
epoch e is a function of (seed, e) alone — Fisher–Yates driven by SplitMix64 from a state
derived from both — so every optimizer of a race, every sweep job and the Python side see
the same batch sequence for one seed.  Step t (1-based) uses batch (t − 1) mod ⌈n/B⌉ of
epoch ⌊(t − 1) / ⌈n/B⌉⌋.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from optimizers._modkernels import splitmix64

_EPOCH_MIX = np.uint64(0xD1B54A32D192ED03)


@njit(inline="always", cache=True, error_model="numpy")
def batches_per_epoch(n, bsz):
    return (n + bsz - 1) // bsz


@njit(cache=True, error_model="numpy", nogil=True)
def epoch_order(perm, seed, epoch):
    """Fill ``perm`` (length n) with epoch ``epoch``'s order of the points 0..n−1."""
    n = perm.size
    for i in range(n):
        perm[i] = i
    state = np.uint64(seed) ^ (np.uint64(epoch + 1) * _EPOCH_MIX)
    for i in range(n - 1, 0, -1):
        r, state = splitmix64(state)
        j = int((r >> np.uint64(11)) * (1.0 / 9007199254740992.0) * (i + 1))
        if j > i:  # cannot happen for a 53-bit fraction below 1; kept as a bound
            j = i
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp


@njit(inline="always", cache=True, error_model="numpy")
def batch_bounds(t, n, bsz):
    """(position in the epoch, lo, hi, epoch) of step ``t``'s batch: the points perm[lo:hi]."""
    nb = batches_per_epoch(n, bsz)
    k = t - 1
    j = k % nb
    lo = j * bsz
    hi = min(lo + bsz, n)
    return j, lo, hi, k // nb
