"""Data surfaces (linreg, logreg, tiny_net) and minibatches: exact derivatives, batches, the runner."""

import numpy as np
import pytest

from optimizers import Modifiers, make_config, sweep, trace
from optimizers.batches import epoch_permutation, regime, schedule, step_indices
from surfaces import get_surface
from surfaces.data import MAX_POINTS, check_points, generate, parse_csv, to_csv

CASES = [
    ("linreg", {}),
    ("linreg", {"center": 1, "offset": -3.0, "outliers": 0.2}),
    ("logreg", {}),
    ("logreg", {"overlap": 0.8, "bias": 0.7, "l2": 0.3, "outliers": 0.1}),
    ("tiny_net", {}),
    ("tiny_net", {"noise": 1.0, "offset": 1.0, "spread": 2.0}),
]


def _fd_check(s, pts):
    h = 1e-5
    for x, y in pts:
        j = s.jet(x, y)
        fx = (s.value(x + h, y) - s.value(x - h, y)) / (2 * h)
        fy = (s.value(x, y + h) - s.value(x, y - h)) / (2 * h)
        gxp, gxm = s.gradient(x + h, y), s.gradient(x - h, y)
        gyp, gym = s.gradient(x, y + h), s.gradient(x, y - h)
        scale = max(1.0, abs(j[0]))
        assert j[1] == pytest.approx(fx, abs=1e-6 * scale) and j[2] == pytest.approx(fy, abs=1e-6 * scale)
        hs = max(1.0, float(np.abs(j[3:]).max()))
        assert j[3] == pytest.approx((gxp[0] - gxm[0]) / (2 * h), abs=1e-6 * hs)
        assert j[4] == pytest.approx((gxp[1] - gxm[1]) / (2 * h), abs=1e-6 * hs)
        assert j[4] == pytest.approx((gyp[0] - gym[0]) / (2 * h), abs=1e-6 * hs)
        assert j[5] == pytest.approx((gyp[1] - gym[1]) / (2 * h), abs=1e-6 * hs)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_gradient_and_hessian_match_finite_differences(name, params):
    s = get_surface(name, **params)
    rng = np.random.default_rng(5)
    (x0, x1), (y0, y1) = s.bounds
    _fd_check(s, np.column_stack([rng.uniform(x0, x1, 6), rng.uniform(y0, y1, 6)]))


@pytest.mark.parametrize(("name", "params"), CASES)
def test_batch_jet_matches_finite_differences_and_the_full_jet(name, params):
    s = get_surface(name, **params)
    idx = np.array([3, 1, 4, 15, 9, 2, 6])
    x, y = 0.7, -0.4
    j = s.batch_jet(idx, x, y)
    h = 1e-5
    fx = (s.batch_jet(idx, x + h, y)[0] - s.batch_jet(idx, x - h, y)[0]) / (2 * h)
    hyy = (s.batch_jet(idx, x, y + h)[2] - s.batch_jet(idx, x, y - h)[2]) / (2 * h)
    assert j[1] == pytest.approx(fx, rel=1e-6, abs=1e-8) and j[5] == pytest.approx(hyy, rel=1e-6, abs=1e-8)
    assert np.array_equal(s.batch_jet(np.arange(s.n_points), x, y), s.jet(x, y))


def test_linreg_is_the_mean_squared_error_and_its_minimum_is_least_squares():
    s = get_surface("linreg", n=50, data_seed=3)
    u, v = s.points[:, 0], s.points[:, 1]
    assert s.value(0.8, 0.1) == pytest.approx(np.mean((0.8 * u + 0.1 - v) ** 2), rel=1e-14)
    w, b = np.linalg.lstsq(np.column_stack([u, np.ones_like(u)]), v, rcond=None)[0]
    (m,) = s.minima
    assert (m.x, m.y) == (pytest.approx(w, rel=1e-10), pytest.approx(b, rel=1e-10))
    assert np.linalg.norm(s.gradient(m.x, m.y)) < 1e-10


def test_centering_the_inputs_makes_the_linreg_bowl_round():
    def kappa(s):
        ev = np.linalg.eigvalsh(s.hessian(0.0, 0.0))
        return ev[1] / ev[0]

    raw, centred = get_surface("linreg", offset=3.0), get_surface("linreg", offset=3.0, center=1)
    assert kappa(raw) > 20 and kappa(centred) < 2
    assert raw.minima[0].x == pytest.approx(centred.minima[0].x, rel=1e-9)  # the slope is the same fit


def test_separable_logreg_has_no_minimum_unless_l2_is_on():
    s = get_surface("logreg")
    assert s.minima == ()
    t = trace(s, make_config("sgd", lr=1.0), (0.0, 0.0), 3000)
    norms = np.linalg.norm(t.positions, axis=1)
    assert np.all(np.diff(t.losses) <= 1e-15) and np.all(np.diff(norms[10:]) > 0)  # loss falls, weights grow
    assert norms[-1] > norms[300] + 2.0  # like log t: for ever, with no stationary point to stop at
    reg = get_surface("logreg", l2=0.1)
    (m,) = reg.minima
    assert np.linalg.norm(reg.gradient(m.x, m.y)) < 1e-9 and np.hypot(m.x, m.y) < 5


def test_tiny_net_has_a_symmetric_pair_of_minima_and_a_saddle_at_the_origin():
    s = get_surface("tiny_net")
    a, b = s.minima
    assert (a.x, a.y) == (-b.x, -b.y) and a.value == b.value
    assert s.value(a.x, a.y) == pytest.approx(s.value(-a.x, -a.y), rel=1e-15)
    assert np.allclose(s.gradient(0.0, 0.0), 0.0)
    ev = np.linalg.eigvalsh(s.hessian(0.0, 0.0))
    assert ev[0] < 0 < ev[1]


def test_points_can_be_given_and_are_validated():
    pts = [[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]]
    s = get_surface("linreg", points=pts)
    assert s.n_points == 3 and s.value(2.0, 1.0) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="between 2 and"):
        get_surface("linreg", points=[[0.0, 1.0]])
    with pytest.raises(ValueError, match="finite"):
        get_surface("linreg", points=[[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match="labels"):
        get_surface("logreg", points=[[0.0, 1.0, 2.0], [1.0, 2.0, 1.0]])
    with pytest.raises(ValueError, match="not made of data"):
        get_surface("beale", points=pts)
    with pytest.raises(ValueError, match="whole number"):
        get_surface("linreg", n=10.5)


def test_generated_points_depend_only_on_the_parameters():
    s1, s2 = get_surface("tiny_net", data_seed=4), get_surface("tiny_net", data_seed=4)
    assert np.array_equal(s1.points, s2.points)
    assert not np.array_equal(s1.points, get_surface("tiny_net", data_seed=5).points)
    assert get_surface("logreg", n=300).points.shape == (300, 3)


def test_csv_round_trip_and_hostile_files():
    pts = generate("logreg", get_surface("logreg", n=20).params)
    back = parse_csv(to_csv("logreg", pts), "logreg")
    assert np.array_equal(back, pts)
    assert parse_csv("x,y\n1, 2\n# note\n\n3;4\n", "linreg").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert parse_csv("a1 a2 label\n0 0 0\n1 1 1\n", "logreg")[:, 2].tolist() == [-1.0, 1.0]
    for text, reason in [
        ("1,2\n3,__import__('os')\n", "line 2"),
        ("1,2\n3,4,5\n", "line 2: expected 2 numbers"),
        ("1,2\nnan,4\n", "line 2"),
        ("1,2\n1e999,4\n", "finite"),
        ("x,y\n", "no points"),
        ("1,2\n" * (MAX_POINTS + 1), "more than"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_csv(text, "linreg", name="p.csv")
    with pytest.raises(ValueError, match="kB"):
        parse_csv(b"1,2\n" * 100_000, "linreg")
    with pytest.raises(ValueError, match="UTF-8"):
        parse_csv(b"\xff\xfe1,2\n", "linreg")
    with pytest.raises(ValueError, match="rows of 2"):
        check_points("linreg", [[1, 2, 3]])


# --------------------------------------------------------------------------- minibatches


def test_epoch_orders_are_permutations_fixed_by_seed_and_epoch():
    a = epoch_permutation(50, 7, 0)
    assert sorted(a.tolist()) == list(range(50))
    assert np.array_equal(a, epoch_permutation(50, 7, 0))
    assert not np.array_equal(a, epoch_permutation(50, 7, 1))
    assert not np.array_equal(a, epoch_permutation(50, 8, 0))
    assert regime(64, 1) == "online" and regime(64, 8) == "mini-batch"
    assert regime(64, 64) == regime(64, 0) == regime(64, 100) == "full batch"


@pytest.mark.parametrize(("name", "bsz"), [("linreg", 8), ("logreg", 8), ("tiny_net", 8), ("tiny_net", 10)])
def test_one_epochs_minibatch_gradients_average_to_the_full_gradient(name, bsz):
    s = get_surface(name, n=64)
    x, y = 0.9, 1.3
    batches = [step_indices(64, bsz, 11, t) for t in range(1, -(-64 // bsz) + 1)]
    assert sorted(np.concatenate(batches).tolist()) == list(range(64))
    mean = sum(len(b) * s.batch_jet(b, x, y)[1:3] for b in batches) / 64
    assert np.allclose(mean, s.gradient(x, y), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "rprop", "nesterov"])
def test_batch_size_n_is_bit_identical_to_the_full_batch(name):
    s = get_surface("tiny_net", n=40)
    cfg = make_config(name)
    full = trace(s, cfg, (2.0, -1.0), 200)
    for b in (40, 0, 1000):
        t = trace(s, cfg, (2.0, -1.0), 200, modifiers=Modifiers(batch_size=b, seed=3))
        assert np.array_equal(t.positions, full.positions) and np.array_equal(t.losses, full.losses)


def test_each_sgd_step_follows_its_minibatch_gradient_and_the_loss_shown_is_the_full_loss():
    s = get_surface("linreg", n=30)
    mods = Modifiers(batch_size=4, seed=9)
    t = trace(s, make_config("sgd", lr=0.03), (-1.0, 4.0), 40, modifiers=mods)
    plan = schedule(30, mods, 40)
    assert plan is not None and plan.per_epoch == 8 and plan.epoch_starts(40) == [1, 9, 17, 25, 33]
    for k in range(1, 41):
        g = s.batch_jet(plan.indices(k), *t.positions[k - 1])[1:3]
        assert np.allclose(t.positions[k], t.positions[k - 1] - 0.03 * g, rtol=0, atol=1e-14)
        assert np.array_equal(plan.indices(k), step_indices(30, 4, 9, k))
    assert np.allclose(t.losses, s.value(t.positions[:, 0], t.positions[:, 1]), rtol=1e-14)


def test_every_optimizer_of_a_race_sees_the_same_batches():
    s = get_surface("linreg", n=30)
    mods = Modifiers(batch_size=5, seed=2)
    a = trace(s, make_config("sgd", lr=0.02), (-1.0, 4.0), 12, modifiers=mods)
    b = trace(s, make_config("sgd", lr=0.02, momentum=0.5), (-1.0, 4.0), 12, modifiers=mods)
    plan = schedule(30, mods, 12)
    g1a = s.batch_jet(plan.indices(1), -1.0, 4.0)[1:3]
    assert np.allclose(a.updates[1], -0.02 * g1a, atol=1e-15) and np.allclose(b.updates[1], -0.02 * g1a, atol=1e-15)


@pytest.mark.parametrize("cfg", [make_config("adam", lr=0.05), make_config("rmsprop", lr=0.01),
                                 make_config("nesterov", lr=0.01, convention="textbook"), make_config("sam", lr=0.05)])
def test_sweep_jobs_with_minibatches_equal_their_single_traces(cfg):
    s = get_surface("tiny_net", n=48)
    mods = Modifiers(batch_size=6, seed=4, noise=0.1)
    starts = np.random.default_rng(1).uniform(-3, 3, (40, 2))
    res = sweep(s, cfg, starts, 150, modifiers=mods, gtol=0.0)
    for k in range(0, 40, 3):
        t = trace(s, cfg, starts[k], 150, modifiers=mods)
        assert np.array_equal(res.final_positions[k], t.positions[-1]), k


def test_sgd_spread_around_the_linreg_minimum_scales_like_lr_over_batch_size():
    """Stationary covariance of SGD with small steps: ≈ (η / 2B)·Σ (per-point gradient covariance over H).

    Batches are drawn without replacement, so an epoch's noise sums to zero; the η/B law holds while an
    epoch (n/B steps) is long against the relaxation time 1/(ηλ) (here 1024 steps against ≤ 50)."""
    s = get_surface("linreg", n=4096, offset=0.0, noise=1.0, data_seed=2)
    m = s.minima[0]

    def spread(lr, b):
        t = trace(s, make_config("sgd", lr=lr), (m.x, m.y), 40000, modifiers=Modifiers(batch_size=b, seed=5))
        return float(np.mean(np.sum((t.positions[4000:] - [m.x, m.y]) ** 2, axis=1)))

    base = spread(0.01, 4)
    assert spread(0.04, 4) / base == pytest.approx(4.0, rel=0.2)
    assert spread(0.01, 1) / base == pytest.approx(4.0, rel=0.2)
