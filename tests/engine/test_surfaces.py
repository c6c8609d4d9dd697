"""Surfaces: exact derivatives against finite differences, literature minima, metadata."""

import json

import numpy as np
import pytest

from surfaces import get_surface, list_surfaces, surface_names
from surfaces import _jet as J

NAMES = surface_names()


def _random_points(surface, n, seed):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.bounds
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def _central(fn, x, y, h):
    """Central differences of a vector-valued fn: (d/dx, d/dy)."""
    return (fn(x + h, y) - fn(x - h, y)) / (2 * h), (fn(x, y + h) - fn(x, y - h)) / (2 * h)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    s = get_surface(name)
    xs, ys = _random_points(s, 60, 1)
    if name == "ackley":  # the cone tip at the origin is not differentiable
        keep = np.hypot(xs, ys) > 1e-3
        xs, ys = xs[keep], ys[keep]
    h = 1e-6 * s.span
    dx, dy = _central(lambda x, y: s.value(x, y), xs, ys, h)
    g = s.gradient(xs, ys)
    scale = 1.0 + np.abs(g) + np.abs(s.value(xs, ys))[:, None] * 1e-6
    assert np.all(np.abs(g[:, 0] - dx) <= 1e-5 * scale[:, 0])
    assert np.all(np.abs(g[:, 1] - dy) <= 1e-5 * scale[:, 1])


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_finite_differences_of_gradient(name):
    s = get_surface(name)
    xs, ys = _random_points(s, 60, 2)
    if name == "ackley":
        keep = np.hypot(xs, ys) > 1e-2
        xs, ys = xs[keep], ys[keep]
    h = 1e-6 * s.span
    dgx, dgy = _central(lambda x, y: s.gradient(x, y), xs, ys, h)
    H = s.hessian(xs, ys)
    fd = np.stack([dgx, dgy], axis=-1)  # fd[..., i, j] = ∂g_i/∂x_j
    scale = 1.0 + np.abs(H)
    assert np.all(np.abs(H - fd) <= 1e-4 * scale)
    assert np.allclose(H[:, 0, 1], H[:, 1, 0])


@pytest.mark.parametrize(
    "name, params, point, value",
    [
        ("beale", {}, (3.0, 0.5), 0.0),
        ("rosenbrock", {}, (1.0, 1.0), 0.0),
        ("rosenbrock", {"a": 0.5, "b": 10}, (0.5, 0.25), 0.0),
        ("himmelblau", {}, (3.0, 2.0), 0.0),
        ("rastrigin", {}, (0.0, 0.0), 0.0),
        ("ackley", {}, (0.0, 0.0), 0.0),
        ("goldstein_price", {}, (0.0, -1.0), 3.0),
        ("booth", {}, (1.0, 3.0), 0.0),
        ("quadratic", {"kappa": 100, "angle": 30}, (0.0, 0.0), 0.0),
        ("long_valley", {}, (0.0, 0.0), 0.0),
        ("plateau", {}, (0.0, 0.0), 0.0),
        ("sharp_wide", {}, (-1.5, 0.0), 0.0),
        ("sharp_wide", {}, (1.5, 0.0), 0.0),
        ("sharp_wide", {"sharp": 200.0, "wide": 0.05}, (-1.5, 0.0), 0.0),
    ],
)
def test_literature_minima(name, params, point, value):
    s = get_surface(name, **params)
    assert s.value(*point) == pytest.approx(value, abs=1e-12)
    assert np.allclose(s.gradient(*point), 0.0, atol=1e-10)
    assert any(np.hypot(m.x - point[0], m.y - point[1]) < 1e-9 for m in s.minima)


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_are_stationary_with_their_values(name):
    s = get_surface(name)
    for m in s.minima:
        assert s.value(m.x, m.y) == pytest.approx(m.value, abs=1e-9)
        assert np.linalg.norm(s.gradient(m.x, m.y)) < 1e-6
        eig = np.linalg.eigvalsh(s.hessian(m.x, m.y)) if name != "ackley" else np.ones(2)
        assert np.all(eig > 0)


def test_rosenbrock_matches_scipy_style_closed_forms():
    s = get_surface("rosenbrock")
    x, y = 0.3, -0.4
    assert s.value(x, y) == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-15)
    g = s.gradient(x, y)
    assert g[0] == pytest.approx(-2 * (1 - x) - 400 * x * (y - x * x), rel=1e-14)
    assert g[1] == pytest.approx(200 * (y - x * x), rel=1e-14)
    H = s.hessian(x, y)
    assert H[0, 0] == pytest.approx(2 - 400 * y + 1200 * x * x, rel=1e-14)
    assert H[0, 1] == pytest.approx(-400 * x, rel=1e-14)
    assert H[1, 1] == pytest.approx(200.0)


def test_quadratic_condition_number_and_rotation():
    s = get_surface("quadratic", kappa=50, angle=30)
    H = s.hessian(1.2, -0.7)
    eig = np.sort(np.linalg.eigvalsh(H))
    assert eig == pytest.approx([1 / 50, 1.0])
    t = np.radians(30)
    assert np.allclose(np.abs(np.linalg.eigh(H)[1][:, 0]), np.abs([np.cos(t), np.sin(t)]))


def test_seed_lecture_quadratic_gradient_is_eps_x_and_y():
    s = get_surface("quadratic", kappa=10, angle=0)  # f = ½(εx² + y²), ε = 0.1
    assert np.allclose(s.gradient(2.0, 3.0), [0.1 * 2.0, 3.0])


def test_saddles_have_no_minima_and_indefinite_hessian():
    s = get_surface("saddle")
    assert s.minima == ()
    assert np.sort(np.linalg.eigvalsh(s.hessian(0.0, 0.0))) == pytest.approx([-2.0, 2.0])
    m = get_surface("monkey_saddle")
    assert np.allclose(m.gradient(0.0, 0.0), 0.0) and np.allclose(m.hessian(0.0, 0.0), 0.0)


def test_cliff_gradient_explodes_at_the_face():
    s = get_surface("cliff")
    assert np.linalg.norm(s.gradient(0.0, 0.0)) > 10.0
    assert np.linalg.norm(s.gradient(-2.0, 0.0)) < 2.0


@pytest.mark.parametrize("sharp, wide", [(30.0, 1.0), (200.0, 0.05), (1.0, 10.0)])
def test_sharp_wide_minima_have_equal_depth_and_the_set_curvatures(sharp, wide):
    """f = q_s q_w/(q_s + q_w) is exactly 0 at both centres, and its Hessian there is sharp·I and wide·I."""
    s = get_surface("sharp_wide", sharp=sharp, wide=wide)
    assert [(m.x, m.y, m.value) for m in s.minima] == [(-1.5, 0.0, 0.0), (1.5, 0.0, 0.0)]
    assert s.value(-1.5, 0.0) == 0.0 and s.value(1.5, 0.0) == 0.0
    np.testing.assert_allclose(s.hessian(-1.5, 0.0), sharp * np.eye(2), rtol=1e-14)
    np.testing.assert_allclose(s.hessian(1.5, 0.0), wide * np.eye(2), rtol=1e-14)
    # the closed form at a point off both centres
    x, y = 0.3, -0.7
    qs, qw = 0.5 * sharp * ((x + 1.5) ** 2 + y * y), 0.5 * wide * ((x - 1.5) ** 2 + y * y)
    assert s.value(x, y) == pytest.approx(qs * qw / (qs + qw), rel=1e-14)


def test_sharp_wide_default_sharp_minimum_is_thirty_times_as_curved():
    s = get_surface("sharp_wide")
    sharp, wide = (np.linalg.eigvalsh(s.hessian(m.x, m.y)) for m in s.minima)
    assert np.min(sharp) / np.max(wide) == pytest.approx(30.0) and np.min(sharp) / np.max(wide) >= 20.0
    # and f is positive everywhere else: sampled over the box, nothing is lower than the two minima
    _, _, z = s.grid(301)
    assert z.min() >= 0.0 and np.count_nonzero(z == 0.0) == 2


def test_plateau_gradient_vanishes_far_away():
    s = get_surface("plateau")
    assert np.linalg.norm(s.gradient(3.5, 3.5)) < 1e-4


@pytest.mark.parametrize("name", NAMES + ["formula:sin(3*x)*exp(-y^2) + x^2/(1 + y^2)"])
def test_first_order_kernel_equals_the_full_jet_bit_for_bit(name):
    """value/gradient use the Hessian-free kernel; it must give exactly the full jet's first three terms."""
    s = get_surface(name)
    x, y = _random_points(s, 400, seed=7)
    full, first = s.jet(x, y), s.first_order(x, y)
    assert first.shape == (400, 3)
    np.testing.assert_array_equal(first, full[:, :3])
    np.testing.assert_array_equal(s.value(x, y), full[:, 0])
    np.testing.assert_array_equal(s.gradient(x, y), full[:, 1:3])


def test_vectorised_evaluation_shapes():
    s = get_surface("beale")
    xs, ys, z = s.grid(50)
    assert z.shape == (50, 50) and xs.shape == (50,)
    assert s.gradient(np.zeros((3, 4)), 1.0).shape == (3, 4, 2)
    assert s.hessian(np.zeros(5), np.zeros(5)).shape == (5, 2, 2)
    assert isinstance(s.value(1.0, 1.0), float)


def test_metadata_is_complete_and_json_ready():
    for spec in list_surfaces():
        s = get_surface(spec.name)
        (x0, x1), (y0, y1) = s.bounds
        assert x0 < x1 and y0 < y1
        assert s.starts and all(x0 <= a <= x1 and y0 <= b <= y1 for a, b in s.starts)
        assert s.description and s.latex and s.display_name
        json.dumps(s.to_dict(), allow_nan=False)


def test_parameter_validation():
    with pytest.raises(ValueError, match="kappa"):
        get_surface("quadratic", kappa=0.5)
    with pytest.raises(ValueError, match="no parameter"):
        get_surface("beale", a=1)
    with pytest.raises(ValueError, match="unknown surface"):
        get_surface("nope")
    with pytest.raises(ValueError, match="number"):
        get_surface("rosenbrock", b="abc")
    with pytest.raises(ValueError):
        get_surface("rosenbrock", b=float("nan"))


def test_jet_primitives_agree_between_orders_and_python():
    """The overloaded Numba primitives and their plain-Python bodies give the same numbers."""
    from numba import njit

    @njit
    def both(x, y):
        a = J.mul(J.sin(J.var_x(x)), J.exp(J.var_y(y)))
        b = J.mul(J.sin(J.var_x1(x)), J.exp(J.var_y1(y)))
        return a, b

    a, b = both(0.3, -0.2)
    py = J.mul((np.sin(0.3), np.cos(0.3), 0.0, -np.sin(0.3), 0.0, 0.0), J.chain(J.var_y(-0.2), *(np.exp(-0.2),) * 3))
    assert np.allclose(a, py, rtol=1e-15)
    assert np.allclose(a[:3], b, rtol=1e-15)
