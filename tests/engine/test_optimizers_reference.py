"""The Numba optimizer kernels against the readable references in ``tests/reference.py``.

Two kinds of check:

* the kernels driven directly (reverse communication, as the network trainer
  drives them) on 7-D problems for 200+ iterations.  At every iteration the
  reference takes one step from the kernel's iterate with its own state (built
  along the same iterates), and the new iterate, the effective learning rate
  and every state buffer the registry shows must agree.  Comparing step by
  step keeps the check exact where the dynamics amplify rounding (Adam or
  RMSprop at the edge of stability double a 1e-16 difference every step);
* ``trace()`` on Beale, Rosenbrock and the quadratic surface, free-running
  against the reference for hundreds of steps (positions, losses, gradients,
  updates, effective rates, recorded state), in settings whose dynamics are
  stable.

Tolerance: |kernel − reference| ≤ 1e-12 · max(1, |reference|) elementwise
(relative, with unit scale near zero) for iterates, losses, updates, effective
rates and state; 1e-10 for the recorded gradients, which are derived from the
iterates and carry their error times the Hessian's norm (~2.5e3 on Rosenbrock).
Kernels and references both repeat torch's floating-point operations (fused
multiply-adds, lerp, Python's pow; see ``reference.py``), so for the torch rules
they agree to the last bit or nearly; the tolerance covers the rest (the
textbook conventions, Newton, the line searches).
The reference's inner products are plain left-to-right sums (see
``reference.dot``): nonlinear CG amplifies a one-ulp difference several-fold per
iteration, which would otherwise end a free-running comparison within ~20 steps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizers import make_config, trace
from optimizers.stepper import DONE, DONE_AT_QUERY, STALLED, Stepper
from surfaces import get_surface
from reference import FIRST_ORDER, Oracle, make_reference, reference_run

RTOL = 1e-12
GRAD_RTOL = 1e-10


def assert_close(actual, expected, what: str, rtol: float = RTOL) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))
    worst = float(np.max(err)) if err.size else 0.0
    assert worst <= rtol, f"{what}: max relative error {worst:.3e} > {rtol:.0e}"


# --------------------------------------------------------------------------------------
# 7-D test problems with numpy oracles
# --------------------------------------------------------------------------------------


class Problem:
    def __init__(self, name, fg, hess, x0):
        self.name, self.fg, self.hess, self.x0 = name, fg, hess, np.asarray(x0, dtype=np.float64)


def _quadratic_plus_bumps(n: int = 7, seed: int = 3) -> Problem:
    """½xᵀAx − bᵀx + c·Σ log(1 + x_i²): A has eigenvalues in [0.1, 4]; the log term makes it nonconvex."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(np.linspace(0.1, 4.0, n)) @ q.T
    b = rng.normal(size=n)
    c = 1.0

    def fg(x):
        return 0.5 * x @ a @ x - b @ x + c * np.sum(np.log1p(x * x)), a @ x - b + c * 2.0 * x / (1.0 + x * x)

    def hess(x):
        return a + np.diag(c * 2.0 * (1.0 - x * x) / (1.0 + x * x) ** 2)

    return Problem("quad+bumps", fg, hess, rng.normal(size=n) * 2.0)


def _chained_rosenbrock(n: int = 7) -> Problem:
    """Σ 100(x_{i+1} − x_i²)² + (1 − x_i)²: a curved valley, minimum at (1, …, 1)."""

    def fg(x):
        r = x[1:] - x[:-1] ** 2
        f = np.sum(100.0 * r * r + (1.0 - x[:-1]) ** 2)
        g = np.zeros_like(x)
        g[:-1] += -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * r
        return f, g

    def hess(x):
        h = np.zeros((n, n))
        for i in range(n - 1):
            h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
            h[i, i + 1] += -400.0 * x[i]
            h[i + 1, i] += -400.0 * x[i]
            h[i + 1, i + 1] += 200.0
        return h

    x0 = np.array([-1.2, 1.0] * (n // 2) + [-1.2] * (n % 2))
    return Problem("rosenbrock7", fg, hess, x0)


QUAD = _quadratic_plus_bumps()
ROSEN = _chained_rosenbrock()


# --------------------------------------------------------------------------------------
# Driving the kernels directly
# --------------------------------------------------------------------------------------


def kernel_stepper(name: str, overrides: dict, n: int) -> Stepper:
    return Stepper(make_config(name, **overrides), n)


def kernel_step(kern: Stepper, theta: np.ndarray, problem: Problem, lr: float):
    """One iteration of the kernel from a copy of ``theta``: (new iterate, effective lr, "ok" | "stalled")."""
    theta = theta.copy()
    f, g = problem.fg(theta)
    if kern.needs_hessian:
        kern.h[:] = problem.hess(theta)

    def evaluate(q, gq):
        fq, grad = problem.fg(q.copy())
        gq[:] = grad
        return float(fq)

    res = kern.step(theta, float(f), g.copy(), evaluate, float(lr))
    if res == STALLED:
        return theta, kern.eff.copy(), "stalled"
    if res == DONE_AT_QUERY:
        assert np.array_equal(theta, kern.q)
    return theta, kern.eff.copy(), "ok"


def compare_direct(
    name: str, overrides: dict, problem: Problem, steps: int = 200, lr_schedule=None
) -> tuple[int, bool]:
    """Step kernel and reference side by side.

    Returns how many iterations moved the iterate, and whether the run converged to the
    last bit: every iteration moved the iterate until it reached a stationary point
    (|∇f| ≤ 1e-12) that the step then left unchanged, iterate and state, to the end.
    """
    kern = kernel_stepper(name, overrides, problem.x0.size)
    values = kern.config.values
    ref = make_reference(name, values, problem.x0.size)
    oracle = Oracle(problem.fg, problem.hess)
    theta = problem.x0.copy()
    moved = 0
    rest_from = None  # first iteration of the final stretch that changed neither iterate nor state
    for t in range(1, steps + 1):
        lr = values["lr"] if lr_schedule is None else lr_schedule(t - 1)
        state_before = kern.S.copy()
        new_k, eff_k, status_k = kernel_step(kern, theta, problem, lr)
        new_r, eff_r, status_r = ref.step(theta.copy(), oracle, lr)
        where = f"{name} {overrides} on {problem.name}, iteration {t}"
        assert status_k == status_r, f"{where}: kernel {status_k}, reference {status_r}"
        if status_k == "stalled":
            break
        assert np.all(np.isfinite(new_k)), where
        assert_close(new_k, new_r, f"{where}: iterate")
        if name in FIRST_ORDER:
            assert_close(eff_k, eff_r, f"{where}: effective lr")
        ref_state = ref.state
        for key, val in kern.state().items():
            expected = ref_state[key]
            expected = np.zeros_like(val) if expected is None else expected
            scale = max(1.0, float(np.max(np.abs(expected))))
            assert_close(val / scale, np.asarray(expected) / scale, f"{where}: state {key!r}")
        moved += int(not np.array_equal(new_k, theta))
        if not (np.array_equal(new_k, theta) and np.array_equal(kern.S, state_before)):
            rest_from = None
        elif rest_from is None:
            rest_from = t
        theta = new_k
    converged = (
        rest_from is not None and moved == rest_from - 1 and float(np.linalg.norm(problem.fg(theta)[1])) <= 1e-12
    )
    return moved, converged


DIRECT_CASES = [
    # SGD (torch.optim.SGD)
    ("sgd", dict(lr=0.05)),
    ("sgd", dict(lr=0.05, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.05)),
    # heavy ball, both conventions
    ("momentum", dict(lr=0.05)),
    ("momentum", dict(lr=0.05, dampening=0.3, weight_decay=0.05)),
    ("momentum", dict(lr=0.05, convention="textbook")),
    ("momentum", dict(lr=0.05, momentum=0.5, weight_decay=0.1, convention="textbook")),
    # Nesterov, both conventions
    ("nesterov", dict(lr=0.05)),
    ("nesterov", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("nesterov", dict(lr=0.05, convention="textbook")),
    ("nesterov", dict(lr=0.05, momentum=0.7, weight_decay=0.1, convention="textbook")),
    # Adagrad
    ("adagrad", dict(lr=0.3)),
    ("adagrad", dict(lr=0.3, lr_decay=0.05, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("adagrad", dict(lr=0.3, eps=1e-3)),
    # RMSprop: centered × momentum × weight decay
    *[
        ("rmsprop", dict(lr=0.01, rho=0.9, centered=c, momentum=m, weight_decay=w))
        for c in (False, True)
        for m in (0.0, 0.8)
        for w in (0.0, 0.1)
    ],
    # Adadelta
    ("adadelta", dict()),
    ("adadelta", dict(rho=0.5, eps=1e-4, weight_decay=0.1, lr=0.5)),
    # Adam / AMSGrad, AdamW
    *[("adam", dict(lr=0.05, amsgrad=a, weight_decay=w)) for a in (False, True) for w in (0.0, 0.1)],
    ("adam", dict(lr=0.1, beta1=0.5, beta2=0.9, eps=1e-3)),
    *[("adam", dict(lr=0.05, no_bias_correction=True, amsgrad=a, weight_decay=w))
      for a in (False, True) for w in (0.0, 0.1)],  # fmt: skip
    ("adamw", dict(lr=0.05, no_bias_correction=True, weight_decay=0.1)),
    *[("adamw", dict(lr=0.05, amsgrad=a, weight_decay=w)) for a in (False, True) for w in (0.0, 0.1)],
    # NAdam: L2 and decoupled decay, momentum schedule
    ("nadam", dict(lr=0.05)),
    ("nadam", dict(lr=0.05, weight_decay=0.1)),
    ("nadam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("nadam", dict(lr=0.05, momentum_decay=0.0, beta1=0.8)),
    ("nadam", dict(lr=0.05, momentum_decay=0.1, beta2=0.99)),
    # Adamax
    ("adamax", dict(lr=0.05)),
    ("adamax", dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3, weight_decay=0.1)),
    # RAdam: momentum steps while ρ_t ≤ 5, then rectified; L2 and decoupled decay
    ("radam", dict(lr=0.05)),
    ("radam", dict(lr=0.05, weight_decay=0.1)),
    ("radam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("radam", dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3)),
    # Lion
    ("lion", dict(lr=0.01)),
    ("lion", dict(lr=0.01, beta1=0.5, beta2=0.9, weight_decay=0.5)),
    # Rprop: default bounds, tight bounds, initial step outside the bounds
    ("rprop", dict()),
    ("rprop", dict(lr=0.1, eta_minus=0.3, eta_plus=1.5, step_min=1e-3, step_max=0.05)),
    ("rprop", dict(lr=2.0, step_max=0.5)),
    ("rprop", dict(lr=1e-4, step_min=1e-2, step_max=5.0)),
    # local gains, with and without momentum
    ("delta_bar_delta", dict(lr=0.02)),
    ("delta_bar_delta", dict(lr=0.01, momentum=0.9)),
    ("delta_bar_delta", dict(lr=0.02, gain_step=0.2, gain_min=0.5, gain_max=2.0, momentum=0.5)),
    # SAM on each base (the gradient at θ + ρg/‖g‖ steps the base from θ)
    ("sam", dict(lr=0.05)),
    ("sam", dict(lr=0.05, rho=0.5, base="momentum", momentum=0.8, weight_decay=0.1)),
    ("sam", dict(lr=0.05, rho=0.2, base="adam", weight_decay=0.1)),
    ("sam", dict(lr=0.05, rho=0.0, base="adam", beta1=0.5, beta2=0.9, eps=1e-3)),
    # schedule-free SGD and AdamW: y plotted, z and the average x in the state; warm-up and weights
    ("schedulefree_sgd", dict(lr=0.05)),
    ("schedulefree_sgd", dict(lr=0.05, momentum=0.5, weight_decay=0.1, warmup_steps=20, r=1.0)),
    ("schedulefree_adamw", dict(lr=0.05)),
    ("schedulefree_adamw", dict(lr=0.05, beta1=0.6, beta2=0.9, eps=1e-4, weight_decay=0.1, warmup_steps=30,
                                r=0.5, weight_lr_power=1.0)),  # fmt: skip
    # damped Newton
    ("newton", dict()),
    ("newton", dict(lr=0.5, damping=1.0)),
]

LINE_SEARCH_CASES = [
    ("cg", dict()),
    ("cg", dict(beta_rule="fr")),
    ("cg", dict(c2=0.45, lr=0.1)),
    ("cg", dict(beta_rule="fr", c1=1e-2, c2=0.9, lr=10.0)),
    ("cg", dict(max_evals=4)),
    ("lbfgs", dict()),
    ("lbfgs", dict(history=1)),
    ("lbfgs", dict(history=3, c2=0.5)),
    ("lbfgs", dict(history=100)),
    ("lbfgs", dict(history=5, max_evals=2, lr=0.5)),
]


def _case_id(case) -> str:
    name, overrides = case
    return name + ("-" + ",".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")


@pytest.mark.parametrize("case", DIRECT_CASES, ids=_case_id)
def test_kernel_matches_reference_7d(case):
    name, overrides = case
    moved, converged = compare_direct(name, overrides, QUAD, steps=200)
    # damped Newton shrinks the error by a constant factor per step and reaches a floating-point
    # fixed point (a step that rounds to nothing) after ~130 iterations; whether an iterate that
    # close jitters by an ulp instead depends on the last bits of the problem's BLAS-built matrix
    assert moved >= 150 or converged, f"moved {moved} times, converged: {converged}"


@pytest.mark.parametrize("case", LINE_SEARCH_CASES, ids=_case_id)
@pytest.mark.parametrize("problem", [QUAD, ROSEN], ids=lambda p: p.name)
def test_line_search_kernels_match_reference_7d(case, problem):
    name, overrides = case
    moved, _ = compare_direct(name, overrides, problem, steps=200)
    assert moved >= 5


@pytest.mark.parametrize("name", ["newton", "sgd", "adam", "rprop"])
def test_kernel_matches_reference_on_rosenbrock_7d(name):
    overrides = {"sgd": dict(lr=5e-4, momentum=0.9), "adam": dict(lr=0.01), "rprop": dict(), "newton": {}}[name]
    compare_direct(name, overrides, ROSEN, steps=200)


def test_schedules_reach_the_kernel_as_lr():
    """begin() uses the lr it is given (the schedule's), not hp[HP_LR], for every lr-scaled rule."""
    sched = lambda k: 0.05 * 0.99**k  # noqa: E731
    for name, overrides in [("sgd", dict(momentum=0.9)), ("momentum", dict(convention="textbook")),
                            ("adam", dict()), ("nadam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
                            ("adamax", dict()), ("radam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
                            ("sam", dict(base="momentum")), ("sam", dict(base="adam")),
                            ("schedulefree_sgd", dict(warmup_steps=10)), ("schedulefree_adamw", dict()),
                            ("delta_bar_delta", dict(momentum=0.5)), ("lion", dict())]:  # fmt: skip
        compare_direct(name, dict(lr=0.05, **overrides), QUAD, steps=200, lr_schedule=sched)


def test_cg_restarts_every_n_iterations():
    """On an n-D quadratic with the FR rule (β > 0), steepest-descent restarts come every n iterations."""
    n = 4
    a = np.diag([1.0, 2.0, 5.0, 10.0])

    def fg(x):
        return 0.5 * x @ a @ x, a @ x

    problem = Problem("quad4", fg, lambda x: a, np.array([1.0, -1.0, 1.0, -1.0]))
    kern = kernel_stepper("cg", dict(beta_rule="fr"), n)
    theta = problem.x0.copy()
    sd_steps = []
    for t in range(1, 13):
        g = fg(theta)[1]
        theta, _, status = kernel_step(kern, theta, problem, 1.0)
        assert status == "ok"
        d = kern.S[0]
        cos = -(g @ d) / (np.linalg.norm(g) * np.linalg.norm(d))
        if abs(cos - 1.0) < 1e-14:
            sd_steps.append(t)
    assert sd_steps[:3] == [1, 1 + n, 1 + 2 * n]


# --------------------------------------------------------------------------------------
# trace() on surfaces, free-running
# --------------------------------------------------------------------------------------

SURFACES = {
    "beale": ((1.0, 1.5), {}),
    "rosenbrock": ((-1.2, 1.0), {}),
    "quadratic": ((-9.0, 4.0), {"kappa": 10.0, "angle": 30.0}),
}

# per optimizer: settings whose runs are stable on all three surfaces (defaults first)
TRACE_CASES = [
    ("sgd", dict()),
    ("sgd", dict(lr=1e-3, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd", dict(lr=1e-3, momentum=0.8, dampening=0.3)),
    ("momentum", dict()),
    ("momentum", dict(lr=1e-3, convention="textbook")),
    ("nesterov", dict()),
    ("nesterov", dict(lr=1e-3, convention="textbook")),
    ("adagrad", dict()),
    ("adagrad", dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop", dict(lr=1e-3)),
    ("rmsprop", dict(lr=1e-3, centered=True, momentum=0.5)),
    ("adadelta", dict()),
    ("adam", dict()),
    ("adam", dict(lr=1e-2, amsgrad=True)),
    ("adamw", dict()),
    ("adamw", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ("nadam", dict()),
    ("nadam", dict(weight_decay=0.05, decoupled_weight_decay=True)),
    ("adamax", dict()),
    ("adamax", dict(lr=1e-2, weight_decay=0.1)),
    ("radam", dict()),
    ("radam", dict(weight_decay=0.05, decoupled_weight_decay=True)),
    ("lion", dict()),
    ("lion", dict(lr=1e-3, weight_decay=0.1)),
    ("rprop", dict()),
    ("rprop", dict(lr=0.05, step_max=0.2)),
    ("sam", dict()),
    ("sam", dict(base="momentum", rho=0.1)),
    ("schedulefree_sgd", dict()),
    ("schedulefree_adamw", dict(warmup_steps=50)),
    ("sam", dict(lr=1e-2, base="adam")),
    ("delta_bar_delta", dict(lr=1e-4)),
    ("delta_bar_delta", dict(lr=2e-5, momentum=0.9)),
    ("newton", dict()),
    ("newton", dict(lr=0.5, damping=10.0)),
    ("cg", dict()),
    ("cg", dict(beta_rule="fr")),
    ("lbfgs", dict()),
    ("lbfgs", dict(history=2)),
]


def compare_trace(surface_name: str, name: str, overrides: dict, steps: int, modifiers=None, check_state=True):
    start, params = SURFACES[surface_name]
    surface = get_surface(surface_name, **params)
    config = make_config(name, **overrides)
    kwargs = {} if modifiers is None else {"modifiers": modifiers}
    traj = trace(surface, config, start=start, steps=steps, **kwargs)

    def fg(x):
        j = surface.jet(x[0], x[1])
        return j[0], j[1:3].copy()

    def hess(x):
        return surface.hessian(x[0], x[1])

    mod = {}
    if modifiers is not None:
        mod = dict(noise=modifiers.noise, seed=modifiers.seed, clip=modifiers.clip, clip_value=modifiers.clip_value,
                   schedule=modifiers.schedule, schedule_params=modifiers.schedule_values())  # fmt: skip
    ref = reference_run(name, config.values, fg, start, steps, hess=hess, **mod)
    where = f"{name} {overrides} on {surface_name}"
    if ref["status"] == "completed":
        assert traj.status == "completed", f"{where}: {traj.message}"
    else:  # the reference stops where no step is possible; at a vanished gradient the runner calls that converged
        g_end = np.linalg.norm(ref["gradients"][-1])
        expected = "converged" if g_end <= 1e-8 * max(1.0, abs(ref["losses"][-1])) else "stalled"
        assert traj.status == expected, f"{where}: {traj.message}"
        assert traj.steps == ref["positions"].shape[0] - 1, where
    assert traj.positions.shape == ref["positions"].shape, f"{where}: {traj.message}"
    assert_close(traj.positions, ref["positions"], f"{where}: positions")
    assert_close(traj.losses, ref["losses"], f"{where}: losses")
    # the gradient is a derived value: its error is the iterate's times the Hessian's norm (~2.5e3 on Rosenbrock)
    assert_close(traj.gradients, ref["gradients"], f"{where}: gradients", rtol=GRAD_RTOL)
    assert_close(traj.updates, ref["updates"], f"{where}: updates")
    if name in FIRST_ORDER:
        assert_close(traj.effective_lr, ref["eff"], f"{where}: effective lr")
    if check_state:
        for key, rows in traj.state.items():
            expected = ref["state"][key]
            scale = max(1.0, float(np.max(np.abs(expected))))
            assert_close(rows / scale, expected / scale, f"{where}: state {key!r}")
    return traj


@pytest.mark.parametrize("case", TRACE_CASES, ids=_case_id)
@pytest.mark.parametrize("surface_name", list(SURFACES))
def test_trace_matches_reference(surface_name, case):
    name, overrides = case
    traj = compare_trace(surface_name, name, overrides, steps=400)
    assert traj.steps >= 1
    # the run goes somewhere: at least one step moved the iterate
    assert np.any(traj.updates != 0.0)


def test_textbook_and_torch_momentum_agree_at_constant_lr():
    """The registry says both conventions give the same iterates at a constant lr (v = −ηb)."""
    s = get_surface("rosenbrock")
    a = trace(s, make_config("momentum", lr=1e-3), start=(-1.2, 1.0), steps=300)
    b = trace(s, make_config("momentum", lr=1e-3, convention="textbook"), start=(-1.2, 1.0), steps=300)
    assert_close(a.positions, b.positions, "torch vs textbook heavy ball", rtol=1e-9)


def test_reference_rprop_clamps_like_torch():
    """torch clamps the step size on every step, so an initial lr above step_max moves by step_max."""
    oracle = Oracle(lambda x: (float(x @ x), 2.0 * x))
    r = make_reference("rprop", dict(lr=2.0, step_max=0.5, eta_minus=0.5, eta_plus=1.2, step_min=1e-6), 2)
    x, eff, _ = r.step(np.array([3.0, -3.0]), oracle, 2.0)
    np.testing.assert_array_equal(x, [2.5, -2.5])
    np.testing.assert_array_equal(eff, [0.5, 0.5])


def test_kernel_first_steps_by_hand():
    """A few first steps written out from the published rules, independent of tests/reference.py."""
    g = np.array([0.5, -2.0, 0.0])

    def one_step(name, overrides):
        prob = Problem("linear", lambda x: (float(g @ x), g.copy()), lambda x: np.zeros((3, 3)), np.ones(3))
        kern = kernel_stepper(name, overrides, 3)
        return kernel_step(kern, prob.x0, prob, make_config(name, **overrides).values["lr"])[0]

    # Adam's first step is −η·sign(g) (m̂ = g, v̂ = g²), up to ε
    np.testing.assert_allclose(one_step("adam", dict(lr=0.1)), 1.0 - 0.1 * np.sign(g) * np.abs(g) / (np.abs(g) + 1e-8))
    # RMSprop's first step divides by √((1−α)g²) = √0.01·|g|
    np.testing.assert_allclose(one_step("rmsprop", dict(lr=0.1)), 1.0 - 0.1 * g / (0.1 * np.abs(g) + 1e-8))
    # Adagrad: η·g/(|g| + ε)
    np.testing.assert_allclose(one_step("adagrad", dict(lr=0.1)), 1.0 - 0.1 * g / (np.abs(g) + 1e-10))
    # Lion: −η·sign((1−β₁)g) − ηλθ
    np.testing.assert_allclose(one_step("lion", dict(lr=0.1, weight_decay=0.5)), 1.0 - 0.1 * (np.sign(g) + 0.5))
    # Rprop: first step is lr·sign(g)
    np.testing.assert_allclose(one_step("rprop", dict(lr=0.1)), 1.0 - 0.1 * np.sign(g))
    # Adadelta: Δ = √ε/√((1−ρ)g² + ε)·g
    np.testing.assert_allclose(one_step("adadelta", dict()), 1.0 - math.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g)
    # local gains: first product is zero → gain 1·(1−δ)
    np.testing.assert_allclose(one_step("delta_bar_delta", dict(lr=0.1)), 1.0 - 0.1 * 0.95 * g)


# --------------------------------------------------------------------------------------
# SAM
# --------------------------------------------------------------------------------------


def test_sam_takes_two_gradients_per_step():
    """One gradient at θ (the caller's) and one at the ascent point θ + ρg/‖g‖ (asked through resume)."""
    for base in ("sgd", "momentum", "adam"):
        kern = kernel_stepper("sam", dict(lr=0.05, base=base), QUAD.x0.size)
        assert not kern.lookahead and kern.sampled  # g at θ is used (and perturbed); so is the ascent gradient
        theta = QUAD.x0.copy()
        queries = []

        def evaluate(q, gq, queries=queries):
            queries.append(q.copy())
            fq, grad = QUAD.fg(q.copy())
            gq[:] = grad
            return float(fq)

        for _ in range(20):
            f, g = QUAD.fg(theta)
            start = theta.copy()
            res = kern.step(theta, float(f), g.copy(), evaluate, 0.05)
            assert res == DONE and kern.evals == 1
            step = queries[-1] - start  # the ascent: length ρ along the gradient at θ
            np.testing.assert_allclose(np.linalg.norm(step), 0.05, rtol=1e-12)
            # (q − θ recovers the ascent to within an ulp of θ's coordinates)
            np.testing.assert_allclose(step / np.linalg.norm(step), g / np.linalg.norm(g), rtol=0, atol=1e-12)


@pytest.mark.parametrize("base", ["sgd", "momentum", "adam"])
def test_sam_with_rho_zero_is_its_base(base):
    """ρ = 0 puts the ascent point on θ: the same iterates as the base optimizer, to the last bit."""
    s = get_surface("beale")
    lr = 1e-2 if base == "adam" else 1e-3
    a = trace(s, make_config("sam", lr=lr, rho=0.0, base=base), start=(1.0, 1.5), steps=300)
    b = trace(s, make_config(base, lr=lr), start=(1.0, 1.5), steps=300)
    np.testing.assert_array_equal(a.positions, b.positions)


def test_sam_first_step_by_hand():
    """θ₁ = θ₀ − η∇f(θ₀ + ρ∇f(θ₀)/‖∇f(θ₀)‖) on Rosenbrock, written out."""
    s = get_surface("rosenbrock")
    x0 = np.array([-1.2, 1.0])
    g0 = s.gradient(*x0)
    ahead = x0 + 0.1 * g0 / np.linalg.norm(g0)
    x1 = x0 - 1e-4 * s.gradient(*ahead)
    t = trace(s, make_config("sam", lr=1e-4, rho=0.1), start=x0, steps=1)
    np.testing.assert_allclose(t.positions[1], x1, rtol=1e-14)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_without_the_bias_correction_the_first_step_is_longer_by_the_moments_zero_start(name):
    """Step 1 from m = v = 0: m = (1−β₁)g and v = (1−β₂)g², so the corrected step is η·sign(g) (ε aside)
    and the uncorrected one η(1−β₁)/√(1−β₂)·sign(g): 0.1/√0.001 ≈ 3.16 η with torch's defaults."""
    surface = get_surface("quadratic")
    runs = {}
    for off in (False, True):
        cfg = make_config(name, lr=0.01, weight_decay=0.0, no_bias_correction=off)
        runs[off] = trace(surface, cfg, (-9.0, 4.0), 3)
        assert cfg.values["no_bias_correction"] is off
    first = {off: np.abs(t.positions[1] - t.positions[0]) for off, t in runs.items()}
    np.testing.assert_allclose(first[False], 0.01, rtol=1e-6)
    np.testing.assert_allclose(first[True], 0.01 * 0.1 / math.sqrt(1e-3), rtol=1e-6)
    # the default keeps torch's rule
    assert make_config(name).values["no_bias_correction"] is False
