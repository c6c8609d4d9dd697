"""Configuration → trajectories, diagnostics series and the animation payload."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from app.explorer import compute
from app.explorer.state import DEFAULT, FORMULA, OptimizerEntry
from app.shell import surface_grid
from optimizers import make_config, trace
from surfaces import get_surface

E = OptimizerEntry.default


@pytest.fixture(scope="module")
def default_result():
    return compute.compute(DEFAULT)


def test_compute_traces_every_optimizer(default_result):
    r = default_result
    assert r.error is None and r.surface.name == "beale"
    assert [run.entry.color for run in r.runs] == [0, 1, 2, 3, 4, 5]
    for run in r.runs:
        t = run.trajectory
        assert run.ok and t.positions.shape == (501, 2)
        assert np.allclose(run.grad_norm, np.hypot(t.gradients[:, 0], t.gradients[:, 1]))
        assert run.distance.shape == (501,) and run.distance[-1] == pytest.approx(np.hypot(*(t.positions[-1] - (3, 0.5))))


def test_matches_the_engine_directly():
    cfg = replace(DEFAULT, optimizers=(E("adam", 0, lr=0.05),), arrows=0, steps=50, noise=0.1, seed=3, clip="norm")
    run = compute.compute(cfg).runs[0]
    direct = trace(get_surface("beale"), make_config("adam", lr=0.05), (1.0, 1.5), 50, cfg.modifiers())
    assert np.array_equal(run.trajectory.positions, direct.positions)


def test_refused_combination_becomes_a_card_error():
    cfg = replace(DEFAULT, optimizers=(E("sgd", 0, nesterov=True, momentum=0.0), E("adam", 1)), arrows=1)
    r = compute.compute(cfg)
    assert not r.runs[0].ok and "nesterov requires momentum" in r.runs[0].error
    assert r.runs[1].ok


def test_a_bad_formula_is_an_error_not_an_exception():
    cfg = replace(DEFAULT.with_surface(FORMULA), formula="x^^2 + __import__('os')")
    r = compute.compute(cfg)
    assert r.surface is None and r.runs == () and r.error and "\n" not in r.error


def test_a_formula_surface_runs():
    cfg = replace(DEFAULT.with_surface(FORMULA), formula="(x - 1)^2 + 4*y^2", optimizers=(E("sgd", 0, lr=0.1),),
                  arrows=0, steps=200)  # fmt: skip
    r = compute.compute(cfg)
    assert r.error is None
    assert np.allclose(r.runs[0].trajectory.positions[-1], (1.0, 0.0), atol=1e-6)


def test_divergence_is_reported_and_finite():
    cfg = replace(DEFAULT, optimizers=(E("sgd", 0, lr=5.0), E("adam", 1, lr=0.1)), arrows=0)
    r = compute.compute(cfg)
    bad, good = r.runs
    assert bad.trajectory.status == "diverged" and bad.trajectory.stop_step is not None
    assert good.trajectory.status == "completed"
    assert np.all(np.isfinite(bad.trajectory.positions))
    x, y, text, where = compute.end_marker(bad, cfg)
    (x0, x1), (y0, y1) = cfg.bounds
    assert x0 < x < x1 and y0 < y < y1
    assert text == f"diverged at step {bad.trajectory.stop_step}"
    assert where in ("bottom center", "top center", "middle left", "middle right")
    assert compute.end_marker(good, cfg) is None


def test_payload_is_plain_json_and_decodes(default_result):
    p = compute.payload(default_result, {"rev": "r"}, None)
    text = json.dumps(p, allow_nan=False)  # no NaN/inf may reach the page
    assert len(text) < 200_000
    sent = p["slots"][0]
    run = default_result.runs[0]
    assert np.array_equal(compute.unb64(sent["x"]), run.trajectory.positions[:, 0])
    assert np.allclose(compute.unb64(sent["f"], "<f4"), run.trajectory.losses, rtol=1e-6)
    assert sent["len"] == 501 and sent["status"] == "completed" and sent["end"] is None
    assert p["arrows"]["color"] == DEFAULT.arrows and p["arrows"]["mlabel"] == "−m"
    gx, gy = compute.unb64(p["arrows"]["gx"], "<f4"), compute.unb64(p["arrows"]["gy"], "<f4")
    norms = np.hypot(gx, gy)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-6)


def test_b64_replaces_non_finite():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1e300])
    assert compute.unb64(compute.b64(a)).tolist() == [1.0, 0.0, 0.0, 0.0, 1e300]
    assert np.all(np.isfinite(compute.unb64(compute.b64(a, "<f4"), "<f4")))


@pytest.mark.parametrize(
    "entry, label, sign",
    [
        (E("sgd", 0, momentum=0.9), "−b", -1.0),
        (E("momentum", 0, convention="textbook"), "v", 1.0),
        (E("adam", 0), "−m", -1.0),
        (E("delta_bar_delta", 0, momentum=0.5), "v", 1.0),
    ],
)
def test_momentum_arrow_points_along_the_step(entry, label, sign):
    cfg = replace(DEFAULT, optimizers=(entry,), arrows=0, steps=30)
    run = compute.compute(cfg).runs[0]
    series, got = compute.momentum_series(run)
    assert got == label
    # with a constant learning rate the step follows the momentum direction (cosine > 0)
    u = compute.next_updates(run.trajectory)[5:25]
    m = series[5:25]
    cos = np.sum(u * m, axis=1) / (np.hypot(*u.T) * np.hypot(*m.T))
    assert np.median(cos) > 0.5


def test_no_momentum_arrow_without_momentum():
    for entry in (E("sgd", 0), E("adagrad", 0), E("newton", 0), E("lbfgs", 0)):
        run = compute.compute(replace(DEFAULT, optimizers=(entry,), arrows=0, steps=20)).runs[0]
        assert compute.momentum_series(run) is None, entry.name


def test_next_updates_are_the_following_steps(default_result):
    t = default_result.runs[0].trajectory
    u = compute.next_updates(t)
    assert np.allclose(u[:-1], np.diff(t.positions, axis=0)) and np.all(u[-1] == 0)


def test_sample_log_scale():
    g = surface_grid.sample(get_surface("beale"), 60)
    assert g.scale.log and g.z.shape == (60, 60) and np.all(np.isfinite(g.z))
    assert g.scale.low < g.scale.cap
    assert surface_grid.sample(get_surface("saddle"), 30).scale.log is False
    wide = surface_grid.sample(get_surface("beale"), 30, eps_rel=1e-2)
    assert wide.scale.eps > g.scale.eps


def test_f_star():
    assert surface_grid.f_star(get_surface("beale")) == 0.0
    assert surface_grid.f_star(get_surface("goldstein_price")) == 3.0
    assert surface_grid.f_star(get_surface("saddle")) is None
