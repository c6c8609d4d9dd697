"""The autoencoder's forward/backward passes, batch norm's two modes, and the initialisations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from autoencoder.model import (
    ACTIVATIONS,
    MAX_PARAMS,
    NAIVE_STD,
    Autoencoder,
    ModelSpec,
    init_variance,
    numerical_gradient,
    parse_hidden,
)

CASES = [
    (act, out, loss, bn, skip)
    for act, out, loss, bn, skip in itertools.product(
        ACTIVATIONS, ACTIVATIONS, ("mse", "bce"), (False, True), (False, True)
    )
    if loss == "mse" or out == "sigmoid"
]


@pytest.mark.parametrize(("act", "out", "loss", "bn", "skip"), CASES)
def test_gradient_matches_central_differences(act: str, out: str, loss: str, bn: bool, skip: bool) -> None:
    rng = np.random.default_rng(hash((act, out, loss, bn, skip)) % 2**32)
    m = Autoencoder(7, (5, 3, 4), act, out, loss, batch_norm=bn, skip=skip)
    theta = m.init_params("xavier", seed=1) + 0.2 * rng.standard_normal(m.n_params)
    x = rng.random((6, 7))
    t = rng.random((6, 7))
    f, g, _ = m.loss_and_grad(theta, x, t)
    num = numerical_gradient(lambda v: m.loss(v, x, t, train=True), theta, 1e-6)
    assert f == pytest.approx(m.loss(theta, x, t, train=True), rel=1e-12)
    scale = max(1e-8, float(np.max(np.abs(num))))
    assert np.max(np.abs(g - num)) / scale < 1e-6


def test_gradient_of_every_block_is_checked() -> None:
    """The cases above touch W, b, γ, β and the skip matrix (each gets a non-zero gradient)."""
    m = Autoencoder(7, (5, 3), "tanh", "sigmoid", batch_norm=True, skip=True)
    theta = m.init_params("he", seed=0) + 0.1
    x = np.random.default_rng(0).random((8, 7))
    _, g, _ = m.loss_and_grad(theta, x)
    kinds = {b.kind for b in m.blocks if np.any(b.view(g) != 0)}
    assert kinds == {"weight", "bias", "gamma", "beta", "skip"}


def test_float32_gradient_close_to_float64() -> None:
    m = Autoencoder(64, (32, 8, 32), batch_norm=True)
    theta = m.init_params("xavier", seed=0)
    x = np.random.default_rng(0).random((50, 64))
    f64, g64, _ = m.loss_and_grad(theta, x)
    f32, g32, _ = m.loss_and_grad(theta, x, dtype=np.float32)
    assert g32.dtype == np.float64
    assert f32 == pytest.approx(f64, rel=1e-5)
    assert np.linalg.norm(g32 - g64) <= 1e-4 * np.linalg.norm(g64)


def test_chunked_accumulation_equals_one_batch() -> None:
    m = Autoencoder(10, (6,))
    theta = m.init_params("xavier", seed=2)
    x = np.random.default_rng(2).random((30, 10))
    f, g, _ = m.loss_and_grad(theta, x)
    acc = np.zeros(m.n_params)
    total = 0.0
    for s in (slice(0, 12), slice(12, 30)):
        w = (s.stop - s.start) / 30
        fc, _, _ = m.loss_and_grad(theta, x[s], out=acc, scale=w, accumulate=True)
        total += w * fc
    assert total == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(acc, g, rtol=1e-10, atol=1e-14)


def test_parameters_live_in_one_flat_vector() -> None:
    m = Autoencoder(6, (4, 2, 4), batch_norm=True, skip=True)
    theta = m.init_params("xavier")
    v = m.views(theta)
    v["W1"][0, 0] = 123.0
    v["gamma0"][1] = -7.0
    assert 123.0 in theta and -7.0 in theta
    assert sum(b.size for b in m.blocks) == m.n_params == theta.size
    assert "b0" not in v and "beta0" in v  # batch norm replaces the bias of a hidden layer
    assert "b3" in v and "gamma3" not in v and "gamma2" in v  # the output layer: a bias, no batch norm
    assert v["skip"].shape == (6, 6) and not np.any(v["skip"])


# ----------------------------------------------------------------------------- batch norm
def _bn_model() -> tuple[Autoencoder, np.ndarray]:
    m = Autoencoder(5, (4,), "linear", "linear", batch_norm=True)
    theta = m.init_params("xavier", seed=3)
    v = m.views(theta)
    v["gamma0"][:] = [1.5, 0.5, 2.0, 1.0]
    v["beta0"][:] = [0.1, -0.2, 0.3, 0.0]
    return m, theta


def test_eval_mode_uses_running_statistics() -> None:
    m, theta = _bn_model()
    v = m.views(theta)
    x = np.random.default_rng(0).random((16, 5))
    bn = m.new_bn_state()
    bn.mean[0][:] = [5.0, -3.0, 1.0, 0.5]
    bn.var[0][:] = [4.0, 0.25, 9.0, 1.0]
    z = x @ v["W0"]
    h_running = (z - bn.mean[0]) / np.sqrt(bn.var[0] + m.bn_eps) * v["gamma0"] + v["beta0"]
    h_batch = (z - z.mean(0)) / np.sqrt(z.var(0) + m.bn_eps) * v["gamma0"] + v["beta0"]
    expected_eval = h_running @ v["W1"] + v["b1"]
    expected_train = h_batch @ v["W1"] + v["b1"]
    np.testing.assert_allclose(m.forward(theta, x, bn_state=bn), expected_eval, rtol=1e-12)
    np.testing.assert_allclose(m.forward(theta, x, train=True), expected_train, rtol=1e-12)
    assert not np.allclose(expected_eval, expected_train)


def test_eval_mode_treats_each_sample_alone() -> None:
    """With running statistics a sample's output does not depend on the rest of the batch."""
    m, theta = _bn_model()
    bn = m.new_bn_state()
    bn.mean[0][:] = 0.3
    bn.var[0][:] = 2.0
    x = np.random.default_rng(1).random((10, 5))
    together = m.forward(theta, x, bn_state=bn)
    alone = np.vstack([m.forward(theta, x[i : i + 1], bn_state=bn) for i in range(10)])
    np.testing.assert_allclose(together, alone, rtol=1e-12)
    assert not np.allclose(m.forward(theta, x[:3], train=True)[0], m.forward(theta, x, train=True)[0])


def test_eval_mode_without_running_statistics_is_refused() -> None:
    m, theta = _bn_model()
    with pytest.raises(ValueError, match="running statistics"):
        m.forward(theta, np.zeros((2, 5)))


def test_running_statistics_follow_torch_momentum_rule() -> None:
    m, theta = _bn_model()
    v = m.views(theta)
    bn = m.new_bn_state()
    x = np.random.default_rng(2).random((12, 5))
    _, _, stats = m.loss_and_grad(theta, x)
    bn.update(stats)
    z = x @ v["W0"]
    np.testing.assert_allclose(bn.mean[0], 0.9 * 0.0 + 0.1 * z.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.var[0], 0.9 * 1.0 + 0.1 * z.var(0, ddof=1), rtol=1e-12)
    for _ in range(200):
        bn.update(stats)
    np.testing.assert_allclose(bn.mean[0], z.mean(0), rtol=1e-6)


# ----------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize(
    ("init", "expected"),
    [("xavier", 1 / 400), ("he", 2 / 400), ("xavier_uniform", 2 / (400 + 300)), ("naive", NAIVE_STD**2)],
)
def test_initial_weight_variance_matches_the_lecture(init: str, expected: float) -> None:
    m = Autoencoder(400, (300,))
    w = m.views(m.init_params(init, seed=5))["W0"]
    assert init_variance(init, 400, 300) == pytest.approx(expected)
    assert w.var() == pytest.approx(expected, rel=0.02)  # 120 000 draws: sampling error ≈ 0.4 %
    assert abs(w.mean()) < 4 * math.sqrt(expected / w.size)
    if init == "xavier_uniform":
        assert np.max(np.abs(w)) <= math.sqrt(6 / 700)
    w2 = m.views(m.init_params(init, seed=5))["W1"]  # fan-in 300 for the decoder
    if init in ("xavier", "he"):
        assert w2.var() == pytest.approx(expected * 400 / 300, rel=0.02)


def test_biases_zero_gammas_one_after_init() -> None:
    m = Autoencoder(9, (6, 3), batch_norm=True)
    v = m.views(m.init_params("he", seed=1))
    assert not np.any(v["b2"]) and not np.any(v["beta0"])
    assert np.all(v["gamma0"] == 1.0)


def _signal_variances(init: str, act: str, depth: int = 8, width: int = 256) -> list[float]:
    m = Autoencoder(width, (width,) * depth, act, "linear")
    v = m.views(m.init_params(init, seed=0))
    a = np.random.default_rng(0).standard_normal((2000, width))
    out = []
    for l in range(depth):
        u = a @ v[f"W{l}"]
        out.append(float(np.mean(u * u)))
        a = np.maximum(u, 0) if act == "relu" else u
    return out


def test_he_keeps_relu_signal_and_naive_shrinks_it() -> None:
    """The lecture's argument: Var(y_L) = Var(y_1) Π ½ n Var(w); He makes each factor 1."""
    he = _signal_variances("he", "relu")
    xavier = _signal_variances("xavier", "relu")
    naive = _signal_variances("naive", "relu")
    assert 0.5 < he[-1] / he[0] < 2.0
    assert xavier[-1] / xavier[0] < 0.05  # ½ per layer: 2⁻⁷
    assert naive[-1] < 1e-12
    lin = _signal_variances("xavier", "linear")
    assert 0.5 < lin[-1] / lin[0] < 2.0


# ----------------------------------------------------------------------------- validation
def test_bad_architectures_are_refused() -> None:
    with pytest.raises(ValueError, match="binary cross-entropy"):
        Autoencoder(4, (2,), output_activation="linear", loss="bce")
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(4, (2,), activation="softmax")
    with pytest.raises(ValueError, match="parameters"):
        Autoencoder(3000, (1000,))  # 6 M weights
    assert Autoencoder(784, (256, 64, 256)).n_params < MAX_PARAMS
    with pytest.raises(ValueError, match="init"):
        ModelSpec(init="zeros").build(4)
    with pytest.raises(ValueError, match="32,8,32"):
        parse_hidden("32,x")
    assert parse_hidden(" 32, 8 ,32") == (32, 8, 32)
