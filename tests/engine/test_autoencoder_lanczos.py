"""Lanczos with full reorthogonalisation on products only (autoencoder.lanczos)."""

import numpy as np
import pytest

from autoencoder.hvp import dense_hessian
from autoencoder.lanczos import curvature_report, hessian_extremes, lanczos_extremes
from autoencoder.model import Autoencoder


def _rel(a, b):
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def test_known_diagonal_spectrum_is_found_exactly():
    d = np.array([-3.0, -1.0, 0.5, 1.0, 2.0, 4.0, 10.0])
    r = lanczos_extremes(lambda v: d * v, d.size, 2, 2, max_iter=50)
    assert np.allclose(r.top, [10.0, 4.0], rtol=1e-12)
    assert np.allclose(r.bottom, [-3.0, -1.0], rtol=1e-12)
    assert r.converged and r.iterations <= d.size


def test_rotated_spectrum_with_vectors():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    lam = np.linspace(-2.0, 5.0, 40) ** 3
    a = (q * lam) @ q.T
    r = lanczos_extremes(lambda v: a @ v, 40, 3, 3, max_iter=40, vectors=True)
    assert np.all(_rel(r.top, lam[::-1][:3]) < 1e-10)
    assert np.all(_rel(r.bottom, lam[:3]) < 1e-10)
    for val, vec in zip(r.top, r.top_vectors.T, strict=True):
        assert np.linalg.norm(a @ vec - val * vec) < 1e-8 * abs(lam).max()


@pytest.mark.parametrize(("act", "loss", "bn", "skip"), [("tanh", "mse", False, True), ("sigmoid", "bce", True, False),
                                                        ("relu", "mse", True, True)])  # fmt: skip
def test_extremes_of_a_small_network_match_dense_eigh(act, loss, bn, skip):
    m = Autoencoder(8, hidden=(6, 3, 6), activation=act, loss=loss, batch_norm=bn, skip=skip)
    assert m.n_params <= 300
    theta = m.init_params("xavier", seed=2) + 0.2 * np.random.default_rng(2).standard_normal(m.n_params)
    x = np.random.default_rng(3).random((12, 8))
    h = dense_hessian(m, theta, x)
    lam = np.linalg.eigvalsh(0.5 * (h + h.T))
    r = hessian_extremes(m, theta, x, k_top=3, k_bottom=3, max_iter=m.n_params, tol=1e-12)
    assert np.all(_rel(r.top, lam[::-1][:3]) < 1e-6), (r.top, lam[-3:])
    assert np.all(_rel(r.bottom, lam[:3]) < 1e-6), (r.bottom, lam[:3])
    assert r.iterations <= m.n_params


def test_deterministic_and_bounded():
    m = Autoencoder(8, hidden=(6, 3, 6), activation="tanh")
    theta = m.init_params("xavier", seed=0)
    x = np.random.default_rng(0).random((10, 8))
    a = hessian_extremes(m, theta, x, k_top=2, k_bottom=2, max_iter=12, tol=0.0)
    b = hessian_extremes(m, theta, x, k_top=2, k_bottom=2, max_iter=12, tol=0.0)
    assert a.iterations == 12 and not a.converged
    assert np.array_equal(a.top, b.top) and np.array_equal(a.bottom, b.bottom)
    # Ritz values interlace: the top one never exceeds λ_max, the bottom one never falls under λ_min
    lam = np.linalg.eigvalsh(dense_hessian(m, theta, x))
    assert a.top[0] <= lam[-1] + 1e-12 and a.bottom[0] >= lam[0] - 1e-12


def test_rejects_bad_requests():
    with pytest.raises(ValueError):
        lanczos_extremes(lambda v: v, 4, 0, 0)
    with pytest.raises(ValueError, match="shape"):
        lanczos_extremes(lambda v: v[:2], 4, 1, 1)


def test_curvature_report_kappa_uses_the_smallest_positive_eigenvalue_when_indefinite():
    m = Autoencoder(8, hidden=(6, 3, 6), activation="tanh", output_activation="linear")
    theta = m.init_params("xavier", seed=1) + 0.3 * np.random.default_rng(1).standard_normal(m.n_params)
    x = np.random.default_rng(4).random((12, 8))
    lam = np.linalg.eigvalsh(dense_hessian(m, theta, x))
    rep = curvature_report(m, theta, x, k=3, max_iter=m.n_params)
    assert rep["lambda_max"] == pytest.approx(lam[-1], rel=1e-6)
    assert rep["bottom"][0] == pytest.approx(lam[0], rel=1e-6)
    reported = np.array(rep["top"] + rep["bottom"])
    assert lam[0] < 0.0  # this point is a saddle: the indefinite case
    small = reported[reported > 0].min()
    assert not rep["definite"] and rep["lambda_small"] == pytest.approx(small, rel=1e-12)
    assert rep["kappa"] == pytest.approx(lam[-1] / small, rel=1e-6) and "smallest positive" in rep["note"]
