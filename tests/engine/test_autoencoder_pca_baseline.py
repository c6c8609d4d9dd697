"""A trained linear autoencoder spans the PCA subspace (Baldi & Hornik 1989) and reconstructs as well as PCA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autoencoder.data import Dataset, load_data
from autoencoder.model import ModelSpec
from autoencoder.pca_baseline import pca_baseline, pca_reconstruction_mse, why_not_linear
from autoencoder.train import train_race
from optimizers import make_config

K = 4
LINEAR = ModelSpec(hidden=(K,), activation="linear", output_activation="linear")


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_data("digits", max_samples=600)


def test_pca_reconstruction_of_rows_in_a_plane_is_exact_and_of_noise_is_not():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0]
    plane = rng.normal(size=(200, 2)) @ basis.T + 3.0  # an affine 2-D plane in 6-D
    assert pca_reconstruction_mse(plane[:150], plane[150:], 2) < 1e-24
    assert pca_reconstruction_mse(plane[:150], plane[150:], 1) > 1e-3
    noise = rng.normal(size=(200, 6))
    # one direction of white noise keeps about 5/6 of its variance out
    assert pca_reconstruction_mse(noise[:150], noise[150:], 1) == pytest.approx(5 / 6, rel=0.2)


def test_a_trained_linear_autoencoder_matches_pca_and_its_start_does_not(digits):
    race = train_race(digits, [make_config("lbfgs", history=30)], LINEAR, epochs=10, full_batch_iters=50,
                      psnr_corruptions=None)  # fmt: skip
    r = race.runs[0]
    out = pca_baseline(race.model, [("start", race.theta0), (r.label, r.theta)], digits.train, digits.val)
    assert out.k == K and [row.label for row in out.rows] == ["start", r.label]
    start, trained = out.rows
    assert len(trained.angles_deg) == K and list(trained.angles_deg) == sorted(trained.angles_deg, reverse=True)
    assert start.max_angle_deg > 45.0 and trained.max_angle_deg < 10.0
    assert trained.val_mse == pytest.approx(out.pca_val_mse, rel=0.05)
    assert start.val_mse > 1.5 * out.pca_val_mse
    # the PCA error is Eckart–Young's on the validation rows, computed independently here
    mean = digits.train.mean(0)
    _, _, vt = np.linalg.svd(digits.train - mean, full_matrices=False)
    v = vt[:K].T
    rec = mean + (digits.val - mean) @ v @ v.T
    assert out.pca_val_mse == pytest.approx(float(np.mean((rec - digits.val) ** 2)), rel=1e-10)
    assert out.to_dict()["rows"][1]["label"] == r.label


def test_a_diverged_run_gets_no_numbers_and_a_nonlinear_model_is_refused(digits):
    race = train_race(digits, [make_config("sgd", lr=0.01)], LINEAR, epochs=1, psnr_corruptions=None)
    bad = np.full_like(race.theta0, np.nan)
    (row,) = pca_baseline(race.model, [("gone", bad)], digits.train, digits.val).rows
    assert all(math.isnan(a) for a in row.angles_deg) and math.isnan(row.val_mse)
    for spec, words in ((ModelSpec(hidden=(K,)), "linear autoencoder"),
                        (ModelSpec(hidden=(K,), activation="linear", output_activation="linear", skip=True), "skip"),
                        (ModelSpec(hidden=(K,), activation="linear", output_activation="linear", batch_norm=True),
                         "batch norm")):  # fmt: skip
        model = spec.build(digits.n_features)
        assert words in why_not_linear(model)
        with pytest.raises(ValueError, match=words):
            pca_baseline(model, [("x", model.init_params())], digits.train, digits.val)
    assert why_not_linear(LINEAR.build(digits.n_features)) is None
