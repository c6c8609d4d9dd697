"""The sign-method, local-gain and plateau lessons: every number their texts and explanations state holds
on the runs their views really compute, checked against closed forms wherever there is one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.lessons.library import library
from app.lessons.truth import _result, truth, view_config


def lesson(lesson_id: str):
    found = library().get(lesson_id)
    assert found is not None, library().errors
    for step in found.steps:
        assert view_config(step.view).notes == (), step.view  # the link is read as written, nothing repaired
    return found


def runs(step):
    return _result(step.view).runs


def arrival(run, step) -> int | None:
    """The first step within 2 % of the map's larger side of the minimum (what the lessons' texts call 'at the minimum')."""
    close = np.flatnonzero(run.distance <= 0.02 * _result(step.view).surface.span)
    return int(close[0]) if close.size else None


def test_sign_methods_lesson_claims_hold_on_the_runs():
    race, lattice, hopping, cosine, growth, noisy = lesson("sign_methods").steps
    eps = 1 / 1000

    # the race on κ = 1000: Rprop first, Lion at x = 0 after 90 steps of 0.1, gradient descent crawling
    assert truth(race).value.startswith("Rprop")
    sgd, lion, rprop = runs(race)
    assert sgd.trajectory.positions[-1, 0] == pytest.approx(-9 * (1 - 1.9 * eps) ** 300, rel=1e-9)
    assert sgd.trajectory.positions[-1, 0] == pytest.approx(-5.09, abs=0.005)
    lp = lion.trajectory.positions
    assert np.allclose(lp[:91, 0], -9 + 0.1 * np.arange(91), atol=1e-9)
    assert np.allclose(np.abs(lion.trajectory.updates[1:]), 0.1, rtol=0, atol=1e-12)  # every coordinate, every step
    assert arrival(lion, race) == 87 and arrival(rprop, race) == 31
    # Rprop: s_k = η·1.2^(k−1) while the sign holds; x has then moved 0.05·(1.2^k − 1)
    rt = rprop.trajectory
    k = np.arange(1, 26)
    assert np.allclose(rt.effective_lr[1:26], (0.01 * 1.2 ** (k - 1))[:, None], rtol=1e-12)
    assert np.allclose(rt.positions[1:29, 0], -9 + 0.05 * (1.2 ** np.arange(1, 29) - 1), rtol=1e-12)
    assert np.allclose(rt.positions[1:26, 1], 4 - 0.05 * (1.2 ** k - 1), rtol=1e-12)
    crossed_x = int(np.flatnonzero(rt.positions[:, 0] > 0)[0])
    assert crossed_x == 29 == math.ceil(math.log(1 + 9 / 0.05) / math.log(1.2))
    # y crosses 0 at step 25; at step 26 its step is halved and it does not move (torch's convention)
    assert rt.positions[24, 1] > 0 > rt.positions[25, 1]
    assert rt.updates[26, 1] == 0.0 and rt.effective_lr[26, 1] == pytest.approx(0.5 * rt.effective_lr[25, 1], rel=1e-12)

    # the lattice: y = 4.05 − 50·0.1 after 50 steps, walking straight past 0
    assert truth(lattice).value == pytest.approx(4.05 - 5.0, abs=1e-9)
    (lion50,) = runs(lattice)
    y = lion50.trajectory.positions[:, 1]
    assert y[40] > 0 > y[41]
    (lion600,) = runs(hopping)
    p = lion600.trajectory.positions
    steps = np.rint((p - p[0]) / 0.1)
    assert np.allclose(p, p[0] + 0.1 * steps, atol=1e-9)  # start + η·(whole numbers), every point
    assert int(np.argmin(p[:, 1])) == 65 and p[65, 1] == pytest.approx(4.05 - 6.5, abs=1e-9)
    # for ever hopping between (−0.05, 0.05) and (0.05, −0.05): the minimum is not on the lattice
    tail = p[-200:]
    assert np.allclose(np.abs(tail), 0.05, atol=1e-9) and np.allclose(tail[:, 0], -tail[:, 1], atol=1e-9)
    assert np.all(tail[1:, 0] * tail[:-1, 0] < 0)
    floor = 0.5 * (eps + 1) * 0.05**2
    assert truth(hopping).value == pytest.approx(floor, rel=1e-9)
    assert lion600.trajectory.losses.min() == pytest.approx(floor, rel=1e-9)
    assert lion600.distance.min() == pytest.approx(0.05 * math.sqrt(2), rel=1e-9)
    # a cosine schedule to 0 lets it settle
    (settled,) = runs(cosine)
    assert settled.distance[-1] < 1e-4

    # Rprop's growth: x after 20 steps, the 20th step 1.2¹⁹ times the first
    assert truth(growth).value == pytest.approx(-9 + 0.05 * (1.2**20 - 1), rel=1e-12)
    assert truth(growth).value == pytest.approx(-7.13, abs=0.005)
    g = runs(growth)[0].trajectory
    assert g.updates[20, 0] == pytest.approx(0.01 * 1.2**19, rel=1e-12) and g.updates[20, 0] / g.updates[1, 0] > 31.9

    # noise σ = 0.02: Rprop freezes near its start, Lion still arrives, gradient descent barely notices
    assert 0.02 > 2 * eps * 9 and 0.5 * math.erfc(0.45 / math.sqrt(2)) == pytest.approx(0.33, abs=0.005)
    assert truth(noisy).value.startswith("Lion")
    rprop_n, lion_n, sgd_n = runs(noisy)
    xs = rprop_n.trajectory.positions[:, 0]
    assert np.abs(xs + 9).max() < 0.1 and xs[-1] == pytest.approx(-8.93, abs=0.005)
    ex = rprop_n.trajectory.effective_lr[:, 0]
    assert int(np.flatnonzero(ex == 1e-6)[0]) == 45 and ex[50:].max() < 1e-5  # at the step-size floor, or just above
    assert np.ptp(xs[50:]) < 1e-3  # frozen
    assert arrival(lion_n, noisy) == 135 and arrival(rprop_n, noisy) is None and arrival(sgd_n, noisy) is None
    assert sgd_n.trajectory.positions[-1, 0] == pytest.approx(-5.24, abs=0.005)


def test_local_gains_lesson_claims_hold_on_the_runs():
    slow, with_momentum, too_large = lesson("local_gains").steps
    eps = 1 / 1000

    # x's gain: 0.95 at the first step (a zero product counts as a flip), then +0.05 a step, capped at 10 at step 182
    sgd, gains = runs(slow)
    t = np.arange(1, 301)
    gain_x = np.minimum(0.95 + 0.05 * (t - 1), 10.0)
    gt = gains.trajectory
    assert np.allclose(gt.effective_lr[1:, 0], 1.0 * gain_x, rtol=1e-12, atol=1e-12)  # η = 1: the rate is the gain
    assert int(np.flatnonzero(gt.effective_lr[:, 0] >= 10.0 - 1e-12)[0]) == 182
    assert np.all(np.sign(gt.gradients[:, 0]) == -1)  # x's gradient keeps its sign all the way
    assert np.allclose(gt.positions[1:, 0], -9 * np.cumprod(1 - eps * gain_x), rtol=1e-9)
    assert gain_x.sum() == pytest.approx(2176, abs=0.5)
    assert -9 * math.exp(-eps * gain_x.sum()) == pytest.approx(-1.02, abs=0.005)
    assert truth(slow).value == pytest.approx(-1.01, abs=0.005)
    assert sgd.trajectory.positions[-1, 0] == pytest.approx(-9 * 0.999**300, rel=1e-9)
    assert -9 * 0.999**300 == pytest.approx(-6.67, abs=0.005)
    # y: 0.2 after step 1 (gain 0.95), exactly 0 after step 2 (gain 1); then its gain sinks ×0.95 to the floor 0.1
    assert gt.positions[1, 1] == pytest.approx(0.2, abs=1e-12) and gt.positions[2, 1] == 0.0
    assert np.allclose(gt.effective_lr[3:20, 1], np.maximum(0.95 ** np.arange(1, 18), 0.1), rtol=1e-9)
    assert np.allclose(gt.effective_lr[60:, 1], 0.1, rtol=1e-12)

    # with momentum: first at step 83; momentum alone at 290; gains alone never within 300 steps
    assert truth(with_momentum).value.startswith("Local gains") and "μ=0.9" in truth(with_momentum).value
    heavy, alone, both = runs(with_momentum)
    assert arrival(both, with_momentum) == 83 and arrival(heavy, with_momentum) == 290
    assert arrival(alone, with_momentum) is None
    ht = heavy.trajectory
    assert ht.updates[30, 0] / -ht.gradients[29, 0] > 9  # momentum's ×1/(1 − μ) is there within a few dozen steps
    bt = both.trajectory
    assert np.all(bt.positions[:97, 0] < 0) and bt.positions[97, 0] > 0  # one side of the minimum until step 96
    assert np.all(np.diff(bt.effective_lr[1:98, 0]) > 0)  # so x's gain grew on every step until then

    # η = 2.5: gradient descent diverges; the gains shrink ×0.95 on each flip of y and the run converges
    assert truth(too_large).value is False
    sgd25, gains25 = runs(too_large)
    assert sgd25.trajectory.diverged and sgd25.trajectory.stop_step == 25
    g25 = gains25.trajectory
    assert np.allclose(g25.effective_lr[1:6, 1], 2.5 * 0.95 ** np.arange(1, 6), rtol=1e-12)
    assert np.allclose(g25.effective_lr[1:6, 1], [2.375, 2.256, 2.143, 2.036, 1.934], atol=5e-4)
    assert np.all(g25.effective_lr[5:, 1] < 2)  # |1 − η g_y| < 1 from the fifth step on
    y = np.abs(g25.positions[:, 1])
    assert int(np.argmax(y)) == 4 and y[4] == pytest.approx(8.19, abs=0.005)
    assert np.all(np.diff(y[4:]) <= 0)  # the zig-zag only shrinks after its peak
    assert np.all(np.diff(g25.effective_lr[1:100, 0]) > 0)  # x's gain keeps growing
    assert arrival(gains25, too_large) == 206


def test_plateaus_lesson_claims_hold_on_the_runs():
    crawl, fall_in, race, saturated = lesson("plateaus").steps

    # f = 1 − exp(−r²/2): |∇f| = r·e^(−r²/2), 5.2·10⁻⁴ at (3, 3), and gradient descent's first step that long
    (sgd,) = runs(crawl)
    t = sgd.trajectory
    r0 = math.sqrt(18)
    assert np.linalg.norm(t.gradients[0]) == pytest.approx(r0 * math.exp(-9), rel=1e-12)
    assert r0 * math.exp(-9) == pytest.approx(5.2e-4, abs=0.05e-4) and r0 == pytest.approx(4.24, abs=0.005)
    assert np.linalg.norm(t.updates[1]) == pytest.approx(r0 * math.exp(-9), rel=1e-12)
    x, y = truth(crawl).value
    assert x == pytest.approx(2.83, abs=0.005) and y == pytest.approx(x, rel=1e-12)  # along the diagonal
    assert np.linalg.norm(t.positions[-1] - t.positions[0]) == pytest.approx(0.24, abs=0.005)
    assert t.losses[-1] == pytest.approx(0.9997, abs=5e-5)

    # the crawl, then the fall: above 0.99 for 506 steps, below 0.01 18 steps later, at the minimum at step 524
    (sgd1000,) = runs(fall_in)
    losses = sgd1000.trajectory.losses
    assert np.all(losses[:506] > 0.99) and losses[506] < 0.99
    assert int(np.flatnonzero(losses < 0.01)[0]) == 524 == 506 + 18
    assert truth(fall_in).value == 524
    # gradient flow from r = √18 to r = 0.16 takes ∫ e^(r²/2)/r dr (trapezoid on a fine grid, not Ei from a library)
    r = np.linspace(0.16, r0, 2_000_001)
    flow = float(np.sum((np.exp(r[1:] ** 2 / 2) / r[1:] + np.exp(r[:-1] ** 2 / 2) / r[:-1]) / 2 * np.diff(r)))
    assert flow == pytest.approx(521, abs=0.5) and abs(524 - flow) / flow < 0.01

    # the race across the plain
    assert truth(race).value == 29
    sgd3, heavy, adam, rprop, lion = runs(race)
    lp = lion.trajectory.positions
    assert np.allclose(lp[:31], 3 - 0.1 * np.arange(31)[:, None], atol=1e-12)  # the diagonal in steps of 0.1
    assert np.hypot(*lp[29]) == pytest.approx(0.1 * math.sqrt(2), rel=1e-9) and np.hypot(*lp[29]) < 0.16 < np.hypot(*lp[28])
    g0 = adam.trajectory.gradients[0]
    assert np.allclose(adam.trajectory.updates[1], -0.1 * g0 / (np.abs(g0) + 1e-8), rtol=1e-9)  # bias-corrected: ≈ −η sign g
    assert np.allclose(adam.trajectory.updates[1], -0.1 * np.sign(g0), rtol=1e-4)
    assert [arrival(r, race) for r in (sgd3, heavy, adam, rprop, lion)] == [None, 88, 29, 25, 29]
    assert sgd3.trajectory.positions[-1] == pytest.approx((2.83, 2.83), abs=0.005)

    # the saturated unit: tanh'(3.5) = 0.0036; ∂f/∂x 82 times smaller than ∂f/∂y at the start
    assert 1 / math.cosh(3.5) ** 2 == pytest.approx(0.0036, abs=0.00005)
    assert _result(saturated.view).config.start == (3.5, -0.4)
    sgd4, adam4, rprop4 = runs(saturated)
    s = sgd4.trajectory
    gx, gy = s.gradients[0]
    assert abs(gy / gx) == pytest.approx(82, abs=0.5)
    assert np.abs(s.gradients[20, 1]) < 0.05 * abs(gy)  # y fitted within about 20 steps
    assert np.abs(s.gradients[20:901, 0]).max() < 0.034  # then x crawls
    assert np.abs(s.updates[21:901, 0]).max() < 0.0034
    assert s.positions[900, 0] > 1.1  # still on its way to x ≈ 0.98 after 900 steps
    assert truth(saturated).value.startswith("Rprop")
    assert [arrival(r, saturated) for r in (sgd4, adam4, rprop4)] == [939, 129, 40]
    assert rprop4.trajectory.effective_lr[40, 0] == pytest.approx(0.18, abs=0.005)
