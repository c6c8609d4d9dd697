"""The runner: recorded arrays, divergence handling, early stopping, batched sweeps."""

import numpy as np
import pytest

from optimizers import Modifiers, make_config, optimizer_names, sweep, trace
from optimizers.runner import MAX_STEPS, escape_radius
from surfaces import get_surface


def test_trace_records_every_step_consistently():
    s = get_surface("beale")
    t = trace(s, make_config("adam", lr=0.01), (1.0, 1.5), 200)
    assert t.status == "completed" and t.steps == 200
    assert t.positions.shape == (201, 2) and t.losses.shape == (201,)
    assert np.array_equal(t.positions[0], [1.0, 1.5])
    assert np.allclose(np.diff(t.positions, axis=0), t.updates[1:], rtol=0, atol=1e-15)
    assert np.allclose(t.losses, s.value(t.positions[:, 0], t.positions[:, 1]), rtol=1e-13)
    assert np.allclose(t.gradients, s.gradient(t.positions[:, 0], t.positions[:, 1]), rtol=1e-12, atol=1e-12)
    assert set(t.state) == {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert t.losses[-1] < t.losses[0]


def test_first_adam_step_moves_every_coordinate_by_lr():
    """Bias correction makes Adam's first step η·sign(g) (up to ε)."""
    t = trace(get_surface("beale"), make_config("adam", lr=0.01), (1.0, 1.5), 1)
    assert np.allclose(t.updates[1], -0.01 * np.sign(t.gradients[0]), rtol=1e-6)


def test_gradient_descent_on_lecture_quadratic_matches_closed_form():
    """x_r = (1 − εη)^r x_0, y_r = (1 − η)^r y_0 (the lecture's derivation)."""
    kappa, eta = 20.0, 0.5
    s = get_surface("quadratic", kappa=kappa, angle=0)
    t = trace(s, make_config("sgd", lr=eta), (-9.0, 4.0), 50)
    r = np.arange(51)
    assert np.allclose(t.positions[:, 0], (1 - eta / kappa) ** r * -9.0, rtol=1e-12)
    assert np.allclose(t.positions[:, 1], (1 - eta) ** r * 4.0, rtol=1e-12, atol=1e-300)


def test_gd_diverges_past_two_over_L_and_stops_cleanly():
    s = get_surface("quadratic", kappa=10, angle=0)  # L = 1
    t = trace(s, make_config("sgd", lr=2.5), (-9.0, 4.0), 5000)
    assert t.status == "diverged" and t.diverged
    assert t.stop_step == t.steps + 1
    assert np.all(np.isfinite(t.positions)) and np.all(np.abs(t.positions) <= escape_radius(s))
    assert "diverged at step" in t.message


def test_momentum_beats_gd_on_ill_conditioned_quadratic():
    s = get_surface("quadratic", kappa=100, angle=0)
    gd = trace(s, make_config("sgd", lr=1.0), (-9.0, 4.0), 300)
    mom = trace(s, make_config("momentum", lr=1.0, momentum=0.8), (-9.0, 4.0), 300)
    assert mom.losses[-1] < 1e-3 * gd.losses[-1]


def test_newton_solves_a_quadratic_in_one_step():
    s = get_surface("booth")
    t = trace(s, make_config("newton"), (-8.0, -8.0), 3)
    assert np.allclose(t.positions[1], [1.0, 3.0], atol=1e-12)


def test_newton_is_attracted_to_the_saddle():
    t = trace(get_surface("saddle"), make_config("newton"), (-1.8, 0.5), 2)
    assert np.allclose(t.positions[1], 0.0, atol=1e-12)


def test_newton_stalls_on_singular_hessian():
    """x⁴ + y² has a singular Hessian on x = 0; away from y = 0 the gradient is not zero."""
    t = trace(get_surface("formula:x^4 + y^2"), make_config("newton"), (0.0, 1.0), 5)
    assert t.status == "stalled" and t.steps == 0 and "stalled at step 1" in t.message


def test_no_step_at_a_stationary_point_counts_as_converged():
    t = trace(get_surface("monkey_saddle"), make_config("newton"), (0.0, 0.0), 5)
    assert t.status == "converged" and t.steps == 0
    cg = trace(get_surface("beale"), make_config("cg"), (1.0, 1.5), 500)
    assert cg.status == "converged" and np.allclose(cg.positions[-1], [3.0, 0.5])


@pytest.mark.parametrize("name", ["lbfgs", "cg"])
def test_line_search_methods_solve_rosenbrock(name):
    t = trace(get_surface("rosenbrock"), make_config(name), (-1.2, 1.0), 400)
    assert np.allclose(t.positions[-1], [1.0, 1.0], atol=1e-5)
    assert np.all(np.diff(t.losses) <= 1e-12)  # line searches never increase f


def test_early_stop_on_convergence():
    t = trace(get_surface("booth"), make_config("lbfgs"), (-8.0, -8.0), 500, gtol=1e-8, xtol=1e-8)
    assert t.status == "converged" and t.steps < 50 and t.stop_step == t.steps


def test_textbook_nesterov_evaluates_gradient_at_lookahead():
    s = get_surface("quadratic", kappa=10, angle=0)
    t = trace(s, make_config("nesterov", lr=0.1, momentum=0.9, convention="textbook"), (-9.0, 4.0), 3)
    v = np.zeros(2)
    th = np.array([-9.0, 4.0])
    for k in range(1, 4):
        g = s.gradient(*(th + 0.9 * v))
        v = 0.9 * v - 0.1 * g
        th = th + v
        assert np.allclose(t.positions[k], th, rtol=1e-14)


def test_bad_inputs_are_refused():
    s = get_surface("beale")
    c = make_config("adam")
    with pytest.raises(ValueError, match="start"):
        trace(s, c, (1.0, float("nan")), 10)
    with pytest.raises(ValueError, match="steps"):
        trace(s, c, (1.0, 1.0), MAX_STEPS + 1)
    with pytest.raises(ValueError, match="steps"):
        trace(s, c, (1.0, 1.0), -1)


def test_sweep_jobs_equal_their_single_traces():
    s = get_surface("himmelblau")
    mods = Modifiers(noise=0.5, seed=7, clip="norm", clip_value=2.0, schedule="cosine")
    rng = np.random.default_rng(3)
    starts = rng.uniform(-5, 5, (150, 2))
    for cfg in (make_config("adam", lr=0.05), make_config("nesterov", lr=0.01, convention="textbook")):
        res = sweep(s, cfg, starts, 300, modifiers=mods, gtol=0.0)
        for k in range(0, 150, 7):
            t = trace(s, cfg, starts[k], 300, modifiers=mods)
            assert np.array_equal(res.final_positions[k], t.positions[-1])
            assert (res.status[k] == 2) == t.diverged


def test_sweep_hyperparameter_grid_uses_per_job_vectors():
    s = get_surface("quadratic", kappa=10, angle=0)
    cfg = make_config("sgd")
    lrs = np.array([0.5, 1.9, 2.1, 3.0])
    hyper = np.tile(cfg.vector, (4, 1))
    hyper[:, 0] = lrs
    res = sweep(s, cfg, (-9.0, 4.0), 2000, hyper=hyper)
    assert list(res.diverged) == [False, False, True, True]
    assert np.all(res.converged[:2])


def test_sweep_himmelblau_basins_and_steps():
    s = get_surface("himmelblau")
    starts = np.array([[m.x + 0.3, m.y - 0.2] for m in s.minima])
    res = sweep(s, make_config("lbfgs"), starts, 200)
    for k, m in enumerate(s.minima):
        assert np.hypot(*(res.final_positions[k] - [m.x, m.y])) < 1e-5
    assert np.all(res.steps_to_converge > 0)


def test_sweep_refuses_oversized_work():
    s = get_surface("beale")
    with pytest.raises(ValueError, match="at most"):
        sweep(s, make_config("adam"), np.zeros((400 * 400 + 1, 2)), 10)


def test_only_schedule_free_runs_carry_an_averaged_point():
    """The evaluated point x of schedule-free runs beside the iterate y: row 0 the start, then the state's x;
    every other rule has none."""
    beale = get_surface("beale")
    for name in optimizer_names():
        t = trace(beale, make_config(name), start=(1.0, 1.5), steps=20)
        if not name.startswith("schedulefree"):
            assert t.averaged is None and t.averaged_losses is None, name
            continue
        assert t.averaged.shape == t.positions.shape == (21, 2)
        np.testing.assert_array_equal(t.averaged[0], [1.0, 1.5])
        np.testing.assert_array_equal(t.averaged[1:], t.state["x"][1:])
        assert np.all(t.state["x"][0] == 0.0)  # the kernel's state before the first step: why row 0 is replaced
        np.testing.assert_array_equal(t.averaged_losses, beale.value(t.averaged[:, 0], t.averaged[:, 1]))
