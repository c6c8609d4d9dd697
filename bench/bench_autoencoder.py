"""Benchmark of the autoencoder lab; prints figures (not collected by pytest).

    python bench/bench_autoencoder.py [--quick] [--threads 1,2] [--torch-python PATH]

1. Epoch time of the optimizer race's driver on scikit-learn's digits
   (64-32-8-32-64, batch 64, Adam).
2. Epoch time on a synthetic MNIST-sized set (60 000 × 784, 784-256-64-256-784,
   batch 128, Adam), with the per-step split between the network's
   forward/backward pass and the optimizer kernel.
3. Only when PyTorch is available: a plain PyTorch CPU implementation of the
   same MLP (same data, same batch size, Adam, MSE, sigmoid output) and the
   ratio ours / torch (target ≤ 1.0).  Torch is not a dependency: either run
   this script with an interpreter that has torch (and the project's
   requirements, PYTHONPATH=<repo>), or pass ``--torch-python`` to run the
   torch part in a separate interpreter that needs only torch and numpy.

Both sides get the same number of threads (BLAS for numpy via threadpoolctl,
``torch.set_num_threads`` for torch).  Our forward/backward runs in float32
(torch's default); parameters and optimizer state stay float64.  Epoch times
are wall-clock and include shuffling the data; the medians of the timed
epochs are reported.  The machine is shared and noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np

MNIST_HIDDEN = (256, 64, 256)
DIGITS_HIDDEN = (32, 8, 32)


# --------------------------------------------------------------------------- torch (imports only numpy + torch)
def torch_epochs(x: np.ndarray, hidden: tuple[int, ...], batch: int, epochs: int, threads: int) -> list[float]:
    """Seconds per epoch of a plain PyTorch CPU training loop (Adam, MSE, ReLU hidden, sigmoid output)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    sizes = [data.shape[1], *hidden, data.shape[1]]
    layers: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        layers.append(torch.nn.ReLU() if i < len(sizes) - 2 else torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    n = data.shape[0]
    times = []
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        t0 = time.perf_counter()
        shuffled = data[torch.randperm(n, generator=gen)]
        for s in range(0, n, batch):
            xb = shuffled[s : s + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), xb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_torch(x: np.ndarray, hidden: tuple[int, ...], batch: int, epochs: int, threads: int,
              python: str | None) -> list[float] | None:  # fmt: skip
    """Torch epoch times in this process, or in ``python`` (a separate interpreter); None if unavailable."""
    if python is None:
        return torch_epochs(x, hidden, batch, epochs, threads) if torch_available() else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, x.astype(np.float32))
        cmd = [python, __file__, "--torch-worker", str(path), "--hidden", ",".join(map(str, hidden)),
               "--batch", str(batch), "--epochs", str(epochs), "--threads", str(threads)]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- ours
def ours_epochs(data, hidden: tuple[int, ...], batch: int, epochs: int, threads: int, precision: str = "float32"):
    """Wall seconds per epoch of train_race with one Adam run (evaluation reduced to one sample)."""
    from autoencoder.model import ModelSpec
    from autoencoder.train import train_race

    stamps: list[float] = []
    train_race(
        data, ["adam"], ModelSpec(hidden=hidden), epochs=epochs, batch_size=batch, eval_samples=1,
        psnr_corruptions=None, n_show=0, landscape_samples=1, precision=precision, threads=threads,
        progress=lambda s: stamps.append(time.perf_counter()),
    )  # fmt: skip
    return list(np.diff(stamps))


def step_split(n_in: int, hidden: tuple[int, ...], batch: int, threads: int, repeats: int = 30) -> dict[str, float]:
    """ms per minibatch step: forward/backward (float32) and the Adam kernel on the flat vector."""
    from autoencoder.model import Autoencoder
    from autoencoder.train import blas_threads
    from optimizers import make_config
    from optimizers._kernels import begin, init_state, scalar_slots, state_rows

    m = Autoencoder(n_in, hidden)
    theta = m.init_params("xavier", 0)
    x = np.random.default_rng(0).random((batch, n_in)).astype(np.float32)
    g = np.zeros(m.n_params)
    cfg = make_config("adam")
    oid, hp = cfg.spec.oid, cfg.vector
    S = np.zeros((state_rows(oid, hp), m.n_params))
    sc = np.zeros(scalar_slots(oid, hp))
    q, eff, h = np.zeros(m.n_params), np.zeros(m.n_params), np.zeros((0, 0))
    init_state(oid, hp, S, sc)
    with blas_threads(threads):
        m.loss_and_grad(theta, x, out=g, dtype=np.float32)
        t0 = time.perf_counter()
        for _ in range(repeats):
            m.loss_and_grad(theta, x, out=g, dtype=np.float32)
        fb = (time.perf_counter() - t0) / repeats
    begin(oid, hp, 1e-3, S, sc, theta, 0.0, g, h, q, eff)
    t0 = time.perf_counter()
    for _ in range(repeats):
        begin(oid, hp, 1e-3, S, sc, theta, 0.0, g, h, q, eff)
    k = (time.perf_counter() - t0) / repeats
    return {"params": m.n_params, "forward_backward_ms": fb * 1e3, "kernel_ms": k * 1e3}


def _median(v: list[float]) -> float:
    return statistics.median(v[1:] if len(v) > 1 else v)  # the first epoch warms caches up


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 000 synthetic samples, one thread setting, 2 epochs")
    ap.add_argument("--threads", default=None, help="comma-separated thread counts to measure (default 1,2)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--torch-python", default=None, help="interpreter with torch for the comparison")
    ap.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--hidden", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=128, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.torch_worker:  # child process: torch and numpy only
        x = np.load(args.torch_worker)
        hidden = tuple(int(v) for v in args.hidden.split(","))
        print(json.dumps(torch_epochs(x, hidden, args.batch, args.epochs, int(args.threads))))
        return 0

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
    from autoencoder.data import load_data, split, synthetic_images

    threads_list = [int(t) for t in (args.threads or ("1" if args.quick else "1,2")).split(",")]
    epochs = 2 if args.quick else max(2, args.epochs)
    n_mnist = 10_000 if args.quick else 60_000
    have_torch = args.torch_python is not None or torch_available()
    print(f"descent-lab autoencoder bench · {os.cpu_count()} CPUs · numpy {np.__version__}"
          f" · torch comparison: {'yes' if have_torch else 'no (torch not importable)'}")  # fmt: skip

    digits = load_data("digits")
    t0 = time.perf_counter()
    x = synthetic_images(n_mnist + 1, 28, seed=0)
    mnist = split(x, "synthetic", (28, 28), val_fraction=1 / (n_mnist + 1))
    print(f"synthetic set {mnist.train.shape[0]:,} × {mnist.n_features} generated in {time.perf_counter() - t0:.1f} s")

    for threads in threads_list:
        print(f"\n== {threads} thread(s) ==")
        d_ours = ours_epochs(digits, DIGITS_HIDDEN, 64, max(epochs, 5), threads)
        line = f"digits  64-32-8-32-64  batch 64  Adam: ours {_median(d_ours) * 1e3:7.1f} ms/epoch"
        steps = -(-digits.train.shape[0] // 64)
        line += f" ({_median(d_ours) / steps * 1e6:.0f} µs/step)"
        d_torch = run_torch(digits.train, DIGITS_HIDDEN, 64, max(epochs, 5), threads, args.torch_python)
        if d_torch:
            line += f" · torch {_median(d_torch) * 1e3:7.1f} ms/epoch · ratio {_median(d_ours) / _median(d_torch):.2f}"
        print(line)

        split_ms = step_split(784, MNIST_HIDDEN, 128, threads)
        ours = ours_epochs(mnist, MNIST_HIDDEN, 128, epochs, threads)
        line = (f"{mnist.train.shape[0]:,}×784  784-256-64-256-784  batch 128  Adam: ours {_median(ours):6.2f} s/epoch "
                f"[float32 fwd/bwd {split_ms['forward_backward_ms']:.2f} ms + Adam kernel "
                f"{split_ms['kernel_ms']:.2f} ms per step, {split_ms['params']:,} params]")  # fmt: skip
        print(line)
        t = run_torch(mnist.train, MNIST_HIDDEN, 128, epochs, threads, args.torch_python)
        if t:
            print(
                f"    torch {_median(t):6.2f} s/epoch · ratio ours/torch {_median(ours) / _median(t):.2f} (target ≤ 1.0)"
            )
        if not args.quick and threads == threads_list[0]:
            o64 = ours_epochs(mnist, MNIST_HIDDEN, 128, 2, threads, precision="float64")
            print(f"    ours with float64 forward/backward: {_median(o64):6.2f} s/epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
