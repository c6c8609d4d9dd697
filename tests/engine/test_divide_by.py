"""``divide_by``: a division by a per-step scalar without the divider, and still the division's bits.

The lock-step sweep divides every coordinate by Adam's √(1 − β₂ᵗ) this way, and its promise (each job
equals its single run, which divides) rests on ``divide_by`` rounding exactly as IEEE division does.
The inputs below are the ones that break weaker schemes: quotients a hair away from the midpoint
between two floats, divisors whose reciprocal rounds worst (all-ones significands), and every float32
significand for a set of divisors.
"""

import math

import numpy as np
import pytest
from numba import njit

from optimizers._torchmath import divide_by


@njit(cache=True)
def _divide_all(a, b, inv_b):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = divide_by(a[i], b, inv_b)
    return out


def _quotients(a, b):
    """``divide_by`` over ``a`` for one divisor, in ``a``'s precision, with ``b``'s reciprocal divided once."""
    b = a.dtype.type(b)
    return _divide_all(a, b, a.dtype.type(1.0) / b)


def _bits(x):
    return x.view(np.int64 if x.dtype == np.float64 else np.int32)


def _adam_divisors(dtype):
    """√(1 − β₂ᵗ) as the sweep forms it, for the β₂ a user can set and steps from 1 to 10⁴."""
    betas = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 - 2.0**-53]
    steps = [1, 2, 3, 10, 97, 1000, 10_000]
    return sorted({dtype(math.pow(1.0 - math.pow(b2, t), 0.5)) for b2 in betas for t in steps} - {dtype(0.0)})


def _hard_divisors(dtype):
    """Divisors in (0, 1] whose reciprocals round worst, and a few ordinary ones."""
    p = 53 if dtype == np.float64 else 24
    ones = dtype(1.0 - 2.0**-p)  # all-ones significand: 1/b rounds almost half an ulp away
    odd = [dtype(1.0 - 2.0 ** (1 - p)), dtype(0.5 + 2.0**-p), dtype(0.75), dtype(2.0**-26.5)]
    return [ones, *odd, dtype(0.1), dtype(1.0)]


def _near_midpoints(rng, b, dtype, n):
    """Dividends whose quotient by ``b`` lies next to a rounding midpoint: a = (q + ½ ulp(q)) · b, rounded."""
    q = (rng.random(n) + 1.0).astype(dtype) * dtype(2.0) ** rng.integers(-40, 40, n).astype(dtype)
    half_ulp = (np.nextafter(q, dtype(np.inf)) - q) / dtype(2.0)
    # the product in the working precision lands within an ulp of a·b, so a/b is within ~1 ulp(q)·2⁻ᵖ of q + ½ ulp
    return ((q + half_ulp) * b).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_quotients_are_the_divisions_bits_near_midpoints_and_across_the_range(dtype):
    rng = np.random.default_rng(7)
    wrong_by_the_reciprocal = 0
    count = 0
    for b in _adam_divisors(dtype) + _hard_divisors(dtype):
        hard = _near_midpoints(rng, b, dtype, 20_000)
        spread = (rng.random(20_000) + 0.5).astype(dtype) * dtype(2.0) ** rng.integers(-60, 60, 20_000).astype(dtype)
        a = np.concatenate([hard, spread])
        exact = a / b
        got = _quotients(a, b)
        mismatch = np.flatnonzero(_bits(got) != _bits(exact))
        some = mismatch[:3]
        assert mismatch.size == 0, f"b={b!r}: a={a[some]!r} gives {got[some]!r}, not {exact[some]!r}"
        wrong_by_the_reciprocal += int(np.sum(a * (dtype(1.0) / b) != exact))
        count += a.size
    # the inputs are hard: a product by the rounded reciprocal alone misses many of them
    assert wrong_by_the_reciprocal > count // 20


@pytest.mark.parametrize("b", [np.float32(v) for v in (1.0 - 2.0**-24, 0.9999995, 0.7071068, 2.0**-26.5)])
def test_every_float32_significand_is_divided_exactly(b):
    a = (np.arange(2**23, dtype=np.int32) + np.int32(0x3F800000)).view(np.float32)  # every float in [1, 2)
    got = _quotients(a, b)
    assert np.array_equal(_bits(got), _bits(a / b))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zeros_infinities_and_nan_come_out_as_the_division_gives_them(dtype):
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0**-537 if dtype == np.float64 else 2.0**-74], dtype=dtype)
    b = dtype(0.3)
    got = _quotients(a, b)
    exact = a / b
    assert np.array_equal(got[:4], exact[:4]) and np.array_equal(np.signbit(got[:2]), np.signbit(exact[:2]))
    assert np.isnan(got[4])
    assert np.array_equal(_bits(got[5:]), _bits(exact[5:]))
