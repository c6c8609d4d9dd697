"""Every one-click lesson still shows what its text promises (checked on the actual traces)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.explorer import compute
from app.explorer.presets import BY_NAME, PRESETS, get_preset, lesson_for
from app.explorer.state import DEFAULT, from_query, to_query


def runs(name):
    r = compute.compute(BY_NAME[name].config)
    assert r.error is None
    return {f"{run.entry.name}:{run.entry.color}": run for run in r.runs}


def first_hit(run, radius=0.05):
    d = run.distance
    hits = np.nonzero(d < radius)[0]
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_round_trips_and_runs(preset):
    assert from_query(to_query(preset.config)) == preset.config
    assert lesson_for(preset.config) == preset.lesson
    r = compute.compute(preset.config)
    assert r.error is None and all(run.ok for run in r.runs)
    assert 3 <= len(r.runs) <= 6


def test_presets_are_distinct_and_found_by_name():
    assert len({p.name for p in PRESETS}) == len(PRESETS) == 15
    assert get_preset("beale") is BY_NAME["beale"] and get_preset("nope") is None and get_preset(None) is None
    assert BY_NAME["beale"].config == DEFAULT


def test_beale_adaptive_methods_win():
    r = runs("beale")
    sgd = r["sgd:0"].trajectory.losses[-1]
    assert r["adam:5"].trajectory.losses[-1] < sgd / 1000
    assert r["adagrad:3"].trajectory.losses[-1] < sgd / 1000
    assert first_hit(r["sgd:0"]) is None and first_hit(r["adam:5"]) is not None


def test_long_valley_momentum_accelerates():
    r = runs("long_valley")
    assert first_hit(r["sgd:0"]) is None  # still crawling after 300 steps
    assert first_hit(r["momentum:1"]) < 250 and first_hit(r["nesterov:2"]) < 250
    # the zig-zag: GD's y coordinate changes sign on most of its early steps
    y = r["sgd:0"].trajectory.positions[1:40, 1]
    assert np.mean(np.sign(y[1:]) != np.sign(y[:-1])) > 0.8


def test_quadratic_momentum_wins():
    r = runs("quadratic")
    assert first_hit(r["sgd:0"]) is None  # η = 1 crawls along the shallow direction
    assert first_hit(r["sgd:4"]) > 200  # η = 1.9 zig-zags and is still slow
    assert first_hit(r["momentum:1"]) < 100
    assert first_hit(r["nesterov:2"]) < first_hit(r["momentum:1"])


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_quadratic_surface_lesson_holds_for_any_race(kappa):
    """The surface's own sentence shows with every race on it, not only the preset's, so it states
    the textbook rates: GD is stable only for η < 2 (the steep curvature is 1) and needs of order κ
    steps per factor e; heavy-ball momentum with Polyak's tuning needs of order √κ."""
    from optimizers import make_config, trace
    from surfaces import get_surface

    lesson = lesson_for(from_query(f"?surface=quadratic&s.kappa={kappa:g}"))
    assert "η < 2" in lesson and "√κ" in lesson
    quad = get_surface("quadratic", kappa=kappa)
    start, n = (-9.0, 4.0), 6000

    def steps_to_1e10(config):
        t = trace(quad, config, start, n)
        hits = np.nonzero(t.losses < 1e-10 * t.losses[0])[0]
        return int(hits[0]) if hits.size else n

    gd = steps_to_1e10(make_config("sgd", lr=1.0))
    root = np.sqrt(kappa)
    polyak = make_config("momentum", lr=4.0 / (1.0 + 1.0 / root) ** 2, momentum=((root - 1) / (root + 1)) ** 2)
    heavy = steps_to_1e10(polyak)
    assert 0.25 * kappa < gd / np.log(1e10) < 2 * kappa or gd == n  # of order κ steps per factor e (κ/2 in theory)
    assert heavy / np.log(1e10) < 2 * root  # of order √κ
    assert gd / heavy > 0.3 * root
    for lr, stable in ((1.95, True), (2.05, False)):
        t = trace(quad, make_config("sgd", lr=lr), start, 300)
        assert (t.losses[-1] < t.losses[0]) == stable


def test_saddle():
    r = runs("saddle")
    sgd, mom, newton = r["sgd:0"].trajectory, r["momentum:1"].trajectory, r["newton:6"].trajectory
    assert sgd.status == mom.status == "diverged" and mom.stop_step < sgd.stop_step  # momentum escapes sooner
    assert np.hypot(*newton.positions[-1]) < 1e-9  # Newton sits on the saddle point
    assert r["adam:5"].trajectory.losses[-1] < -100  # adaptive steps escape down the y direction
    # GD lingers near the saddle first
    assert np.sum(np.hypot(*sgd.positions.T) < 0.1) >= 15


def test_himmelblau_different_basins():
    r = runs("himmelblau")
    surf = compute.build_surface(BY_NAME["himmelblau"].config)
    reached = {surf.nearest_minimum(*run.trajectory.positions[-1])[0] for k, run in r.items() if "newton" not in k}
    assert len(reached) >= 2
    newton = r["newton:6"].trajectory
    assert newton.losses[-1] > 150  # stays on the central maximum


def test_rastrigin_small_steps_stop_nearby():
    r = runs("rastrigin")
    sgd = r["sgd:0"].trajectory
    assert np.hypot(*(sgd.positions[-1] - (3.0, 2.0))) < 0.1  # the nearest local minimum
    assert r["adam:5"].trajectory.losses[-1] < sgd.losses[-1] / 3
    assert r["rmsprop:4"].trajectory.losses[-1] < sgd.losses[-1] / 3


def test_cliff_with_and_without_clipping():
    free, clipped = runs("cliff"), runs("cliff_clipped")
    flung = free["sgd:0"].trajectory.positions[:, 0].max()
    assert flung > 20  # far off the map (x ≤ 3)
    assert clipped["sgd:0"].trajectory.positions[:, 0].max() < 3
    assert first_hit(clipped["sgd:0"]) < 40 < first_hit(free["sgd:0"])
    assert free["momentum:1"].trajectory.positions[:, 0].max() > 2 * clipped["momentum:1"].trajectory.positions[:, 0].max()


SHARP, WIDE = (-1.5, 0.0), (1.5, 0.0)


def _ends_in(surface, trajectory):
    """(index of the nearest listed minimum, distance to it) at the run's last point."""
    return surface.nearest_minimum(*trajectory.positions[-1])


def test_sharp_vs_wide_sgd_takes_the_sharp_minimum_and_sam_the_wide_one():
    preset = BY_NAME["sharp_vs_wide"]
    r = compute.compute(preset.config)
    s = r.surface
    assert [(m.x, m.y, m.value) for m in s.minima] == [(*SHARP, 0.0), (*WIDE, 0.0)]  # equal depth
    sharp_h, wide_h = (s.hessian(m.x, m.y)[0, 0] for m in s.minima)
    assert sharp_h >= 20 * wide_h
    runs = {f"{run.entry.name}:{run.entry.color}": run.trajectory for run in r.runs}
    sgd, sam, sam0 = runs["sgd:2"], runs["sam:1"], runs["sam:0"]
    assert dict(r.runs[1].entry.values)["rho"] > 0 and dict(r.runs[2].entry.values)["rho"] == 0
    assert {dict(run.entry.values)["lr"] for run in r.runs} == {0.045}  # same η, same start
    assert all(t.status == "completed" for t in (sgd, sam, sam0))
    k, d = _ends_in(s, sgd)
    assert k == 0 and d < 1e-6  # settled in the sharp minimum
    k, d = _ends_in(s, sam)
    assert k == 1 and d < 0.05  # in the wide one (SAM keeps a small bounce of order ηρ there)
    np.testing.assert_array_equal(sam0.positions, sgd.positions)  # ρ = 0: plain SGD, to the last bit
    # SAM left the sharp basin early: it is nearer the wide minimum after 60 steps and stays there
    near = np.hypot(*(sam.positions - WIDE).T) < np.hypot(*(sam.positions - SHARP).T)
    assert near[60:].all()
    assert "sharp" in preset.lesson and "wide" in preset.lesson and "ρ = 0.25" in preset.lesson


def test_sharp_vs_wide_is_no_knife_edge():
    """120 neighbours of the preset (start moved up to ±0.1 in each coordinate, η by up to ±10%, ρ by up to
    ±20%; a fixed seed, so the draws are the same every run): SGD ends in the sharp minimum and SAM in the wide
    one in every one.  (SAM's bounces in the sharp basin are chaotic, so its path changes with the start; where
    it ends does not.)"""
    from optimizers import make_config, trace

    preset = BY_NAME["sharp_vs_wide"]
    s = compute.build_surface(preset.config)
    x0, y0 = preset.config.start
    rng = np.random.default_rng(2021)
    for _ in range(120):
        start = (x0 + rng.uniform(-0.1, 0.1), y0 + rng.uniform(-0.1, 0.1))
        lr, rho = 0.045 * rng.uniform(0.9, 1.1), 0.25 * rng.uniform(0.8, 1.2)
        sgd = trace(s, make_config("sgd", lr=lr, momentum=0.9), start, preset.config.steps)
        sam = trace(s, make_config("sam", lr=lr, rho=rho, base="momentum", momentum=0.9), start, preset.config.steps)
        assert _ends_in(s, sgd)[0] == 0, (start, lr)
        assert _ends_in(s, sam)[0] == 1, (start, lr, rho)


def test_sharp_vs_wide_works_from_the_command_line(capsys):
    from app.cli import main

    assert main(["export", "--preset", "sharp_vs_wide", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "sharp_wide" in json.dumps(doc)
    args = ["trace", "--surface", "sharp_wide", "--start=-1.7,0.35", "--steps", "400", "--set", "lr=0.045",
            "--set", "momentum=0.9"]  # fmt: skip
    assert main([*args, "--optimizer", "sgd"]) == 0
    sgd_last = [float(v) for v in capsys.readouterr().out.strip().splitlines()[-1].split(",")[1:3]]
    assert main([*args, "--optimizer", "sam", "--set", "rho=0.25", "--set", "base=momentum"]) == 0
    sam_last = [float(v) for v in capsys.readouterr().out.strip().splitlines()[-1].split(",")[1:3]]
    assert np.hypot(sgd_last[0] - SHARP[0], sgd_last[1]) < 1e-6
    assert np.hypot(sam_last[0] - WIDE[0], sam_last[1]) < 0.05


# --------------------------------------------------------------------------- data surfaces and minibatches


def _tail_distance(run, last=100):
    """Mean distance to the minimum over the run's last ``last`` steps."""
    return float(run.distance[-last:].mean())


def _with(name, **changes):
    """The runs of preset ``name`` with its configuration changed (what its sentence asks the reader to try)."""
    from dataclasses import replace

    r = compute.compute(replace(BY_NAME[name].config, **changes))
    assert r.error is None
    return {f"{run.entry.name}:{run.entry.color}": run for run in r.runs}


def test_minibatch_noise_ball_shrinks_with_eta_and_batch_and_vanishes_on_the_full_batch():
    r = runs("minibatch")
    cfg = BY_NAME["minibatch"].config
    assert (cfg.batch_size, dict(cfg.surface_params)["n"]) == (4, 64)  # "B = 4 of 64 points"
    big, mid, small = (_tail_distance(r[k]) for k in ("sgd:0", "sgd:4", "sgd:2"))
    assert big > mid > small > 0.005  # a noise ball at every η, smaller for smaller η
    assert big > 3 * small
    b16 = _with("minibatch", batch_size=16)
    assert _tail_distance(b16["sgd:0"]) < 0.5 * big  # a larger batch: a smaller ball at the same η
    full = _with("minibatch", batch_size=0)
    assert all(_tail_distance(run) < 1e-3 for run in full.values())  # the full batch converges
    # the loss gap over the last steps orders the same way
    gaps = [float(r[k].trajectory.losses[-100:].mean()) for k in ("sgd:0", "sgd:4", "sgd:2")]
    assert gaps[0] > gaps[1] > gaps[2]


def test_rprop_freezes_online_while_rmsprop_settles_and_rprop_converges_on_the_full_batch():
    r = runs("rprop_minibatch")
    rprop, rms = r["rprop:0"], r["rmsprop:4"]
    assert _tail_distance(rprop) > 2.0  # far from the minimum, from the start ≈ 3 away
    steps = np.hypot(*np.diff(rprop.trajectory.positions[-100:], axis=0).T)
    assert steps.max() < 1e-4  # its steps have shrunk to nothing: frozen
    assert _tail_distance(rms) < 0.15 and _tail_distance(rprop) > 10 * _tail_distance(rms)
    full = _with("rprop_minibatch", batch_size=0)
    assert _tail_distance(full["rprop:0"]) < 1e-6
    # why: the single points' gradients along Rprop's path flip sign on about 4 steps in 10, and at
    # 0.5 per flip and 1.2 per repeat the step shrinks on average
    from optimizers.batches import schedule

    cfg = BY_NAME["rprop_minibatch"].config
    surface = compute.build_surface(cfg)
    order = schedule(surface.n_points, cfg.modifiers(), cfg.steps)
    pos = rprop.trajectory.positions
    g = np.array([surface.batch_jet(order.indices(t), *pos[t - 1])[1:3] for t in range(1, cfg.steps + 1)])
    flips = np.mean(np.sign(g[1:]) != np.sign(g[:-1]), axis=0)
    assert np.all((0.3 < flips) & (flips < 0.5))
    assert np.all(flips * np.log(0.5) + (1 - flips) * np.log(1.2) < 0)


def _steps_to_gap(run, surface, gap=1e-6):
    hits = np.nonzero(run.trajectory.losses - surface.minima[0].value < gap)[0]
    return int(hits[0]) if hits.size else None


def _kappa(surface):
    m = surface.minima[0]
    lam = np.linalg.eigvalsh(surface.hessian(m.x, m.y))
    return float(lam[-1] / lam[0]), float(lam[-1])


def test_centring_the_inputs_rounds_the_bowl_and_speeds_gradient_descent_tenfold():
    uncentred, centred = (compute.compute(BY_NAME[n].config) for n in ("uncentred", "centred"))
    ku, lmax = _kappa(uncentred.surface)
    kc, _ = _kappa(centred.surface)
    assert 140 < ku < 160 and 1.1 < kc < 1.3  # κ ≈ 150 against κ ≈ 1.2 (the variance of the inputs)
    assert 0.085 < 2 / lmax < 0.095 and dict(BY_NAME["uncentred"].config.optimizers[0].values)["lr"] == 0.08
    slow, fast = _steps_to_gap(uncentred.runs[0], uncentred.surface), _steps_to_gap(centred.runs[0], centred.surface)
    assert 550 <= slow <= 650 and 45 <= fast <= 65 and slow >= 10 * fast
    # the same slope either way; the centred intercept is the mean target
    mu, mc = uncentred.surface.minima[0], centred.surface.minima[0]
    assert mu.x == pytest.approx(mc.x) and mc.y == pytest.approx(centred.surface.points[:, 1].mean())


def test_separable_classes_have_no_minimum_and_l2_restores_one():
    r = compute.compute(BY_NAME["separable"].config)
    assert r.surface.minima == ()
    for run in r.runs:
        t = run.trajectory
        norms = np.hypot(*t.positions.T)
        checkpoints = norms[[100, 200, 300, 400, 500]]
        assert np.all(np.diff(checkpoints) > 0), run.entry.label()  # the weights keep growing
        assert np.all(np.diff(t.losses[100:]) < 0), run.entry.label()  # and the loss keeps falling
        assert t.losses[-1] < 0.01
        # along the separating direction the points were drawn about (30°)
        from surfaces.data import LOGREG_DIRECTION

        grown = t.positions[-1] - t.positions[250]
        assert grown @ LOGREG_DIRECTION / np.linalg.norm(grown) > 0.9
    reg = compute.compute(BY_NAME["separable_l2"].config)
    m = reg.surface.minima[0]
    for run in reg.runs:
        assert np.hypot(*(run.trajectory.positions[-1] - (m.x, m.y))) < 1e-6, run.entry.label()
        assert run.trajectory.losses[-1] == pytest.approx(m.value, abs=1e-9)
