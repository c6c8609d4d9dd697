"""Slow, readable reference implementations of every optimizer and modifier.

Each class is written from the published rule, not from the Numba kernels:

* SGD (momentum, dampening, Nesterov, weight decay), Adagrad, RMSprop,
  Adadelta, Adam/AMSGrad, AdamW, NAdam, Adamax, RAdam and Rprop follow the
  single-tensor code of torch.optim 2.13 (``foreach=False``), operation for
  operation (see "Arithmetic" below);
* Lion follows Chen et al. 2023, "Symbolic Discovery of Optimization
  Algorithms", Algorithm 2 (with decoupled weight decay), in lion-pytorch's
  order of operations;
* textbook momentum is Goodfellow et al. §8.3.2 (v ← αv − εg; θ ← θ + v) and
  textbook Nesterov is Sutskever et al. 2013 (gradient at θ + αv);
* the local-gains rule (delta-bar-delta) is the registry's documented rule;
* schedule-free SGD and AdamW follow the schedulefree package 1.4.1
  (Defazio et al. 2024), its single-tensor path in train mode, in the same
  operations as torch's;
* SAM follows Foret et al. 2021, "Sharpness-Aware Minimization for
  Efficiently Improving Generalization", Algorithm 1, with the SGD or Adam
  classes above as its base;
* damped Newton solves (H + λI) d = g by Gaussian elimination with partial
  pivoting, written plainly (see ``solve``);
* nonlinear CG (PR+/FR) and L-BFGS follow Nocedal & Wright (§5.2, (3.59),
  Algorithm 7.4) with the weak-Wolfe bisection line search the project
  documents, written plainly below.

Arithmetic.  An optimizer on a curved surface can amplify a one-ulp difference
to the percent level within a few hundred steps (centred RMSProp divides by
the square root of a difference that cancels to its last bits), so the torch
rules are written in torch's floating-point operations, not only its algebra:
``x.add(y, alpha=a)`` is ``fma(a, y, x)`` and ``x.addcmul(t1, t2, value=v)`` is
``fma(v·t1, t2, x)`` (torch's AVX2/AVX-512 CPU kernels fuse them),
``x.addcdiv(t1, t2, value=v)`` is ``x + (v·t1)/t2``, ``lerp`` is torch's
two-branch formula (see ``lerp``), and scalar factors such as β₁ᵗ and
``bias_correction2 ** 0.5`` are Python float powers, as in torch.  Kernel and
reference then agree to the last bit or nearly.

Every optimizer object has ``step(theta, oracle, lr) -> (theta, eff, status)``
where ``oracle`` provides ``grad(x)`` (the gradient a first-order method sees:
noise and clipping applied), ``fg(x)`` (exact loss and gradient, for the
line-search methods) and ``hess(x)`` (Newton).  ``status`` is ``"ok"`` or
``"stalled"``; ``eff`` is the per-coordinate effective learning rate as the
project defines it.  ``state`` returns the optimizer buffers under torch's
state names.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """aᵀb as a plain left-to-right sum.

    Written out rather than np.dot (BLAS may fuse multiply-adds and reorder): nonlinear
    CG's direction recursion amplifies a one-ulp difference several-fold per iteration,
    so a free-running comparison of hundreds of iterations needs the textbook sum.
    """
    s = 0.0
    for x, y in zip(a.tolist(), b.tolist()):
        s += x * y
    return s


def norm1(a: np.ndarray) -> float:
    s = 0.0
    for x in a.tolist():
        s += abs(x)
    return s


def _fma1(a: float, b: float, c: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    try:
        return float(Fraction(a) * Fraction(b) + Fraction(c))  # exact, then one correctly rounded conversion
    except OverflowError:
        return math.copysign(math.inf, a * b + c)


def fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """a·b + c rounded once (IEEE 754 fusedMultiplyAdd), elementwise with broadcasting.

    The exact value is formed in rationals and rounded to the nearest double once.
    """
    aa, bb, cc = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                     np.asarray(c, dtype=np.float64))  # fmt: skip
    out = [_fma1(x, y, z) for x, y, z in zip(aa.ravel().tolist(), bb.ravel().tolist(), cc.ravel().tolist())]
    return np.array(out, dtype=np.float64).reshape(aa.shape)


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch.lerp, scalar weight: start + w·(end − start) if |w| < 0.5, else end − (end − start)·(1 − w).

    torch's CPU kernel computes the branch chosen by |w| (the second form is exact at w = 1), each
    product-and-sum fused.
    """
    diff = end - start
    if abs(weight) < 0.5:
        return fma(weight, diff, start)
    return fma(-diff, 1.0 - weight, end)


# --------------------------------------------------------------------------------------
# Modifiers: noise (SplitMix64 + Box–Muller), clipping, learning-rate schedules
# --------------------------------------------------------------------------------------

MASK64 = (1 << 64) - 1


class SplitMix64:
    """Sebastiano Vigna's SplitMix64, on Python integers."""

    def __init__(self, seed: int) -> None:
        self.state = int(seed) & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """A uniform number in (0, 1): the top 53 bits, centred in their cell."""
        return ((self.next() >> 11) + 0.5) / 2.0**53

    def normal(self) -> float:
        """Box–Muller, cosine branch: z = √(−2 ln u₁) cos(2π u₂)."""
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def clip_by_value(g: np.ndarray, c: float) -> np.ndarray:
    """torch.nn.utils.clip_grad_value_: every coordinate clamped to [−c, c]."""
    return np.clip(g, -c, c)


def clip_by_norm(g: np.ndarray, max_norm: float) -> np.ndarray:
    """torch.nn.utils.clip_grad_norm_: g · min(1, max_norm / (‖g‖₂ + 1e-6))."""
    total = math.sqrt(dot(g, g))
    coef = max_norm / (total + 1e-6)
    return g * min(coef, 1.0)


def schedule_lr(base: float, schedule: str, params: dict[str, float], epoch: int) -> float:
    """torch.optim.lr_scheduler's closed forms: the lr after ``epoch`` scheduler steps."""
    if schedule == "constant":
        return base
    if schedule == "step":  # StepLR: η·γ^⌊epoch/step_size⌋
        return base * params["gamma"] ** math.floor(epoch / params["step_size"])
    if schedule == "exponential":  # ExponentialLR: η·γ^epoch
        return base * params["gamma"] ** epoch
    if schedule == "cosine":  # CosineAnnealingLR: η_min + (η − η_min)(1 + cos(π T_cur/T_max))/2
        eta_min = params["eta_min"]
        return eta_min + (base - eta_min) * (1.0 + math.cos(math.pi * epoch / params["T_max"])) / 2.0
    if schedule == "cosine_restarts":
        # CosineAnnealingWarmRestarts: T_cur counts epochs since the last restart; the period
        # T_i starts at T_0 and is multiplied by T_mult at every restart.
        t_cur, t_i = float(epoch), float(params["T_0"])
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= params["T_mult"]
        eta_min = params["eta_min"]
        return eta_min + (base - eta_min) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0
    if schedule == "warmup":  # LinearLR(start_factor, end_factor=1, total_iters)
        a, total = params["start_factor"], params["total_iters"]
        return base * (a + (1.0 - a) * min(total, epoch) / total)
    raise ValueError(schedule)


class Oracle:
    """Loss, gradient and Hessian of a problem, and the gradient as a first-order method sees it.

    ``fg(x) -> (f, g)`` is exact.  ``grad(x)`` adds N(0, σ²) noise (one draw per
    coordinate, in order) and then clips, as one training step would.
    """

    def __init__(
        self,
        fg: Callable[[np.ndarray], tuple[float, np.ndarray]],
        hess: Callable[[np.ndarray], np.ndarray] | None = None,
        noise: float = 0.0,
        seed: int = 0,
        clip: str = "none",
        clip_value: float = 1.0,
    ) -> None:
        self._fg = fg
        self._hess = hess
        self.noise = noise
        self.rng = SplitMix64(seed)
        self.clip = clip
        self.clip_value = clip_value

    def fg(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = self._fg(np.array(x, dtype=np.float64))
        return float(f), np.array(g, dtype=np.float64)

    def hess(self, x: np.ndarray) -> np.ndarray:
        assert self._hess is not None
        return np.array(self._hess(np.array(x, dtype=np.float64)), dtype=np.float64)

    def grad(self, x: np.ndarray) -> np.ndarray:
        g = self.fg(x)[1]
        if self.noise > 0.0:
            g = g + self.noise * np.array([self.rng.normal() for _ in range(g.size)])
        if self.clip == "value":
            g = clip_by_value(g, self.clip_value)
        elif self.clip == "norm":
            g = clip_by_norm(g, self.clip_value)
        return g


# --------------------------------------------------------------------------------------
# First-order methods
# --------------------------------------------------------------------------------------


class SGD:
    """torch.optim.SGD.

    g ← ∇f(θ) + λθ;  b ← g (first step) or μb + (1−τ)g;  g ← g + μb (nesterov) or b;  θ ← θ − γg.
    """

    def __init__(self, n: int, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, **_: Any) -> None:  # fmt: skip
        self.mu, self.tau, self.nesterov, self.wd = momentum, dampening, nesterov, weight_decay
        self.buf: np.ndarray | None = None

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)  # grad.add(param, alpha=weight_decay)
        if self.mu != 0.0:
            if self.buf is None:
                self.buf = g.copy()
            else:
                # buf.mul_(momentum).add_(grad, alpha=1-dampening)
                self.buf = fma(1.0 - self.tau, g, self.buf * self.mu)
            g = fma(self.mu, self.buf, g) if self.nesterov else self.buf  # grad.add(buf, alpha=momentum)
        return fma(-lr, g, theta), np.full(theta.size, lr), "ok"  # param.add_(grad, alpha=-lr)

    @property
    def state(self):
        return {"momentum_buffer": self.buf}


class TextbookMomentum:
    """Goodfellow et al. §8.3.2: v ← αv − ε∇f(θ); θ ← θ + v (L2 decay added to the gradient)."""

    def __init__(self, n: int, momentum: float = 0.9, weight_decay: float = 0.0, **_: Any) -> None:
        self.alpha, self.wd = momentum, weight_decay
        self.v = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta) + self.wd * theta
        self.v = self.alpha * self.v - lr * g
        return theta + self.v, np.full(theta.size, lr), "ok"

    @property
    def state(self):
        return {"momentum_buffer": self.v}


class TextbookNesterov:
    """Sutskever et al. 2013: θ̃ ← θ + αv; v ← αv − ε∇f(θ̃); θ ← θ + v."""

    def __init__(self, n: int, momentum: float = 0.9, weight_decay: float = 0.0, **_: Any) -> None:
        self.alpha, self.wd = momentum, weight_decay
        self.v = np.zeros(n)

    def step(self, theta, oracle, lr):
        ahead = theta + self.alpha * self.v
        g = oracle.grad(ahead) + self.wd * ahead
        self.v = self.alpha * self.v - lr * g
        return theta + self.v, np.full(theta.size, lr), "ok"

    @property
    def state(self):
        return {"momentum_buffer": self.v}


class Adagrad:
    """torch.optim.Adagrad: γ̃ = γ/(1+(t−1)η_decay); s ← s + g²; θ ← θ − γ̃ g/(√s + ε)."""

    def __init__(self, n: int, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, **_: Any) -> None:  # fmt: skip
        self.lr_decay, self.wd, self.eps = lr_decay, weight_decay, eps
        self.sum = np.full(n, float(initial_accumulator_value))
        self.t = 0

    def step(self, theta, oracle, lr):
        self.t += 1
        g = oracle.grad(theta)
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)
        clr = lr / (1 + (self.t - 1) * self.lr_decay)
        self.sum = fma(g, g, self.sum)  # state_sum.addcmul_(grad, grad, value=1)
        std = np.sqrt(self.sum) + self.eps
        return theta + (-clr * g) / std, clr / std, "ok"  # param.addcdiv_(grad, std, value=-clr)

    @property
    def state(self):
        return {"sum": self.sum}


class RMSprop:
    """torch.optim.RMSprop (alpha is the registry's rho), with centered and momentum variants.

    v ← αv + (1−α)g²;  centred: ḡ ← lerp(ḡ, g, 1−α), v̄ = v − ḡ²;  d = √v̄ + ε;
    momentum: b ← μb + g/d, θ ← θ − γb;  else θ ← θ − γg/d.
    """

    def __init__(self, n: int, rho: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, **_: Any) -> None:  # fmt: skip
        self.alpha, self.eps, self.wd, self.mu, self.centered = rho, eps, weight_decay, momentum, centered
        self.v = np.zeros(n)
        self.g_ave = np.zeros(n)
        self.b = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)
        a = self.alpha
        self.v = fma((1 - a) * g, g, self.v * a)  # square_avg.mul_(alpha).addcmul_(grad, grad, value=1-alpha)
        if self.centered:
            self.g_ave = lerp(self.g_ave, g, 1 - a)  # grad_avg.lerp_(grad, 1-alpha)
            avg = np.sqrt(fma(-1.0 * self.g_ave, self.g_ave, self.v))  # square_avg.addcmul(ḡ, ḡ, value=-1).sqrt_()
        else:
            avg = np.sqrt(self.v)
        denom = avg + self.eps
        if self.mu > 0.0:
            self.b = self.b * self.mu + g / denom  # buf.mul_(momentum).addcdiv_(grad, avg)
            new = fma(-lr, self.b, theta)
        else:
            new = theta + (-lr * g) / denom
        return new, lr / denom, "ok"

    @property
    def state(self):
        return {"square_avg": self.v, "momentum_buffer": self.b, "grad_avg": self.g_ave}


class Adadelta:
    """torch.optim.Adadelta: Δ = √(u+ε)/√(v+ε)·g with ε inside both roots; θ ← θ − γΔ."""

    def __init__(self, n: int, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0, **_: Any) -> None:
        self.rho, self.eps, self.wd = rho, eps, weight_decay
        self.v = np.zeros(n)
        self.u = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)
        r = self.rho
        self.v = fma((1 - r) * g, g, self.v * r)
        std = np.sqrt(self.v + self.eps)
        ratio = np.sqrt(self.u + self.eps) / std  # delta = acc_delta.add(eps).sqrt_(); delta.div_(std).mul_(grad)
        delta = ratio * g
        self.u = fma((1 - r) * delta, delta, self.u * r)
        return fma(-lr, delta, theta), lr * ratio, "ok"

    @property
    def state(self):
        return {"square_avg": self.v, "acc_delta": self.u}


class Adam:
    """torch.optim.Adam / AdamW.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  with amsgrad v_max ← max(v_max, v) replaces v below;
    θ ← θ − γ/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + ε), or without the bias correction θ ← θ − γ · m/(√v + ε).
    Adam adds λθ to g; AdamW first sets θ ← θ(1 − γλ).
    """

    def __init__(self, n: int, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, decoupled: bool = False,
                 no_bias_correction: bool = False, **_: Any) -> None:  # fmt: skip
        self.b1, self.b2, self.eps, self.wd, self.amsgrad, self.decoupled = (
            beta1, beta2, eps, weight_decay, amsgrad, decoupled)  # fmt: skip
        self.corrected = not no_bias_correction
        self.m = np.zeros(n)
        self.v = np.zeros(n)
        self.v_max = np.zeros(n)
        self.t = 0

    def step(self, theta, oracle, lr):
        self.t += 1
        step = float(self.t)
        g = oracle.grad(theta)
        if self.wd != 0.0:
            if self.decoupled:
                theta = theta * (1 - lr * self.wd)  # param.mul_(1 - lr * weight_decay)
            else:
                g = fma(self.wd, theta, g)
        self.m = lerp(self.m, g, 1 - self.b1)  # exp_avg.lerp_(grad, 1 - beta1)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
        self.v = fma((1 - self.b2) * g, g, self.v * self.b2)
        if self.amsgrad:
            self.v_max = np.maximum(self.v_max, self.v)
            v = self.v_max
        else:
            v = self.v
        if self.corrected:
            step_size = lr / (1 - self.b1**step)
            bias_correction2_sqrt = (1 - self.b2**step) ** 0.5
            denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
        else:  # transformers' AdamW(correct_bias=False): step_size = lr; denom = exp_avg_sq.sqrt().add_(eps)
            step_size = lr
            denom = np.sqrt(v) + self.eps
        # param.addcdiv_(exp_avg, denom, value=-step_size)
        return theta + (-step_size * self.m) / denom, lr / denom, "ok"

    @property
    def state(self):
        return {"exp_avg": self.m, "exp_avg_sq": self.v, "max_exp_avg_sq": self.v_max}


class Adamax:
    """torch.optim.Adamax (Kingma & Ba 2015, §7.1).

    m ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ − γ/(1−β₁ᵗ) · m/u.
    """

    def __init__(self, n: int, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, **_: Any) -> None:  # fmt: skip
        self.b1, self.b2, self.eps, self.wd = beta1, beta2, eps, weight_decay
        self.m = np.zeros(n)
        self.u = np.zeros(n)
        self.t = 0

    def step(self, theta, oracle, lr):
        self.t += 1
        g = oracle.grad(theta)
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)
        self.m = lerp(self.m, g, 1 - self.b1)
        self.u = np.maximum(self.u * self.b2, np.abs(g) + self.eps)
        clr = lr / (1 - self.b1 ** float(self.t))
        return theta + (-clr * self.m) / self.u, lr / self.u, "ok"  # param.addcdiv_(exp_avg, exp_inf, value=-clr)

    @property
    def state(self):
        return {"exp_avg": self.m, "exp_inf": self.u}


class RAdam:
    """torch.optim.RAdam (Liu et al. 2020).

    m, v as in Adam;  m̂ = m/(1−β₁ᵗ);  ρ∞ = 2/(1−β₂) − 1;  ρ_t = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ).
    ρ_t > 5: r = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)),
             θ ← θ − m̂·γ·(√(1−β₂ᵗ)/(√v + ε))·r;
    else θ ← θ − m̂·γ.  decoupled_weight_decay: θ ← θ(1 − γλ) first, else λθ is added to g.
    """

    def __init__(self, n: int, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, **_: Any) -> None:  # fmt: skip
        self.b1, self.b2, self.eps, self.wd, self.decoupled = beta1, beta2, eps, weight_decay, decoupled_weight_decay
        self.m = np.zeros(n)
        self.v = np.zeros(n)
        self.t = 0

    def step(self, theta, oracle, lr):
        self.t += 1
        step = float(self.t)
        g = oracle.grad(theta)
        if self.wd != 0.0:
            if self.decoupled:
                theta = theta * (1 - lr * self.wd)
            else:
                g = fma(self.wd, theta, g)
        self.m = lerp(self.m, g, 1 - self.b1)
        self.v = fma((1 - self.b2) * g, g, self.v * self.b2)
        bias_correction1 = 1 - self.b1**step
        bias_correction2 = 1 - self.b2**step
        m_hat = self.m / bias_correction1
        rho_inf = 2 / (1 - self.b2) - 1
        rho_t = rho_inf - 2 * step * (self.b2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # torch's `scalar / tensor` is tensor.reciprocal() * scalar
            adaptive = (1.0 / (np.sqrt(self.v) + self.eps)) * bias_correction2**0.5
            return theta - m_hat * lr * adaptive * rect, lr * adaptive * rect, "ok"
        return theta - m_hat * lr, np.full(theta.size, lr), "ok"

    @property
    def state(self):
        return {"exp_avg": self.m, "exp_avg_sq": self.v}


class NAdam:
    """torch.optim.NAdam: momentum schedule μ_t = β₁(1 − ½·0.96^{tψ}).

    m̂ = μ_{t+1} m_t/(1 − ∏_{i≤t+1} μ_i) + (1 − μ_t) g_t/(1 − ∏_{i≤t} μ_i);
    v̂ = v_t/(1 − β₂ᵗ);  θ ← θ − γ m̂/(√v̂ + ε), applied as torch does: the g term, then the m term.
    ∏μ_i is a float64 running product; torch keeps it in its default scalar dtype, and
    ``product_dtype="float32"`` rounds it as torch does under a float32 default dtype
    (μ is rounded to float32, then the float32 product).
    """

    def __init__(self, n: int, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 product_dtype: str = "float64", **_: Any) -> None:  # fmt: skip
        self.b1, self.b2, self.eps, self.wd, self.psi, self.decoupled = (
            beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay)  # fmt: skip
        self.float32_product = product_dtype == "float32"
        self.m = np.zeros(n)
        self.v = np.zeros(n)
        self.mu_product = 1.0
        self.t = 0

    def step(self, theta, oracle, lr):
        self.t += 1
        step = float(self.t)
        g = oracle.grad(theta)
        bias_correction2 = 1 - self.b2**step
        if self.wd != 0.0:
            if self.decoupled:
                theta = theta * (1 - lr * self.wd)
            else:
                g = fma(self.wd, theta, g)
        mu = self.b1 * (1.0 - 0.5 * (0.96 ** (step * self.psi)))
        mu_next = self.b1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * self.psi)))
        if self.float32_product:
            self.mu_product = float(np.float32(self.mu_product) * np.float32(mu))
        else:
            self.mu_product *= mu
        self.m = lerp(self.m, g, 1 - self.b1)
        self.v = fma((1 - self.b2) * g, g, self.v * self.b2)
        denom = np.sqrt(self.v / bias_correction2) + self.eps
        mu_product_next = self.mu_product * mu_next
        theta = theta + (-lr * (1.0 - mu) / (1.0 - self.mu_product) * g) / denom
        theta = theta + ((-lr * mu_next) / (1.0 - mu_product_next) * self.m) / denom
        return theta, lr / denom, "ok"

    @property
    def state(self):
        return {"exp_avg": self.m, "exp_avg_sq": self.v}


class Lion:
    """Chen et al. 2023, Algorithm 2.

    c ← β₁m + (1−β₁)g;  θ ← θ − η(sign(c) + λθ);  m ← β₂m + (1−β₂)g.
    In lion-pytorch's operations: θ ← θ(1 − ηλ) first, then θ ← θ − η sign(c).
    """

    def __init__(self, n: int, beta1: float = 0.9, beta2: float = 0.99, weight_decay: float = 0.0, **_: Any) -> None:
        self.b1, self.b2, self.wd = beta1, beta2, weight_decay
        self.m = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        theta = theta * (1.0 - lr * self.wd)  # p.data.mul_(1 - lr * wd)
        c = fma(1.0 - self.b1, g, self.m * self.b1)  # exp_avg.clone().mul_(beta1).add(grad, alpha=1-beta1)
        new = fma(-lr, np.sign(c), theta)  # p.add_(update.sgn_(), alpha=-lr)
        self.m = fma(1.0 - self.b2, g, self.m * self.b2)
        return new, np.full(theta.size, lr), "ok"

    @property
    def state(self):
        return {"exp_avg": self.m}


class Rprop:
    """torch.optim.Rprop.

    g_t·g_{t−1} > 0: η_t = min(η_{t−1}η₊, Γ_max);  < 0: η_t = max(η_{t−1}η₋, Γ_min) and g_t ← 0;
    else η_t = η_{t−1};  θ ← θ − η_t sign(g_t).  The step sizes start at lr.

    The doc's pseudo-code leaves the "else" branch unclamped; torch's implementation
    clamps every step size to [Γ_min, Γ_max] (the two differ only when lr lies outside
    that interval).  ``clamp_always`` selects the implementation's behaviour.
    """

    def __init__(self, n: int, lr: float = 1e-2, eta_minus: float = 0.5, eta_plus: float = 1.2,
                 step_min: float = 1e-6, step_max: float = 50.0, clamp_always: bool = True,
                 **_: Any) -> None:  # fmt: skip
        self.eta_minus, self.eta_plus, self.smin, self.smax = eta_minus, eta_plus, step_min, step_max
        self.clamp_always = clamp_always
        self.steps = np.full(n, float(lr))
        self.prev = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta).copy()
        for i in range(g.size):
            s = g[i] * self.prev[i]
            if s > 0:
                self.steps[i] = min(self.steps[i] * self.eta_plus, self.smax)
            elif s < 0:
                self.steps[i] = max(self.steps[i] * self.eta_minus, self.smin)
                g[i] = 0.0
            elif self.clamp_always:
                self.steps[i] = min(max(self.steps[i], self.smin), self.smax)
        self.prev = g
        return theta - self.steps * np.sign(g), self.steps.copy(), "ok"

    @property
    def state(self):
        return {"step_size": self.steps, "prev": self.prev}


class DeltaBarDelta:
    """Local gains (Jacobs 1988; Hinton's lecture 6): gain += δ if g_t·g_{t−1} > 0 else gain ·= 1−δ,
    gain clipped to [gain_min, gain_max];  v ← μv − η·gain·g;  θ ← θ + v.  Gains start at 1."""

    def __init__(self, n: int, gain_step: float = 0.05, gain_min: float = 0.1, gain_max: float = 10.0,
                 momentum: float = 0.0, **_: Any) -> None:  # fmt: skip
        self.delta, self.gmin, self.gmax, self.mu = gain_step, gain_min, gain_max, momentum
        self.gain = np.ones(n)
        self.prev = np.zeros(n)
        self.v = np.zeros(n)

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        same_sign = g * self.prev > 0
        self.gain = np.where(same_sign, self.gain + self.delta, self.gain * (1.0 - self.delta))
        self.gain = np.clip(self.gain, self.gmin, self.gmax)
        self.v = self.mu * self.v - lr * self.gain * g
        self.prev = g
        return theta + self.v, lr * self.gain, "ok"

    @property
    def state(self):
        return {"gain": self.gain, "prev_grad": self.prev, "velocity": self.v}


class ScheduleFree:
    """schedulefree 1.4.1 SGDScheduleFree (adaptive=False) / AdamWScheduleFree (adaptive=True).

    Returns y (the parameters in train mode); ``x`` = lerp(y, z, 1 − 1/β) is what the package's eval() sets.
    η_t = η·min(1, (k+1)/warmup_steps);  η_max = max η_t;  w = (k+1)^r η_max^p;  c = w/Σw;
    g̃ = g (sgd) or g/(√(v/(1−β₂^{k+1})) + ε) (adamw), then g̃ += λy;
    y ← lerp(y, z, c) + η(β(1−c) − 1)·g̃;  z ← z − η g̃.
    """

    def __init__(self, n: int, adaptive: bool, momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0, warmup_steps: int = 0, r: float = 0.0,
                 weight_lr_power: float = 2.0, **_: Any) -> None:  # fmt: skip
        self.adaptive = adaptive
        self.beta = beta1 if adaptive else momentum
        self.b2, self.eps, self.wd = beta2, eps, weight_decay
        self.warmup, self.r, self.wlp = int(warmup_steps), r, weight_lr_power
        self.k = 0
        self.lr_max = -1.0
        self.weight_sum = 0.0
        self.z: np.ndarray | None = None
        self.v = np.zeros(n)
        self.x = np.zeros(n)

    def step(self, theta, oracle, lr):
        k = self.k
        sched = (k + 1) / self.warmup if k < self.warmup else 1.0
        lr = lr * sched
        self.lr_max = max(lr, self.lr_max)
        weight = ((k + 1) ** self.r) * (self.lr_max**self.wlp)
        self.weight_sum = self.weight_sum + weight
        ckp1 = weight / self.weight_sum if self.weight_sum != 0.0 else 0.0
        if self.z is None:
            self.z = theta.copy()
        g = oracle.grad(theta)
        eff = np.full(theta.size, lr)
        if self.adaptive:
            bias_correction2 = 1 - self.b2 ** (k + 1)
            self.v = fma((1 - self.b2) * g, g, self.v * self.b2)
            denom = np.sqrt(self.v / bias_correction2) + self.eps
            g = g / denom  # grad.div_(denom)
            eff = lr / denom
        if self.wd != 0.0:
            g = fma(self.wd, theta, g)  # grad.add_(y, alpha=weight_decay)
        y = lerp(theta, self.z, ckp1)
        y = fma(lr * (self.beta * (1 - ckp1) - 1), g, y)
        self.z = fma(-lr, g, self.z)  # z.sub_(grad, alpha=lr)
        self.x = lerp(y, self.z, 1 - 1 / self.beta)
        self.k += 1
        return y, eff, "ok"

    @property
    def state(self):
        return {"z": self.z, "exp_avg_sq": self.v, "x": self.x}


class _GivenGradient:
    """An oracle whose gradient is fixed: lets a base optimizer step with SAM's gradient."""

    def __init__(self, g: np.ndarray) -> None:
        self.g = g

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.g


class SAM:
    """Sharpness-aware minimisation (Foret et al. 2021, Algorithm 1).

    g = ∇f(θ);  ε = ρ g/(‖g‖₂ + 1e-12);  g_SAM = ∇f(θ + ε);  θ ← base step from θ with g_SAM.
    The base is SGD (μ = 0), torch's SGD with momentum μ, or torch's Adam.  Both gradients are
    oracle samples (noise and clipping apply to each), so a step costs two evaluations.
    """

    def __init__(self, n: int, rho: float = 0.05, base: str = "sgd", momentum: float = 0.9, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0, **_: Any) -> None:  # fmt: skip
        self.rho = rho
        if base == "adam":
            self.base: Any = Adam(n, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        else:
            self.base = SGD(n, momentum=momentum if base == "momentum" else 0.0, weight_decay=weight_decay)
        self.evaluations = 0

    def step(self, theta, oracle, lr):
        g = oracle.grad(theta)
        scale = self.rho / (math.sqrt(dot(g, g)) + 1e-12)
        g_sam = oracle.grad(theta + scale * g)
        self.evaluations += 2
        return self.base.step(theta, _GivenGradient(g_sam), lr)

    @property
    def state(self):
        st = self.base.state
        if isinstance(self.base, Adam):
            return {"buffer": st["exp_avg"], "exp_avg_sq": st["exp_avg_sq"]}
        return {"buffer": st["momentum_buffer"], "exp_avg_sq": None}


# --------------------------------------------------------------------------------------
# Second-order and line-search methods
# --------------------------------------------------------------------------------------


def _step_eff(step: np.ndarray, g: np.ndarray) -> np.ndarray:
    """|Δθ_i / g_i| (0 where g_i = 0): the effective rate of a step that is not η·g."""
    out = np.zeros(step.size)
    nz = g != 0
    out[nz] = np.abs(step[nz] / g[nz])
    return out


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """x with a·x = b by Gaussian elimination with partial pivoting; None if a pivot vanishes.

    The textbook algorithm (Golub & Van Loan, Algorithms 3.4.1 and 3.1.2): at column k
    swap up the row with the largest |a_ik|, subtract l_ik = a_ik / a_kk times row k
    from each row below (b alongside), then back-substitute
    x_i = (b_i − Σ_{j>i} u_ij x_j) / u_ii.  A pivot with |a_kk| ≤ 1e-300 (or NaN) counts
    as singular, as does a non-finite x_i.

    Written out rather than np.linalg.solve, for the reason ``dot`` is: LAPACK's LU
    (getrf/getf2) scales the pivot column by the pivot's reciprocal, l_ik = a_ik · (1/a_kk),
    one more rounding than the division, and its blocked, FMA-using kernels differ between
    builds.  On Rosenbrock that one-ulp difference in the first Newton step grows to 1e-12
    two steps later, where the Hessian is nearly singular.
    """
    n = b.size
    m = [[float(v) for v in row] + [float(bi)] for row, bi in zip(a.tolist(), b.tolist())]
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(m[i][k]))  # first of equals, as the scan finds it
        if not abs(m[p][k]) > 1e-300:
            return None
        m[k], m[p] = m[p], m[k]
        for i in range(k + 1, n):
            r = m[i][k] / m[k][k]
            for j in range(k, n + 1):
                m[i][j] -= r * m[k][j]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        s = m[i][n]
        for j in range(i + 1, n):
            s -= m[i][j] * x[j]
        x[i] = s / m[i][i]
        if not math.isfinite(x[i]):
            return None
    return np.array(x)


class Newton:
    """Damped Newton: θ ← θ − η(H + λI)⁻¹∇f; a singular system stalls."""

    def __init__(self, n: int, damping: float = 0.0, **_: Any) -> None:
        self.damping = damping

    def step(self, theta, oracle, lr):
        _, g = oracle.fg(theta)
        a = oracle.hess(theta) + self.damping * np.eye(theta.size)
        d = solve(a, g)
        if d is None:
            return theta, np.zeros(theta.size), "stalled"
        step = lr * d
        return theta - step, _step_eff(step, g), "ok"

    @property
    def state(self):
        return {}


def weak_wolfe_bisection(oracle, theta, f0, g0, d, alpha0, c1, c2, max_evals):
    """Bisection search for a step satisfying the weak Wolfe conditions.

    φ(α) = f(θ + αd).  At each trial α: if φ(α) is not finite or the Armijo
    condition φ(α) ≤ φ(0) + c₁αφ'(0) fails, α becomes the upper bracket;
    otherwise, if the curvature condition φ'(α) ≥ c₂φ'(0) holds the step is
    accepted, else α becomes the lower bracket.  The next trial is the midpoint
    of the bracket, or 2α while there is no upper bracket.  After ``max_evals``
    evaluations the search gives up.

    Returns ("accept", α, x, f, g) or ("give_up", best α with the lowest finite φ < φ(0) or 0).
    """
    slope0 = dot(g0, d)
    lo, hi = 0.0, math.inf
    alpha = alpha0
    best_alpha, best_f = 0.0, f0
    for evals in range(1, max_evals + 1):
        x = theta + alpha * d
        f, g = oracle.fg(x)
        if math.isfinite(f) and f < best_f:
            best_alpha, best_f = alpha, f
        if not math.isfinite(f) or f > f0 + c1 * alpha * slope0:
            hi = alpha
        elif np.all(np.isfinite(g)) and dot(g, d) >= c2 * slope0:
            return "accept", alpha, x, f, g
        else:
            lo = alpha
        if evals == max_evals:
            break
        alpha = 2.0 * alpha if hi == math.inf else 0.5 * (lo + hi)
    return "give_up", best_alpha


class NonlinearCG:
    """Nonlinear conjugate gradients (Nocedal & Wright §5.2).

    d_k = −g_k + β_k d_{k−1}, β^{PR+} = max(0, g_kᵀ(g_k − g_{k−1})/‖g_{k−1}‖²) or
    β^{FR} = ‖g_k‖²/‖g_{k−1}‖².  Restart (β = 0, a steepest-descent step) at the first
    iteration, every n iterations, and whenever d is not a descent direction; a β of
    zero (PR+, or after an exactly zero gradient) is a restart too.  Initial trial step:
    η·min(1, 1/‖g‖₁) at the first iteration, then N&W (3.59) α₀ = α_{k−1}φ'_{k−1}(0)/φ'_k(0)
    from the last accepted search (falling back to the first-iteration rule outside
    (1e-12, 1e12), or when φ'_k(0) underflows to 0).
    """

    def __init__(self, n: int, beta_rule: str = "pr+", c1: float = 1e-4, c2: float = 0.1, max_evals: int = 25,
                 **_: Any) -> None:  # fmt: skip
        self.n, self.rule, self.c1, self.c2, self.max_evals = n, beta_rule, c1, c2, int(max_evals)
        self.k = 0
        self.d = np.zeros(n)
        self.g_prev = np.zeros(n)
        self.cycle = 0  # iterations in the current restart cycle, the steepest-descent one included
        self.last_accepted: tuple[float, float] | None = None  # (α, φ'(0)) of the last accepted search

    def step(self, theta, oracle, lr):
        self.k += 1
        f, g = oracle.fg(theta)
        restart = self.k == 1 or self.cycle >= self.n
        beta = 0.0
        gg_prev = dot(self.g_prev, self.g_prev)
        if not restart and gg_prev > 0.0:  # after an exactly zero gradient β is undefined: restart
            if self.rule == "fr":
                beta = dot(g, g) / gg_prev
            else:
                beta = max(0.0, dot(g, g - self.g_prev) / gg_prev)
            if not math.isfinite(beta):
                beta = 0.0
        d = -g if beta == 0.0 else -g + beta * self.d
        if dot(g, d) >= 0.0:
            d = -g
            restart = True
        self.cycle = 1 if (restart or beta == 0.0) else self.cycle + 1
        self.d = d
        self.g_prev = g
        gnorm1 = norm1(g)
        if gnorm1 == 0.0:
            return theta, np.zeros(theta.size), "ok"
        slope = dot(g, d)
        alpha0 = math.nan
        if self.last_accepted is not None and slope != 0.0:  # gᵀd can underflow to 0 on a plateau
            alpha0 = self.last_accepted[0] * self.last_accepted[1] / slope
        if not (1e-12 < alpha0 < 1e12):
            alpha0 = lr * min(1.0, 1.0 / gnorm1)
        res = weak_wolfe_bisection(oracle, theta, f, g, d, alpha0, self.c1, self.c2, self.max_evals)
        if res[0] == "accept":
            alpha, x = res[1], res[2]
            self.last_accepted = (alpha, slope)
            return x, _step_eff(x - theta, g), "ok"
        best = res[1]
        if best == 0.0:
            return theta, np.zeros(theta.size), "stalled"
        step = best * d
        return theta + step, _step_eff(step, g), "ok"

    @property
    def state(self):
        return {"direction": self.d}


class LBFGS:
    """L-BFGS (Nocedal & Wright Algorithm 7.4 two-loop recursion, H₀ = γI, γ = sᵀy/yᵀy of the newest pair).

    The newest ``history`` pairs (s, y) are kept; a pair is stored only with positive
    curvature (sᵀy > 1e-12·max(1, |φ'(0)|), a guard against round-off).  If −H∇f is not a
    descent direction the pairs are dropped.  Trial step: η·min(1, 1/‖g‖₁) at the first
    iteration (torch.optim.LBFGS), η afterwards; weak-Wolfe bisection line search.
    """

    def __init__(self, n: int, history: int = 10, c1: float = 1e-4, c2: float = 0.9, max_evals: int = 25,
                 **_: Any) -> None:  # fmt: skip
        self.m, self.c1, self.c2, self.max_evals = int(history), c1, c2, int(max_evals)
        self.pairs: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=self.m)
        self.k = 0
        self.d = np.zeros(n)

    def two_loop(self, g: np.ndarray) -> np.ndarray:
        """H_k g by the two-loop recursion (N&W Algorithm 7.4)."""
        q = g.copy()
        alphas = []
        for s, y in reversed(self.pairs):  # newest to oldest
            rho = 1.0 / dot(y, s)
            a = rho * dot(s, q)
            alphas.append(a)
            q = q - a * y
        if self.pairs:
            s, y = self.pairs[-1]
            q = (dot(s, y) / dot(y, y)) * q
        r = q
        for (s, y), a in zip(self.pairs, reversed(alphas)):  # oldest to newest
            rho = 1.0 / dot(y, s)
            b = rho * dot(y, r)
            r = r + s * (a - b)
        return r

    def step(self, theta, oracle, lr):
        self.k += 1
        f, g = oracle.fg(theta)
        d = -self.two_loop(g)
        if dot(g, d) >= 0.0:
            self.pairs.clear()
            d = -g
        self.d = d
        gnorm1 = norm1(g)
        if gnorm1 == 0.0:
            return theta, np.zeros(theta.size), "ok"
        alpha0 = lr * min(1.0, 1.0 / gnorm1) if self.k == 1 else lr
        res = weak_wolfe_bisection(oracle, theta, f, g, d, alpha0, self.c1, self.c2, self.max_evals)
        if res[0] == "accept":
            x, g_new = res[2], res[4]
            s, y = x - theta, g_new - g
            sy = dot(s, y)
            if math.isfinite(sy) and sy > 1e-12 * max(1.0, abs(dot(g, d))):
                self.pairs.append((s, y))
            return x, _step_eff(s, g), "ok"
        best = res[1]
        if best == 0.0:
            return theta, np.zeros(theta.size), "stalled"
        step = best * d
        return theta + step, _step_eff(step, g), "ok"

    @property
    def state(self):
        return {"direction": self.d}


# --------------------------------------------------------------------------------------
# Construction and a reference driver
# --------------------------------------------------------------------------------------


def make_reference(name: str, values: dict[str, Any], n: int):
    """The reference optimizer for registry name ``name`` with user-facing ``values``."""
    v = dict(values)
    if name == "sgd":
        return SGD(n, **v)
    if name == "momentum":
        if v.get("convention") == "textbook":
            return TextbookMomentum(n, **v)
        return SGD(n, **v)
    if name == "nesterov":
        if v.get("convention") == "textbook":
            return TextbookNesterov(n, **v)
        return SGD(n, nesterov=True, **v)
    if name == "adagrad":
        return Adagrad(n, **v)
    if name == "rmsprop":
        return RMSprop(n, **v)
    if name == "adadelta":
        return Adadelta(n, **v)
    if name == "adam":
        return Adam(n, **v)
    if name == "adamw":
        return Adam(n, decoupled=True, **v)
    if name == "nadam":
        return NAdam(n, **v)
    if name == "adamax":
        return Adamax(n, **v)
    if name == "radam":
        return RAdam(n, **v)
    if name == "lion":
        return Lion(n, **v)
    if name == "rprop":
        return Rprop(n, **v)
    if name == "delta_bar_delta":
        return DeltaBarDelta(n, **v)
    if name == "sam":
        return SAM(n, **v)
    if name == "schedulefree_sgd":
        return ScheduleFree(n, adaptive=False, **v)
    if name == "schedulefree_adamw":
        return ScheduleFree(n, adaptive=True, **v)
    if name == "newton":
        return Newton(n, **v)
    if name == "cg":
        return NonlinearCG(n, **v)
    if name == "lbfgs":
        return LBFGS(n, **v)
    raise ValueError(name)


FIRST_ORDER = {
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "adamax", "radam",
    "lion", "rprop", "delta_bar_delta", "sam", "schedulefree_sgd", "schedulefree_adamw",
}  # fmt: skip


def reference_run(
    name: str,
    values: dict[str, Any],
    fg: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: Any,
    steps: int,
    hess: Callable[[np.ndarray], np.ndarray] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    clip: str = "none",
    clip_value: float = 1.0,
    schedule: str = "constant",
    schedule_params: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Run the reference for ``steps`` iterations; modifiers apply to first-order methods only.

    Returns positions, losses, gradients, updates, eff (rows 0..k), the state after each
    step (name → list of arrays, row 0 zeros) and the status ("completed" or "stalled").
    """
    x = np.array(x0, dtype=np.float64)
    n = x.size
    opt = make_reference(name, values, n)
    first_order = name in FIRST_ORDER
    if first_order:
        oracle = Oracle(fg, hess, noise, seed, clip, clip_value)
    else:
        oracle = Oracle(fg, hess)
    base = float(values["lr"])
    f, g = oracle.fg(x)
    out: dict[str, Any] = {
        "positions": [x.copy()], "losses": [f], "gradients": [g], "updates": [np.zeros(n)],
        "eff": [np.zeros(n)], "state": {}, "status": "completed",
    }  # fmt: skip
    # row 0 of the state is the initial state (e.g. Adagrad's initial accumulator, Rprop's lr)
    for key, val in opt.state.items():
        out["state"][key] = [np.zeros(n) if val is None else np.array(val, dtype=np.float64)]
    for t in range(1, steps + 1):
        lr = schedule_lr(base, schedule, schedule_params or {}, t - 1) if first_order else base
        new, eff, status = opt.step(x, oracle, lr)
        if status == "stalled":
            out["status"] = "stalled"
            break
        f, g = oracle.fg(new)
        out["positions"].append(new.copy())
        out["losses"].append(f)
        out["gradients"].append(g)
        out["updates"].append(new - x)
        out["eff"].append(np.asarray(eff, dtype=np.float64).copy())
        for key, val in opt.state.items():
            out["state"][key].append(np.zeros(n) if val is None else np.array(val, dtype=np.float64))
        x = new
    for key in ("positions", "losses", "gradients", "updates", "eff"):
        out[key] = np.array(out[key])
    out["state"] = {k: np.array(v) for k, v in out["state"].items()}
    return out
