"""Benchmark of the autoencoder's curvature: prints figures (not collected by pytest).

    python bench/bench_curvature.py [--epochs 5] [--repeat 30]

1. One exact Hessian–vector product against one gradient, float64, on the
   default digits autoencoder (64-32-8-32-64, 4,744 parameters) and the 500
   fixed training rows the lab's report uses: the ratio (about 2 expected:
   the R-forward and R-backward passes each cost about one pass).
2. The Gauss–Newton product, the same way.
3. The lab's report (Lanczos, 5 top and 5 bottom, at most 60 products) at the
   final weights of a short race of Adam and SGD, its time and eigenvalues.

Medians of ``--repeat`` calls; the machine is shared and noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from autoencoder.data import load_data
from autoencoder.hvp import gauss_newton_vector_product, hessian_vector_product
from autoencoder.lanczos import curvature_report
from autoencoder.model import ModelSpec
from autoencoder.train import RaceEntry, train_race
from optimizers import make_config


def _median(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    data = load_data("digits", None, seed=0)
    spec = ModelSpec(hidden=(32, 8, 32))
    entries = [RaceEntry(make_config("adam", lr=0.01)), RaceEntry(make_config("sgd", lr=0.1))]
    t0 = time.perf_counter()
    race = train_race(data, entries, spec, epochs=args.epochs, batch_size=64, seed=0, landscape_samples=500)
    print(f"race: {args.epochs} epochs of Adam (lr 0.01) and SGD (lr 0.1) in {time.perf_counter() - t0:.1f} s")
    net, x, t = race.model, race.landscape_inputs, race.landscape_targets
    print(f"model {net.describe()}; {x.shape[0]} rows")
    theta = race.runs[0].theta
    v = np.random.default_rng(0).standard_normal(net.n_params)
    tg = _median(lambda: net.loss_and_grad(theta, x, t), args.repeat)
    th = _median(lambda: hessian_vector_product(net, theta, x, t, v), args.repeat)
    tn = _median(lambda: gauss_newton_vector_product(net, theta, x, t, v), args.repeat)
    print(f"gradient {1e3 * tg:.2f} ms   Hessian-vector {1e3 * th:.2f} ms (× {th / tg:.2f})   "
          f"Gauss-Newton-vector {1e3 * tn:.2f} ms (× {tn / tg:.2f})")  # fmt: skip
    for r in race.runs:
        t1 = time.perf_counter()
        rep = curvature_report(net, r.theta, x, t)
        dt = time.perf_counter() - t1
        print(f"\n{r.label}: report in {dt:.2f} s ({rep['iterations']} products, "
              f"{'converged' if rep['converged'] else 'at the bound'})")  # fmt: skip
        print("  top:    " + ", ".join(f"{v:.4g}" for v in rep["top"]))
        print("  bottom: " + ", ".join(f"{v:.4g}" for v in rep["bottom"]))
        lr = r.config.values.get("lr")
        eta = f"η·λ_max = {lr * rep['lambda_max']:.4g} (η = {lr})" if r.config.name == "sgd" else \
            "η·λ_max: not meaningful (adaptive steps)"  # fmt: skip
        print(f"  κ = {rep['kappa']:.4g}   {eta}   {rep['note']}")


if __name__ == "__main__":
    main()
