"""The loss-landscape slice: grid shape and orientation, centre, filter normalisation, projected paths."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autoencoder.data import load_data
from autoencoder.landscape import loss_landscape, pca_directions, project, race_landscape, random_directions
from autoencoder.model import Autoencoder, ModelSpec
from autoencoder.train import RaceResult, train_race
from optimizers import make_config


@pytest.fixture(scope="module")
def race() -> RaceResult:
    data = load_data("digits", max_samples=500)
    return train_race(data, [make_config("adam", lr=0.01), make_config("sgd", lr=0.5, momentum=0.9)],
                      ModelSpec(hidden=(16, 4, 16), batch_norm=True), epochs=6, psnr_corruptions=None,
                      landscape_samples=200)  # fmt: skip


@pytest.mark.parametrize("method", ["random", "pca"])
def test_grid_shape_centre_and_paths(race: RaceResult, method: str) -> None:
    land = race_landscape(race, method=method, resolution=9)
    xs, ys, z = land.grid
    assert xs.shape == (9,) and ys.shape == (9,) and z.shape == (9, 9)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0) and xs[4] == 0.0 == ys[4]
    centre = race.run(land.center)
    assert land.center == min(race.runs, key=lambda r: r.final_train_loss).key
    expected = race.model.loss(centre.theta, race.landscape_inputs, race.landscape_targets, bn_state=centre.bn_state)
    assert z[4, 4] == land.center_loss == pytest.approx(expected, rel=1e-12)
    assert set(land.paths) == {"adam", "sgd"}
    for key, path in land.paths.items():
        assert path.shape == (len(race.run(key).history), 2)
        assert land.path_epochs[key] == [h.epoch for h in race.run(key).history]
    np.testing.assert_allclose(land.paths[land.center][-1], [0.0, 0.0], atol=1e-9)
    assert np.all(np.isfinite(z)) and np.nanmin(z) <= land.center_loss * 1.0001
    json.dumps(land.to_dict(), allow_nan=False)


def test_rows_are_y(race: RaceResult) -> None:
    """z[i, j] is the loss at (xs[j], ys[i]), as Surface.grid lays it out."""
    land = race_landscape(race, resolution=5, span=0.5, samples=50)
    d1, d2 = land.directions
    c = race.run(land.center)
    x, t = race.landscape_inputs[:50], race.landscape_targets[:50]
    i, j = 1, 4
    theta = c.theta + land.xs[j] * d1 + land.ys[i] * d2
    assert land.z[i, j] == pytest.approx(race.model.loss(theta, x, t, bn_state=c.bn_state), rel=1e-12)
    assert land.z[j, i] != pytest.approx(land.z[i, j], rel=1e-6)


@pytest.mark.parametrize("normalization", ["layer", "filter"])
def test_filter_normalised_directions(normalization: str) -> None:
    m = Autoencoder(12, (6, 3, 6), batch_norm=True, skip=True)
    theta = m.init_params("he", seed=0)
    m.views(theta)["skip"][:] = 0.01
    d1, d2 = random_directions(m, theta, seed=1, normalization=normalization)
    assert not np.allclose(d1, d2)
    for b in m.blocks:
        dv, tv = b.view(d1), b.view(theta)
        if b.kind in ("bias", "gamma", "beta"):
            assert not np.any(dv)
        elif normalization == "layer":
            assert np.linalg.norm(dv) == pytest.approx(np.linalg.norm(tv), rel=1e-12)
        else:
            np.testing.assert_allclose(np.linalg.norm(dv, axis=0), np.linalg.norm(tv, axis=0), rtol=1e-12)


def test_pca_directions_and_projection() -> None:
    rng = np.random.default_rng(0)
    n = 50
    u, v = np.linalg.qr(rng.standard_normal((n, 2)))[0].T
    centre = rng.standard_normal(n)
    coords = np.column_stack([np.linspace(-3, 0, 8), 0.5 * np.sin(np.linspace(0, 3, 8))])
    coords[-1] = 0.0
    path = centre + coords @ np.vstack([u, v])
    d1, d2, explained = pca_directions(path, centre)
    assert d1 @ d1 == pytest.approx(1.0) and d2 @ d2 == pytest.approx(1.0) and abs(d1 @ d2) < 1e-10
    assert sum(explained) == pytest.approx(1.0) and explained[0] > explained[1] > 0
    p = project(path, centre, d1, d2)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), np.linalg.norm(coords, axis=1), atol=1e-9)
    np.testing.assert_allclose(p[-1], [0.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="straight line"):
        pca_directions(centre + np.outer(np.arange(5.0), u), centre)


def test_bad_requests(race: RaceResult) -> None:
    with pytest.raises(ValueError, match="odd"):
        race_landscape(race, resolution=10)
    with pytest.raises(ValueError, match="61"):
        race_landscape(race, resolution=63)
    with pytest.raises(ValueError, match="method"):
        race_landscape(race, method="hessian")
    with pytest.raises(ValueError, match="no run"):
        race_landscape(race, center="lion")
    m = Autoencoder(4, (2,))
    with pytest.raises(ValueError, match="all zero"):
        loss_landscape(m, np.zeros(m.n_params), np.random.default_rng(0).random((5, 4)))
    with pytest.raises(InterruptedError):
        race_landscape(race, resolution=5, cancel=lambda: True)
