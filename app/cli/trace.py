"""``descent-lab trace``: one optimizer on one surface, as CSV or a re-runnable JSON file."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any

from app.cli.common import (
    MAX_SPEC_BYTES,
    CliError,
    emit,
    floats,
    modifier_args,
    modifiers_from_args,
    pairs,
    surface_args,
    surface_from_args,
)
from app.export.tables import trajectory_json, trajectory_table


def surface_from_dict(d: dict[str, Any]) -> Any:
    """The surface a trajectory JSON describes (built-in with parameters, a formula with its box, or a
    data surface with its parameters and points)."""
    from surfaces import get_surface

    if not isinstance(d, dict):
        raise CliError("the file's 'surface' must be an object")
    if d.get("formula"):
        (x0, x1), (y0, y1) = d.get("bounds") or ((-5, 5), (-5, 5))
        return get_surface("formula:" + str(d["formula"]), xmin=x0, xmax=x1, ymin=y0, ymax=y1)
    points = d.get("points")
    if points is not None and not (isinstance(points, list) and len(points) <= 4096):
        raise CliError("the file's surface 'points' must be a list of at most 4096 rows")
    try:
        return get_surface(str(d.get("name")), points=points, **dict(d.get("params") or {}))
    except ValueError as exc:
        raise CliError(f"the file's surface: {exc}") from None


def load_run_spec(path: str) -> tuple[Any, Any, list[float], int, Any]:
    """(surface, config, start, steps, modifiers) from a JSON file written by ``trace --format json``."""
    from optimizers import Modifiers, make_config

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise CliError(f"{path} is larger than {MAX_SPEC_BYTES} bytes")
    try:
        doc = json.loads(raw)
        opt = doc["optimizer"]
        surface = surface_from_dict(doc["surface"])
        config = make_config(str(opt["name"]), **dict(opt["hyperparameters"]))
        start = [float(v) for v in doc["start"]]
        steps = int(doc["steps_requested"])
        mods = Modifiers.from_dict(doc.get("modifiers") or {})
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not a trajectory file written by 'descent-lab trace --format json' ({exc})") from None
    return surface, config, start, steps, mods


def cmd_trace(args: argparse.Namespace) -> int:
    from optimizers import make_config, trace

    if args.from_file:
        if args.surface or args.formula or args.set or args.start:
            raise CliError("--from replays a file as it is: do not combine it with --surface/--set/--start")
        surface, config, start, steps, mods = load_run_spec(args.from_file)
    else:
        if not args.optimizer:
            raise CliError("--optimizer is required (or --from FILE)")
        surface = surface_from_args(args)
        config = make_config(args.optimizer, **pairs(args.set, "--set"))
        start = floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
        steps, mods = args.steps, modifiers_from_args(args)
    traj = trace(surface, config, start, steps, mods)
    if args.format == "json":
        text = json.dumps(trajectory_json(surface, traj, start), allow_nan=False) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        cols, rows = trajectory_table(traj)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([row[0]] + [repr(float(v)) for v in row[1:]])
        text = buf.getvalue()
    emit(text, args.output)
    if traj.status != "completed":
        print(f"{config.label()}: {traj.message}", file=sys.stderr)
    return 0


def add_trace_parser(sub: Any) -> None:
    tr = sub.add_parser("trace", help="trace one optimizer on one surface")
    surface_args(tr)
    tr.add_argument("--optimizer")
    tr.add_argument("--from", dest="from_file", metavar="FILE", help="re-run a JSON file written by --format json")
    tr.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    tr.add_argument("--start", help="start point x,y (default: the surface's first start)")
    tr.add_argument("--steps", type=int, default=500)
    modifier_args(tr)
    tr.add_argument("--format", choices=("csv", "json"), default="csv")
    tr.add_argument("-o", "--output", help="write to FILE instead of standard output")
    tr.set_defaults(func=cmd_trace)
