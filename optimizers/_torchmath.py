"""torch's CPU arithmetic, one operation at a time, for the kernels that follow torch.optim.

Algebraically equal update rules round differently, and the dynamics of an
optimizer on a curved surface can amplify a one-ulp difference to the percent
level within a few hundred steps (centred RMSProp divides by the square root of
a difference that cancels to its last bits).  The kernels therefore repeat the
floating-point operations of torch.optim's single-tensor path in torch's order,
with three primitives plain Python arithmetic does not spell:

* ``fma(a, b, c)``: a·b + c rounded once.  torch's CPU kernels for
  ``add(other, alpha=)``, ``addcmul`` and ``lerp`` are compiled with fused
  multiply-adds in the AVX2 and AVX-512 builds (the ones x86-64 machines of the
  last decade run): ``x.add(y, alpha=a)`` is fma(a, y, x) and
  ``x.addcmul(t1, t2, value=v)`` is fma(v·t1, t2, x).  (``addcdiv`` stays
  x + (v·t1)/t2; torch's baseline, non-AVX build fuses nothing.)
* ``lerp(start, end, w)``: torch's ``lerp`` for a scalar weight,
  start + w·(end − start) when |w| < 0.5, else end − (end − start)·(1 − w), each
  fused.
* ``pypow(x, y)``: x ** y as Python computes it for floats (libm's pow).  torch
  computes its scalar factors (β₁ᵗ, ``bias_correction2 ** 0.5``) in Python;
  LLVM would replace a pow with exponent 0.5 by a square root, which rounds
  differently from libm's pow in about one case in a thousand.

One more helper computes a division the way IEEE division rounds it, without the divider:

* ``divide_by(a, b, inv_b)``: a / b, correctly rounded, from ``inv_b = 1 / b``
  (itself a correctly rounded division, done once for many quotients by the
  same b).  The divider is the slowest unit of a step, and the lock-step sweep
  divides every coordinate by a per-step scalar (Adam's bias correction).
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from surfaces._jet import is_float32, like


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c with a single rounding (LLVM's llvm.fma: the FMA instruction, or libm's fma).

    In float32 when all three are float32 (a float32 sweep), in float64 otherwise.
    """
    single = all(is_float32(t) for t in (a, b, c))
    kind = types.float32 if single else types.float64
    sig = kind(kind, kind, kind)

    def codegen(context, builder, signature, args):
        d = ir.FloatType() if single else ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def pypow(typingctx, x, y):
    """libm's pow(x, y), called as such: marked ``nobuiltin`` so LLVM does not rewrite pow(x, 0.5) as sqrt(x)."""
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d]), "pow")
        fn.attributes.add("nobuiltin")
        return builder.call(fn, args)

    return sig, codegen


@njit(inline="always", cache=True, error_model="numpy")
def lerp(start, end, weight):
    """torch.lerp(start, end, weight) for a scalar weight, fused as torch's CPU kernel is."""
    diff = end - start
    if abs(weight) < 0.5:
        return fma(weight, diff, start)
    return fma(-diff, like(weight, 1.0) - weight, end)


@njit(inline="always", cache=True, error_model="numpy")
def divide_by(a, b, inv_b):
    """``a / b`` rounded to nearest as IEEE division rounds it, for a finite ``b > 0`` with ``inv_b = 1 / b``.

    A product and four fused multiply-adds instead of a division (the divider is the slowest unit of
    the CPU, and ``inv_b`` serves every quotient by the same ``b``).  The rule, in the working
    precision p (53 bits, or 24 in a float32 block), each step rounded once:

    1. ``q0 = a·inv_b``: within 1.5 ulp of a/b.
    2. ``q1 = q0 + (a − q0·b)·inv_b``: the residual carries q0's error, and what is left after
       the correction is below 2⁻ᵖ⁺² ulp, so q1 is a faithful rounding of a/b (one of the two
       floats around it).
    3. ``q2 = q1 + (a − q1·b)·inv_b``: Markstein's theorem (P. Markstein, IBM J. Res. Dev. 34(1),
       1990; verified in ACL2 by Russinoff): when |1 − b·y| < 2⁻ᵖ and q is a faithful rounding of
       a/b, the residual a − b·q is exact and q + (a − b·q)·y rounded is a/b rounded.  The
       correctly rounded reciprocal ``inv_b`` meets the first condition (its error is at most half
       an ulp, below 2⁻ᵖ relative), step 2 the second.

    The theorem asks that no step underflows or overflows, which holds for the operands the sweep
    passes: a is the square root of a finite second moment (0, or at least 2⁻⁵³⁷; 2⁻⁷⁴ in float32,
    so the residuals, about a·2⁻ᵖ, stay normal) and b = √(1 − β₂ᵗ) with 0 ≤ β₂ < 1, in
    [2⁻²⁷, 1], so the quotient stays below 2⁵⁴⁰ (2⁹¹ in float32).  a = ±0, ±inf or NaN is returned
    as a / b returns it (the residual of −0 would come out +0, that of an infinity NaN).
    """
    q = a * inv_b
    q = fma(fma(-q, b, a), inv_b, q)
    q = fma(fma(-q, b, a), inv_b, q)
    if not (0.0 < abs(a) < math.inf):
        q = a * inv_b
    return q
