"""Benchmark of the numerical core; prints figures (not collected by pytest).

    python bench/bench_core.py [--quick] [--vectorized-only]

1. ns per step of every optimizer in the registry on Beale inside the kernels:
   one trajectory (latency-bound: each step needs the previous one) and batched
   runs (throughput: independent runs stepped together), one thread.  A SAM
   step evaluates two gradients, and its batched runs go job by job (its ascent
   couples the coordinates, so runs cannot share one vector).
2. A plain Python/numpy Adam-on-Beale loop measured in the same process, and
   the ratio against it.
3. A 256×256-start × 1000-step Adam sweep on Beale (65.5 M steps), all
   threads, and the ratio against tracing the same runs one by one.
4. Import + first trace in a fresh process with a cold and a warm Numba cache.
5. The 256×256-start × 1000-step Adam-on-Beale sweep (65.5 M steps, no early
   stop) against vectorized contenders in the same run: Descent Lab's sweep on
   2 threads (float64, and float32 as the live maps' preview runs it), NumPy
   with all 65 536 runs as arrays (the analytic Beale gradient,
   torch.optim.Adam's formulas without fused multiply-adds), and,
   when torch is installed, torch on 2 threads with torch.optim.Adam on one
   (65 536, 2) parameter, its gradient set from the analytic formula or taken
   by autograd.  The contenders alternate within each repeat; the medians and
   the ratios against Descent Lab are printed, and the share of runs whose end
   point agrees with Descent Lab's (same rule, same starts: the others differ by
   rounding, which a few chaotic runs amplify over 1000 steps; float32 end
   points differ from float64's by float32's rounding, about 1e-6 of the box).
   Last, the floor of a float64 sweep that rounds as torch does: Adam's square
   roots and divisions alone, which share one unit of the CPU, written as
   torch writes them (2 and 4 a step) and as the sweep computes them (the
   division by the bias correction as a reciprocal and fused multiply-adds,
   the same bits: 2 and 2 a step).

Times are medians of repeated runs; this machine is shared and noisy, so the
ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from optimizers import OPTIMIZERS, make_config, sweep, trace  # noqa: E402
from optimizers._kernels import scalar_slots, state_rows  # noqa: E402
from optimizers._runkernels import run  # noqa: E402
from optimizers._torchmath import divide_by  # noqa: E402
from optimizers.runner import _hessian_buffer  # noqa: E402
from optimizers.modifiers import NO_MODIFIERS  # noqa: E402
from surfaces import get_surface  # noqa: E402

#: learning rates that keep every optimizer finite on Beale from (1, 1.5)
SANE_LR = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "adadelta": 1.0, "newton": 0.5}


def median_time(fn, repeats: int) -> float:
    fn()
    return statistics.median(_timed(fn) for _ in range(repeats))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def single_trajectory_ns(surface, cfg, steps: int, repeats: int) -> float:
    """ns/step of one unrecorded run inside the kernel."""
    oid, hp = cfg.spec.oid, cfg.vector
    S = np.zeros((max(state_rows(oid, hp), 1), 2))
    sc = np.zeros(scalar_slots(oid, hp))
    e1, e0, e3 = np.zeros((0, 2)), np.zeros(0), np.zeros((0, 0, 2))
    show = np.zeros(0, dtype=np.int64)
    final = np.zeros(2)
    mods = NO_MODIFIERS.vector()
    x0 = np.array(surface.starts[0])
    args = surface.point_args  # as trace() calls the kernel
    hess = _hessian_buffer(cfg)  # as trace() passes it: only Newton's method reads one

    done = []

    def go():
        last, _, _ = run(*args, oid, hp, mods, x0, steps, 1e9, 0.0, 0.0, S, sc, hess, show, False, e1, e0, e1, e1, e1, e3, final)
        done.append(max(last, 1))

    return median_time(go, repeats) / done[-1] * 1e9


def batched_ns(surface, cfg, starts: np.ndarray, steps: int, repeats: int) -> float:
    """ns per (run × step) of a one-thread batched sweep with no early stop."""
    return median_time(lambda: sweep(surface, cfg, starts, steps, gtol=0.0, threads=1), repeats) / (
        starts.shape[0] * steps
    ) * 1e9


def numpy_adam_beale_ns(steps: int) -> float:
    """A readable Python/numpy Adam on Beale, as a student would write it."""

    def grad(p):
        x, y = p
        r1, r2, r3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        return np.array(
            [2 * (r1 * (y - 1) + r2 * (y**2 - 1) + r3 * (y**3 - 1)), 2 * x * (r1 + 2 * r2 * y + 3 * r3 * y**2)]
        )

    def go():
        p = np.array([1.0, 1.5])
        m = np.zeros(2)
        v = np.zeros(2)
        for t in range(1, steps + 1):
            g = grad(p)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)

    return median_time(go, 3) / steps * 1e9


def _beale_grad(x, y):
    """Beale's analytic gradient, elementwise (NumPy arrays or torch tensors)."""
    y2 = y * y
    y3 = y2 * y
    r1 = 1.5 - x + x * y
    r2 = 2.25 - x + x * y2
    r3 = 2.625 - x + x * y3
    return 2.0 * (r1 * (y - 1.0) + r2 * (y2 - 1.0) + r3 * (y3 - 1.0)), 2.0 * x * (r1 + 2.0 * r2 * y + 3.0 * r3 * y2)


def numpy_adam_sweep(starts: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """Every run at once as (m,) arrays: torch.optim.Adam's update (β = 0.9, 0.999, ε = 1e-8), in place."""
    x, y = starts[:, 0].copy(), starts[:, 1].copy()
    mx, my, vx, vy = (np.zeros_like(x) for _ in range(4))
    b1, b2, eps = 0.9, 0.999, 1e-8
    tmp = np.empty_like(x)
    for t in range(1, steps + 1):
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = (1.0 - b2**t) ** 0.5
        for p, m, v, g in zip((x, y), (mx, my), (vx, vy), _beale_grad(x, y), strict=True):
            m += (1.0 - b1) * (g - m)  # exp_avg.lerp_(grad, 1 − β₁)
            v *= b2
            v += (1.0 - b2) * g * g
            np.sqrt(v, out=tmp)
            tmp /= bc2_sqrt
            tmp += eps
            p -= step_size * m / tmp
    return np.stack([x, y], axis=1)


def torch_adam_sweep(torch, starts: np.ndarray, steps: int, lr: float, autograd: bool) -> np.ndarray:
    """torch.optim.Adam on one (m, 2) parameter holding every run; the gradient analytic or by autograd."""
    p = torch.tensor(starts, dtype=torch.float64, requires_grad=autograd)
    opt = torch.optim.Adam([p], lr=lr)
    for _ in range(steps):
        if autograd:
            opt.zero_grad(set_to_none=False)
            x, y = p[:, 0], p[:, 1]
            loss = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
            loss.sum().backward()
        else:
            with torch.no_grad():
                gx, gy = _beale_grad(p[:, 0], p[:, 1])
                p.grad = torch.stack([gx, gy], dim=1)
        opt.step()
    return p.detach().numpy()


@njit(nogil=True, cache=True, error_model="numpy")
def _roots_and_quotients(v, m, steps, c, eps, by_reciprocal):  # pragma: no cover - compiled
    """Only the square roots and divisions of Adam's step (torch's arithmetic: sqrt(v) / c + eps, then
    m / denom) on every coordinate of ``v``, ``steps`` times; the other work of a step left out.  With
    ``by_reciprocal`` the division by ``c`` is the sweep's ``divide_by`` (same bits, no divider)."""
    inv_c = 1.0 / c
    for _ in range(steps):
        if by_reciprocal:
            for i in range(v.size):
                m[i] = m[i] / (divide_by(math.sqrt(v[i]), c, inv_c) + eps)
        else:
            for i in range(v.size):
                m[i] = m[i] / (math.sqrt(v[i]) / c + eps)
    return m[0]


def divider_floor_ns(n_runs: int, steps: int, repeats: int, by_reciprocal: bool) -> float:
    """ns per run-step of :func:`_roots_and_quotients` on 2 threads (2 coordinates a run): the time a
    float64 Adam sweep cannot go below on this CPU while it rounds as torch does (IEEE division and
    square root, which share one unit that the rest of the step does not use; with ``by_reciprocal`` a
    product and four fused multiply-adds, on the ports the rest of the step uses, stand in for one division)."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    halves = [(rng.random(n_runs) + 0.5, rng.random(n_runs)) for _ in range(2)]  # each half: n_runs coordinates
    _roots_and_quotients(halves[0][0][:8].copy(), halves[0][1][:8].copy(), 2, 1.3, 1e-8, by_reciprocal)
    with ThreadPoolExecutor(2) as pool:
        def go():
            list(pool.map(lambda h: _roots_and_quotients(h[0], h[1], steps, 1.3, 1e-8, by_reciprocal), halves))

        return median_time(go, repeats) / (n_runs * steps) * 1e9


def vectorized_contenders(n: int, steps: int, repeats: int) -> None:
    """Section 5: Descent Lab's sweep against NumPy and torch, interleaved repeats, medians and ratios."""
    beale = get_surface("beale")
    xs = np.linspace(-4.5, 4.5, n)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    lr = 0.01
    adam = make_config("adam", lr=lr)
    total = grid.shape[0] * steps
    contenders = {  # name -> the function computing every run's end point
        "descent lab, 2 threads, float64": lambda: sweep(beale, adam, grid, steps, gtol=0.0, threads=2).final_positions,
        "descent lab, 2 threads, float32": lambda: sweep(beale, adam, grid, steps, gtol=0.0, xtol=0.0, threads=2,
                                                         precision="float32").final_positions,
        "numpy, all runs as arrays": lambda: numpy_adam_sweep(grid, steps, lr),
    }
    try:
        import torch
    except ImportError as exc:
        torch = None
        print(f"   torch: not measured, `import torch` failed ({exc})")
    if torch is not None:
        torch.set_num_threads(2)
        contenders[f"torch {torch.__version__}, 2 threads, analytic gradient"] = lambda: torch_adam_sweep(
            torch, grid, steps, lr, False)  # fmt: skip
        contenders[f"torch {torch.__version__}, 2 threads, autograd"] = lambda: torch_adam_sweep(
            torch, grid, steps, lr, True)  # fmt: skip
    ends = {name: fn() for name, fn in contenders.items()}  # warm-up (compiled kernels, thread pools)
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(_timed(fn))
    ours = next(iter(contenders))
    base = statistics.median(times[ours])
    width = max(len(name) for name in contenders) + 1
    print(f"   {n}x{n} starts x {steps} steps = {total / 1e6:.1f} M steps, medians of {repeats} interleaved repeats")
    for name, ts in times.items():
        t = statistics.median(ts)
        close = np.mean(np.max(np.abs(ends[name] - ends[ours]), axis=1) <= 1e-6)
        print(f"   {name:<{width}} {t:7.3f} s {t / total * 1e9:7.2f} ns/step  {t / base:6.1f}x descent lab's time"
              f"  ({close:6.1%} of end points within 1e-6 of descent lab's)")  # fmt: skip
    ours_ns = base / total * 1e9
    for by_reciprocal, arithmetic in ((False, "as torch writes them, 2 square roots and 4 divisions a step"),
                                      (True, "as the sweep computes them, 2 square roots and 2 divisions")):
        floor = divider_floor_ns(grid.shape[0], min(steps, 300), repeats, by_reciprocal)
        print(f"   floor: Adam's roots and quotients alone, {arithmetic}, 2 threads: {floor:.2f} ns/step"
              f" (descent lab float64: {ours_ns / floor:.2f}x)")  # fmt: skip


def section_5(quick: bool) -> None:
    print("5. Adam sweep on Beale against vectorized NumPy and torch (same runs, same rule)")
    vectorized_contenders(64 if quick else 256, 200 if quick else 1000, 3 if quick else 5)


def first_trace_seconds(cache_dir: str) -> float:
    code = (
        "import time; t0 = time.perf_counter();"
        "from surfaces import get_surface; from optimizers import make_config, trace;"
        "trace(get_surface('beale'), make_config('adam', lr=0.01), (1, 1.5), 500);"
        "print(time.perf_counter() - t0)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (for a smoke run)")
    ap.add_argument("--vectorized-only", action="store_true", help="run section 5 alone")
    args = ap.parse_args()
    quick = args.quick
    if args.vectorized_only:
        section_5(quick)
        return
    beale = get_surface("beale")
    steps = 20_000 if quick else 200_000
    batch_starts = np.random.default_rng(0).uniform([0.5, 1.0], [1.5, 2.0], (256 if quick else 4096, 2))
    batch_steps = 200 if quick else 1000

    print(f"threads available: {os.cpu_count()}  (medians; lower is better)")
    print("\n1. ns per step on Beale, inside the kernels, one thread")
    width = max(len(spec.name) for spec in OPTIMIZERS) + 1
    print(f"   {'optimizer':<{width}} {'one trajectory':>15} {'batched runs':>13}")
    results = {}
    for spec in OPTIMIZERS:
        if spec.name == "hessian_free":
            print(f"   {spec.name:<{width}} a Python driver, not a kernel: see bench_hessian_free.py")
            continue
        cfg = make_config(spec.name, lr=SANE_LR.get(spec.name, spec.param("lr").default))
        single = single_trajectory_ns(beale, cfg, steps if spec.first_order else steps // 10, 5)
        batched = batched_ns(beale, cfg, batch_starts, batch_steps if spec.first_order else batch_steps // 5, 3)
        results[spec.name] = (single, batched)
        print(f"   {spec.name:<{width}} {single:>12.1f} ns {batched:>10.1f} ns")

    base = numpy_adam_beale_ns(2_000 if quick else 20_000)
    single, batched = results["adam"]
    print("\n2. Adam on Beale vs a plain Python/numpy loop in this process")
    print(f"   numpy loop: {base:,.0f} ns/step; kernel: {single:.1f} ns/step one trajectory "
          f"({base / single:,.0f}x faster), {batched:.1f} ns/step batched ({base / batched:,.0f}x faster)")  # fmt: skip

    n = 64 if quick else 256
    sweep_steps = 200 if quick else 1000
    xs = np.linspace(-4.5, 4.5, n)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    adam = make_config("adam", lr=0.01)
    t_sweep = median_time(lambda: sweep(beale, adam, grid, sweep_steps, gtol=0.0), 3)
    sample = grid[:: max(1, grid.shape[0] // 200)]
    t_loop = median_time(lambda: [trace(beale, adam, s, sweep_steps) for s in sample], 3) * grid.shape[0] / sample.shape[0]
    total = grid.shape[0] * sweep_steps
    print(f"\n3. Adam sweep on Beale: {n}x{n} starts x {sweep_steps} steps = {total / 1e6:.1f} M steps")
    print(f"   batched sweep, {os.cpu_count()} threads: {t_sweep:.2f} s ({t_sweep / total * 1e9:.1f} ns/step)")
    print(f"   trace() in a Python loop (extrapolated from {sample.shape[0]} runs): {t_loop:.1f} s "
          f"-> sweep is {t_loop / t_sweep:,.0f}x faster")  # fmt: skip

    print("\n4. fresh process: import + first 500-step trace")
    with tempfile.TemporaryDirectory() as cache:
        cold = first_trace_seconds(cache)
        warm = statistics.median(first_trace_seconds(cache) for _ in range(3))
    print(f"   cold Numba cache: {cold:.1f} s   warm cache: {warm:.2f} s")
    print()
    section_5(quick)


if __name__ == "__main__":
    main()
