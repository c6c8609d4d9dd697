"""The ``descent-lab`` command line.

    descent-lab list surfaces|optimizers [--format text|json]
    descent-lab trace --surface beale --optimizer adam --start 1,1.5 --steps 500 \\
        --set lr=0.01 --set beta1=0.9 [--format csv|json] [-o FILE]
    descent-lab sweep --surface himmelblau --optimizer adam --grid 200 --steps 500 \
        [--hyper lr=1e-3:1:50 --hyper beta1=0:0.99:50] [--format csv|npz|png] [-o FILE]
    descent-lab export --preset beale --format gif -o beale.gif      (or --url '...?surface=...')
    descent-lab train --data digits --hidden 32,8,32 --optimizer adam --optimizer sgd --set sgd.lr=0.1
    descent-lab curvature --data digits --optimizer adam --optimizer sgd --epochs 5 [--top 5 --bottom 5]
    descent-lab lessons [--lessons DIR]      (the lessons; a folder's files checked, with line numbers)
    descent-lab run [--host H] [--port P] [--lessons DIR]
    descent-lab serve --host 0.0.0.0 --port 8050 --workers 3      (a class: gunicorn, shared stores)

Bad input exits with status 2 and a one-line reason on stderr.  Only
``run`` and ``serve`` import the web stack, so the others start quickly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from app.cli.common import EXIT_USAGE, CliError, Parser
from app.cli.curvature import add_curvature_parser
from app.cli.export import add_export_parser, explorer_config
from app.cli.lessons import add_lessons_parser
from app.cli.listing import add_list_parser
from app.cli.sweep import add_sweep_parser, np_savez
from app.cli.trace import add_trace_parser, load_run_spec, surface_from_dict
from app.cli.web import add_web_parsers
from app.version import version


def build_parser() -> Parser:
    p = Parser(prog="descent-lab", description="See and teach how optimizers move on loss surfaces.")
    p.add_argument("--version", action="version", version=f"descent-lab {version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_list_parser(sub)
    add_trace_parser(sub)
    add_sweep_parser(sub)
    add_export_parser(sub)
    from autoencoder.cli import add_train_parser

    add_train_parser(sub)
    add_curvature_parser(sub)
    add_lessons_parser(sub)
    add_web_parsers(sub)
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


__all__ = ["EXIT_USAGE", "CliError", "build_parser", "explorer_config", "load_run_spec", "main", "np_savez",
           "surface_from_dict"]
