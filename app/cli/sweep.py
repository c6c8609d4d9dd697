"""``descent-lab sweep``: a basin-of-attraction or hyperparameter map as a figure (PNG, SVG, PDF) or data (CSV, NPZ).

The figures are the ``/maps`` page's figure, laid out for a size preset (``--size slide|slide43|column|page``)
or explicit pixels (``--width``, ``--height``): the arguments become the page's map configuration
(:class:`app.maps.state.MapConfig`), computed and drawn by the same code as the page.  PNG, SVG,
PDF and NPZ carry the map's settings; ``--from FILE`` computes the map of such a file again.
``--format raster`` writes the bare pixel image of earlier versions (one pixel per run, no axes).
"""

from __future__ import annotations

import argparse
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

FORMATS = ("csv", "npz", "png", "svg", "pdf", "raster")
TEXT_FORMATS = ("csv", "svg")
SIZES = ("slide", "slide43", "column", "page")
#: the largest file ``--from`` reads (a 4000 × 4000 PNG is well below it)
MAX_FROM_BYTES = 100_000_000
#: what ``--from`` takes from the file, so giving it again is a mistake
MAP_ARGS = ("surface", "formula", "bounds", "param", "optimizer", "set", "hyper", "start")


def parse_axis(spec_text: str) -> tuple[str, float, float, int, bool | None]:
    """'key=low:high:n' (or 'key=low:high:n:log|lin') → (key, low, high, n, log or None for the default)."""
    key, sep, rest = spec_text.partition("=")
    parts = rest.split(":")
    if not sep or not key.strip() or len(parts) not in (3, 4):
        raise CliError(f"--hyper expects KEY=LOW:HIGH:N[:log|lin], got {spec_text!r}")
    try:
        low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise CliError(f"--hyper expects numbers in KEY=LOW:HIGH:N, got {spec_text!r}") from None
    log = None if len(parts) == 3 else {"log": True, "lin": False}.get(parts[3])
    if len(parts) == 4 and log is None:
        raise CliError(f"--hyper scale must be log or lin, got {parts[3]!r}")
    return key.strip(), low, high, n, log


def axis_from_text(spec_text: str, config: Any) -> tuple[str, Any]:
    """'key=low:high:n[:log|lin]' → (key, the axis' values) for ``config``'s optimizer."""
    from optimizers.maps import axis_values

    key, low, high, n, log = parse_axis(spec_text)
    return key, axis_values(config.spec.param(key), low, high, n, log)


def progress_bar(fraction: float) -> None:
    width = 30
    done = round(fraction * width)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- the map's configuration


def map_config_from_args(args: argparse.Namespace, surface: Any, config: Any) -> Any:
    """The page's configuration of the map the arguments describe; CliError naming what it cannot express."""
    from app.explorer.state import FORMULA, ExplorerConfig
    from app.maps.state import Axis, MapConfig, default_axes, map_entry

    if args.formula is None and args.bounds is not None:
        raise CliError("--bounds sets a formula's box; a built-in surface's map covers its own box")
    start = floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
    entry = map_entry(config.name, **config.values)
    common: dict[str, Any] = {
        "start": (float(start[0]), float(start[1])), "steps": args.steps, "optimizers": (entry,),
        "noise": args.noise, "seed": args.seed, "clip": args.clip, "clip_value": args.clip_value,
        "schedule": args.schedule, "arrows": 0,
        "schedule_params": tuple((k, float(v)) for k, v in pairs(args.schedule_param, "--schedule-param").items()),
    }  # fmt: skip
    if args.formula is not None:
        (x0, x1), (y0, y1) = surface.bounds
        base = ExplorerConfig(surface=FORMULA, formula=args.formula, box=(x0, x1, y0, y1), **common)
    else:
        data: dict[str, Any] = {}
        if surface.points is not None:  # a data surface: its batch size, and the points when read from a file
            from app.explorer.points import canonical

            data["batch_size"] = args.batch_size
            if args.data is not None:
                data["points"] = canonical(surface.name, surface.points.tolist())
        elif args.batch_size:
            raise CliError("--batch-size applies to data surfaces (linreg, logreg, tiny_net) only")
        base = ExplorerConfig(surface=surface.name, surface_params=tuple(surface.params.items()), **common, **data)
    if not args.hyper:
        return MapConfig("basin", base, args.grid, args.color_by or "minimum", *default_axes(entry.spec))
    axes = [parse_axis(text) for text in args.hyper]
    (xk, xlo, xhi, nx, xlog), (yk, ylo, yhi, ny, ylog) = axes
    if nx != ny:
        raise CliError(f"a map figure has as many values on both axes (the page's grid); got {nx} and {ny}")
    spec = entry.spec
    x = Axis(xk, xlo, xhi, spec.param(xk).log if xlog is None else xlog)
    y = Axis(yk, ylo, yhi, spec.param(yk).log if ylog is None else ylog)
    return MapConfig("hyper", base, nx, args.color_by or "minimum", x, y)


def map_from_file(args: argparse.Namespace) -> Any:
    """The configuration an exported map (PNG, SVG, PDF or NPZ) carries; ``--color-by`` may change its colouring."""
    from dataclasses import replace

    from app.export.sweep_metadata import read_settings
    from app.maps.state import map_from_query

    given = [f"--{name}" for name in MAP_ARGS if getattr(args, name) is not None]
    if given:
        raise CliError(f"--from takes the whole map from the file; leave out {', '.join(given)}")
    try:
        with open(args.from_file, "rb") as fh:
            raw = fh.read(MAX_FROM_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {args.from_file}: {exc.strerror}") from None
    if len(raw) > MAX_FROM_BYTES:
        raise CliError(f"{args.from_file} is larger than {MAX_FROM_BYTES // 1_000_000} MB")
    try:
        doc = read_settings(raw)
    except ValueError as exc:
        raise CliError(f"{args.from_file}: {exc}") from None
    cfg = map_from_query(doc["maps_query"])
    for note in cfg.notes:
        print(f"descent-lab: note: {note}", file=sys.stderr)
    return replace(cfg, show=args.color_by) if args.color_by else cfg


def map_size(args: argparse.Namespace) -> Any:
    from app.export.sweep_figure import MapSize

    if args.height is not None and args.width is None:
        raise CliError("--height needs --width")
    if args.width is not None and args.size is not None:
        raise CliError("give either --size or --width/--height, not both")
    try:
        if args.width is not None:
            return MapSize(preset=None, width=args.width, height=args.height)
        return MapSize(preset=args.size or "page")
    except ValueError as exc:
        raise CliError(str(exc)) from None


# --------------------------------------------------------------------------- the command


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.format in ("png", "pdf", "npz", "raster") and args.output in (None, "-"):
        raise CliError(f"--format {args.format} needs -o FILE")
    size = map_size(args)
    progress = progress_bar if not args.quiet else None
    if args.from_file is not None:
        cfg, smap, surface = _computed(map_from_file(args), progress, args.precision)
    else:
        cfg, smap, surface = _from_arguments(args, progress)
    if isinstance(smap, str):  # the reason no configuration exists; data formats run the engine directly
        smap = _engine_map(args, progress)
    if args.format == "npz" and cfg is None:  # a map without the page's settings (e.g. axes of two lengths)
        from app.export.sweep_export import map_npz

        write_bytes(args.output, map_npz(smap))
    elif args.format == "raster":
        from app.export.imaging import map_rgb, png_bytes

        color_by = cfg.show if cfg is not None else args.color_by or "minimum"
        write_bytes(args.output, png_bytes(map_rgb(smap, color_by), scale=max(1, 400 // smap.status.shape[1])))
    elif args.format == "csv":
        from app.export.sweep_export import map_csv

        emit(map_csv(smap).decode("utf-8"), args.output)
    else:
        from app.export.formats import ExportError
        from app.export.sweep_export import export_map

        try:
            data = export_map(cfg, smap, surface, args.format, size, svg_text=args.svg_text)
        except (ExportError, ValueError) as exc:
            raise CliError(str(exc)) from None
        if args.output in (None, "-"):
            emit(data.decode("utf-8"), None)
        else:
            write_bytes(args.output, data)
    n = smap.status.size
    arithmetic = " (float32)" if smap.precision == "float32" else ""
    counts = f"{int(smap.converged.sum())} converged, {int(smap.diverged.sum())} diverged"
    print(f"{n} runs{arithmetic}: {counts}", file=sys.stderr)
    return 0


def _computed(cfg: Any, progress: Any, precision: str = "float64") -> tuple[Any, Any, Any]:
    from app.maps.state import build_surface
    from app.maps.sweep import run_sweep

    try:
        surface = build_surface(cfg)
    except ValueError as exc:
        raise CliError(f"the surface cannot be built: {exc}") from None
    return cfg, run_sweep(cfg, surface, progress=progress, precision=precision), surface


def _from_arguments(args: argparse.Namespace, progress: Any) -> tuple[Any, Any, Any]:
    """(configuration, map, surface), or (None, the reason, surface) when the page cannot show this map."""
    from optimizers import make_config

    if args.optimizer is None:
        raise CliError("--optimizer is required (or --from FILE)")
    if args.hyper and len(args.hyper) != 2:
        raise CliError("a hyperparameter map needs exactly two --hyper axes")
    surface = surface_from_args(args)
    config = make_config(args.optimizer, **pairs(args.set, "--set"))
    try:
        cfg = map_config_from_args(args, surface, config)
    except CliError as exc:
        if args.format in ("csv", "npz", "raster"):
            return None, str(exc), surface
        raise
    return _computed(cfg, progress, args.precision)


def _engine_map(args: argparse.Namespace, progress: Any) -> Any:
    """A map the page cannot show (e.g. axes of different lengths), run by the engine from the arguments."""
    from optimizers import make_config
    from optimizers.maps import basin_map, hyper_map

    surface = surface_from_args(args)
    config = make_config(args.optimizer, **pairs(args.set, "--set"))
    mods = modifiers_from_args(args)
    if args.hyper:
        start = floats(args.start, 2, "--start") if args.start else list(surface.starts[0])
        return hyper_map(surface, config, start, axis_from_text(args.hyper[0], config),
                         axis_from_text(args.hyper[1], config), args.steps, mods, progress=progress,
                         precision=args.precision)  # fmt: skip
    return basin_map(surface, config, args.grid, args.steps, mods, progress=progress, precision=args.precision)


def np_savez(target: Any, smap: Any) -> None:
    """Every array of a SweepMap in one .npz written to ``target`` (a path or a binary file; no pickled objects)."""
    from app.export.sweep_export import map_npz

    data = map_npz(smap)
    if hasattr(target, "write"):
        target.write(data)
    else:
        with open(target, "wb") as fh:
            fh.write(data)


def add_sweep_parser(sub: Any) -> None:
    sw = sub.add_parser("sweep", help="basin-of-attraction or hyperparameter map (figure or data)")
    surface_args(sw)
    sw.add_argument("--optimizer")
    sw.add_argument("--set", action="append", metavar="KEY=VALUE", help="hyperparameter (repeatable)")
    sw.add_argument("--grid", type=int, default=200, help="starts per side of the basin map (≤ 400)")
    sw.add_argument("--steps", type=int, default=500)
    sw.add_argument("--hyper", action="append", metavar="KEY=LOW:HIGH:N[:log|lin]",
                    help="an axis of a hyperparameter map (give two)")  # fmt: skip
    sw.add_argument("--start", help="start point x,y of a hyperparameter map")
    modifier_args(sw)
    sw.add_argument("--color-by", choices=("minimum", "steps", "loss"), default=None,
                    help="colour each pixel by the minimum reached (default), steps to converge or final loss")  # fmt: skip
    sw.add_argument("--precision", choices=("float64", "float32"), default="float64",
                    help="arithmetic of the runs: float64 (default; each run equals its single trace) or float32, "
                         "faster where only the colours matter (a basin map of a built-in surface by a per-coordinate "
                         "rule; other maps run in float64)")  # fmt: skip
    sw.add_argument("--format", choices=FORMATS, default="csv")
    sw.add_argument("--size", choices=SIZES, default=None,
                    help="figure size: slide (16:9, 1920×1080), slide43 (1440×1080), column (3.5 in at 300 dpi), "
                         "page (7 in at 300 dpi; the default)")  # fmt: skip
    sw.add_argument("--width", type=int, help="figure width in pixels (200–4000) instead of --size")
    sw.add_argument("--height", type=int, help="figure height in pixels (default: what the figure needs)")
    sw.add_argument("--svg-text", choices=("font", "paths"), default="font",
                    help="SVG text: embed the subset font it is drawn in (default) or draw it as paths")
    sw.add_argument("--from", dest="from_file", metavar="FILE",
                    help="compute the map an exported PNG, SVG, PDF or NPZ carries")  # fmt: skip
    sw.add_argument("-o", "--output", help="write to FILE instead of standard output")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)
