"""The lock-step sweep: every job equals its single run bit for bit, on every surface and coordinate-wise rule.

The reference is the job-by-job sweep kernel (one ``run`` per job, the path ``trace`` takes), called on the
same inputs; the lock-step sweep must give the same final positions, losses, steps and status codes exactly.
"""

import numpy as np
import pytest

from optimizers import OPTIMIZERS, Modifiers, make_config, runner, sweep, trace
from optimizers import _slots as slots
from optimizers._kernels import scalar_slots, state_rows
from optimizers._runkernels import sweep as one_by_one_kernel
from optimizers._sweepkernels import _screen
from optimizers.modifiers import NO_MODIFIERS
from optimizers.runner import default_tolerances, escape_radius
from surfaces import get_surface, surface_names
from surfaces._blockkernels import evaluate_grad_block
from surfaces._kernels import evaluate_grad_many

COORDINATEWISE = [spec.name for spec in OPTIMIZERS if spec.coordinatewise]
#: options that change a coordinate-wise rule's arithmetic (each is a separate branch of its kernel)
VARIANTS = [
    ("adam", {"amsgrad": True}),
    ("adam", {"weight_decay": 0.1}),
    ("adam", {"no_bias_correction": True, "lr": 1e-3}),
    ("adamw", {"weight_decay": 0.1}),
    ("adamw", {"weight_decay": 0.0}),
    ("adamw", {"amsgrad": True, "weight_decay": 0.05}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("nesterov", {"convention": "textbook"}),
    ("nadam", {"decoupled_weight_decay": True, "weight_decay": 0.05}),
]
FORMULA = "formula:(x^2 + y - 11)^2/(x - 0.5) + sin(3*x*y)"  # a pole on x = 0.5: non-finite values in the box


def _surface(name):
    return get_surface(name, n=24) if name in ("linreg", "logreg", "tiny_net") else get_surface(name)


def _starts(surface, k=13):
    """A k×k lattice over the box and a little beyond (so some runs escape), plus the box's corners."""
    (x0, x1), (y0, y1) = surface.bounds
    xs = np.linspace(x0 - 0.2 * (x1 - x0), x1, k)
    ys = np.linspace(y0, y1 + 0.2 * (y1 - y0), k)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def _one_by_one(surface, cfg, starts, steps, modifiers, gtol, xtol):
    """The job-by-job sweep on the same inputs: what each job's single run gives."""
    m = starts.shape[0]
    oid, hp = cfg.spec.oid, cfg.vector
    out = (np.zeros((m, 2)), np.zeros(m), np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64))
    mods = modifiers.vector() if cfg.spec.first_order else NO_MODIFIERS.vector()
    with np.errstate(all="ignore"):
        one_by_one_kernel(*surface.kernel_args, oid, np.tile(hp, (m, 1)), mods, np.ascontiguousarray(starts), steps,
                          escape_radius(surface), gtol, xtol, max(state_rows(oid, hp), 1), scalar_slots(oid, hp),
                          *out)  # fmt: skip
    return out


def _assert_lockstep_equals_runs(surface, cfg, starts, steps, modifiers=NO_MODIFIERS, tolerances=None):
    gtol, xtol = default_tolerances(surface) if tolerances is None else tolerances
    res = sweep(surface, cfg, starts, steps, modifiers=modifiers, gtol=gtol, xtol=xtol)
    final, loss, nsteps, status = _one_by_one(surface, cfg, starts, steps, modifiers, gtol, xtol)
    assert np.array_equal(res.status, status)
    assert np.array_equal(res.steps_to_converge, nsteps)
    assert np.array_equal(res.final_positions, final)
    assert np.array_equal(res.final_losses, loss)
    return res


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 runs, so every sweep here spans several blocks and a partial last one."""
    monkeypatch.setattr(runner, "LOCKSTEP_BLOCK", 7)


def test_block_gradient_equals_the_single_point_gradient_on_every_surface():
    rng = np.random.default_rng(5)
    for name in [*surface_names(), FORMULA]:
        s = _surface(name)
        (x0, x1), (y0, y1) = s.bounds
        xs = np.concatenate([rng.uniform(x0, x1, 300), [0.0, 0.5, np.inf, -np.inf, np.nan, 1e200]])
        ys = np.concatenate([rng.uniform(y0, y1, 300), [0.0, 0.0, 1.0, 1.0, 1.0, 1e200]])
        ref = np.zeros((xs.size, 3))
        f, gx, gy = np.zeros(xs.size), np.zeros(xs.size), np.zeros(xs.size)
        with np.errstate(all="ignore"):
            evaluate_grad_many(*s.kernel_args, xs, ys, ref)
            evaluate_grad_block(*s.kernel_args, xs, ys, f, gx, gy)
        got = np.stack([f, gx, gy], axis=1)
        assert np.array_equal(got, ref, equal_nan=True), name


@pytest.mark.parametrize("name", COORDINATEWISE)
def test_every_coordinatewise_rule_equals_its_runs_on_beale_and_himmelblau(name, small_blocks):
    cfg = make_config(name)
    for surface_name in ("beale", "himmelblau"):
        s = get_surface(surface_name)
        _assert_lockstep_equals_runs(s, cfg, _starts(s), 400)


@pytest.mark.parametrize(("name", "options"), VARIANTS)
def test_rule_variants_equal_their_runs(name, options, small_blocks):
    s = get_surface("rosenbrock")
    _assert_lockstep_equals_runs(s, make_config(name, **options), _starts(s), 300)


@pytest.mark.parametrize("surface_name", [n for n in surface_names() if n not in ("beale", "himmelblau")] + [FORMULA])
def test_every_surface_equals_its_runs(surface_name, small_blocks):
    s = _surface(surface_name)
    for cfg in (make_config("adam", lr=0.05), make_config("momentum", lr=1e-3)):
        _assert_lockstep_equals_runs(s, cfg, _starts(s, 9), 300)


def test_runs_that_diverge_converge_or_start_on_a_pole_equal_their_runs(small_blocks):
    s = get_surface(FORMULA)
    starts = np.concatenate([_starts(s, 9), [[0.5, 1.0], [0.5, -2.0]]])  # f is not finite at the last two
    res = _assert_lockstep_equals_runs(s, make_config("adam", lr=0.5), starts, 300)
    assert res.status[-1] == slots.DIVERGED and res.final_losses[-1] == np.inf
    b = get_surface("beale")
    res = _assert_lockstep_equals_runs(b, make_config("sgd", lr=0.05), _starts(b), 200)
    assert np.any(res.diverged) and not np.all(res.diverged)
    h = get_surface("himmelblau")
    res = _assert_lockstep_equals_runs(h, make_config("adam", lr=0.05), _starts(h), 2000)
    assert np.all(res.converged) and np.unique(res.steps_to_converge).size > 20  # blocks of runs done at many steps


@pytest.mark.parametrize("tolerances", [(0.0, 0.0), (1e-3, 0.0), (1e-300, 1e-300), (10.0, 1e-2), (1e30, 1e30)])
def test_extreme_tolerances_equal_their_runs(tolerances, small_blocks):
    s = get_surface("booth")
    _assert_lockstep_equals_runs(s, make_config("adam", lr=0.1), _starts(s, 7), 500, tolerances=tolerances)


@pytest.mark.parametrize("cfg", [make_config("adam", lr=0.05), make_config("nesterov", lr=0.01, convention="textbook"),
                                 make_config("lion", lr=0.01)])  # fmt: skip
def test_noise_clipping_and_schedules_equal_their_runs(cfg, small_blocks):
    s = get_surface("himmelblau")
    for mods in (Modifiers(noise=0.5, seed=7, clip="norm", clip_value=2.0, schedule="cosine"),
                 Modifiers(clip="value", clip_value=0.5, schedule="step"), Modifiers(noise=0.1, seed=3)):  # fmt: skip
        _assert_lockstep_equals_runs(s, cfg, _starts(s, 9), 300, modifiers=mods)


@pytest.mark.parametrize("cfg", [make_config("adam", lr=0.05), make_config("nesterov", lr=0.01, convention="textbook")])
def test_minibatches_equal_their_runs(cfg, small_blocks):
    s = get_surface("tiny_net", n=48)
    _assert_lockstep_equals_runs(s, cfg, _starts(s, 9), 150, modifiers=Modifiers(batch_size=6, seed=4, noise=0.1))


def test_a_job_equals_its_trace():
    s = get_surface("beale")
    cfg = make_config("adam", lr=0.01)
    starts = _starts(s, 11)
    res = sweep(s, cfg, starts, 500, gtol=0.0)
    for k in range(0, starts.shape[0], 10):
        t = trace(s, cfg, starts[k], 500)
        assert np.array_equal(res.final_positions[k], t.positions[-1])
        assert res.final_losses[k] == t.losses[-1]


def test_the_convergence_screen_never_misses_a_converged_run():
    """max(|a|, |b|) > _screen(tol) must imply √(a² + b²) > tol, for any tol, down to subnormal numbers."""
    rng = np.random.default_rng(2)
    for tol in [0.0, 5e-324, 1e-310, 1e-160, 1e-150, 1e-8, 1e-6, 1.0, 1e150, 1e300]:
        bound = _screen(tol)
        for scale in (bound, np.nextafter(bound, np.inf), bound * (1 + 1e-12)):
            a = np.full(1000, scale) * rng.choice([-1.0, 1.0], 1000)
            a = np.nextafter(a, np.copysign(np.inf, a))  # just above the bound
            b = a * rng.uniform(-1.0, 1.0, 1000)
            with np.errstate(over="ignore"):
                assert np.all(np.sqrt(a * a + b * b) > tol), tol
