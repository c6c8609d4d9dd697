"""Exact Hessian- and Gauss–Newton–vector products of the autoencoder's loss (autoencoder.hvp)."""

import itertools

import numpy as np
import pytest

from autoencoder.hvp import dense_hessian, gauss_newton_vector_product, hessian_vector_product
from autoencoder.model import Autoencoder

ACTS = ("linear", "relu", "sigmoid", "tanh")


def _net(act, loss="mse", bn=False, skip=False, out="sigmoid", hidden=(4, 3, 4), d=5):
    if loss == "bce":
        out = "sigmoid"
    return Autoencoder(d, hidden=hidden, activation=act, output_activation=out, loss=loss, batch_norm=bn, skip=skip)


def _point(m, seed):
    rng = np.random.default_rng(seed)
    theta = m.init_params("xavier", seed=seed) + 0.3 * rng.standard_normal(m.n_params)  # γ, biases, skip nonzero
    x = rng.random((7, m.n_in))
    return rng, theta, x


def _fd_hvp(m, theta, x, target, v, h):
    gp = m.loss_and_grad(theta + h * v, x, target)[1]
    gm = m.loss_and_grad(theta - h * v, x, target)[1]
    return (gp - gm) / (2.0 * h)


CASES = [(a, loss, bn, skip, out) for a, loss, bn, skip in itertools.product(ACTS, ("mse", "bce"), (False, True), (False, True))
         for out in (("sigmoid", "linear", "tanh") if loss == "mse" else ("sigmoid",))]  # fmt: skip


@pytest.mark.parametrize(("act", "loss", "bn", "skip", "out"), CASES)
def test_hvp_matches_central_differences_of_the_gradient(act, loss, bn, skip, out):
    m = _net(act, loss, bn, skip, out)
    rng, theta, x = _point(m, 3)
    target = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0.0, 1.0)  # a denoising target
    for k in range(3):
        v = rng.standard_normal(m.n_params)
        hv = hessian_vector_product(m, theta, x, target, v)
        fd = _fd_hvp(m, theta, x, target, v, 1e-5)
        assert np.linalg.norm(hv - fd) <= 1e-6 * np.linalg.norm(fd), (k, np.linalg.norm(hv - fd) / np.linalg.norm(fd))


def test_target_defaults_to_the_input():
    m = _net("tanh", bn=True, skip=True)
    rng, theta, x = _point(m, 1)
    v = rng.standard_normal(m.n_params)
    a = hessian_vector_product(m, theta, x, None, v)
    b = hessian_vector_product(m, theta, x, x.copy(), v)
    assert np.array_equal(a, b)
    assert np.linalg.norm(a - _fd_hvp(m, theta, x, None, v, 1e-5)) <= 1e-6 * np.linalg.norm(a)


@pytest.mark.parametrize(("act", "loss", "bn", "skip"), [("tanh", "mse", True, True), ("sigmoid", "bce", False, True),
                                                        ("relu", "mse", False, False), ("linear", "bce", True, False)])  # fmt: skip
def test_dense_hessian_from_products_is_symmetric_and_matches_differences(act, loss, bn, skip):
    m = _net(act, loss, bn, skip)
    _rng, theta, x = _point(m, 5)
    h = dense_hessian(m, theta, x)
    assert np.abs(h - h.T).max() <= 1e-10 * np.abs(h).max()
    col = 7
    e = np.zeros(m.n_params)
    e[col] = 1.0
    fd = _fd_hvp(m, theta, x, None, e, 1e-5)
    assert np.linalg.norm(h[:, col] - fd) <= 1e-6 * np.linalg.norm(fd)


@pytest.mark.parametrize(("act", "loss", "bn", "out"), [(a, l, bn, o) for a in ACTS for l, o in (("mse", "sigmoid"), ("mse", "linear"), ("bce", "sigmoid"))
                                                      for bn in (False, True)])  # fmt: skip
def test_gauss_newton_is_symmetric_positive_semidefinite(act, loss, bn, out):
    m = _net(act, loss, bn, True, out)
    rng, theta, x = _point(m, 2)
    for _ in range(5):
        v = rng.standard_normal(m.n_params)
        w = rng.standard_normal(m.n_params)
        gv = gauss_newton_vector_product(m, theta, x, None, v)
        gw = gauss_newton_vector_product(m, theta, x, None, w)
        assert v @ gv >= 0.0
        assert w @ gv == pytest.approx(v @ gw, rel=1e-10, abs=1e-14)
    g = dense_hessian(m, theta, x, gauss_newton=True)
    assert np.linalg.eigvalsh(0.5 * (g + g.T)).min() >= -1e-12 * np.abs(g).max()


def test_gauss_newton_equals_the_hessian_where_the_residual_is_zero():
    # H − G is a sum of terms each multiplied by the residual (y − t for MSE, σ(u) − t for BCE):
    # with targets equal to the network's own training-mode output, H = G exactly.
    for loss, out, bn in (("mse", "sigmoid", True), ("mse", "linear", False), ("bce", "sigmoid", False)):
        m = _net("tanh", loss, bn, True, out)
        rng, theta, x = _point(m, 4)
        y = m.forward(theta, x, train=True)
        v = rng.standard_normal(m.n_params)
        hv = hessian_vector_product(m, theta, x, y, v)
        gv = gauss_newton_vector_product(m, theta, x, y, v)
        assert np.linalg.norm(hv - gv) <= 1e-12 * np.linalg.norm(hv)


def test_last_layer_block_of_gauss_newton_equals_the_hessian_for_linear_output_mse():
    # With a linear output and MSE the output is linear in (W_L, b_L, S), so the Hessian's block for
    # those parameters is exactly JᵀH_LJ, at any residual; the full H ≠ G (weights multiply weights).
    m = _net("tanh", "mse", False, True, "linear")
    rng, theta, x = _point(m, 6)
    mask = np.zeros(m.n_params, dtype=bool)
    for b in m.blocks:
        if b.layer == m.n_layers - 1:
            mask[b.offset : b.stop] = True
    v = np.where(mask, rng.standard_normal(m.n_params), 0.0)
    w = np.where(mask, rng.standard_normal(m.n_params), 0.0)
    hv = hessian_vector_product(m, theta, x, None, v)
    gv = gauss_newton_vector_product(m, theta, x, None, v)
    assert w @ hv == pytest.approx(w @ gv, rel=1e-12)
    assert np.allclose(hv[mask], gv[mask], rtol=0, atol=1e-13 * np.abs(hv).max())
    u = rng.standard_normal(m.n_params)  # a general direction: the residual term is really there
    assert (
        np.linalg.norm(hessian_vector_product(m, theta, x, None, u) - gauss_newton_vector_product(m, theta, x, None, u))
        > 1e-6
    )


def test_products_on_a_known_quadratic():
    # One hidden linear layer of width 1, linear output, MSE: L(θ) is known; check its Hessian's
    # bias block by hand: ∂²L/∂b_out² = 2/d (each of d outputs' bias enters only its own pixel).
    m = Autoencoder(3, hidden=(1,), activation="linear", output_activation="linear", loss="mse")
    _rng, theta, x = _point(m, 0)
    b = next(b for b in m.blocks if b.name == "b1")
    h = dense_hessian(m, theta, x)
    idx = np.arange(b.offset, b.stop)
    assert np.allclose(h[np.ix_(idx, idx)], (2.0 / 3.0) * np.eye(3), rtol=0, atol=1e-15)


def test_rejects_a_direction_of_the_wrong_shape():
    m = _net("relu")
    _, theta, x = _point(m, 0)
    with pytest.raises(ValueError, match="direction"):
        hessian_vector_product(m, theta, x, None, np.ones(3))
