"""The lessons on offer: the files shipped in ``app/lessons/library`` and those in a teacher's folder.

A teacher's folder is named by ``$DESCENT_LAB_LESSONS`` (``descent-lab run --lessons DIR`` sets it).
Every ``*.toml`` file there is read with the same rules as the shipped ones; a file with an error
is left out with its one-line reason (shown on the lesson index) and never stops the others.  The
library is read again when a file's name, size or modification time changes.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from app.lessons.schema import Lesson, LessonError, Prediction, parse_lesson

PACKAGE_DIR = Path(__file__).resolve().parent / "library"
ENV_DIR = "DESCENT_LAB_LESSONS"
MAX_FILES = 200  # per folder


@dataclass(frozen=True)
class Library:
    lessons: dict[str, Lesson]  # id → lesson, in file-name order (shipped first)
    errors: tuple[str, ...]  # one line per file left out

    def get(self, lesson_id: str) -> Lesson | None:
        return self.lessons.get(lesson_id)


def check_explorer_view(view: str, prediction: Prediction | None) -> str | None:
    """Why an Explorer view cannot serve a step (its link needs repairs, or the prediction's run is
    not in its race); None when it can.  Views of other pages are checked by their pages when opened."""
    from urllib.parse import urlsplit

    from app.explorer.state import from_query

    parts = urlsplit(view)
    if (parts.path.rstrip("/") or "/") != "/":
        return None
    cfg = from_query(parts.query)
    if cfg.notes:
        return "view: " + "; ".join(cfg.notes)
    if prediction is not None and prediction.kind != "first" and prediction.run > len(cfg.optimizers):
        return f"the prediction asks about run {prediction.run}, but the view races {len(cfg.optimizers)} optimizers"
    return None


def _folders() -> tuple[Path, ...]:
    extra = os.environ.get(ENV_DIR, "").strip()
    return (PACKAGE_DIR,) + ((Path(extra).expanduser(),) if extra else ())


def _signature(folders: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    sig = []
    for folder in folders:
        try:
            files = sorted(folder.glob("*.toml"))[: MAX_FILES + 1]
        except OSError:
            continue
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            sig.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(sig)


def library() -> Library:
    """Every usable lesson, and a reason for each file that is not (cached until a file changes)."""
    folders = _folders()
    return _load(folders, _signature(folders))


@functools.lru_cache(maxsize=4)
def _load(folders: tuple[Path, ...], signature: tuple[tuple[str, int, int], ...]) -> Library:
    lessons: dict[str, Lesson] = {}
    errors: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            errors.append(f"{folder}: the lessons folder does not exist")
            continue
        files = sorted(folder.glob("*.toml"))
        if len(files) > MAX_FILES:
            errors.append(f"{folder}: only the first {MAX_FILES} of {len(files)} lesson files are read")
            files = files[:MAX_FILES]
        for path in files:
            try:
                lesson = read_lesson(path)
            except LessonError as exc:
                errors.append(str(exc))
                continue
            if lesson.id in lessons:
                errors.append(f"{path.name}: a lesson named {lesson.id!r} exists already ({lessons[lesson.id].source})")
                continue
            lessons[lesson.id] = lesson
    return Library(lessons, tuple(errors))


def read_lesson(path: Path) -> Lesson:
    """One lesson file (LessonError with the file, line and reason)."""
    from app.lessons.schema import MAX_FILE_BYTES

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LessonError(path.name, None, f"cannot be read ({exc.strerror})") from None
    return parse_lesson(raw, path.name, path.stem, check_view=check_explorer_view)
