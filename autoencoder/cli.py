"""``descent-lab train``: race optimizers on an autoencoder from the command line.

    descent-lab train --data digits --hidden 32,8,32 --optimizer adam --optimizer sgd \\
        --set sgd.lr=0.1 --epochs 30 [--batch-size 64] [--seed 0] [--noise gaussian:0.2] \\
        [--skip [none|shallow|deep|both]] [--format csv|json] [-o FILE]

CSV columns: epoch, optimizer, train_loss, val_loss, seconds (one row per
optimizer per epoch; epoch 0 is the common start).  A progress bar and a
summary (statuses, the PSNR table) go to standard error.  Bad input raises
ValueError with a one-line reason; the main CLI turns it into exit status 2.

``add_train_parser(subparsers)`` adds the sub-command to an argparse parser;
``cmd_train(args)`` runs it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from autoencoder.corrupt import parse_corruption
from autoencoder.data import FILE_TYPES, SOURCES, load_data
from autoencoder.model import ACTIVATIONS, INITS, LOSSES, SKIPS, ModelSpec, parse_hidden

CSV_COLUMNS = ("epoch", "optimizer", "train_loss", "val_loss", "seconds")


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command to ``subparsers`` (from ``add_subparsers``); returns its parser."""
    p = subparsers.add_parser(
        "train",
        help="train an autoencoder with several optimizers and compare them",
        description="Train one autoencoder per optimizer from the same weights on the same minibatches.",
    )
    p.add_argument("--data", default="digits",
                   help="digits | sample_images | synthetic | mnist:PATH | file:PATH (.npy, .npz, .csv)")  # fmt: skip
    p.add_argument("--max-samples", type=int, default=None, help="use a seeded subset of at most N samples")
    p.add_argument("--val-fraction", type=float, default=0.2, help="fraction held out for validation")
    p.add_argument("--hidden", default="32,8,32", help="hidden layer sizes, e.g. 32,8,32")
    p.add_argument("--activation", default="relu", help=f"hidden activation(s): {', '.join(ACTIVATIONS)} "
                   "(one, or one per hidden layer separated by commas)")  # fmt: skip
    p.add_argument("--output-activation", default="sigmoid", choices=ACTIVATIONS)
    p.add_argument("--loss", default="mse", choices=LOSSES)
    p.add_argument("--init", default="xavier", choices=INITS)
    p.add_argument("--batch-norm", action="store_true", help="batch norm after each hidden layer")
    p.add_argument("--skip", nargs="?", const="shallow", default="none", choices=SKIPS, type=str.lower,
                   help="learned linear skip paths: shallow (input → output), deep (around the bottleneck, between "
                   "the mirrored hidden layers either side of it), both, or none (the default); bare --skip is "
                   "shallow")  # fmt: skip
    p.add_argument("--optimizer", action="append", metavar="NAME", help="optimizer to race (repeatable)")
    p.add_argument("--set", action="append", metavar="[OPT.]KEY=VALUE",
                   help="hyperparameter, e.g. sgd.lr=0.1 (OPT: an optimizer name or its position 1, 2, …)")  # fmt: skip
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", default=None, metavar="TYPE[:LEVEL]",
                   help="train a denoising autoencoder: gaussian:0.2, salt_pepper:0.1, blur:1, knockout:0.3")  # fmt: skip
    p.add_argument("--precision", default="float32", choices=("float32", "float64"),
                   help="minibatch forward/backward precision (parameters stay float64)")  # fmt: skip
    p.add_argument("--full-batch-iters", type=int, default=1,
                   help="iterations per epoch of full-batch methods (newton, cg, lbfgs)")  # fmt: skip
    p.add_argument("--time-limit", type=float, default=None, help="stop training after this many seconds")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", help="write to FILE instead of standard output")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary on standard error")
    p.set_defaults(func=cmd_train)
    return p


def parse_data_arg(text: str) -> tuple[str, str | None]:
    """'digits' → ('digits', None); 'mnist:/d' → ('mnist', '/d'); 'file:x.npy' or 'x.npy' → ('file', 'x.npy')."""
    raw = str(text).strip()
    head, sep, rest = raw.partition(":")
    key = head.strip().lower().replace("-", "_")
    if sep and key in ("mnist", "file"):
        if not rest.strip():
            raise ValueError(f"--data {key}: needs a path, e.g. {key}:/path/to/data")
        return key, rest.strip()
    if key in SOURCES and not sep:
        if key in ("mnist", "file"):
            raise ValueError(f"--data {key} needs a path: {key}:PATH")
        return key, None
    if Path(raw).suffix.lower() in FILE_TYPES:
        return "file", raw
    raise ValueError(f"unknown --data {raw!r}: use digits, sample_images, synthetic, mnist:PATH or file:PATH")


def _pairs(items: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects [OPT.]KEY=VALUE, got {item!r}")
        out.append((key.strip(), value.strip()))
    return out


def optimizer_values(names: list[str], sets: list[str] | None) -> list[dict[str, str]]:
    """Split ``--set`` items among the optimizers: 'sgd.lr=0.1' (by name) or '2.lr=0.1' (by position)."""
    values: list[dict[str, str]] = [{} for _ in names]
    for key, value in _pairs(sets):
        prefix, dot, hp = key.partition(".")
        if not dot:
            if len(names) != 1:
                raise ValueError(f"--set {key}={value}: say which optimizer, e.g. --set {names[0]}.{key}={value}")
            targets = [0]
            hp = prefix
        elif prefix.isdigit():
            pos = int(prefix)
            if not 1 <= pos <= len(names):
                raise ValueError(f"--set {key}: there is no optimizer number {pos} (1 to {len(names)})")
            targets = [pos - 1]
        else:
            targets = [i for i, n in enumerate(names) if n == prefix.lower()]
            if not targets:
                raise ValueError(f"--set {key}: {prefix!r} is not one of the raced optimizers ({', '.join(names)})")
        if not hp:
            raise ValueError(f"--set {key}: missing hyperparameter name after '{prefix}.'")
        for i in targets:
            if hp in values[i]:
                raise ValueError(f"--set: {names[i]}.{hp} given twice")
            values[i][hp] = value
    return values


def _version() -> str:
    try:
        return metadata.version("descent-lab")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class ProgressBar:
    """A one-line progress bar on a TTY; on anything else one line per tenth of the work."""

    def __init__(self, stream: TextIO, width: int = 28) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last_decile = -1
        self.drawn = False

    def __call__(self, snap: dict[str, Any]) -> None:
        frac = float(snap["fraction"])
        best = [r for r in snap["runs"] if r["history"]]
        lead = min(best, key=lambda r: r["history"][-1]["val_loss"]) if best else None
        tail = f"  best {lead['key']} val {lead['history'][-1]['val_loss']:.4g}" if lead else ""
        text = f"epoch {snap['epoch']}/{snap['epochs']}{tail}"
        if self.tty:
            filled = round(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {frac * 100:3.0f}% {text}\x1b[K")
            self.drawn = True
        else:
            decile = int(frac * 10)
            if decile > self.last_decile:
                self.last_decile = decile
                self.stream.write(f"[{frac * 100:3.0f}%] {text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def history_rows(race: Any) -> list[list[Any]]:
    """CSV rows (epoch, optimizer, train_loss, val_loss, seconds), by epoch then race order."""
    rows = []
    longest = max(len(r.history) for r in race.runs)
    for k in range(longest):
        for r in race.runs:
            if k < len(r.history):
                h = r.history[k]
                rows.append([h.epoch, r.key, h.train_loss, h.val_loss, h.seconds])
    return rows


def format_csv(race: Any) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for epoch, key, tl, vl, sec in history_rows(race):
        w.writerow([epoch, key, repr(float(tl)), repr(float(vl)), f"{sec:.6f}"])
    return buf.getvalue()


def format_json(race: Any) -> str:
    d = race.to_dict()
    d["descent_lab_version"] = _version()
    return json.dumps(d, allow_nan=False) + "\n"


def _write(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise ValueError(f"cannot write {output}: {exc.strerror}") from None


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``descent-lab train``; ValueError with a one-line reason on bad input."""
    from autoencoder.train import RaceEntry, train_race
    from optimizers import make_config

    names = [n.strip().lower() for n in (args.optimizer or [])]
    if not names:
        raise ValueError("give at least one --optimizer (e.g. --optimizer adam --optimizer sgd)")
    values = optimizer_values(names, args.set)
    entries = [RaceEntry(make_config(n, **v)) for n, v in zip(names, values)]
    acts = [a.strip() for a in str(args.activation).split(",") if a.strip()]
    spec = ModelSpec(
        hidden=parse_hidden(args.hidden),
        activation=acts[0] if len(acts) == 1 else tuple(acts),
        output_activation=args.output_activation,
        loss=args.loss,
        init=args.init,
        batch_norm=bool(args.batch_norm),
        skip=args.skip,
    )
    corruption = parse_corruption(args.noise) if args.noise else None
    source, path = parse_data_arg(args.data)
    data = load_data(source, path, val_fraction=args.val_fraction, seed=args.seed, max_samples=args.max_samples)
    spec.build(data.n_features)  # refuse a bad model before any work
    bar = None if args.quiet else ProgressBar(sys.stderr)
    try:
        race = train_race(
            data, entries, spec, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
            corruption=corruption, precision=args.precision, full_batch_iters=args.full_batch_iters,
            time_limit=args.time_limit, progress=bar,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    _write(format_json(race) if args.format == "json" else format_csv(race), args.output)
    if not args.quiet:
        err = sys.stderr
        err.write(f"{data.description}; model {race.model.describe()}\n")
        for r in race.runs:
            h = r.history[-1]
            cg = ""
            if r.cg_iterations:  # hessian_free: CG iterations of each step
                its = r.cg_iterations
                cg = (f"  CG {sum(its) / len(its):.1f}/step (min {min(its)}, max {max(its)}; "
                      f"{sum(r.curvature_products)} curvature products over {len(its)} steps)")  # fmt: skip
            err.write(f"  {r.key:<16} {r.status:<10} train {h.train_loss:.5g}  val {h.val_loss:.5g}  "
                      f"{h.seconds:.2f}s  {r.message}{cg}\n")  # fmt: skip
        if race.psnr is not None:
            err.write(race.psnr.to_text())
    return 0
