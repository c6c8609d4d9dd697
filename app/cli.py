"""The ``descent-lab`` command line.

    descent-lab list surfaces|optimizers [--format text|json]
    descent-lab trace --surface beale --optimizer adam --start 1,1.5 --steps 500 \\
        --set lr=0.01 --set beta1=0.9 [--format csv|json] [-o FILE]
    descent-lab sweep --surface himmelblau --optimizer adam --grid 200 --steps 500 \
        [--hyper lr=1e-3:1:50 --hyper beta1=0:0.99:50] [--format csv|npz|png] [-o FILE]
    descent-lab export --preset beale --format gif -o beale.gif      (or --url '...?surface=...')
    descent-lab train --data digits --hidden 32,8,32 --optimizer adam --optimizer sgd --set sgd.lr=0.1
    descent-lab run [--host H] [--port P]
    descent-lab serve --host 0.0.0.0 --port 8050 --workers 3      (a class: gunicorn, shared stores)

Bad input exits with status 2 and a one-line reason on stderr.  Only
``run`` and ``serve`` import the web stack, so the others start quickly.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from app.export.tables import trajectory_json, trajectory_table
from app.version import version

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def _pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
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


def _floats(text: str, n: int, what: str) -> list[float]:
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise CliError(f"{what} must be {n} comma-separated numbers, got {text!r}") from None
    if len(values) != n:
        raise CliError(f"{what} must be {n} comma-separated numbers, got {text!r}")
    return values


def _surface(args: argparse.Namespace) -> Any:
    from surfaces import get_surface

    params: dict[str, Any] = dict(_pairs(args.param, "--param"))
    name = args.surface
    if args.formula is not None:
        if name is not None:
            raise CliError("give either --surface or --formula, not both")
        name = "formula:" + args.formula
    if name is None:
        raise CliError("--surface (or --formula) is required")
    if args.bounds is not None:
        x0, x1, y0, y1 = _floats(args.bounds, 4, "--bounds")
        params.update(xmin=x0, xmax=x1, ymin=y0, ymax=y1)
    return get_surface(name, **params)


def _modifiers(args: argparse.Namespace) -> Any:
    from optimizers import Modifiers

    sched = _pairs(args.schedule_param, "--schedule-param")
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
    )


def _emit(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror}") from None


def cmd_list(args: argparse.Namespace) -> int:
    from optimizers import OPTIMIZERS
    from surfaces import get_surface, list_surfaces

    if args.what == "surfaces":
        items = [
            {**get_surface(s.name).to_dict(), "parameters": [
                {"name": p.name, "default": p.default, "range": [p.low, p.high], "description": p.description}
                for p in s.params
            ]}
            for s in list_surfaces()
        ]  # fmt: skip
        if args.format == "json":
            _emit(json.dumps(items, indent=2) + "\n", None)
            return 0
        for s in items:
            params = ", ".join(f"{p['name']}={p['default']:g}" for p in s["parameters"])
            print(f"{s['name']:<16} {s['display_name']}{f' ({params})' if params else ''}: {s['description']}")
        return 0
    items = [spec.to_dict() for spec in OPTIMIZERS]
    if args.format == "json":
        _emit(json.dumps(items, indent=2) + "\n", None)
        return 0
    for spec in items:
        print(f"{spec['name']:<16} {spec['display_name']} [{spec['family']}]")
        for p in spec["hyperparameters"]:
            print(f"    {p['key']:<26} default {str(p['default']):<8} range {p['range']:<22} {p['description']}")
    return 0


MAX_SPEC_BYTES = 1_000_000


def surface_from_dict(d: dict[str, Any]) -> Any:
    """The surface a trajectory JSON describes (built-in with parameters, or formula with its box)."""
    from surfaces import get_surface

    if not isinstance(d, dict):
        raise CliError("the file's 'surface' must be an object")
    if d.get("formula"):
        (x0, x1), (y0, y1) = d.get("bounds") or ((-5, 5), (-5, 5))
        return get_surface("formula:" + str(d["formula"]), xmin=x0, xmax=x1, ymin=y0, ymax=y1)
    return get_surface(str(d.get("name")), **dict(d.get("params") or {}))


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
        surface = _surface(args)
        config = make_config(args.optimizer, **_pairs(args.set, "--set"))
        start = _floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
        steps, mods = args.steps, _modifiers(args)
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
    _emit(text, args.output)
    if traj.status != "completed":
        print(f"{config.label()}: {traj.message}", file=sys.stderr)
    return 0


def _axis(spec_text: str, config: Any) -> tuple[str, Any]:
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


def _progress_bar(fraction: float) -> None:
    width = 30
    done = int(round(fraction * width))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_sweep(args: argparse.Namespace) -> int:
    from optimizers import make_config
    from optimizers.maps import basin_map, hyper_map

    surface = _surface(args)
    config = make_config(args.optimizer, **_pairs(args.set, "--set"))
    mods = _modifiers(args)
    progress = _progress_bar if not args.quiet else None
    if args.hyper:
        if len(args.hyper) != 2:
            raise CliError("a hyperparameter map needs exactly two --hyper axes")
        start = _floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
        smap = hyper_map(surface, config, start, _axis(args.hyper[0], config), _axis(args.hyper[1], config),
                         args.steps, mods, progress=progress)  # fmt: skip
    else:
        smap = basin_map(surface, config, args.grid, args.steps, mods, progress=progress)
    if args.format == "png":
        from app.export.imaging import map_rgb, png_bytes

        data = png_bytes(map_rgb(smap, args.color_by), scale=max(1, 400 // smap.status.shape[1]))
        if args.output in (None, "-"):
            raise CliError("--format png needs -o FILE")
        _write_bytes(args.output, data)
    elif args.format == "npz":
        if args.output in (None, "-"):
            raise CliError("--format npz needs -o FILE")
        buf = io.BytesIO()
        np_savez(buf, smap)
        _write_bytes(args.output, buf.getvalue())
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
        _emit(buf.getvalue(), args.output)
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


def _write_bytes(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None


def explorer_config(args: argparse.Namespace) -> Any:
    """The Explorer configuration named by --preset, --url or --from."""
    from app.explorer.state import from_query

    chosen = [a for a in (args.preset, args.url, args.from_file) if a]
    if len(chosen) != 1:
        raise CliError("give exactly one of --preset, --url or --from")
    if args.preset:
        from app.explorer.presets import PRESETS, get_preset

        preset = get_preset(args.preset)
        if preset is None:
            raise CliError(f"unknown preset {args.preset!r} (known: {', '.join(p.name for p in PRESETS)})")
        return preset.config
    if args.url:
        query = args.url.split("?", 1)[1] if "?" in args.url else args.url
        cfg = from_query(query)
    else:
        from app.export.formats import config_from_document

        try:
            with open(args.from_file, "rb") as fh:
                raw = fh.read(MAX_SPEC_BYTES + 1)
            if len(raw) > MAX_SPEC_BYTES:
                raise CliError(f"{args.from_file} is larger than {MAX_SPEC_BYTES} bytes")
            cfg = config_from_document(json.loads(raw))
        except OSError as exc:
            raise CliError(f"cannot read {args.from_file}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CliError(f"{args.from_file} is not JSON") from None
    for note in cfg.notes:
        print(f"descent-lab: note: {note}", file=sys.stderr)
    return cfg


def cmd_export(args: argparse.Namespace) -> int:
    from app.export.formats import ExportError, ExportOptions, export

    cfg = explorer_config(args)
    opts = ExportOptions(width=args.width, height=args.height, scale=args.scale, frames=args.frames, fps=args.fps)
    try:
        data = export(cfg, args.format, opts)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    if args.output in (None, "-"):
        if args.format in ("csv", "json", "svg", "html"):
            sys.stdout.write(data.decode("utf-8"))
            return 0
        raise CliError(f"--format {args.format} needs -o FILE")
    _write_bytes(args.output, data)
    print(f"wrote {args.output} ({len(data):,} bytes)", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from app import create_app

    create_app(freeze=True).run(host=args.host, port=args.port, debug=False)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.hosting.serve import ServeOptions, default_workers, serve

    try:
        workers = default_workers() if args.workers is None else args.workers
        options = ServeOptions(host=args.host, port=args.port, workers=workers, threads=args.threads,
                               timeout=args.timeout, access_log=args.access_log)  # fmt: skip
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"Descent Lab on http://{args.host}:{args.port}/ with {options.workers} workers × {options.threads} "
          "threads (loading the kernels first)", file=sys.stderr, flush=True)  # fmt: skip
    serve(options)
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        if message.endswith("expected one argument"):
            opt = message.split(":")[0].replace("argument ", "").split("/")[-1]
            message += f" (for a value starting with '-', write {opt}=VALUE, e.g. {opt}=-1.2,1)"
        raise CliError(message)


def _surface_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--surface", help="built-in surface name, or formula:<text>")
    p.add_argument("--formula", help="a formula in x and y, e.g. 'sin(x)*y^2 + exp(-x)'")
    p.add_argument("--bounds", help="plot box of a formula: xmin,xmax,ymin,ymax")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="surface parameter (repeatable)")


def _modifier_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--noise", type=float, default=0.0, help="gradient noise σ")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clip", choices=("none", "value", "norm"), default="none")
    p.add_argument("--clip-value", type=float, default=1.0)
    p.add_argument("--schedule", default="constant")
    p.add_argument("--schedule-param", action="append", metavar="KEY=VALUE")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="descent-lab", description="See and teach how optimizers move on loss surfaces.")
    p.add_argument("--version", action="version", version=f"descent-lab {version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    lst = sub.add_parser("list", help="list surfaces or optimizers")
    lst.add_argument("what", choices=("surfaces", "optimizers"))
    lst.add_argument("--format", choices=("text", "json"), default="text")
    lst.set_defaults(func=cmd_list)

    tr = sub.add_parser("trace", help="trace one optimizer on one surface")
    _surface_args(tr)
    tr.add_argument("--optimizer")
    tr.add_argument("--from", dest="from_file", metavar="FILE", help="re-run a JSON file written by --format json")
    tr.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    tr.add_argument("--start", help="start point x,y (default: the surface's first start)")
    tr.add_argument("--steps", type=int, default=500)
    _modifier_args(tr)
    tr.add_argument("--format", choices=("csv", "json"), default="csv")
    tr.add_argument("-o", "--output", help="write to FILE instead of standard output")
    tr.set_defaults(func=cmd_trace)

    sw = sub.add_parser("sweep", help="basin-of-attraction or hyperparameter map")
    _surface_args(sw)
    sw.add_argument("--optimizer", required=True)
    sw.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    sw.add_argument("--grid", type=int, default=200, help="starts per side of the basin map (≤ 400)")
    sw.add_argument("--steps", type=int, default=500)
    sw.add_argument("--hyper", action="append", metavar="KEY=LOW:HIGH:N[:log|lin]",
                    help="an axis of a hyperparameter map (give two)")  # fmt: skip
    sw.add_argument("--start", help="start point x,y of a hyperparameter map")
    _modifier_args(sw)
    sw.add_argument("--color-by", choices=("minimum", "steps", "loss"), default="minimum", help="PNG colouring")
    sw.add_argument("--format", choices=("csv", "npz", "png"), default="csv")
    sw.add_argument("-o", "--output", help="write to FILE instead of standard output")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)

    ex = sub.add_parser("export", help="export an Explorer view (PNG/SVG/PDF/HTML/GIF/MP4/CSV/JSON)")
    ex.add_argument("--preset", help="a lesson preset, e.g. beale")
    ex.add_argument("--url", help="an Explorer link or its query string")
    ex.add_argument("--from", dest="from_file", metavar="FILE", help="a JSON file written by --format json")
    ex.add_argument("--format", choices=("png", "svg", "pdf", "html", "gif", "mp4", "csv", "json"), required=True)
    ex.add_argument("--width", type=int, default=1000, help="pixels (default 1000)")
    ex.add_argument("--height", type=int, default=800, help="pixels (default 800)")
    ex.add_argument("--scale", type=float, default=2.0, help="pixel density of PNG (2 = sharp on slides)")
    ex.add_argument("--frames", type=int, default=100, help="GIF/MP4 frames")
    ex.add_argument("--fps", type=float, default=20.0, help="GIF/MP4 frames per second")
    ex.add_argument("-o", "--output", help="write to FILE")
    ex.set_defaults(func=cmd_export)

    from autoencoder.cli import add_train_parser

    add_train_parser(sub)

    rn = sub.add_parser("run", help="start the explorer web app")
    rn.add_argument("--host", default="127.0.0.1")
    rn.add_argument("--port", type=int, default=8050)
    rn.set_defaults(func=cmd_run)

    sv = sub.add_parser("serve", help="serve a class: the web app under gunicorn with several workers")
    sv.add_argument("--host", default="127.0.0.1", help="interface (0.0.0.0: every interface; default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8050)
    sv.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, at least 2)")
    sv.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    sv.add_argument("--timeout", type=int, default=120, help="seconds before a stuck worker is restarted")
    sv.add_argument("--access-log", action="store_true", help="log every request to standard output")
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except (CliError, ValueError) as exc:
        print(f"descent-lab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
