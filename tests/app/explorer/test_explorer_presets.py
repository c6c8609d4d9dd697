"""Every one-click lesson still shows what its text promises (checked on the actual traces)."""

from __future__ import annotations

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
    assert len({p.name for p in PRESETS}) == len(PRESETS) == 8
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
