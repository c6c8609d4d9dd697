"""What every ``descent-lab`` command shares: the user-error type, argument parsing helpers, output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

EXIT_USAGE = 2
#: the largest spec file (trace/export ``--from``) read
MAX_SPEC_BYTES = 1_000_000


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
    """['k=v', ...] → {k: v}; refuses items without '=' and repeated keys."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"{what} expects KEY=VALUE, got {item!r}")
        if key in out:
            raise CliError(f"{what} {key!r} given twice")
        out[key] = value.strip()
    return out


def floats(text: str, n: int, what: str) -> list[float]:
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise CliError(f"{what} must be {n} comma-separated numbers, got {text!r}") from None
    if len(values) != n:
        raise CliError(f"{what} must be {n} comma-separated numbers, got {text!r}")
    return values


def surface_from_args(args: argparse.Namespace) -> Any:
    from surfaces import get_surface

    params: dict[str, Any] = dict(pairs(args.param, "--param"))
    name = args.surface
    if args.formula is not None:
        if name is not None:
            raise CliError("give either --surface or --formula, not both")
        name = "formula:" + args.formula
    if name is None:
        raise CliError("--surface (or --formula) is required")
    if args.bounds is not None:
        x0, x1, y0, y1 = floats(args.bounds, 4, "--bounds")
        params.update(xmin=x0, xmax=x1, ymin=y0, ymax=y1)
    for flag, key in (("n", "n"), ("data_seed", "data_seed")):
        value = getattr(args, flag, None)
        if value is not None:
            if key in params:
                raise CliError(f"--{flag.replace('_', '-')} and --param {key}=… given together")
            params[key] = value
    points = None
    if getattr(args, "data", None) is not None:
        points = read_points(args.data, name)
    try:
        return get_surface(name, points=points, **params)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def read_points(path: str, surface: str) -> Any:
    """The points of a data surface from a CSV file (``surfaces.data.parse_csv`` rules)."""
    from surfaces.catalog import DATA_SURFACES
    from surfaces.data import MAX_CSV_BYTES, parse_csv

    if surface not in DATA_SURFACES:
        raise CliError(f"--data needs a data surface ({', '.join(DATA_SURFACES)}), not {surface!r}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_csv(raw, surface, name=path.rsplit("/", 1)[-1])
    except ValueError as exc:
        raise CliError(str(exc)) from None


def modifiers_from_args(args: argparse.Namespace) -> Any:
    from optimizers import Modifiers

    sched = pairs(args.schedule_param, "--schedule-param")
    try:
        sched_values = tuple((k, float(v)) for k, v in sched.items())
    except ValueError:
        raise CliError("--schedule-param values must be numbers") from None
    return Modifiers(
        noise=args.noise,
        seed=args.seed,
        clip=args.clip,
        clip_value=args.clip_value,
        schedule=args.schedule,
        schedule_params=sched_values,
        batch_size=args.batch_size,
    )


def emit(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror}") from None


def write_bytes(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        if message.endswith("expected one argument"):
            opt = message.split(":")[0].replace("argument ", "").split("/")[-1]
            message += f" (for a value starting with '-', write {opt}=VALUE, e.g. {opt}=-1.2,1)"
        raise CliError(message)


def surface_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--surface", help="built-in surface name, or formula:<text>")
    p.add_argument("--formula", help="a formula in x and y, e.g. 'sin(x)*y^2 + exp(-x)'")
    p.add_argument("--bounds", help="plot box of a formula: xmin,xmax,ymin,ymax")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="surface parameter (repeatable)")
    p.add_argument("--n", type=int, help="data surfaces: number of points drawn (same as --param n=N)")
    p.add_argument("--data-seed", type=int, help="data surfaces: seed the points are drawn from")
    p.add_argument("--data", metavar="POINTS.csv", help="data surfaces: the points, one per line (u,v or a1,a2,label)")


def modifier_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--noise", type=float, default=0.0, help="gradient noise σ")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clip", choices=("none", "value", "norm"), default="none")
    p.add_argument("--clip-value", type=float, default=1.0)
    p.add_argument("--schedule", default="constant")
    p.add_argument("--schedule-param", action="append", metavar="KEY=VALUE")
    p.add_argument("--batch-size", type=int, default=0, metavar="B",
                   help="data surfaces: minibatch size (1: online; 0 or ≥ n: the full batch)")  # fmt: skip
