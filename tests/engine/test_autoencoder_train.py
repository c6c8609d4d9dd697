"""The optimizer race: every optimizer trains, the driver feeds the kernels right, PCA, denoising, control."""

from __future__ import annotations

import itertools
import json
import math
import pickle
import threading
import time

import numpy as np
import pytest

from autoencoder.data import Dataset, load_data
from autoencoder.metrics import pca_basis, subspace_angles
from autoencoder.model import ModelSpec
from autoencoder.train import MAX_RUNS, NEWTON_MAX_PARAMS, RaceEntry, train_race
from optimizers import Modifiers, make_config, optimizer_names

#: settings at which every optimizer makes clear progress in 3 epochs on the small digits net
SANE = {
    "sgd": {"lr": 0.5},
    "momentum": {"lr": 0.1},
    "nesterov": {"lr": 0.1},
    "adagrad": {"lr": 0.05},
    "rmsprop": {"lr": 0.003},
    "adadelta": {"lr": 1.0},
    "adam": {"lr": 0.01},
    "adamw": {"lr": 0.01},
    "nadam": {"lr": 0.01},
    "adamax": {"lr": 0.01},
    "radam": {"lr": 0.01},
    "lion": {"lr": 0.002},
    "rprop": {"lr": 0.001},
    "delta_bar_delta": {"lr": 0.5},
    "sam": {"lr": 0.5},
    "schedulefree_sgd": {"lr": 2.0},
    "schedulefree_adamw": {"lr": 0.01},
    "cg": {},
    "lbfgs": {},
}


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_data("digits")


@pytest.fixture(scope="module")
def small(digits: Dataset) -> Dataset:
    return load_data("digits", max_samples=600)


def _no_nan(obj: object) -> None:
    json.dumps(obj, allow_nan=False)


def test_every_optimizer_lowers_the_loss(small: Dataset) -> None:
    assert set(SANE) | {"newton", "hessian_free"} == set(optimizer_names())  # both have their own tests
    entries = [make_config(k, **v) for k, v in SANE.items()]
    entries.append(make_config("nesterov", lr=0.1, convention="textbook"))  # gradient at the look-ahead point
    entries.append(RaceEntry(make_config("rprop", lr=0.01), full_batch=True))  # Rprop as its notes advise
    assert len(entries) <= 2 * MAX_RUNS
    for chunk in (entries[:9], entries[9:]):  # a race takes at most MAX_RUNS; both Rprop entries share the second
        race = train_race(small, chunk, ModelSpec(hidden=(16,)), epochs=3, psnr_corruptions=None)
        for r in race.runs:
            assert r.status == "completed", r.key
            first, last = r.history[0].train_loss, r.history[-1].train_loss
            assert last < 0.95 * first, (r.key, first, last)
            assert [h.epoch for h in r.history] == [0, 1, 2, 3]
            assert r.full_batch == (r.config.name in ("cg", "lbfgs") or r.key == "rprop-2")
        _no_nan(race.to_dict())
    assert any(r.key == "rprop-2" for r in race.runs)
    clone = pickle.loads(pickle.dumps(race))  # background jobs and caches pickle results
    np.testing.assert_array_equal(clone.model.reconstruct(clone.runs[0].theta, small.val[:3]),
                                  race.model.reconstruct(race.runs[0].theta, small.val[:3]))  # fmt: skip


def test_newton_on_a_tiny_net(small: Dataset) -> None:
    spec = ModelSpec(hidden=(1,))
    race = train_race(small, [make_config("newton", damping=0.1)], spec, epochs=3, psnr_corruptions=None)
    r = race.runs[0]
    assert race.model.n_params <= NEWTON_MAX_PARAMS and r.precision == "float64"
    assert r.status == "completed"
    assert r.history[-1].train_loss < 0.97 * r.history[0].train_loss
    with pytest.raises(ValueError, match="limited to 300 parameters"):
        train_race(small, ["newton"], ModelSpec(hidden=(8,)), epochs=1)


def test_one_full_batch_sgd_step_is_exactly_the_gradient_step(small: Dataset) -> None:
    """The driver hands the kernel the network's true gradient: θ1 = θ0 − η∇L(θ0)."""
    spec = ModelSpec(hidden=(8,), batch_norm=True)
    n = small.train.shape[0]
    race = train_race(small, [make_config("sgd", lr=0.3)], spec, epochs=1, batch_size=n, precision="float64",
                      psnr_corruptions=None)  # fmt: skip
    _, g, _ = race.model.loss_and_grad(race.theta0, small.train[np.random.default_rng([0, 1, 1]).permutation(n)])
    np.testing.assert_allclose(race.runs[0].theta, race.theta0 - 0.3 * g, rtol=1e-12, atol=1e-15)


def test_textbook_nesterov_gets_the_gradient_at_the_look_ahead_point(small: Dataset) -> None:
    """Two full-batch steps of v ← μv − ε∇f(θ + μv); θ ← θ + v, computed here by hand."""
    spec = ModelSpec(hidden=(8,))
    x = small.train
    cfg = make_config("nesterov", lr=0.2, momentum=0.9, convention="textbook")
    race = train_race(small, [cfg], spec, epochs=2, batch_size=x.shape[0], precision="float64",
                      psnr_corruptions=None)  # fmt: skip
    m, theta = race.model, race.theta0.copy()
    v = np.zeros_like(theta)
    for _ in range(2):
        _, g, _ = m.loss_and_grad(theta + 0.9 * v, x)
        v = 0.9 * v - 0.2 * g
        theta = theta + v
    np.testing.assert_allclose(race.runs[0].theta, theta, rtol=1e-9, atol=1e-12)


def test_same_start_same_minibatches(small: Dataset) -> None:
    adam = make_config("adam", lr=0.01)
    race = train_race(small, [adam, adam, make_config("sgd", lr=0.2)], ModelSpec(hidden=(8,)), epochs=2,
                      psnr_corruptions=None)  # fmt: skip
    a, b, _ = race.runs
    assert [r.key for r in race.runs] == ["adam", "adam-2", "sgd"]
    assert len({r.label for r in race.runs}) == 3
    np.testing.assert_array_equal(a.theta, b.theta)
    assert [h.train_loss for h in a.history] == [h.train_loss for h in b.history]
    alone = train_race(small, [adam], ModelSpec(hidden=(8,)), epochs=2, psnr_corruptions=None)
    np.testing.assert_array_equal(alone.runs[0].theta, a.theta)  # runs do not disturb each other


def test_schedule_reaches_the_kernels(small: Dataset) -> None:
    """StepLR with γ = 0 zeroes the learning rate after 3 steps: the weights freeze."""
    mods = Modifiers(schedule="step", schedule_params=(("step_size", 3.0), ("gamma", 0.0)))
    race = train_race(small, [RaceEntry(make_config("sgd", lr=0.5), mods)], ModelSpec(hidden=(8,)),
                      epochs=3, batch_size=100, psnr_corruptions=None)  # fmt: skip
    h = race.runs[0].history
    assert h[1].train_loss < h[0].train_loss  # 3 of the 5 steps of epoch 1 moved
    assert h[2].train_loss == h[1].train_loss == h[3].train_loss
    clipped = train_race(small, [RaceEntry(make_config("sgd", lr=0.5), Modifiers(clip="norm", clip_value=1e-9))],
                         ModelSpec(hidden=(8,)), epochs=1, psnr_corruptions=None)  # fmt: skip
    assert np.max(np.abs(clipped.runs[0].theta - clipped.theta0)) < 1e-6


def test_linear_autoencoder_learns_the_pca_subspace(digits: Dataset) -> None:
    k = 4
    spec = ModelSpec(hidden=(k,), activation="linear", output_activation="linear")
    race = train_race(digits, [make_config("lbfgs", history=30)], spec, epochs=10, full_batch_iters=50,
                      psnr_corruptions=None)  # fmt: skip
    r = race.runs[0]
    assert r.status == "completed"
    top = pca_basis(digits.train, k)
    before = np.degrees(np.max(subspace_angles(race.model.decoder_matrix(race.theta0), top)))
    after = np.degrees(np.max(subspace_angles(race.model.decoder_matrix(r.theta), top)))
    assert before > 45.0
    assert after < 10.0
    centred = digits.train - digits.train.mean(0)
    best = np.sum(np.linalg.svd(centred, compute_uv=False)[k:] ** 2) / centred.size  # Eckart–Young
    assert r.final_train_loss == pytest.approx(best, rel=0.01)


def test_denoising_beats_the_noisy_input(digits: Dataset) -> None:
    race = train_race(digits, [make_config("adam", lr=0.01)], ModelSpec(hidden=(64,)), epochs=20, batch_size=32,
                      corruption="gaussian:0.2")  # fmt: skip
    table = race.psnr
    assert [c.kind for c in table.corruptions] == ["clean", "salt_pepper", "gaussian", "blur", "knockout"]
    assert table.rows == ["Input", "Adam (lr=0.01)"]
    noisy = table.cell("Input", "gaussian")
    model = table.cell("Adam (lr=0.01)", "gaussian")
    assert model[0] > noisy[0] + 2.0
    assert table.cell("Input", "clean") is None  # a clean input is its own perfect copy
    assert race.inputs.shape == race.originals.shape == (8, 64)
    assert not np.array_equal(race.inputs, race.originals)
    rec = race.reconstructions["adam"]
    assert rec.shape == (8, 64) and 0.0 <= rec.min() and rec.max() <= 1.0
    assert np.mean((rec - race.originals) ** 2) < np.mean((race.inputs - race.originals) ** 2)
    assert "Gaussian (0.2)" in table.to_text()
    _no_nan(race.to_dict())


def test_progress_receives_the_whole_history(small: Dataset) -> None:
    seen: list[dict] = []
    race = train_race(small, ["adam", "sgd"], ModelSpec(hidden=(8,)), epochs=3, progress=seen.append,
                      psnr_corruptions=None)  # fmt: skip
    assert len(seen) == 1 + 3 * 2
    assert [s["fraction"] for s in seen] == pytest.approx([0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1])
    last = seen[-1]
    for run, res in zip(last["runs"], race.runs):
        assert [h["epoch"] for h in run["history"]] == [0, 1, 2, 3]
        assert run["history"] == [h.to_dict() for h in res.history]
    for earlier, later in itertools.pairwise(seen):  # each call repeats everything sent before
        for a, b in zip(earlier["runs"], later["runs"]):
            assert b["history"][: len(a["history"])] == a["history"]
    _no_nan(seen)


def test_cancel_stops_within_one_epoch(digits: Dataset) -> None:
    stop = threading.Event()
    stopped_at: list[float] = []

    def progress(snap: dict) -> None:
        if snap["epoch"] == 2 and not stop.is_set():
            stop.set()
            stopped_at.append(time.perf_counter())

    race = train_race(digits, ["adam", "sgd"], ModelSpec(hidden=(32,)), epochs=200, batch_size=16,
                      progress=progress, cancel=stop)  # fmt: skip
    assert race.stopped == "cancelled"
    assert time.perf_counter() - stopped_at[0] < 5.0
    assert [len(r.history) for r in race.runs] == [3, 2]  # adam finished epoch 2; sgd's epoch 2 was dropped
    assert all(r.status == "cancelled" for r in race.runs)
    sgd = race.runs[1]
    assert sgd.history[-1].train_loss == pytest.approx(
        race.model.loss(sgd.theta, digits.train[:5000], bn_state=sgd.bn_state), rel=1e-12
    )  # the weights are those of the last recorded epoch
    calls = {"n": 0}

    def after_ten() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    again = train_race(digits, ["adam"], ModelSpec(hidden=(32,)), epochs=200, cancel=after_ten, psnr_corruptions=None)
    assert again.stopped == "cancelled" and len(again.runs[0].history) <= 2


def test_time_limit(small: Dataset) -> None:
    t0 = time.perf_counter()
    race = train_race(small, ["adam"], ModelSpec(hidden=(32,)), epochs=200, batch_size=4, time_limit=0.3,
                      psnr_corruptions=None)  # fmt: skip
    assert race.stopped == "time_limit" and race.runs[0].status == "time_limit"
    assert time.perf_counter() - t0 < 3.0
    assert 1 <= len(race.runs[0].history) < 201


def test_divergence_ends_a_run_without_nan(small: Dataset) -> None:
    spec = ModelSpec(hidden=(8,), output_activation="linear")
    race = train_race(small, [make_config("sgd", lr=1e6), make_config("adam", lr=0.01)], spec, epochs=3)
    bad, good = race.runs
    assert bad.status == "diverged" and bad.diverged_at_epoch == 1
    assert [h.epoch for h in bad.history] == [0]
    np.testing.assert_array_equal(bad.theta, race.theta0)
    assert "diverged" in bad.message
    assert good.status == "completed" and len(good.history) == 4
    d = race.to_dict()
    _no_nan(d)
    assert d["runs"][0]["diverged_at_epoch"] == 1
    assert all(math.isfinite(v) for v in np.ravel(race.reconstructions["sgd"]))


def test_bounds_are_enforced(small: Dataset) -> None:
    spec = ModelSpec(hidden=(4,))
    for kwargs, match in [
        ({"epochs": 201}, "epochs"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch size"),
        ({"precision": "float16"}, "precision"),
        ({"time_limit": -1}, "time limit"),
        ({"corruption": "blur:9"}, "blur level"),
    ]:
        with pytest.raises(ValueError, match=match):
            train_race(small, ["adam"], spec, **kwargs)
    with pytest.raises(ValueError, match="1 to 16"):
        train_race(small, ["adam"] * 17, spec, epochs=1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        train_race(small, ["adabelief"], spec, epochs=1)
    with pytest.raises(ValueError, match="limit is 5,000,000"):
        train_race(small, ["adam"], ModelSpec(hidden=(40_000,)), epochs=1)


def test_batch_norm_race_uses_running_statistics_for_evaluation(small: Dataset) -> None:
    race = train_race(small, ["adam"], ModelSpec(hidden=(16, 4, 16), batch_norm=True), epochs=2, batch_size=32,
                      psnr_corruptions=None)  # fmt: skip
    r = race.runs[0]
    assert r.bn_state.updates == 2 * math.ceil(small.train.shape[0] / 32)
    assert not np.allclose(r.bn_state.mean[0], 0.0)
    x = small.val[:5]
    one_by_one = np.vstack([race.model.reconstruct(r.theta, x[i : i + 1], r.bn_state) for i in range(5)])
    np.testing.assert_allclose(race.model.reconstruct(r.theta, x, r.bn_state), one_by_one, rtol=1e-12)
    assert r.history[-1].val_loss == pytest.approx(race.model.loss(r.theta, small.val, bn_state=r.bn_state))
