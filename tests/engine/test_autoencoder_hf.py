"""The autoencoder lab trains with Martens' Hessian-free method: curvature products on a minibatch, no matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.cli import main
from autoencoder import hf_epoch
from autoencoder.data import load_data
from autoencoder.model import ModelSpec
from autoencoder.train import NEWTON_MAX_PARAMS, train_race
from optimizers import make_config


@pytest.fixture(scope="module")
def digits300():
    return load_data("digits", max_samples=300)


def test_five_epochs_lower_the_loss_with_cg_iterations_each_step(digits300, monkeypatch):
    calls = {"gn": 0}
    real = hf_epoch.gauss_newton_vector_product

    def counted(*args, **kwargs):
        calls["gn"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(hf_epoch, "gauss_newton_vector_product", counted)
    spec = ModelSpec(hidden=(32, 8, 32))
    race = train_race(digits300, [make_config("hessian_free")], spec, epochs=5, psnr_corruptions=None)
    (run,) = race.runs
    assert race.model.n_params == 4744 > NEWTON_MAX_PARAMS  # no n×n matrix: any size trains
    assert run.status == "completed"
    losses = [h.train_loss for h in run.history]
    assert losses[-1] < 0.5 * losses[0]
    assert len(run.cg_iterations) == run.history[-1].steps == 5 * hf_epoch.ITERS_PER_EPOCH
    assert all(1 <= c <= hf_epoch.MAX_CG_NETWORK for c in run.cg_iterations)
    assert sum(run.curvature_products) == calls["gn"] >= len(run.cg_iterations)
    summary = race.to_dict()["runs"][0]
    json.dumps(summary, allow_nan=False)
    assert summary["cg_iterations"] == run.cg_iterations


def test_no_matrix_of_the_parameters_is_allocated(digits300, monkeypatch):
    """A net of 66,176 parameters (a 35 GB Hessian) trains: nothing of size n² is ever asked for."""
    real = np.zeros

    def guarded(shape, *args, **kwargs):
        size = int(np.prod(shape))
        assert size < 66_176 * 1000, f"an array of {size:,} elements was allocated"
        return real(shape, *args, **kwargs)

    monkeypatch.setattr(np, "zeros", guarded)
    race = train_race(digits300, [make_config("hessian_free", max_cg=3)], ModelSpec(hidden=(256, 64, 256)),
                      epochs=1, psnr_corruptions=None)  # fmt: skip
    (run,) = race.runs
    assert race.model.n_params == 66_176 and run.status == "completed"
    assert run.history[-1].train_loss < run.history[0].train_loss


def test_exact_hessian_products_when_gauss_newton_is_off(digits300):
    race = train_race(digits300, [make_config("hessian_free", gauss_newton=False)], ModelSpec(hidden=(8,)),
                      epochs=2, psnr_corruptions=None)  # fmt: skip
    (run,) = race.runs
    assert run.status in ("completed", "stalled")
    assert np.isfinite(run.history[-1].train_loss) and run.cg_iterations


def test_other_runs_record_no_cg(digits300):
    race = train_race(digits300, [make_config("sgd")], ModelSpec(hidden=(8,)), epochs=1, psnr_corruptions=None)
    assert race.runs[0].cg_iterations == [] and race.to_dict()["runs"][0]["cg_iterations"] is None


def test_the_cli_trains_and_reports_both(capsys):
    code = main(["train", "--data", "digits", "--max-samples", "300", "--hidden", "32,8,32", "--optimizer",
                 "hessian_free", "--optimizer", "sgd", "--epochs", "5"])  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    lines = {line.split()[0]: line for line in err.splitlines() if line.startswith("  ")}
    assert "hessian_free" in lines and "sgd" in lines
    assert "CG " in lines["hessian_free"] and "/step" in lines["hessian_free"]
    assert "CG " not in lines["sgd"]
    assert "5,hessian_free," in out and "5,sgd," in out
