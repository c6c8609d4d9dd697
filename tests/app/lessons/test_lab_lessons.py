"""The lab's lessons (initialization and batch norm, linear autoencoder = PCA, denoising with skips): every claim
their texts make holds on the races their views train, trained as the page trains them."""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from app.lab.jobs import _pca_comparison, train_settings
from app.lab.state import sanitize
from app.lab.uploads import load_dataset
from app.lessons.library import library


@functools.lru_cache(maxsize=16)
def lab_race(view: str):
    """(settings, data, race) of a lesson's lab view, as the page's Start trains it."""
    settings, notes = sanitize(dict(parse_qsl(urlsplit(view).query)))
    assert notes == [], notes  # the lesson's link is read as written, not repaired
    data = load_dataset(settings, None, None)
    return settings, data, train_settings(settings, data)


def steps_of(lesson_id: str):
    found = library().get(lesson_id)
    assert found is not None, library().errors
    assert all(step.page == "/lab" and step.hide == ("form",) for step in found.steps)
    return found.steps


def final_val(race, i: int) -> float:
    run = race.runs[i]
    assert run.status == "completed", run.message
    return float(run.history[-1].val_loss)


def mean_image_loss(data) -> float:
    """Validation MSE of predicting the training set's average image for every input."""
    return float(np.mean((data.val - data.train.mean(axis=0)) ** 2))


def psnr_of(race, row: str, column: str) -> float:
    table = race.psnr.to_dict()
    j = table["columns"].index(column)
    (cells,) = [r["cells"] for r in table["rows"] if r["label"] == row]
    return float(cells[j]["mean"])


def test_init_and_batch_norm_lesson_claims_hold_on_the_races():
    naive, xavier, bn = steps_of("init_batchnorm")
    s, data, small = lab_race(naive.view)
    assert s.init == "naive" and s.act == "sigmoid" and not s.bn and [o.name for o in s.opts] == ["sgd", "adam"]
    mean = mean_image_loss(data)
    assert mean == pytest.approx(0.073, abs=0.001)  # "validation MSE about 0.073"
    # from the small start both optimizers end within 5 % of the average digit's loss
    assert abs(final_val(small, 0) / mean - 1) < 0.05 and abs(final_val(small, 1) / mean - 1) < 0.05
    # the variance factors the text quotes: n_in · 0.01² per layer
    assert 64 * 0.01**2 == pytest.approx(0.0064) and 32 * 0.01**2 == pytest.approx(0.0032)
    _, _, scaled = lab_race(xavier.view)
    assert lab_race(xavier.view)[0].init == "xavier"
    assert final_val(scaled, 1) < 0.5 * final_val(small, 1)  # Adam: less than half the small start's loss
    assert abs(final_val(scaled, 0) / mean - 1) < 0.03  # SGD has not left the average digit
    _, _, normed = lab_race(bn.view)
    assert lab_race(bn.view)[0].bn and lab_race(bn.view)[0].init == "naive"
    assert final_val(normed, 0) < 0.85 * mean  # SGD now learns from the start that stalled
    assert final_val(normed, 1) < min(final_val(small, 1), final_val(scaled, 1))  # Adam lowest of all three


def test_linear_autoencoder_lesson_claims_hold_on_the_races():
    linear, nonlinear = steps_of("linear_pca")
    s, data, race = lab_race(linear.view)
    assert s.act == "linear" and s.out == "linear" and s.hidden == (8,) and s.epochs == 200
    pca = _pca_comparison(race, data)
    assert pca["k"] == 8
    adam, sgd = pca["rows"]
    assert adam["label"].startswith("Adam") and sgd["label"].startswith("SGD")
    assert max(adam["angles_deg"]) < 2.0  # within 2° in every direction
    assert abs(adam["val_mse"] / pca["pca_val_mse"] - 1) < 0.02
    assert max(sgd["angles_deg"]) > 20.0  # "tens of degrees away"
    assert 1.6 < sgd["val_mse"] / pca["pca_val_mse"] < 2.4  # "about twice the error"
    assert pca["pca_val_mse"] == pytest.approx(0.024, abs=0.001)
    s2, _, deep = lab_race(nonlinear.view)
    assert s2.hidden == (8 * 4, 8, 8 * 4) and s2.act == "relu" and s2.out == "sigmoid" and s2.epochs == 200
    assert final_val(deep, 0) < pca["pca_val_mse"]
    assert "why" in _pca_comparison(deep, data)  # the panel says why it does not compare


def test_denoising_lesson_claims_hold_on_the_races():
    steps = steps_of("denoising_skips")
    skips = [lab_race(step.view)[0].skip for step in steps]
    assert skips == ["none", "shallow", "deep", "both"]
    col = "Gaussian (0.2)"
    races = [lab_race(step.view)[2] for step in steps]
    assert all(lab_race(step.view)[0].noise == "gaussian" for step in steps)
    noisy = psnr_of(races[0], "Input", col)
    none, shallow, deep, both = (psnr_of(r, r.runs[0].label, col) for r in races)
    assert none < noisy  # worse than the noisy input it was given
    assert shallow > none + 2.0 and shallow > noisy  # several dB more, and above the input
    assert none < deep < shallow  # helps, but less than the shallow skip
    assert both > max(none, shallow, deep)  # the highest of the four
    assert both - shallow < shallow - none  # the shallow skip does most of the work
