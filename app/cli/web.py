"""``descent-lab run`` (the web app for one user) and ``serve`` (a class: gunicorn, several workers)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.common import CliError


def embed_origins(origins: list[str] | None) -> None:
    """Let ``origins`` frame the ``/embed`` pages (for this process and the workers it starts)."""
    if not origins:
        return
    import os

    from app.hosting.headers import FRAME_ANCESTORS_ENV, parse_origins

    try:
        os.environ[FRAME_ANCESTORS_ENV] = " ".join(parse_origins(" ".join(origins)))
    except ValueError as exc:
        raise CliError(f"--embed-origin: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from app import create_app
    from app.cli.lessons import lessons_folder

    lessons_folder(args.lessons)
    embed_origins(args.embed_origin)
    create_app(freeze=True).run(host=args.host, port=args.port, debug=False)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.cli.lessons import lessons_folder
    from app.hosting.serve import ServeOptions, default_workers, serve

    lessons_folder(args.lessons)
    embed_origins(args.embed_origin)
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


def add_web_parsers(sub: Any) -> None:
    rn = sub.add_parser("run", help="start the explorer web app")
    rn.add_argument("--host", default="127.0.0.1")
    rn.add_argument("--port", type=int, default=8050)
    rn.add_argument("--lessons", metavar="DIR", help="also offer the .toml lessons in this folder")
    rn.add_argument("--embed-origin", action="append", metavar="ORIGIN",
                    help="a site that may frame the /embed pages, e.g. https://slides.example.org (repeatable)")
    rn.set_defaults(func=cmd_run)

    sv = sub.add_parser("serve", help="serve a class: the web app under gunicorn with several workers")
    sv.add_argument("--host", default="127.0.0.1", help="interface (0.0.0.0: every interface; default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8050)
    sv.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, at least 2)")
    sv.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    sv.add_argument("--timeout", type=int, default=120, help="seconds before a stuck worker is restarted")
    sv.add_argument("--access-log", action="store_true", help="log every request to standard output")
    sv.add_argument("--lessons", metavar="DIR", help="also offer the .toml lessons in this folder")
    sv.add_argument("--embed-origin", action="append", metavar="ORIGIN",
                    help="a site allowed to show the /embed pages in a frame (repeatable)")
    sv.set_defaults(func=cmd_serve)
