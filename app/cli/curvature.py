"""``descent-lab curvature``: train like ``train``, then report each optimizer's Hessian spectrum at its final weights.

    descent-lab curvature --data digits --hidden 32,8,32 --optimizer adam --optimizer sgd \\
        --set sgd.lr=0.1 --epochs 5 [--top 5 --bottom 5] [--iterations 60] [--format text|json] [-o FILE]

It takes every option of ``train`` (the same race, from the same weights on the same
minibatches).  For each optimizer it prints the top and bottom Hessian eigenvalues of the
training-mode loss on the race's fixed 500 training rows (Lanczos with full reorthogonalisation
on exact Hessian–vector products), the condition number κ (λ_max/λ_min, or λ_max over the smallest
positive eigenvalue found when λ_min ≤ 0), η·λ_max for SGD, momentum and Nesterov, and the Explorer
link of the 2-D quadratic with that κ and η·λ_max.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli.common import emit

EPILOG = (
    "The Hessian is that of the training-mode loss (batch norm with batch statistics) on the race's fixed "
    "training rows, and its products are exact (Pearlmutter's R-operator), never finite differences. "
    "kappa = lambda_max / lambda_min when lambda_min > 0; otherwise the Hessian is indefinite or singular there and "
    "kappa divides by the smallest positive eigenvalue found (the report says so). eta*lambda_max is printed only "
    "for rules that step a single learning rate times the gradient (sgd, momentum, nesterov): plain gradient "
    "descent on a quadratic diverges once it exceeds 2. The link opens the Explorer's quadratic, whose lambda_max "
    "is 1, with the same kappa (clamped to its range) and learning rate eta*lambda_max."
)


def add_curvature_parser(subparsers: Any) -> argparse.ArgumentParser:
    from autoencoder.cli import add_train_parser

    scratch = argparse.ArgumentParser(add_help=False).add_subparsers()
    train = add_train_parser(scratch)
    p = subparsers.add_parser(
        "curvature", parents=[train], conflict_handler="resolve",
        help="train like `train`, then report each optimizer's Hessian eigenvalues, kappa and eta*lambda_max",
        description="Race optimizers on an autoencoder (every `train` option), then compute the top and bottom "
        "Hessian eigenvalues at each one's final weights.", epilog=EPILOG,
    )  # fmt: skip
    p.add_argument("--top", type=int, default=5, help="how many of the largest eigenvalues (default 5)")
    p.add_argument("--bottom", type=int, default=5, help="how many of the smallest eigenvalues (default 5)")
    p.add_argument("--iterations", type=int, default=60, help="most Lanczos iterations per optimizer (default 60)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--base-url", default="", help="prefix of the printed Explorer links, e.g. http://127.0.0.1:8050")
    p.set_defaults(func=cmd_curvature)
    return p


def _race(args: argparse.Namespace) -> Any:
    from autoencoder.cli import ProgressBar, optimizer_values, parse_data_arg
    from autoencoder.corrupt import parse_corruption
    from autoencoder.data import load_data
    from autoencoder.model import ModelSpec, parse_hidden
    from autoencoder.train import RaceEntry, train_race
    from optimizers import make_config

    names = [n.strip().lower() for n in (args.optimizer or [])]
    if not names:
        raise ValueError("give at least one --optimizer (e.g. --optimizer adam --optimizer sgd)")
    values = optimizer_values(names, args.set)
    entries = [RaceEntry(make_config(n, **v)) for n, v in zip(names, values, strict=True)]
    acts = [a.strip() for a in str(args.activation).split(",") if a.strip()]
    spec = ModelSpec(hidden=parse_hidden(args.hidden), activation=acts[0] if len(acts) == 1 else tuple(acts),
                     output_activation=args.output_activation, loss=args.loss, init=args.init,
                     batch_norm=bool(args.batch_norm), skip=args.skip)  # fmt: skip
    corruption = parse_corruption(args.noise) if args.noise else None
    source, path = parse_data_arg(args.data)
    data = load_data(source, path, val_fraction=args.val_fraction, seed=args.seed, max_samples=args.max_samples)
    spec.build(data.n_features)
    bar = None if args.quiet else ProgressBar(sys.stderr)
    try:
        return train_race(data, entries, spec, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                          corruption=corruption, precision=args.precision, full_batch_iters=args.full_batch_iters,
                          time_limit=args.time_limit, progress=bar, landscape_samples=500)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()


def curvature_rows(race: Any, k_top: int, k_bottom: int, iterations: int, seed: int) -> list[dict[str, Any]]:
    """Each run's curvature report and quadratic link (plain JSON)."""
    import numpy as np

    from app.lab.spectrum import quadratic_link
    from autoencoder.lanczos import curvature_report

    rows = []
    for r in race.runs:
        row: dict[str, Any] = {"optimizer": r.key, "label": r.label, "status": r.status}
        if r.theta is None or not bool(np.all(np.isfinite(r.theta))):
            row["message"] = "its weights are not finite (it diverged): no curvature"
        else:
            rep = curvature_report(race.model, r.theta, race.landscape_inputs, race.landscape_targets,
                                   k=max(k_top, k_bottom), max_iter=iterations, seed=seed)  # fmt: skip
            rep["top"], rep["bottom"] = rep["top"][:k_top], rep["bottom"][:k_bottom]
            row["report"] = rep
            row["link"] = quadratic_link(r.config.to_dict(), rep)
        rows.append(row)
    return rows


def _g(v: Any) -> str:
    return "—" if v is None else f"{v:.4g}"


def format_text(race: Any, rows: list[dict[str, Any]], base: str) -> str:
    out = [f"Model {race.model.describe()}"]
    for row in rows:
        out.append(f"\n{row['label']} ({row['status']})")
        rep = row.get("report")
        if rep is None:
            out.append(f"  {row['message']}")
            continue
        out.append(f"  top:    {', '.join(_g(v) for v in rep['top'])}")
        out.append(f"  bottom: {', '.join(_g(v) for v in rep['bottom'])}")
        out.append(f"  kappa = {_g(rep['kappa'])}   ({rep['note']})")
        link = row["link"]
        eta = link.get("eta_lmax")
        out.append(f"  eta*lambda_max = {_g(eta)}" if eta is not None else
                   f"  eta*lambda_max: not meaningful for {row['optimizer']} (no single step size on the gradient)")  # fmt: skip
        out.append(f"  Lanczos: {rep['iterations']} products on {rep['samples']} training rows, "
                   f"{'converged' if rep['converged'] else 'stopped at the iteration bound'}")  # fmt: skip
        out.append(f"  quadratic: {base}{link['href']}" if link.get("href") else f"  {link['text']}")
    return "\n".join(out) + "\n"


def cmd_curvature(args: argparse.Namespace) -> int:
    for name in ("top", "bottom", "iterations"):
        v = getattr(args, name)
        if not 0 <= v <= 1000:
            raise ValueError(f"--{name} must be in [0, 1000], got {v}")
    if args.top + args.bottom < 1:
        raise ValueError("ask for at least one eigenvalue (--top or --bottom)")
    if args.iterations < 2:
        raise ValueError("--iterations must be at least 2")
    race = _race(args)
    rows = curvature_rows(race, args.top, args.bottom, args.iterations, args.seed)
    base = str(args.base_url).rstrip("/")
    if args.format == "json":
        for row in rows:
            if row.get("link", {}).get("href"):
                row["link"]["href"] = base + row["link"]["href"]
        emit(json.dumps({"model": race.model.to_dict(), "runs": rows}, indent=2) + "\n", args.output)
    else:
        emit(format_text(race, rows, base), args.output)
    return 0
