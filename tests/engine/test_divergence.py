"""Every optimizer on every surface, at its default and at an extreme learning rate.

Whatever happens numerically, ``trace`` must return finite arrays that JSON can
carry (``allow_nan=False``), keep every recorded position inside the escape
radius, and say 'diverged' (with ``stop_step``) when a step blows up; ``sweep``
must report the same outcome without NaN.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from reference import FIRST_ORDER, Oracle, make_reference

from optimizers import Modifiers, make_config, optimizer_names, sweep, trace
from optimizers import _slots as slots
from optimizers.runner import STATUS_NAMES, default_tolerances, escape_radius
from surfaces import get_surface, surface_names

STEPS = 200
EXTREME_LR = 1e6
STATUSES = {"completed", "diverged", "converged", "stalled"}
SWEEP_CODES = {slots.COMPLETED, slots.DIVERGED, slots.CONVERGED, slots.STALLED_STATUS}


def extreme(name: str) -> dict:
    """Hyperparameters that make the largest steps the registry allows."""
    kw = {"lr": EXTREME_LR}
    if name == "rprop":
        kw["step_max"] = 1e6
    if name == "delta_bar_delta":
        kw["gain_max"] = 1e4
    return kw


def check_trajectory(traj, surface, steps: int) -> None:
    arrays = {
        "positions": traj.positions,
        "losses": traj.losses,
        "gradients": traj.gradients,
        "updates": traj.updates,
        "effective_lr": traj.effective_lr,
        **{f"state.{k}": v for k, v in traj.state.items()},
    }
    k = traj.positions.shape[0]
    for key, arr in arrays.items():
        assert np.all(np.isfinite(arr)), f"{key} has non-finite values ({traj.message})"
        assert arr.shape[0] == k, f"{key} has {arr.shape[0]} rows, positions {k}"
    json.dumps({key: arr.tolist() for key, arr in arrays.items()}, allow_nan=False)
    assert np.all(np.abs(traj.positions) <= escape_radius(surface))
    assert traj.status in STATUSES
    if traj.status == "completed":
        assert traj.stop_step is None and traj.steps == steps
    elif traj.status in ("diverged", "stalled"):
        assert traj.stop_step == traj.steps + 1, traj.message
        assert traj.stop_step <= steps
    else:
        assert traj.stop_step == traj.steps
    assert traj.message


def first_step(surface, name: str, values: dict, start) -> np.ndarray:
    """The reference's first iterate (first-order methods and Newton)."""

    def fg(x):
        j = surface.jet(x[0], x[1])
        return j[0], j[1:3].copy()

    opt = make_reference(name, values, 2)
    with np.errstate(all="ignore"):
        x, _, status = opt.step(np.array(start, dtype=float), Oracle(fg, lambda x: surface.hessian(x[0], x[1])),
                                values["lr"])  # fmt: skip
    return x if status == "ok" else None


@pytest.mark.parametrize("name", optimizer_names())
@pytest.mark.parametrize("surface_name", surface_names())
def test_runs_stay_finite_and_report_divergence(surface_name, name):
    surface = get_surface(surface_name)
    for start in surface.starts:
        for kw in ({}, extreme(name)):
            config = make_config(name, **kw)
            traj = trace(surface, config, start=start, steps=STEPS)
            check_trajectory(traj, surface, STEPS)
            if name in FIRST_ORDER or name == "newton":
                # the first step is known: if it leaves the escape radius the run diverged at step 1
                x1 = first_step(surface, name, config.values, start)
                if x1 is None:
                    assert traj.status == "stalled" and traj.stop_step == 1
                elif not np.all(np.isfinite(x1)) or np.max(np.abs(x1)) > escape_radius(surface):
                    assert traj.status == "diverged" and traj.stop_step == 1, f"{kw}: {traj.message}"
                    assert traj.steps == 0
                    np.testing.assert_array_equal(traj.positions[0], start)
                else:
                    assert traj.steps >= 1
                    np.testing.assert_allclose(traj.positions[1], x1, rtol=1e-12, atol=1e-12)


def _leaves_in_one_step(surface_name, name):
    """Sign-like methods move every coordinate by ~lr; plain SGD moves by lr·|g|, which a flat start keeps small."""
    surface = get_surface(surface_name)
    g = np.max(np.abs(surface.gradient(*surface.starts[0])))
    if name == "sgd":
        return g * EXTREME_LR >= 2 * escape_radius(surface)
    return g >= 1e-6


ONE_STEP_CASES = [
    (s, n)
    for s in surface_names()
    for n in ["adam", "adamw", "nadam", "adamax", "lion", "rmsprop", "adagrad", "sgd"]
    if _leaves_in_one_step(s, n)
]


def test_one_step_cases_cover_every_surface():
    assert {s for s, _ in ONE_STEP_CASES} == set(surface_names())


@pytest.mark.parametrize("surface_name, name", ONE_STEP_CASES)
def test_sign_like_methods_diverge_at_an_extreme_lr(surface_name, name):
    """Adam-like first steps move every coordinate by about lr = 1e6, far outside any escape radius."""
    surface = get_surface(surface_name)
    start = surface.starts[0]
    traj = trace(surface, make_config(name, lr=EXTREME_LR), start=start, steps=STEPS)
    assert traj.status == "diverged"
    assert traj.stop_step == 1
    assert traj.diverged and "diverged at step 1" in traj.message
    check_trajectory(traj, surface, STEPS)


@pytest.mark.parametrize("name", [n for n in optimizer_names() if n not in ("newton", "cg", "lbfgs")])
@pytest.mark.parametrize("surface_name", ["beale", "rosenbrock", "cliff", "goldstein_price", "plateau", "saddle"])
def test_extreme_noise_and_clipping_stay_finite(surface_name, name):
    surface = get_surface(surface_name)
    for mods in (
        Modifiers(noise=1e6, seed=1),
        Modifiers(noise=1e6, seed=2, clip="norm", clip_value=1e-3),
        Modifiers(noise=1.0, seed=3, clip="value", clip_value=1e6, schedule="warmup"),
    ):
        traj = trace(surface, make_config(name, **extreme(name)), start=surface.starts[0], steps=STEPS, modifiers=mods)
        check_trajectory(traj, surface, STEPS)
        traj = trace(surface, make_config(name), start=surface.starts[0], steps=STEPS, modifiers=mods)
        check_trajectory(traj, surface, STEPS)


def test_diverged_run_keeps_its_last_finite_iterate():
    surface = get_surface("rosenbrock")
    traj = trace(surface, make_config("sgd", lr=0.01), start=(-1.2, 1.0), steps=500)
    assert traj.status == "diverged"
    assert 1 < traj.stop_step <= 500
    assert traj.positions.shape[0] == traj.stop_step
    check_trajectory(traj, surface, 500)


# --------------------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------------------

SWEEP_SURFACES = ["beale", "rosenbrock", "quadratic", "saddle", "monkey_saddle", "cliff", "plateau", "goldstein_price"]


def _grid(surface, k: int = 3) -> np.ndarray:
    (x0, x1), (y0, y1) = surface.bounds
    xs = np.linspace(x0, x1, k + 2)[1:-1]
    ys = np.linspace(y0, y1, k + 2)[1:-1]
    return np.array([(x, y) for y in ys for x in xs])


def _check_sweep(res, m: int, surface) -> None:
    assert res.final_positions.shape == (m, 2)
    assert np.all(np.isfinite(res.final_positions))
    assert not np.any(np.isnan(res.final_losses))
    assert np.all(np.abs(res.final_positions) <= escape_radius(surface))
    assert set(res.status.tolist()) <= SWEEP_CODES
    assert np.all((res.steps_to_converge == -1) | res.converged)


@pytest.mark.parametrize("name", optimizer_names())
@pytest.mark.parametrize("surface_name", SWEEP_SURFACES)
def test_sweep_at_an_extreme_lr_matches_trace(surface_name, name):
    surface = get_surface(surface_name)
    config = make_config(name, **extreme(name))
    starts = _grid(surface)
    res = sweep(surface, config, starts, steps=STEPS)
    _check_sweep(res, len(starts), surface)
    gtol, xtol = default_tolerances(surface)
    for k, start in enumerate(starts):
        traj = trace(surface, config, start=start, steps=STEPS, gtol=gtol, xtol=xtol)
        assert res.diverged[k] == traj.diverged, (start, traj.message)
        assert STATUS_NAMES[int(res.status[k])] == traj.status
        np.testing.assert_allclose(res.final_positions[k], traj.positions[-1], rtol=1e-12, atol=1e-12)
    if name in ("adam", "adamw", "nadam", "adamax", "lion", "rmsprop", "adagrad"):
        moving = np.max(np.abs(surface.gradient(starts[:, 0], starts[:, 1])), axis=1) > 1e-6
        assert moving.sum() >= 5
        assert np.all(res.diverged[moving])


@pytest.mark.parametrize("name", ["sgd", "adam", "rprop", "newton", "cg", "lbfgs"])
def test_sweep_over_a_learning_rate_grid(name):
    """Per-job hyperparameters: lr from 1e-3 to 1e6; the large ones diverge, nothing is NaN."""
    surface = get_surface("rosenbrock")
    config = make_config(name, **({"step_max": 1e6} if name == "rprop" else {}))
    lrs = np.logspace(-3, 6, 10)
    hyper = np.repeat(config.vector[None, :], lrs.size, axis=0)
    hyper[:, slots.HP_LR] = lrs
    res = sweep(surface, config, (-1.2, 1.0), steps=STEPS, hyper=hyper)
    _check_sweep(res, lrs.size, surface)
    gtol, xtol = default_tolerances(surface)
    for k, lr in enumerate(lrs):
        kw = {"lr": float(lr), **({"step_max": 1e6} if name == "rprop" else {})}
        traj = trace(surface, make_config(name, **kw), start=(-1.2, 1.0), steps=STEPS, gtol=gtol, xtol=xtol)
        assert res.diverged[k] == traj.diverged, (lr, traj.message)
    if name in ("sgd", "adam"):
        assert res.diverged[-1]


def test_sweep_with_noise_at_an_extreme_lr():
    surface = get_surface("beale")
    res = sweep(surface, make_config("adam", lr=EXTREME_LR), _grid(surface, 4), steps=STEPS,
                modifiers=Modifiers(noise=10.0, seed=4))  # fmt: skip
    _check_sweep(res, 16, surface)
    assert np.all(res.diverged)


@pytest.mark.parametrize(
    "name", ["adam", "adamw", "nadam", "adamax", "radam", "rmsprop", "adagrad", "adadelta", "schedulefree_adamw"]
)
def test_zero_eps_with_a_zero_gradient_coordinate(name):
    """eps = 0 is allowed (as in torch); 0/0 must end the run cleanly, not raise or leak NaN."""
    surface = get_surface("monkey_saddle")
    traj = trace(surface, make_config(name, eps=0.0), start=(1.5, 0.0), steps=STEPS)  # ∇f = (6.75, 0)
    check_trajectory(traj, surface, STEPS)
