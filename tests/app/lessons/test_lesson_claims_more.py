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
