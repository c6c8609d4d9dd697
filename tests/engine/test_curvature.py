"""The Hessian's eigen-decomposition recorded at every point of a run (optimizers.curvature)."""

import csv
import io
import json
import math

import numpy as np
import pytest

from app.cli import main as cli_main
from optimizers import make_config, trace
from optimizers.curvature import eig2
from surfaces import get_surface


def _check_decomposition(a, b, c, cur):
    h = np.array([[a, b], [b, c]])
    for lam, v in ((cur.lambda_min, cur.vec_min), (cur.lambda_max, cur.vec_max)):
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-15)
        assert np.allclose(h @ v, lam * v, rtol=0, atol=1e-12 * max(1.0, abs(a), abs(b), abs(c)))
    assert cur.lambda_min <= cur.lambda_max


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [(2.0, 0.0, 1.0), (1.0, 0.0, 2.0), (3.0, 0.0, 3.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0),
     (2.0, -1.0, -2.0), (1e-4, 0.0, 1.0), (-5.0, 0.3, 7.0), (1e8, 1.0, 1e-8)],
)  # fmt: skip
def test_eig2_is_an_eigendecomposition_even_when_diagonal_or_degenerate(a, b, c):
    cur = eig2(a, b, c)
    _check_decomposition(a, b, c, cur)
    ref = np.linalg.eigvalsh(np.array([[a, b], [b, c]]))
    assert np.allclose([cur.lambda_min, cur.lambda_max], ref, rtol=1e-14, atol=1e-300)


def test_eig2_keeps_a_tiny_eigenvalue_accurate_and_gives_exact_axes_when_diagonal():
    cur = eig2(1e-4, 0.0, 1.0)
    assert cur.lambda_min == 1e-4 and cur.lambda_max == 1.0
    assert cur.vec_min.tolist() == [1.0, 0.0] and cur.vec_max.tolist() == [0.0, 1.0]
    # κ = 10⁶ rotated 30°: Vieta's small root, not m − r, which would lose about 6 digits
    t = math.radians(30)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    h = r @ np.diag([1e-6, 1.0]) @ r.T
    assert eig2(h[0, 0], h[0, 1], h[1, 1]).lambda_min == pytest.approx(1e-6, rel=1e-9)


def test_eig2_turns_non_finite_entries_into_zero_rows():
    cur = eig2(np.array([1.0, np.inf, np.nan]), np.array([0.0, 0.0, 1.0]), np.array([2.0, 1.0, 1.0]))
    assert cur.lambda_min.tolist() == [1.0, 0.0, 0.0] and cur.lambda_max.tolist() == [2.0, 0.0, 0.0]
    assert np.all(np.isfinite(cur.vec_min)) and np.all(cur.vec_max[1:] == 0.0)


def test_every_recorded_point_carries_the_exact_hessians_eigenpairs():
    s = get_surface("rosenbrock")
    t = trace(s, make_config("adam", lr=0.02), (-1.2, 1.0), 60)
    assert t.lambda_min.shape == (61,) and t.eigvec_max.shape == (61, 2)
    for k in (0, 17, 60):
        h = s.hessian(*t.positions[k])
        ref = np.linalg.eigh(h)
        assert [t.lambda_min[k], t.lambda_max[k]] == pytest.approx(ref[0].tolist(), rel=1e-12)
        assert abs(float(t.eigvec_min[k] @ ref[1][:, 0])) == pytest.approx(1.0, abs=1e-12)
        assert abs(float(t.eigvec_max[k] @ ref[1][:, 1])) == pytest.approx(1.0, abs=1e-12)


def test_the_error_along_each_eigenvector_is_the_closed_form_of_gradient_descent():
    """e_i(k) = ⟨θ_k, v_i⟩ = (1 − ηλ_i)^k ⟨θ_0, v_i⟩ on ½(εu² + v²) rotated by 35°, η = 1.5."""
    kappa, angle, eta, steps = 50.0, 35.0, 1.5, 40
    s = get_surface("quadratic", kappa=kappa, angle=angle)
    t = trace(s, make_config("sgd", lr=eta), (-9.0, 4.0), steps)
    # the eigenpairs of the rotated Hessian, built here from the surface's definition (u, v) = R(x, y)
    th = math.radians(angle)
    u_axis = np.array([math.cos(th), math.sin(th)])  # u = cos θ·x + sin θ·y
    v_axis = np.array([-math.sin(th), math.cos(th)])  # v = cos θ·y − sin θ·x
    assert np.allclose(s.hessian(1.0, 2.0), (1 / kappa) * np.outer(u_axis, u_axis) + np.outer(v_axis, v_axis))
    assert np.allclose(t.lambda_min, 1 / kappa, rtol=1e-12) and np.allclose(t.lambda_max, 1.0, rtol=1e-12)
    assert np.allclose(np.abs(t.eigvec_min @ u_axis), 1.0, atol=1e-12)
    assert np.allclose(np.abs(t.eigvec_max @ v_axis), 1.0, atol=1e-12)
    k = np.arange(steps + 1)
    x0 = np.array([-9.0, 4.0])
    for vec, lam in ((t.eigvec_min, 1 / kappa), (t.eigvec_max, 1.0)):
        measured = np.einsum("ij,ij->i", t.positions, vec)
        predicted = (1 - eta * lam) ** k * float(x0 @ vec[0])
        assert np.allclose(measured, predicted, rtol=0, atol=1e-12)


def test_trace_csv_ends_with_the_curvature_columns(capsys):
    code = cli_main(["trace", "--surface", "quadratic", "--param", "kappa=50", "--optimizer", "sgd",
                     "--steps", "5", "--format", "csv"])  # fmt: skip
    assert code == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    head = rows[0]
    assert head[:4] == ["step", "x", "y", "loss"]
    assert head[-6:] == ["lambda_min", "lambda_max", "vmin_x", "vmin_y", "vmax_x", "vmax_y"]
    body = rows[1:]
    assert len(body) == 6
    for row in body:
        rec = dict(zip(head, row, strict=True))
        assert float(rec["lambda_min"]) == pytest.approx(0.02, rel=1e-12)
        assert float(rec["lambda_max"]) == pytest.approx(1.0, rel=1e-12)
        assert [float(rec["vmin_x"]), float(rec["vmin_y"])] == [1.0, 0.0]


def test_a_diverged_run_writes_finite_curvature_to_json(capsys):
    code = cli_main(["trace", "--surface", "rosenbrock", "--optimizer", "sgd", "--set", "lr=0.5",
                     "--steps", "100", "--format", "json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "diverged"
    i, j = doc["columns"].index("lambda_min"), doc["columns"].index("lambda_max")
    assert all(math.isfinite(r[i]) and math.isfinite(r[j]) and r[i] <= r[j] for r in doc["rows"])


def test_trace_csv_carries_the_averaged_point_and_the_cg_counts_where_the_rule_has_them(capsys):
    def table(*args):
        assert cli_main(["trace", "--surface", "rosenbrock", "--steps", "20", "--format", "csv", *args]) == 0
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]

    head, rows = table("--optimizer", "schedulefree_sgd")
    assert head[-9:-6] == ["avg_x", "avg_y", "avg_loss"] and "cg_iterations" not in head
    s = get_surface("rosenbrock")
    for r in rows:
        assert float(r["avg_loss"]) == pytest.approx(float(s.value(float(r["avg_x"]), float(r["avg_y"]))), rel=1e-12, abs=1e-300)
    head, rows = table("--optimizer", "hessian_free")
    assert head[-10:-6] == ["cg_iterations", "curvature_products", "damping", "rho"] and "avg_x" not in head
    cg = [float(r["cg_iterations"]) for r in rows]
    products = [float(r["curvature_products"]) for r in rows]
    assert all(v.is_integer() for v in cg + products)
    assert cg[0] == 0 and all(v >= 1 for v in cg[1:]) and all(p >= c for p, c in zip(products, cg, strict=True))
    head, _ = table("--optimizer", "adam")
    assert not {"avg_x", "cg_iterations"} & set(head)
