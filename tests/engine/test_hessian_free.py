"""Martens' Hessian-free method: the defining properties of its rule (no library has it to compare against).

CG on (B + λI)d = −g through products only, the iteration cap, the exact Newton step on a quadratic, Martens'
damping rule, rejected steps, and the runner's Trajectory (finite arrays, a status, CG iterations per step).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from optimizers import make_config, sweep, trace
from optimizers.hessian_free import LAMBDA_MIN, HessianFree, adapt
from surfaces import get_surface


def quadratic(n: int, seed: int = 0, kappa: float = 100.0):
    """f = ½θᵀAθ − bᵀθ with SPD A (condition κ); returns (A, b, evaluate, product, counter)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T
    b = rng.standard_normal(n)
    count = {"products": 0}

    def evaluate(x, gx):
        gx[:] = a @ x - b
        return float(0.5 * x @ a @ x - b @ x)

    def product(v, out):
        count["products"] += 1
        out[:] = a @ v

    return a, b, evaluate, product, count


def first_below(losses: np.ndarray, level: float) -> int:
    hit = np.flatnonzero(losses < level)
    assert hit.size, f"never below {level:g} (last {losses[-1]:g})"
    return int(hit[0])


def test_rosenbrock_reaches_1e_10_in_fewer_iterations_than_lbfgs():
    s = get_surface("rosenbrock")
    hf = trace(s, make_config("hessian_free"), start=(-1.2, 1.0), steps=200)
    lb = trace(s, make_config("lbfgs"), start=(-1.2, 1.0), steps=200)
    n_hf, n_lb = first_below(hf.losses, 1e-10), first_below(lb.losses, 1e-10)
    assert n_hf < n_lb, (n_hf, n_lb)
    assert n_hf == 23 and n_lb == 35  # measured with both defaults
    np.testing.assert_allclose(hf.positions[-1], [1.0, 1.0], atol=1e-8)


class NoHessian:
    """A surface whose Hessian matrix cannot be asked for; its jet (where the products' entries come from) is
    counted."""

    def __init__(self, surface):
        self._s = surface
        self.jets = 0

    def __getattr__(self, name):
        return getattr(self._s, name)

    def hessian(self, x, y):
        raise AssertionError("the Hessian matrix was formed")

    def jet(self, x, y):
        self.jets += 1
        return self._s.jet(x, y)


def test_curvature_reaches_the_method_only_as_products():
    s = NoHessian(get_surface("rosenbrock"))
    t = trace(s, make_config("hessian_free"), start=(-1.2, 1.0), steps=30)
    assert t.status == "completed"
    steps = t.steps
    moving = np.flatnonzero(np.any(t.gradients[:-1] != 0.0, axis=1)) + 1  # steps taken from a nonzero gradient
    assert moving.size >= 20
    assert np.all(t.curvature_products[moving] >= 1) and np.all(t.cg_iterations[moving] >= 1)
    assert t.curvature_products.sum() >= steps
    assert np.all(t.curvature_products[1:] >= t.cg_iterations[1:])
    assert t.cg_iterations[0] == 0
    # one jet per iterate for its products, and one batched jet for the recorded eigenvalues
    assert s.jets <= steps + 1


def test_a_large_quadratic_is_solved_with_products_only():
    n = 200
    a, b, evaluate, product, count = quadratic(n, kappa=1e3)
    hf = HessianFree(n, damping=0.0, max_cg=n)
    theta, g = np.zeros(n), np.zeros(n)
    f = evaluate(theta, g)
    used = 0
    for _ in range(10):  # Martens' progress rule truncates CG: a few outer steps finish the job
        info = hf.step(theta, f, g, evaluate, product)
        f = info.f
        used += info.products
        assert 1 <= info.cg_iterations < n
    assert used == count["products"]
    np.testing.assert_allclose(theta, np.linalg.solve(a, b), rtol=0, atol=1e-8)


def test_one_step_with_enough_cg_and_no_damping_is_the_newton_step():
    a, b, evaluate, product, _ = quadratic(6, seed=3, kappa=50.0)
    hf = HessianFree(6, damping=0.0, max_cg=50)
    theta = np.array([1.0, -2.0, 0.5, 3.0, 0.0, 1.0])
    g = np.zeros(6)
    f = evaluate(theta, g)
    info = hf.step(theta, f, g, evaluate, product)
    assert info.accepted and info.alpha == 1.0
    assert 6 <= info.cg_iterations <= 12  # n in exact arithmetic, a few more in floating point
    np.testing.assert_allclose(theta, np.linalg.solve(a, b), rtol=0, atol=1e-12)
    assert info.rho == pytest.approx(1.0, abs=1e-9)  # the model is f itself


def test_cg_respects_its_iteration_cap():
    _, _, evaluate, product, _ = quadratic(40, kappa=1e4)
    for cap in (1, 3, 7):
        hf = HessianFree(40, damping=0.0, max_cg=cap, cg_decay=0.0)
        theta, g = np.zeros(40), np.zeros(40)
        info = hf.step(theta, evaluate(theta, g), g, evaluate, product)
        assert info.cg_iterations == cap
        assert info.products == cap  # no warm start: one product per CG iteration
    with pytest.raises(ValueError, match="max_cg"):
        HessianFree(4, max_cg=0)
    with pytest.raises(ValueError, match="max_cg"):
        make_config("hessian_free", max_cg=10_000)


def test_damping_follows_martens_rule_exactly():
    assert adapt(1.0, 0.1) == 1.5
    assert adapt(1.0, 0.9) == pytest.approx(2.0 / 3.0, rel=0, abs=1e-15)
    assert adapt(1.0, 0.5) == 1.0
    assert adapt(1.0, float("nan")) == 1.5  # undefined ρ counts as bad
    assert adapt(0.0, 0.1) == LAMBDA_MIN and adapt(0.0, 0.9) == 0.0


def test_damping_goes_up_after_a_bad_rho_and_down_after_a_good_one():
    # a good model: f is the quadratic, ρ = 1 → λ·2/3
    _, _, evaluate, product, _ = quadratic(5, seed=1)
    hf = HessianFree(5, damping=2.0)
    theta, g = np.ones(5), np.zeros(5)
    info = hf.step(theta, evaluate(theta, g), g, evaluate, product)
    assert info.damping == 2.0 and info.rho > 0.75
    assert hf.damping == pytest.approx(4.0 / 3.0, rel=0, abs=1e-15)

    # a bad model: the products claim 1/100 of f's curvature, the step overshoots and ρ < 1/4 → λ·3/2
    a, _, evaluate, _, _ = quadratic(5, seed=2)

    def weak(v, out):
        out[:] = 0.01 * (a @ v)

    hf = HessianFree(5, damping=1e-3)
    theta, g = np.ones(5), np.zeros(5)
    f0 = evaluate(theta, g)
    info = hf.step(theta, f0, g, evaluate, weak)
    assert info.rho < 0.25
    assert hf.damping == pytest.approx(1.5e-3, rel=0, abs=1e-18)
    assert info.f < f0  # the line search still found a decrease


def test_a_step_that_raises_f_is_searched_back_or_rejected():
    # negative curvature everywhere in the products: CG stops at once and falls back to −g
    _, _, evaluate, product, _ = quadratic(3, seed=4)

    def negative(v, out):
        out[:] = -v

    hf = HessianFree(3, damping=0.0, lr=1e3)  # a huge first trial: backtracking must shorten it
    theta, g = np.ones(3), np.zeros(3)
    f0 = evaluate(theta, g)
    info = hf.step(theta, f0, g, evaluate, negative)
    assert info.negative_curvature and info.cg_iterations == 0
    assert info.accepted and info.alpha < 1e3 and info.f < f0

    # f is NaN away from θ: no trial is finite, so the step is rejected and λ grows
    hf = HessianFree(3, damping=1.0)
    theta, g = np.ones(3), np.zeros(3)
    f0 = evaluate(theta, g)

    def nan_away(x, gx):
        gx[:] = np.nan
        return float("nan")

    info = hf.step(theta, f0, g, nan_away, product)
    assert not info.accepted and info.alpha == 0.0
    np.testing.assert_array_equal(theta, np.ones(3))
    assert hf.damping == 1.5


@pytest.mark.parametrize("surface_name", ["rosenbrock", "beale", "saddle", "cliff", "plateau", "monkey_saddle"])
def test_trajectory_is_finite_with_a_status(surface_name):
    s = get_surface(surface_name)
    for kw in ({}, {"lr": 1e6, "damping": 0.0}):
        t = trace(s, make_config("hessian_free", **kw), start=s.starts[0], steps=100)
        k = t.positions.shape[0]
        arrays = [t.positions, t.losses, t.gradients, t.updates, t.effective_lr, t.cg_iterations,
                  t.curvature_products, t.damping, t.rho, *t.state.values()]  # fmt: skip
        for arr in arrays:
            assert arr.shape[0] == k and np.all(np.isfinite(arr))
        json.dumps([a.tolist() for a in arrays], allow_nan=False)
        assert t.status in ("completed", "converged", "diverged", "stalled") and t.message


def test_a_run_that_leaves_the_plot_ends_diverged():
    s = get_surface("saddle")  # unbounded below: the method walks off
    t = trace(s, make_config("hessian_free"), start=(0.5, 0.5), steps=500)
    assert t.status == "diverged" and t.stop_step == t.steps + 1
    assert np.all(np.isfinite(t.positions)) and np.all(np.isfinite(t.losses))


def test_other_optimizers_have_no_cg_record():
    t = trace(get_surface("beale"), make_config("newton"), start=(1.0, 1.5), steps=5)
    assert t.cg_iterations is None and t.curvature_products is None


def test_sweep_matches_trace():
    s = get_surface("rosenbrock")
    starts = np.array([(-1.2, 1.0), (0.5, 0.5), (1.5, 2.0)])
    res = sweep(s, make_config("hessian_free"), starts, steps=100)
    for k, start in enumerate(starts):
        t = trace(s, make_config("hessian_free"), start=start, steps=100, gtol=1e-6, xtol=1e-7 * s.span)
        np.testing.assert_array_equal(res.final_positions[k], t.positions[-1])
        assert bool(res.converged[k]) == (t.status == "converged")
    hyper = np.repeat(make_config("hessian_free").vector[None, :], 3, axis=0)
    hyper[:, 0] = [1.0, 0.5, 0.25]  # the step fraction
    res = sweep(s, make_config("hessian_free"), (-1.2, 1.0), steps=100, hyper=hyper)
    for k, lr in enumerate(hyper[:, 0]):
        t = trace(s, make_config("hessian_free", lr=lr), start=(-1.2, 1.0), steps=100, gtol=1e-6, xtol=1e-7 * s.span)
        np.testing.assert_array_equal(res.final_positions[k], t.positions[-1])
