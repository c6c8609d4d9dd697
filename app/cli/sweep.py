"""``descent-lab sweep``: a basin-of-attraction or hyperparameter map as CSV, NPZ or an image."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Any

from app.cli.common import (
    CliError,
    emit,
    floats,
    modifier_args,
    modifiers_from_args,
    pairs,
    surface_args,
    surface_from_args,
    write_bytes,
)


def axis_from_text(spec_text: str, config: Any) -> tuple[str, Any]:
    """'key=low:high:n' (or 'key=low:high:n:log|lin') → (key, values)."""
    from optimizers.maps import axis_values

    key, sep, rest = spec_text.partition("=")
    parts = rest.split(":")
    if not sep or len(parts) not in (3, 4):
        raise CliError(f"--hyper expects KEY=LOW:HIGH:N[:log|lin], got {spec_text!r}")
    try:
        low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise CliError(f"--hyper expects numbers in KEY=LOW:HIGH:N, got {spec_text!r}") from None
    log = None if len(parts) == 3 else {"log": True, "lin": False}.get(parts[3])
    if len(parts) == 4 and log is None:
        raise CliError(f"--hyper scale must be log or lin, got {parts[3]!r}")
    return key.strip(), axis_values(config.spec.param(key.strip()), low, high, n, log)


def progress_bar(fraction: float) -> None:
    width = 30
    done = round(fraction * width)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_sweep(args: argparse.Namespace) -> int:
    from optimizers import make_config
    from optimizers.maps import basin_map, hyper_map

    surface = surface_from_args(args)
    config = make_config(args.optimizer, **pairs(args.set, "--set"))
    mods = modifiers_from_args(args)
    progress = progress_bar if not args.quiet else None
    if args.hyper:
        if len(args.hyper) != 2:
            raise CliError("a hyperparameter map needs exactly two --hyper axes")
        start = floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
        smap = hyper_map(surface, config, start, axis_from_text(args.hyper[0], config), axis_from_text(args.hyper[1], config),
                         args.steps, mods, progress=progress)  # fmt: skip
    else:
        smap = basin_map(surface, config, args.grid, args.steps, mods, progress=progress)
    if args.format == "png":
        from app.export.imaging import map_rgb, png_bytes

        data = png_bytes(map_rgb(smap, args.color_by), scale=max(1, 400 // smap.status.shape[1]))
        if args.output in (None, "-"):
            raise CliError("--format png needs -o FILE")
        write_bytes(args.output, data)
    elif args.format == "npz":
        if args.output in (None, "-"):
            raise CliError("--format npz needs -o FILE")
        buf = io.BytesIO()
        np_savez(buf, smap)
        write_bytes(args.output, buf.getvalue())
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([smap.x_label, smap.y_label, "final_x", "final_y", "final_loss", "steps", "status", "minimum"])
        names = {0: "running", 1: "completed", 2: "diverged", 3: "converged", 4: "stalled"}
        for r in range(smap.ys.size):
            for c in range(smap.xs.size):
                loss = smap.final_loss[r, c]
                writer.writerow([
                    repr(float(smap.xs[c])), repr(float(smap.ys[r])), repr(float(smap.final_x[r, c])),
                    repr(float(smap.final_y[r, c])), repr(float(loss)) if loss < float("inf") else "",
                    int(smap.steps[r, c]), names[int(smap.status[r, c])], int(smap.basin[r, c]),
                ])  # fmt: skip
        emit(buf.getvalue(), args.output)
    n = smap.status.size
    print(f"{n} runs: {int(smap.converged.sum())} converged, {int(smap.diverged.sum())} diverged", file=sys.stderr)
    return 0


def np_savez(target: Any, smap: Any) -> None:
    """Every array of a SweepMap in one .npz (no pickled objects)."""
    import numpy as np

    np.savez_compressed(
        target, xs=smap.xs, ys=smap.ys, final_x=smap.final_x, final_y=smap.final_y, final_loss=smap.final_loss,
        steps=smap.steps, status=smap.status, basin=smap.basin, minima=np.asarray(smap.minima, dtype=float).reshape(-1, 2),
        labels=np.array([smap.x_label, smap.y_label]),
    )  # fmt: skip


def add_sweep_parser(sub: Any) -> None:
    sw = sub.add_parser("sweep", help="basin-of-attraction or hyperparameter map")
    surface_args(sw)
    sw.add_argument("--optimizer", required=True)
    sw.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    sw.add_argument("--grid", type=int, default=200, help="starts per side of the basin map (≤ 400)")
    sw.add_argument("--steps", type=int, default=500)
    sw.add_argument("--hyper", action="append", metavar="KEY=LOW:HIGH:N[:log|lin]",
                    help="an axis of a hyperparameter map (give two)")  # fmt: skip
    sw.add_argument("--start", help="start point x,y of a hyperparameter map")
    modifier_args(sw)
    sw.add_argument("--color-by", choices=("minimum", "steps", "loss"), default="minimum", help="PNG colouring")
    sw.add_argument("--format", choices=("csv", "npz", "png"), default="csv")
    sw.add_argument("-o", "--output", help="write to FILE instead of standard output")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)
