"""Hessian-free figures: Rosenbrock iterations to f < 1e-10 against L-BFGS, curvature products per step, and
the lab's epoch time on the digits autoencoder (default 4,744 parameters and a larger net).

    python bench/bench_hessian_free.py
"""

from __future__ import annotations

import time

import numpy as np

from autoencoder.data import load_data
from autoencoder.model import ModelSpec
from autoencoder.train import train_race
from optimizers import make_config, trace
from surfaces import get_surface


def rosenbrock() -> None:
    s = get_surface("rosenbrock")
    for name in ("hessian_free", "lbfgs", "newton"):
        t = trace(s, make_config(name), start=(-1.2, 1.0), steps=200)
        hit = np.flatnonzero(t.losses < 1e-10)
        k = int(hit[0]) if hit.size else None
        extra = ""
        if t.cg_iterations is not None and k:
            extra = (f"  CG {t.cg_iterations[1:k + 1].mean():.2f}/step, products "
                     f"{t.curvature_products[1:k + 1].mean():.2f}/step ({t.curvature_products[1:k + 1].sum()} total)")
        print(f"rosenbrock {name:<13} iterations to f<1e-10: {k}{extra}")


def lab(hidden: tuple[int, ...], epochs: int = 5) -> None:
    data = load_data("digits")
    race = train_race(data, [make_config("hessian_free"), make_config("sgd")], ModelSpec(hidden=hidden),
                      epochs=epochs, psnr_corruptions=None)  # fmt: skip
    for r in race.runs:
        h = r.history[-1]
        cg = f"  CG {np.mean(r.cg_iterations):.1f}/step" if r.cg_iterations else ""
        print(f"digits {hidden} ({race.model.n_params:,} params) {r.key:<13} train {h.train_loss:.5f} "
              f"{h.seconds / epochs:.3f} s/epoch{cg}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    rosenbrock()
    lab((32, 8, 32))
    lab((256, 64, 256))
    print(f"total {time.perf_counter() - t0:.1f} s")
