"""The Python stepper and the compiled surface runner drive the kernels the same way.

``optimizers._runkernels.run`` inlines the begin/resume loop of
``optimizers.stepper.Stepper`` (compiled code cannot call the Python object).
Here the stepper drives every registered optimizer over a surface exactly as the
runner's loop does around it, and its iterates must be bit-identical to
``trace()``'s, step for step, with the same final status: with and without
modifiers, through textbook Nesterov's look-ahead and the line searches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizers import Modifiers, make_config, trace
from optimizers._runkernels import STALL_GTOL
from optimizers.registry import SPECS, get_spec
from optimizers.runner import escape_radius
from optimizers.stepper import DONE_AT_QUERY, MAX_EVALS_PER_STEP, NEED_EVAL, STALLED, Stepper
from surfaces import get_surface

STEPS = 300

#: (surface, start): the runner's and the tests' usual starts
SURFACES = {
    "rosenbrock": ((-1.2, 1.0), {}),
    "beale": ((1.0, 1.5), {}),
    "quadratic": ((-9.0, 4.0), {"kappa": 10.0, "angle": 30.0}),
}

#: noise, clipping and a schedule together: every modifier path of a first-order step
MODIFIED = Modifiers(noise=0.5, seed=7, clip="norm", clip_value=2.0, schedule="exponential")

#: learning rates that keep the run going for a few hundred steps on all three surfaces
LR = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "adadelta": 1.0, "newton": 0.5, "delta_bar_delta": 1e-4}

#: the rules the stepper drives: every one but hessian_free, whose driver takes curvature products
#: (optimizers.hessian_free; tests/engine/test_hessian_free.py)
STEPPED = [spec for spec in SPECS if spec.name != "hessian_free"]
CASES = [(spec.name, {}, None) for spec in STEPPED]
CASES += [(spec.name, {}, MODIFIED) for spec in STEPPED]
CASES += [
    ("momentum", dict(convention="textbook"), None),
    ("nesterov", dict(convention="textbook"), None),
    ("nesterov", dict(convention="textbook"), MODIFIED),
    ("sgd", dict(momentum=0.9, nesterov=True), MODIFIED),
    ("cg", dict(beta_rule="fr", max_evals=3), None),
    ("lbfgs", dict(history=2, max_evals=2), None),
]


def stepper_trace(surface, config, start, steps, modifiers):
    """The runner's loop around ``Stepper.step``, in Python: (positions, status)."""
    stepper = Stepper(config, 2, modifiers)
    radius = escape_radius(surface)

    def at(x, g, with_hessian=False):
        """f at x; ∇f into g and, if asked, ∇²f into the stepper's Hessian (the runner's _eval_into)."""
        if with_hessian:
            j = surface.jet(x[0], x[1])
            stepper.h[:] = [[j[3], j[4]], [j[4], j[5]]]
        else:
            j = surface.first_order(x[0], x[1])
        g[0], g[1] = j[1], j[2]
        return float(j[0])

    theta = np.array(start, dtype=np.float64)
    g = np.empty(2)
    f = at(theta, g, stepper.needs_hessian)
    positions = [theta.copy()]
    status = "completed"
    for t in range(1, steps + 1):
        old = theta.copy()
        gm = g.copy()  # the runner records the true gradient; noise and clipping change the copy
        res = stepper.step(theta, f, gm, at, stepper.lr(t - 1))
        assert stepper.evals <= MAX_EVALS_PER_STEP
        if res == STALLED:
            assert np.array_equal(theta, old)
            status = "converged" if math.sqrt(g[0] * g[0] + g[1] * g[1]) <= STALL_GTOL * max(1.0, abs(f)) else "stalled"
            break
        if res == NEED_EVAL:
            assert np.array_equal(theta, old)
            status = "diverged"
            break
        if res == DONE_AT_QUERY:
            f = stepper.fq
            g[:] = stepper.gq
        else:
            f = at(theta, g, stepper.needs_hessian)
        if not (np.all(np.isfinite(theta)) and math.isfinite(f) and np.all(np.isfinite(g))
                and np.all(np.abs(theta) <= radius)):  # fmt: skip
            status = "diverged"
            break
        positions.append(theta.copy())
    return np.array(positions), status


def _case_id(case) -> str:
    name, overrides, modifiers = case
    parts = [name] + [f"{k}={v}" for k, v in overrides.items()] + (["modified"] if modifiers else [])
    return "-".join(parts)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("surface_name", list(SURFACES))
def test_stepper_and_compiled_runner_agree_step_for_step(surface_name, case):
    name, overrides, modifiers = case
    start, params = SURFACES[surface_name]
    surface = get_surface(surface_name, **params)
    config = make_config(name, **({"lr": LR[name]} if name in LR else {}), **overrides)
    mods = modifiers or Modifiers()
    traj = trace(surface, config, start=start, steps=STEPS, modifiers=mods)
    positions, status = stepper_trace(surface, config, start, STEPS, mods)
    assert status == traj.status, f"stepper {status}, runner {traj.message}"
    assert positions.shape == traj.positions.shape
    bad = np.flatnonzero(np.any(positions != traj.positions, axis=1))
    assert bad.size == 0, f"first difference at step {bad[:1]}: {positions[bad[:1]]} vs {traj.positions[bad[:1]]}"


def test_the_cases_cover_every_optimizer_for_a_few_hundred_steps():
    """Most runs go the distance, so the agreement is over real trajectories, not a few steps."""
    assert {name for name, _, _ in CASES} == {spec.name for spec in STEPPED}
    short = []
    for surface_name, (start, params) in SURFACES.items():
        surface = get_surface(surface_name, **params)
        for name, overrides, modifiers in CASES:
            config = make_config(name, **({"lr": LR[name]} if name in LR else {}), **overrides)
            traj = trace(surface, config, start=start, steps=STEPS, modifiers=modifiers or Modifiers())
            if traj.steps < STEPS:
                short.append((surface_name, _case_id((name, overrides, modifiers)), traj.message))
    assert len(short) <= len(CASES) * len(SURFACES) // 4, short


@pytest.mark.parametrize("name", [spec.name for spec in STEPPED])
def test_the_registry_family_decides_which_optimizers_take_modifiers(name):
    """Noise, clipping and schedules change a run exactly when the registry calls the optimizer first-order.

    The compiled runner applies the modifier vector it is given; the runner and the
    stepper take the decision from ``OptimizerSpec.first_order``, not from the id order.
    """
    spec = get_spec(name)
    surface = get_surface("rosenbrock")
    config = make_config(name, **({"lr": LR[name]} if name in LR else {}))
    plain = trace(surface, config, start=(-1.2, 1.0), steps=50)
    modified = trace(surface, config, start=(-1.2, 1.0), steps=50, modifiers=MODIFIED)
    stepped, _ = stepper_trace(surface, config, (-1.2, 1.0), 50, MODIFIED)
    assert np.array_equal(stepped, modified.positions)
    changed = plain.positions.shape != modified.positions.shape or np.any(plain.positions != modified.positions)
    assert changed == spec.first_order == (spec.family == "first-order")
    assert Stepper(config, 2, MODIFIED).perturbed == spec.first_order
    if not spec.first_order:
        assert np.array_equal(Stepper(config, 2, MODIFIED).mods, Modifiers().vector())


def test_only_textbook_nesterov_looks_ahead():
    """The look-ahead test both drivers share (``_kernels.looks_ahead``), for every registered optimizer."""
    for spec in SPECS:
        conventions = ("torch", "textbook") if "convention" in spec.keys() else (None,)
        for convention in conventions:
            config = make_config(spec.name, **({} if convention is None else {"convention": convention}))
            expected = spec.name == "nesterov" and convention == "textbook"
            assert Stepper(config, 2).lookahead == expected, (spec.name, convention)
    assert not Stepper(make_config("sgd", momentum=0.9, nesterov=True), 2).lookahead  # torch's Nesterov does not
