"""``descent-lab export``: an Explorer view (a preset, a link or an exported file) in any export format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.common import CliError, write_bytes
from app.export.sizes import SIZE_PRESETS

#: the largest exported file ``--from`` reads (a 4000 × 4000 PNG at scale 2 is well below it)
MAX_EXPORT_BYTES = 200_000_000


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
        from app.export.metadata import read_settings

        try:
            with open(args.from_file, "rb") as fh:
                raw = fh.read(MAX_EXPORT_BYTES + 1)
        except OSError as exc:
            raise CliError(f"cannot read {args.from_file}: {exc.strerror}") from None
        if len(raw) > MAX_EXPORT_BYTES:
            raise CliError(f"{args.from_file} is larger than {MAX_EXPORT_BYTES // 1_000_000} MB")
        try:
            cfg = config_from_document(read_settings(raw))
        except ValueError as exc:
            raise CliError(f"{args.from_file}: {exc}") from None
    for note in cfg.notes:
        print(f"descent-lab: note: {note}", file=sys.stderr)
    return cfg


def cmd_export(args: argparse.Namespace) -> int:
    from app.export.formats import ExportError, ExportOptions, export

    cfg = explorer_config(args)
    opts = ExportOptions(width=args.width, height=args.height, scale=args.scale, frames=args.frames, fps=args.fps,
                         size=args.size, panels=args.panels, equal_axes=not args.free_axes,
                         svg_text=args.svg_text, title_formula=args.title_formula)  # fmt: skip
    if args.title_formula and args.format in ("png", "svg", "pdf", "html"):
        from app.export.mathjax import available

        if not available():
            print("descent-lab: note: MathJax is not installed (run make): the title stays plain text", file=sys.stderr)
    try:
        data = export(cfg, args.format, opts)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    if args.output in (None, "-"):
        if args.format in ("csv", "json", "svg", "html"):
            sys.stdout.write(data.decode("utf-8"))
            return 0
        raise CliError(f"--format {args.format} needs -o FILE")
    write_bytes(args.output, data)
    print(f"wrote {args.output} ({len(data):,} bytes)", file=sys.stderr)
    return 0


def add_export_parser(sub: Any) -> None:
    ex = sub.add_parser("export", help="export an Explorer view (PNG/SVG/PDF/HTML/GIF/MP4/CSV/JSON)")
    ex.add_argument("--preset", help="a lesson preset, e.g. beale")
    ex.add_argument("--url", help="an Explorer link or its query string")
    ex.add_argument("--from", dest="from_file", metavar="FILE", help="a file written by export (JSON, PNG, SVG, HTML or GIF): re-run its view")
    ex.add_argument("--format", choices=("png", "svg", "pdf", "html", "gif", "mp4", "csv", "json"), required=True)
    ex.add_argument("--width", type=int, default=1000, help="pixels (default 1000)")
    ex.add_argument("--height", type=int, default=800, help="pixels (default 800)")
    ex.add_argument("--scale", type=float, default=2.0, help="pixel density of PNG (2 = sharp on slides)")
    ex.add_argument("--size", choices=tuple(SIZE_PRESETS),
                    help="PNG/SVG/PDF size preset: slide (1920×1080), slide43 (1440×1080), column (3.5 in at "
                         "300 dpi), page (7 in at 300 dpi); overrides --width/--height/--scale")  # fmt: skip
    ex.add_argument("--panels", default="auto",
                    help="PNG/SVG/PDF panels: auto, or a list such as map,loss,grad,dist,lr (auto adds loss and "
                         "‖∇f‖ when the map alone would leave a fixed frame more than 15%% empty)")  # fmt: skip
    ex.add_argument("--free-axes", action="store_true", help="let the map's axes have different scales")
    ex.add_argument("--svg-text", choices=("font", "paths"), default="font",
                    help="SVG text: embed the subset font it is drawn in (default) or draw it as paths")
    ex.add_argument("--title-formula", action=argparse.BooleanOptionalAction, default=None,
                    help="PNG/SVG/PDF/HTML: the surface's formula typeset under the title (default: on when "
                         "MathJax is installed)")  # fmt: skip
    ex.add_argument("--frames", type=int, default=100, help="GIF/MP4 frames")
    ex.add_argument("--fps", type=float, default=20.0, help="GIF/MP4 frames per second")
    ex.add_argument("-o", "--output", help="write to FILE")
    ex.set_defaults(func=cmd_export)
