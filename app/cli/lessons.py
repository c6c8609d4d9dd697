"""``descent-lab lessons``: the lessons on offer and, for a teacher writing one, what is wrong with a file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from app.cli.common import CliError, emit


def lessons_folder(path: str | None) -> None:
    """Point the lesson library at ``path`` (a folder of .toml lessons) for this process and its workers."""
    if path is None:
        return
    from app.lessons.library import ENV_DIR

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise CliError(f"--lessons {path}: no such folder")
    os.environ[ENV_DIR] = str(folder.resolve())


def cmd_lessons(args: argparse.Namespace) -> int:
    from app.lessons.library import library
    from app.lessons.schema import NOTES

    lessons_folder(args.lessons)
    lib = library()
    lines = []
    for note in NOTES:
        for lesson in lib.lessons.values():
            if lesson.note == note:
                lines.append(f"{lesson.id:<22} note {note}  {len(lesson.steps):>2} steps  {lesson.title}")
    lines += [f"error: {e}" for e in lib.errors]
    emit("\n".join(lines) + "\n", None)
    return 2 if lib.errors else 0


def add_lessons_parser(sub: Any) -> None:
    ls = sub.add_parser("lessons", help="list the lessons, and check a folder of lesson files")
    ls.add_argument("--lessons", metavar="DIR", help="a folder of your own .toml lessons (checked with the shipped ones)")
    ls.set_defaults(func=cmd_lessons)
