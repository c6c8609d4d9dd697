"""Lesson files: what a lesson is, and how a TOML file becomes one (or a one-line reason with its line).

A lesson file is small TOML (read with the standard library's parser: nothing in it is evaluated)::

    title = "Gradient descent on an ill-conditioned bowl"
    note = "000"                      # the lecture note it follows (see NOTES)
    summary = "Why x crawls while y converges."

    [[steps]]
    text = '''On $f = \\tfrac12(\\varepsilon x^2 + y^2)$ the gradient is $(\\varepsilon x, y)$ …'''
    view = "/?surface=quadratic&s.kappa=50&start=-9,4&steps=300&opt=sgd,lr=1.9"
    hide = ["modifiers"]              # controls of the view that are not shown (CONTROLS)
    lock = ["surface"]                # controls shown but not usable

    [steps.prediction]                # optional: asked before the view is revealed
    kind = "diverge"                  # click | first | diverge | number (PREDICTION_KINDS)
    question = "Will gradient descent with η = 2.05 diverge?"
    run = 1                           # which optimizer of the race (1 = the first card)

The text is Markdown with LaTeX between ``$…$`` or ``$$…$$``.  Every limit (sizes, counts, names)
is checked; an error names the file, the line and the reason.  Predictions are judged on the real
runs of the view (:mod:`app.lessons.truth`), never on an answer written in the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_FILE_BYTES = 64 * 1024
MAX_STEPS = 40
MAX_TITLE = 120
MAX_TEXT = 6000
MAX_VIEW = 3000
LESSON_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")

#: the lecture notes a lesson can follow: number → title
NOTES: dict[str, str] = {
    "000": "Building a working autoencoder – optimization tricks (Forsyth)",
    "001": "Optimization II and intro to autoencoders (Bloniarz)",
    "002": "Optimization for training deep models (Goodfellow et al., ch. 8)",
    "003": "Non-convex optimization with gradient descent",
    "004": "Optimization: online, mini-batch and adaptive learning",
}
#: the pages a step's view may open
VIEW_PATHS = ("/", "/maps", "/lab")
#: controls a step may hide or lock, per page (what each name covers: app.lessons.controls)
CONTROLS: dict[str, tuple[str, ...]] = {
    "/": ("surface", "start", "modifiers", "optimizers", "lessons", "export", "view_options", "sidebar"),
    "/maps": ("form", "lessons", "export"),
    "/lab": ("form",),
}
PREDICTION_KINDS = ("click", "first", "diverge", "number")
METRICS = ("final_loss", "final_x", "final_y", "stop_step", "steps_to_minimum")


class LessonError(ValueError):
    """A lesson file that cannot be used: ``str()`` is ``"<file>, line <n>: <reason>"``."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source, self.line, self.reason = source, line, reason
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Prediction:
    kind: str
    question: str
    run: int = 1
    metric: str = "final_loss"
    tolerance: float = 0.0  # 0: the kind's default (DEFAULT_TOLERANCE)
    explain: str = ""

    def tolerance_or_default(self) -> float:
        return self.tolerance or DEFAULT_TOLERANCE[self.kind]


#: click: a fraction of the map's larger side; number: relative; first: a fraction of the side that
#: counts as "at a minimum"
DEFAULT_TOLERANCE = {"click": 0.1, "number": 0.25, "first": 0.02, "diverge": 0.0}


@dataclass(frozen=True)
class Step:
    text: str
    view: str
    hide: tuple[str, ...] = ()
    lock: tuple[str, ...] = ()
    prediction: Prediction | None = None

    @property
    def page(self) -> str:
        return urlsplit(self.view).path.rstrip("/") or "/"


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    note: str
    summary: str
    steps: tuple[Step, ...]
    source: str  # where it was read from (a file name), for messages


# --------------------------------------------------------------------------- locating lines


class _Lines:
    """Where keys sit in the file's text, so a reason can name a line (tomllib gives values only)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.step_starts = [i + 1 for i, ln in enumerate(self.lines) if re.match(r"^\s*\[\[\s*steps\s*\]\]", ln)]

    def _find(self, key: str, lo: int, hi: int) -> int | None:
        pat = re.compile(rf"^\s*(\"?{re.escape(key)}\"?\s*=|\[\s*steps\s*\.\s*{re.escape(key)}\s*\])")
        for i in range(lo, min(hi, len(self.lines))):
            if pat.match(self.lines[i]):
                return i + 1
        return None

    def top(self, key: str) -> int | None:
        end = self.step_starts[0] - 1 if self.step_starts else len(self.lines)
        return self._find(key, 0, end)

    def step(self, index: int, key: str | None = None) -> int | None:
        if index >= len(self.step_starts):
            return None
        start = self.step_starts[index]
        end = self.step_starts[index + 1] - 1 if index + 1 < len(self.step_starts) else len(self.lines)
        if key is None:
            return start
        return self._find(key, start, end) or start


# --------------------------------------------------------------------------- parsing


#: checks a step's view against its page: (view, prediction) → the reason it is unusable, or None
ViewCheck = Callable[[str, "Prediction | None"], "str | None"]


def parse_lesson(data: bytes | str, source: str, lesson_id: str, check_view: ViewCheck | None = None) -> Lesson:
    """The lesson in ``data`` (the text of a TOML file); LessonError naming ``source`` and a line.

    ``check_view`` (see :data:`ViewCheck`) is asked about every step's view once the step is read."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_FILE_BYTES:
        raise LessonError(source, None, f"the file is {len(raw) // 1024} kB; a lesson is at most {MAX_FILE_BYTES // 1024} kB")
    if not LESSON_ID.match(lesson_id):
        raise LessonError(source, None, "the file name must be lower-case letters, digits, '-' or '_' (at most 48)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(source, None, "the file is not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "not valid TOML"
        raise LessonError(source, int(m.group(1)) if m else None, f"not valid TOML: {reason}") from None
    where = _Lines(text)
    known = {"title", "note", "summary", "steps"}
    for key in doc:
        if key not in known:
            raise LessonError(source, where.top(key), f"unknown key {key!r} (a lesson has {', '.join(sorted(known))})")
    title = _text(doc, "title", MAX_TITLE, source, where.top("title"), required=True)
    note = _text(doc, "note", 3, source, where.top("note"), required=True)
    if note not in NOTES:
        raise LessonError(source, where.top("note"), f"note must be one of {', '.join(NOTES)}, got {note!r}")
    summary = _text(doc, "summary", 600, source, where.top("summary"))
    steps_raw = doc.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise LessonError(source, where.top("steps"), "a lesson needs at least one [[steps]] table")
    if len(steps_raw) > MAX_STEPS:
        raise LessonError(source, where.step(MAX_STEPS), f"a lesson has at most {MAX_STEPS} steps")
    steps = tuple(_step(s, i, source, where, check_view) for i, s in enumerate(steps_raw))
    return Lesson(lesson_id, title, note, summary, steps, source)


def _text(d: dict[str, Any], key: str, limit: int, source: str, line: int | None, required: bool = False) -> str:
    value = d.get(key, "")
    if not isinstance(value, str):
        raise LessonError(source, line, f"{key} must be text")
    value = value.strip()
    if required and not value:
        raise LessonError(source, line, f"{key} is required")
    if len(value) > limit:
        raise LessonError(source, line, f"{key} is {len(value)} characters; at most {limit}")
    return value


def _step(d: Any, i: int, source: str, where: _Lines, check_view: ViewCheck | None) -> Step:
    n = i + 1
    if not isinstance(d, dict):
        raise LessonError(source, where.step(i), f"step {n} must be a table")
    known = {"text", "view", "hide", "lock", "prediction"}
    for key in d:
        if key not in known:
            raise LessonError(source, where.step(i, key), f"step {n}: unknown key {key!r} (a step has {', '.join(sorted(known))})")
    text = _text(d, "text", MAX_TEXT, source, where.step(i, "text"), required=True)
    view = _view(d.get("view"), source, where.step(i, "view"), n)
    page = urlsplit(view).path.rstrip("/") or "/"
    hide = _controls(d, "hide", page, source, where.step(i, "hide"), n)
    lock = _controls(d, "lock", page, source, where.step(i, "lock"), n)
    prediction = None
    if "prediction" in d:
        line = where.step(i, "prediction")
        if page != "/":
            raise LessonError(source, line, f"step {n}: predictions are asked on Explorer views only")
        prediction = _prediction(d["prediction"], source, line, n)
    if check_view is not None:
        problem = check_view(view, prediction)
        if problem:
            raise LessonError(source, where.step(i, "view"), f"step {n}: {problem}")
    return Step(text, view, hide, lock, prediction)


def _view(value: Any, source: str, line: int | None, n: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LessonError(source, line, f"step {n}: view is required (a link such as \"/?surface=beale\")")
    value = value.strip()
    if len(value) > MAX_VIEW:
        raise LessonError(source, line, f"step {n}: view is {len(value)} characters; at most {MAX_VIEW}")
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or parts.fragment:
        raise LessonError(source, line, f"step {n}: view must be a link within the app, starting with '/'")
    if (parts.path.rstrip("/") or "/") not in VIEW_PATHS:
        raise LessonError(source, line, f"step {n}: view must open one of the pages {', '.join(VIEW_PATHS)}")
    if re.search(r"[^A-Za-z0-9_.,~%=&+:;/?()*!-]", value):
        raise LessonError(source, line, f"step {n}: view has characters a link cannot carry (percent-encode them)")
    return value


def _controls(d: dict[str, Any], key: str, page: str, source: str, line: int | None, n: int) -> tuple[str, ...]:
    value = d.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LessonError(source, line, f"step {n}: {key} must be a list of control names")
    allowed = CONTROLS[page]
    for v in value:
        if v not in allowed:
            raise LessonError(source, line, f"step {n}: {key}: unknown control {v!r} on {page} (controls: {', '.join(allowed)})")
    return tuple(dict.fromkeys(value))


def _prediction(d: Any, source: str, line: int | None, n: int) -> Prediction:
    if not isinstance(d, dict):
        raise LessonError(source, line, f"step {n}: prediction must be a table")
    known = {"kind", "question", "run", "metric", "tolerance", "explain"}
    for key in d:
        if key not in known:
            raise LessonError(source, line, f"step {n}: prediction: unknown key {key!r} (keys: {', '.join(sorted(known))})")
    kind = d.get("kind")
    if kind not in PREDICTION_KINDS:
        raise LessonError(source, line, f"step {n}: prediction kind must be one of {', '.join(PREDICTION_KINDS)}, got {kind!r}")
    question = _text(d, "question", 300, source, line, required=True)
    run = d.get("run", 1)
    if isinstance(run, bool) or not isinstance(run, int) or not 1 <= run <= 8:
        raise LessonError(source, line, f"step {n}: prediction run must be a whole number from 1 to 8, got {run!r}")
    metric = d.get("metric", "final_loss")
    if metric not in METRICS:
        raise LessonError(source, line, f"step {n}: prediction metric must be one of {', '.join(METRICS)}, got {metric!r}")
    tol = d.get("tolerance", 0.0)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0.0 <= float(tol) <= 10.0:
        raise LessonError(source, line, f"step {n}: prediction tolerance must be a number in [0, 10], got {tol!r}")
    explain = _text(d, "explain", 1500, source, line)
    return Prediction(kind, question, run, metric, float(tol), explain)
