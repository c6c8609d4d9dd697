"""Schedules, clipping and gradient noise: kernels against torch's formulas and the reference.

Schedules are checked against torch.optim.lr_scheduler's closed forms (the
reference in ``tests/reference.py``) and against values worked out by hand;
clipping against torch.nn.utils.clip_grad_value_/clip_grad_norm_ (max_norm /
(‖g‖ + 1e-6)); the noise generator against SplitMix64's published test vector
and a plain-Python Box–Muller.  Tolerance: 1e-12 relative, as in
``test_optimizers_reference``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import SplitMix64, clip_by_norm, clip_by_value, schedule_lr
from test_optimizers_reference import assert_close, compare_trace

from optimizers import Modifiers, make_config, trace
from optimizers._modkernels import apply_noise_and_clip, scheduled_lr
from surfaces import get_surface

# --------------------------------------------------------------------------------------
# noise
# --------------------------------------------------------------------------------------


def test_splitmix64_reference_matches_published_vector():
    """First outputs of Vigna's splitmix64.c seeded with 1234567."""
    r = SplitMix64(1234567)
    assert [r.next() for _ in range(5)] == [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]


@pytest.mark.parametrize("seed", [0, 1, 42, 2**53 - 1])
def test_kernel_noise_matches_reference_generator(seed):
    sigma = 0.7
    mods = Modifiers(noise=sigma, seed=seed).vector()
    g = np.zeros(64)
    state = apply_noise_and_clip(mods, g, np.uint64(seed))
    ref = SplitMix64(seed)
    expected = np.array([sigma * ref.normal() for _ in range(64)])
    assert_close(g, expected, f"noise, seed {seed}")
    assert int(state) == ref.state


def test_noise_statistics():
    sigma, n = 2.5, 40_000
    g = np.zeros(n)
    apply_noise_and_clip(Modifiers(noise=sigma, seed=7).vector(), g, np.uint64(7))
    assert abs(g.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(g.std() / sigma - 1.0) < 0.02
    # roughly normal: ~68.3 % within one σ, ~95.4 % within two
    assert abs(np.mean(np.abs(g) < sigma) - 0.6827) < 0.01
    assert abs(np.mean(np.abs(g) < 2 * sigma) - 0.9545) < 0.006


def test_noise_adds_to_the_gradient():
    g = np.array([1.0, -2.0, 3.0])
    noisy = g.copy()
    apply_noise_and_clip(Modifiers(noise=0.1, seed=3).vector(), noisy, np.uint64(3))
    r = SplitMix64(3)
    assert_close(noisy, g + 0.1 * np.array([r.normal() for _ in range(3)]), "noisy gradient")


def test_same_seed_same_trajectory_different_seed_different():
    s = get_surface("beale")
    cfg = make_config("adam", lr=0.01)
    a = trace(s, cfg, start=(1.0, 1.5), steps=300, modifiers=Modifiers(noise=0.5, seed=11))
    b = trace(s, cfg, start=(1.0, 1.5), steps=300, modifiers=Modifiers(noise=0.5, seed=11))
    c = trace(s, cfg, start=(1.0, 1.5), steps=300, modifiers=Modifiers(noise=0.5, seed=12))
    clean = trace(s, cfg, start=(1.0, 1.5), steps=300)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.positions, c.positions)
    assert not np.array_equal(a.positions, clean.positions)
    # the recorded gradients are the true gradients at the iterates, not the noisy ones
    assert_close(a.gradients, s.gradient(a.positions[:, 0], a.positions[:, 1]), "recorded gradients")


def test_noise_on_textbook_nesterov_is_drawn_at_the_look_ahead_point():
    s = get_surface("rosenbrock")
    mods = Modifiers(noise=0.3, seed=5)
    compare_trace("rosenbrock", "nesterov", dict(lr=1e-4, convention="textbook"), 300, modifiers=mods)
    a = trace(s, make_config("nesterov", lr=1e-4, convention="textbook"), start=(-1.2, 1.0), steps=50, modifiers=mods)
    b = trace(s, make_config("nesterov", lr=1e-4, convention="textbook"), start=(-1.2, 1.0), steps=50, modifiers=mods)
    np.testing.assert_array_equal(a.positions, b.positions)


# --------------------------------------------------------------------------------------
# clipping
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [0.01, 0.5, 1.0, 3.0, 100.0])
def test_clip_by_value_matches_torch_rule(c):
    rng = np.random.default_rng(1)
    for _ in range(20):
        g = rng.normal(size=5) * 3
        out = g.copy()
        apply_noise_and_clip(Modifiers(clip="value", clip_value=c).vector(), out, np.uint64(0))
        np.testing.assert_array_equal(out, clip_by_value(g, c))
        assert np.all(np.abs(out) <= c)


@pytest.mark.parametrize("c", [0.01, 0.5, 1.0, 3.0, 100.0])
def test_clip_by_norm_matches_torch_rule(c):
    rng = np.random.default_rng(2)
    for _ in range(20):
        g = rng.normal(size=5) * 3
        out = g.copy()
        apply_noise_and_clip(Modifiers(clip="norm", clip_value=c).vector(), out, np.uint64(0))
        assert_close(out, clip_by_norm(g, c), f"clip norm {c}")
        norm = np.linalg.norm(g)
        if norm + 1e-6 > c:
            # scaled by max_norm / (‖g‖ + 1e-6): just under max_norm, same direction
            assert np.linalg.norm(out) < c
            assert np.linalg.norm(out) == pytest.approx(c * norm / (norm + 1e-6), rel=1e-12)
            assert_close(out / np.linalg.norm(out), g / norm, "direction kept")
        else:
            np.testing.assert_array_equal(out, g)


def test_clip_by_norm_by_hand():
    out = np.array([3.0, -4.0])
    apply_noise_and_clip(Modifiers(clip="norm", clip_value=1.0).vector(), out, np.uint64(0))
    assert_close(out, np.array([3.0, -4.0]) / (5.0 + 1e-6), "clip_grad_norm_ of (3, −4) to 1")


def test_noise_comes_before_clipping():
    out = np.zeros(200)
    apply_noise_and_clip(Modifiers(noise=10.0, seed=1, clip="value", clip_value=0.5).vector(), out, np.uint64(1))
    assert np.max(np.abs(out)) == 0.5  # the noise was clipped


# --------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------

SCHEDULE_CASES = [
    ("constant", {}),
    ("step", {"step_size": 1, "gamma": 0.9}),
    ("step", {"step_size": 7, "gamma": 0.5}),
    ("step", {"step_size": 100, "gamma": 0.1}),
    ("exponential", {"gamma": 0.99}),
    ("exponential", {"gamma": 0.5}),
    ("cosine", {"T_max": 50, "eta_min": 0.0}),
    ("cosine", {"T_max": 300, "eta_min": 1e-3}),
    ("cosine_restarts", {"T_0": 13, "eta_min": 0.02, "T_mult": 1}),
    ("cosine_restarts", {"T_0": 10, "eta_min": 0.0, "T_mult": 2}),
    ("cosine_restarts", {"T_0": 5, "eta_min": 1e-3, "T_mult": 3}),
    ("cosine_restarts", {"T_0": 1, "eta_min": 0.0, "T_mult": 2}),
    ("cosine_restarts", {"T_0": 3, "eta_min": 0.0, "T_mult": 7}),
    ("warmup", {"start_factor": 0.1, "total_iters": 50}),
    ("warmup", {"start_factor": 1e-6, "total_iters": 1}),
    ("warmup", {"start_factor": 0.5, "total_iters": 333}),
]


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_schedule_kernel_matches_torch_closed_form(case):
    name, params = case
    mods = Modifiers(schedule=name, schedule_params=tuple(params.items()))
    vec = mods.vector()
    full = mods.schedule_values()
    for base in (0.7, 1e-3):
        got = np.array([scheduled_lr(base, vec, k) for k in range(2000)])
        want = np.array([schedule_lr(base, name, full, k) for k in range(2000)])
        assert_close(got / base, want / base, f"{name} {params} lr")


def test_schedules_by_hand():
    def lr(name, k, **params):
        return scheduled_lr(2.0, Modifiers(schedule=name, schedule_params=tuple(params.items())).vector(), k)

    # StepLR(step_size=10, gamma=0.5)
    assert lr("step", 9, step_size=10, gamma=0.5) == 2.0
    assert lr("step", 10, step_size=10, gamma=0.5) == 1.0
    assert lr("step", 25, step_size=10, gamma=0.5) == 0.5
    # ExponentialLR(gamma=0.9)
    assert lr("exponential", 3, gamma=0.9) == pytest.approx(2.0 * 0.729, rel=1e-15)
    # CosineAnnealingLR(T_max=100, eta_min=0.2)
    assert lr("cosine", 0, T_max=100, eta_min=0.2) == 2.0
    assert lr("cosine", 50, T_max=100, eta_min=0.2) == pytest.approx(1.1, rel=1e-15)
    assert lr("cosine", 100, T_max=100, eta_min=0.2) == pytest.approx(0.2, rel=1e-15)
    # LinearLR(start_factor=0.1, total_iters=50)
    assert lr("warmup", 0, start_factor=0.1, total_iters=50) == pytest.approx(0.2, rel=1e-15)
    assert lr("warmup", 25, start_factor=0.1, total_iters=50) == pytest.approx(1.1, rel=1e-15)
    assert lr("warmup", 50, start_factor=0.1, total_iters=50) == 2.0
    assert lr("warmup", 5000, start_factor=0.1, total_iters=50) == 2.0
    # CosineAnnealingWarmRestarts(T_0=10, T_mult=2): periods 10, 20, 40 → restarts at 10, 30, 70
    for k in (0, 10, 30, 70, 150):
        assert lr("cosine_restarts", k, T_0=10, T_mult=2, eta_min=0.0) == 2.0
    assert lr("cosine_restarts", 20, T_0=10, T_mult=2, eta_min=0.0) == pytest.approx(1.0, rel=1e-14)  # mid-period
    assert lr("cosine_restarts", 50, T_0=10, T_mult=2, eta_min=0.0) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("t_mult", [2, 3, 4, 5, 6, 7, 8, 9, 10])
def test_warm_restarts_restart_exactly_on_schedule(t_mult):
    """At every restart epoch the lr is back at its base value; one epoch before it is near eta_min."""
    for t0 in (1, 2, 3, 5, 7, 10, 13, 50, 100):
        vec = Modifiers(schedule="cosine_restarts", schedule_params=(("T_0", t0), ("T_mult", t_mult))).vector()
        start, period = 0, t0
        while start + period < 10**6:
            start += period
            period *= t_mult
            assert scheduled_lr(1.0, vec, start) == pytest.approx(1.0, rel=1e-12), (t0, t_mult, start)
            params = {"T_0": t0, "T_mult": t_mult, "eta_min": 0.0}
            for k in (start - 1, start + 1):
                assert scheduled_lr(1.0, vec, k) == pytest.approx(schedule_lr(1.0, "cosine_restarts", params, k),
                                                                  rel=1e-12, abs=1e-15), (t0, t_mult, k)  # fmt: skip


# --------------------------------------------------------------------------------------
# the modifiers inside trace(), step for step against the reference
# --------------------------------------------------------------------------------------

def _mods(seed: int, noise: float, clip: str = "none", clip_value: float = 1.0, schedule: str = "constant",
          **params: float) -> Modifiers:  # fmt: skip
    return Modifiers(noise=noise, seed=seed, clip=clip, clip_value=clip_value, schedule=schedule,
                     schedule_params=tuple(params.items()))  # fmt: skip


TRACE_MODIFIER_CASES = [
    ("beale", "sgd", dict(lr=1e-3, momentum=0.9), _mods(1, 0.5, "norm", 2.0, "step", step_size=50, gamma=0.7)),
    ("beale", "adam", dict(lr=1e-2), _mods(2, 1.0, "value", 0.5, "cosine", T_max=200)),
    ("rosenbrock", "momentum", dict(lr=1e-4), _mods(3, 0.2, schedule="exponential", gamma=0.995)),
    ("rosenbrock", "momentum", dict(lr=1e-4, convention="textbook"),
     _mods(3, 0.2, schedule="exponential", gamma=0.995)),
    ("rosenbrock", "nesterov", dict(lr=1e-4, convention="textbook"), _mods(4, 0.3, "norm", 5.0, "warmup")),
    ("rosenbrock", "nesterov", dict(lr=1e-4), _mods(4, 0.3, "norm", 5.0, "warmup")),
    ("quadratic", "adagrad", dict(lr=0.5), _mods(5, 0.1, schedule="cosine_restarts", T_0=20, T_mult=2, eta_min=0.01)),
    ("quadratic", "rmsprop", dict(lr=1e-3, centered=True), _mods(6, 0.1, "value", 0.3)),
    ("quadratic", "nadam", dict(), _mods(7, 0.3, schedule="exponential")),
    ("beale", "lion", dict(lr=1e-3), _mods(8, 0.3, schedule="cosine_restarts", T_0=30, T_mult=3)),
    ("beale", "rprop", dict(), _mods(9, 0.05, "norm", 1.0)),
    ("beale", "delta_bar_delta", dict(lr=1e-3, momentum=0.5), _mods(10, 0.2, "value", 1.0, "step")),
    ("rosenbrock", "adadelta", dict(), _mods(11, 0.5, "norm", 10.0, "warmup", start_factor=0.5, total_iters=100)),
    ("quadratic", "adamw", dict(lr=0.05, weight_decay=0.1), _mods(12, 0.2, schedule="cosine")),
    # SAM: noise and clipping on both of its gradients (at θ and at θ + ε)
    ("beale", "sam", dict(lr=1e-3, base="momentum"), _mods(13, 0.3, "norm", 2.0, "exponential")),
    ("quadratic", "sam", dict(lr=0.05, base="adam", rho=0.2), _mods(14, 0.2, "value", 0.5)),
    # schedule-free: the lab's schedule scales the η its warm-up and averaging weights see
    ("beale", "schedulefree_adamw", dict(lr=1e-2, warmup_steps=20), _mods(15, 0.3, "norm", 2.0, "cosine", T_max=200)),
    ("rosenbrock", "schedulefree_sgd", dict(lr=1e-4), _mods(16, 0.2, schedule="exponential", gamma=0.995)),
]


@pytest.mark.parametrize("case", TRACE_MODIFIER_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_trace_with_modifiers_matches_reference(case):
    surface, name, overrides, mods = case
    traj = compare_trace(surface, name, overrides, 400, modifiers=mods)
    assert traj.steps == 400


@pytest.mark.parametrize("name", ["newton", "cg", "lbfgs"])
def test_modifiers_are_ignored_by_second_order_and_line_search_methods(name):
    s = get_surface("rosenbrock")
    cfg = make_config(name)
    mods = Modifiers(noise=5.0, seed=3, clip="value", clip_value=1e-3, schedule="exponential",
                     schedule_params=(("gamma", 0.5),))  # fmt: skip
    a = trace(s, cfg, start=(-1.2, 1.0), steps=60, modifiers=mods)
    b = trace(s, cfg, start=(-1.2, 1.0), steps=60)
    assert a.status == b.status
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.updates, b.updates)


def test_schedules_change_first_order_runs():
    s = get_surface("beale")
    cfg = make_config("sgd", lr=1e-3)
    a = trace(s, cfg, start=(1.0, 1.5), steps=50, modifiers=Modifiers(schedule="exponential"))
    b = trace(s, cfg, start=(1.0, 1.5), steps=50)
    np.testing.assert_array_equal(a.positions[:2], b.positions[:2])  # step 1 uses the base lr
    assert not np.array_equal(a.positions[2:], b.positions[2:])
    # effective lr of plain SGD is the scheduled lr
    assert_close(a.effective_lr[1:, 0], 1e-3 * 0.99 ** np.arange(50), "scheduled lr of SGD")


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(noise=-0.1), "noise"),
        (dict(noise=math.nan), "noise"),
        (dict(noise=math.inf), "noise"),
        (dict(noise=1e7), "noise"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed=2**53), "seed"),
        (dict(clip="l2"), "clip"),
        (dict(clip="norm", clip_value=0.0), "clip_value"),
        (dict(clip="value", clip_value=-1.0), "clip_value"),
        (dict(clip="norm", clip_value=math.nan), "clip_value"),
        (dict(schedule="linear"), "schedule"),
        (dict(schedule="step", schedule_params=(("T_max", 10),)), "T_max"),
        (dict(schedule="step", schedule_params=(("gamma", 1.5),)), "gamma"),
        (dict(schedule="step", schedule_params=(("step_size", 0),)), "step_size"),
        (dict(schedule="cosine", schedule_params=(("T_max", math.nan),)), "T_max"),
        (dict(schedule="cosine_restarts", schedule_params=(("T_mult", 0.5),)), "T_mult"),
        (dict(schedule="warmup", schedule_params=(("start_factor", 0.0),)), "start_factor"),
        (dict(schedule="constant", schedule_params=(("gamma", 0.5),)), "gamma"),
    ],
)
def test_invalid_modifiers_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Modifiers(**kwargs)


def test_modifiers_round_trip_through_dict():
    import json

    m = Modifiers(noise=0.3, seed=9, clip="norm", clip_value=2.0, schedule="cosine_restarts",
                  schedule_params=(("T_0", 20.0), ("T_mult", 2.0)))  # fmt: skip
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    back = Modifiers.from_dict(d)
    np.testing.assert_array_equal(back.vector(), m.vector())

