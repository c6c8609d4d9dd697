"""The Autoencoder lab page: train one autoencoder with several optimizers and compare them.

Contract with the app shell (the lead's router):

* ``PATH = "/lab"``, ``TITLE = "Autoencoder lab"``;
* ``layout(query)`` — the page for a link's query (``dict[str, str]``); every
  value is validated and clamped, and what could not be used is listed in a
  visible notice (never an exception);
* ``register_callbacks(app)`` — once per Dash app; the app must have been made
  with ``Dash(background_callback_manager=app.hosting.jobs.make_manager())`` and
  ``suppress_callback_exceptions=True`` (the page is not in the first layout).

The race runs as a Dash background callback (``background=True``), so it runs
in a job process (DiskcacheManager) or on a Celery worker (CeleryManager), never
on the request thread.  While it runs, Start is disabled (``running=``) and the
job reports through ``progress=`` the whole downsampled loss history each time
(Dash keeps only the last progress value).

Job state lives in the background manager's store (the shared diskcache
directory, or Redis), not in this process: uploaded files (by content hash),
cancel requests (by race token) and the race queue.  Cancelling is cooperative:
the race checks the token's flag between minibatches and stops with the epochs
it completed, whose results are still shown.  Dash's own ``cancel=`` would kill
the job process instead (losing those results) and cannot stop a task on
Celery's solo pool.

Bounded work, for a class on one small server (see :mod:`app.lab.queue`):

* Start goes through a plain callback, the gate, which queues the race under
  the browser's id (a random token in its local storage) before the background
  job is asked for.  A browser gets one race at a time: Start in a second tab
  starts nothing and shows the first race's live status instead.
* At most ``training_slots`` races train at once (2 on diskcache, 4 on Celery,
  or ``$DESCENT_LAB_TRAINING_SLOTS``); the others wait in order and are told
  their place.  Every job has a hard wall-time bound (``JOB_WALL_LIMIT``).
* A job keeps a heartbeat while it runs and leaves a done marker when it ends.
  When its process or worker is killed, the page notices (Dash stops polling a
  dead diskcache job; the page's watch sees a dead heartbeat), says so, frees
  the job's slot and lets Start be pressed again; other races go on.

Everything that decides something is a plain function here (``sanitize``,
``check_run``, ``run_job``, ``edit_rows``, …) or a figure builder in
:mod:`app.lab.figures`; the callbacks only gather inputs and call them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import re
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from app.lab import figures as lf
from app.hosting.kv import kv_for
from app.lab.queue import (
    CANCELLED_QUEUED,
    HARD_MARGIN,
    JOB_WALL_LIMIT,
    KEY_PREFIX,
    LOAD_LIMIT,
    LOST_TEXT,
    MAX_TIME_LIMIT,
    MEASURE_LIMIT,
    SLOT_WAIT_LIMIT,
    Heartbeat,
    QueueBusy,
    RaceQueue,
    Turn,
    cancel_check,
    cancel_key,
    is_celery,
    job_record,
    request_cancel,
    training_slots,
    valid_token,
)
from app.shell.validation import clamp_hyper, parse_number, shown, symbol_text
from autoencoder.corrupt import DEFAULT_TABLE, GRID_KINDS, KINDS, Corruption
from autoencoder.model import ACTIVATIONS, INITS, LOSSES, ModelSpec
from optimizers.registry import SPECS as OPTIMIZER_SPECS
from optimizers.registry import get_spec, make_config

PATH = "/lab"
TITLE = "Autoencoder lab"

# --------------------------------------------------------------------------- limits of the web lab
MAX_EPOCHS = 200
MAX_SAMPLES = 70_000
MIN_SAMPLES = 20
MAX_BATCH = 4096
MAX_SEED = 2**31 - 1
MIN_TIME_LIMIT = 5.0
MAX_PARAMS = 1_000_000
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 2048
MAX_OPTIMIZERS = 8  # one colour each
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_QUERY_KEYS = 40
MAX_QUERY_VALUE = 2000
MAX_NOTICES = 8
#: how long an uploaded file stays in the job store
UPLOAD_TTL = 2 * 3600
#: a waiting job looks for a free slot this often
WAIT_POLL = 1.0
#: the page checks on its job this often while it runs, and on another tab's race while it follows one
WATCH_MS = 2000
FOLLOW_MS = 1500
OTHER_PREFIX = "Your running race (one at a time per browser; started in another tab, or before this page loaded): "
#: the progress channel is written at most this often
PROGRESS_INTERVAL = 0.4
#: work the loss landscapes may take, in multiply-adds (both slices together)
LANDSCAPE_BUDGET = 1.5e10
N_SHOW = 8
PSNR_SAMPLES = 300

SOURCES = {
    "digits": ("Digits (8×8)", 64, (8, 8)),
    "sample_images": ("Photo patches (12×12)", 144, (12, 12)),
    "synthetic": ("Synthetic strokes (28×28)", 784, (28, 28)),
    "file": ("Upload a file", None, None),
}
NOISES = ("none", "gaussian", "salt_pepper", "blur", "knockout")
NOISE_LABELS = {"none": "none", "gaussian": "Gaussian", "salt_pepper": "salt and pepper", "blur": "blur",
                "knockout": "knockout"}  # fmt: skip
INIT_LABELS = {"xavier": "Xavier (normal)", "xavier_uniform": "Glorot (uniform)", "he": "He",
               "naive": "naive (σ = 0.01)"}  # fmt: skip
#: the hyperparameters a race card shows besides the learning rate (the registry decides)
KEY_PARAMS: dict[str, tuple[str, ...]] = {spec.name: spec.card_keys for spec in OPTIMIZER_SPECS}


class Ids(StrEnum):
    PAGE = "lab-page"
    NONCE = "lab-nonce"
    BROWSER = "lab-browser"
    RUN = "lab-run"
    WATCH = "lab-watch"
    FOLLOW = "lab-follow"
    FOLLOWING = "lab-following"
    NOTICE = "lab-notice"
    NOTICE_CLOSE = "lab-notice-close"
    DATA = "lab-data"
    SAMPLES = "lab-samples"
    UPLOAD_BOX = "lab-upload-box"
    UPLOAD = "lab-upload"
    UPLOAD_MSG = "lab-upload-msg"
    UPLOAD_STORE = "lab-upload-store"
    HIDDEN = "lab-hidden"
    ACT = "lab-act"
    OUT = "lab-out"
    LOSS = "lab-loss"
    INIT = "lab-init"
    ARCH = "lab-arch"
    MODEL_SUMMARY = "lab-model-summary"
    NOISE = "lab-noise"
    LEVEL = "lab-level"
    LEVEL_LABEL = "lab-level-label"
    LEVEL_HINT = "lab-level-hint"
    EPOCHS = "lab-epochs"
    BATCH = "lab-batch"
    SEED = "lab-seed"
    LIMIT = "lab-limit"
    OPT_ROWS = "lab-opt-rows"
    OPT_ADD = "lab-opt-add"
    ISSUES = "lab-issues"
    SHARE = "lab-share"
    START = "lab-start"
    CANCEL = "lab-cancel"
    RUNNING = "lab-running"
    BAR = "lab-bar"
    STATUS = "lab-status"
    LOSS_GRAPH = "lab-loss-graph"
    RESULTS = "lab-results"
    SUMMARY = "lab-summary"
    RECON = "lab-recon-graph"
    PSNR = "lab-psnr"
    LAND_METHOD = "lab-land-method"
    LAND_STORE = "lab-land-store"
    LAND_GRAPH = "lab-land-graph"


#: pattern-matching id types of the optimizer cards
OPT_NAME = "lab-opt-name"
OPT_LR = "lab-opt-lr"
OPT_P1 = "lab-opt-p1"
OPT_P2 = "lab-opt-p2"
OPT_FOR = "lab-opt-for"
OPT_PARAMS = "lab-opt-params"
OPT_REMOVE = "lab-opt-remove"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class OptChoice:
    """One contestant: an optimizer name and its learning rate and key hyperparameters (validated)."""

    name: str
    values: tuple[tuple[str, Any], ...] = ()

    def config(self) -> Any:
        return make_config(self.name, **dict(self.values))

    def text(self) -> str:
        """``adam(lr=0.003,beta1=0.9)``: the link form."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in self.values)
        return f"{self.name}({inner})" if inner else self.name


def _default_opts() -> tuple[OptChoice, ...]:
    return (
        OptChoice("adam", (("lr", 0.003), ("beta1", 0.9), ("beta2", 0.999))),
        OptChoice("momentum", (("lr", 0.05), ("momentum", 0.9), ("weight_decay", 0.0))),
        OptChoice("sgd", (("lr", 0.1), ("momentum", 0.0), ("weight_decay", 0.0))),
    )


@dataclass(frozen=True)
class LabSettings:
    """Everything the form sets, validated."""

    data: str = "digits"
    samples: int = 2000
    hidden: tuple[int, ...] = (32, 8, 32)
    act: str = "relu"
    out: str = "sigmoid"
    loss: str = "mse"
    init: str = "xavier"
    bn: bool = False
    skip: bool = False
    noise: str = "none"
    level: float = 0.0
    epochs: int = 50
    batch: int = 64
    seed: int = 0
    limit: float = 300.0
    opts: tuple[OptChoice, ...] = field(default_factory=_default_opts)

    def model_spec(self) -> ModelSpec:
        return ModelSpec(hidden=self.hidden, activation=self.act, output_activation=self.out, loss=self.loss,
                         init=self.init, batch_norm=self.bn, skip=self.skip)  # fmt: skip

    def corruption(self) -> Corruption | None:
        return None if self.noise == "none" else Corruption(self.noise, float(self.level))


DEFAULT = LabSettings()


class Notes:
    """What had to be repaired or refused, as short sentences (duck-compatible with app.shell.validation's notes)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)

    def result(self, limit: int = MAX_NOTICES) -> list[str]:
        if len(self.items) <= limit:
            return list(self.items)
        return self.items[:limit] + [f"… and {len(self.items) - limit} more"]


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _number(raw: Any, lo: float, hi: float, default: float, what: str, notes: Notes) -> float:
    v = parse_number(raw)
    if v is None:
        notes.add(f"{what}: {shown(raw)} is not a number; using {_fmt(default)}")
        return default
    c = min(max(v, lo), hi)
    if c != v:
        notes.add(f"{what}: {_fmt(v)} is outside [{_fmt(lo)}, {_fmt(hi)}]; using {_fmt(c)}")
    return c


def _whole(raw: Any, lo: int, hi: int, default: int, what: str, notes: Notes) -> int:
    v = parse_number(raw)
    if v is not None and v != round(v):
        notes.add(f"{what}: {_fmt(v)} is not a whole number; using {_fmt(round(v))}")
    return int(round(_number(raw, lo, hi, default, what, notes)))


def _choice(raw: Any, options: Sequence[str], default: str, what: str, notes: Notes,
            aliases: Mapping[str, str] | None = None) -> str:  # fmt: skip
    text = raw.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(raw, str) and len(raw) <= 40 else None
    if text is not None and aliases:
        text = aliases.get(text, text)
    if text in options:
        return text
    notes.add(f"{what}: {shown(raw)} is not one of {', '.join(options)}; using {default}")
    return default


def _flag(raw: Any, default: bool, what: str, notes: Notes) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (list, tuple)):  # a checklist's value
        return len(raw) > 0
    text = str(raw).strip().lower() if isinstance(raw, (str, int, float)) else ""
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    notes.add(f"{what}: {shown(raw)} is not true or false; using {'yes' if default else 'no'}")
    return default


def parse_hidden_text(raw: Any, notes: Notes, default: tuple[int, ...] = DEFAULT.hidden) -> tuple[int, ...]:
    """'32,8,32' → (32, 8, 32) within the lab's limits; the default (with a note) otherwise."""
    if isinstance(raw, (list, tuple)):
        raw = ",".join(str(v) for v in raw)
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    parts = [p.strip() for p in text.replace(";", ",").split(",")] if text is not None and len(text) <= 200 else None
    if not parts or any(not re.fullmatch(r"\d{1,7}", p) for p in parts):
        notes.add(f"hidden sizes: {shown(raw)} is not a comma-separated list of whole numbers, e.g. 32,8,32; "
                  f"using {','.join(map(str, default))}")  # fmt: skip
        return default
    sizes = tuple(int(p) for p in parts)
    if not 1 <= len(sizes) <= MAX_HIDDEN_LAYERS:
        notes.add(f"hidden sizes: give 1 to {MAX_HIDDEN_LAYERS} layers, got {len(sizes)}; "
                  f"using {','.join(map(str, default))}")  # fmt: skip
        return default
    if any(not 1 <= s <= MAX_WIDTH for s in sizes):
        notes.add(f"hidden sizes: each layer must have 1 to {MAX_WIDTH} units; using {','.join(map(str, default))}")
        return default
    return sizes


_OPT_ITEM = re.compile(r"\s*([a-z_]{1,24})\s*(?:\(([^()]{0,300})\))?\s*")


def parse_opt_text(text: str, notes: Notes) -> list[dict[str, Any]] | None:
    """``adam(lr=0.003,beta1=0.9),sgd(lr=0.1)`` → raw optimizer dicts; None (with a note) if unreadable."""
    items: list[dict[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _OPT_ITEM.match(text, pos)
        if m is None or m.end() == pos:
            notes.add(f"optimizers: cannot read {shown(text[pos:])}; write e.g. adam(lr=0.003),sgd(lr=0.1)")
            return None
        item: dict[str, Any] = {"name": m.group(1)}
        for pair in (m.group(2) or "").split(","):
            if not pair.strip():
                continue
            k, sep, v = pair.partition("=")
            if not sep:
                notes.add(f"optimizers: {shown(pair)} is not key=value")
                continue
            item[k.strip()[:24]] = v.strip()
        items.append(item)
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                notes.add(f"optimizers: cannot read {shown(text[pos:])}; separate optimizers with commas")
                return None
            pos += 1
    return items


def sanitize_opts(raw: Any, notes: Notes) -> tuple[OptChoice, ...]:
    """Raw optimizer entries (a link's text or the form's cards) → 1 to MAX_OPTIMIZERS valid choices."""
    if isinstance(raw, str):
        items = parse_opt_text(raw[:MAX_QUERY_VALUE], notes)
        if items is None:
            return DEFAULT.opts
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        notes.add("optimizers: none given; using the default race")
        return DEFAULT.opts
    if len(items) > MAX_OPTIMIZERS:
        notes.add(f"optimizers: at most {MAX_OPTIMIZERS} race at once; keeping the first {MAX_OPTIMIZERS}")
        items = items[:MAX_OPTIMIZERS]
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            notes.add(f"optimizer {n}: not readable; left out")
            continue
        name = item.get("name")
        name = name.strip().lower() if isinstance(name, str) else name
        try:
            spec = get_spec(name) if isinstance(name, str) else None
        except ValueError:
            spec = None
        if spec is None:
            notes.add(f"optimizer {n}: {shown(name)} is not an optimizer; left out")
            continue
        allowed = ("lr",) + KEY_PARAMS.get(spec.name, ())
        values: list[tuple[str, Any]] = []
        for key in allowed:
            p = spec.param(key)
            if key in item and item[key] is not None and item[key] != "":
                v = clamp_hyper(p, item[key], f"{spec.display_name} {key}", notes)
            else:
                v = p.default_value()
            values.append((key, v))
        for key in item:
            if key != "name" and key not in allowed:
                notes.add(f"{spec.display_name}: the lab sets only {', '.join(allowed)}; {shown(key)} ignored")
        choice = OptChoice(spec.name, tuple(values))
        try:
            choice.config()
        except ValueError as exc:
            notes.add(f"{spec.display_name}: {exc}; using its defaults")
            choice = OptChoice(spec.name, tuple((k, spec.param(k).default_value()) for k in allowed))
        out.append(choice)
    if not out:
        notes.add("optimizers: none could be used; using the default race")
        return DEFAULT.opts
    return tuple(out)


#: link keys → what they set
QUERY_KEYS = ("data", "samples", "hidden", "act", "out", "loss", "init", "bn", "skip", "noise", "level", "epochs",
              "batch", "seed", "limit", "opt")  # fmt: skip
_SOURCE_ALIASES = {"patches": "sample_images", "images": "sample_images", "upload": "file", "strokes": "synthetic"}
_NOISE_ALIASES = {"clean": "none", "salt_and_pepper": "salt_pepper", "saltpepper": "salt_pepper", "s&p": "salt_pepper",
                  "gauss": "gaussian", "noise": "gaussian"}  # fmt: skip


def sanitize(raw: Mapping[str, Any] | None) -> tuple[LabSettings, list[str]]:
    """Validate a link's query (strings) or the form's values; returns settings and notes on what was replaced."""
    notes = Notes()
    if not isinstance(raw, Mapping):
        return DEFAULT, []
    raw = dict(list(raw.items())[: MAX_QUERY_KEYS * 2])
    d = DEFAULT
    unknown = [k for k in raw if k not in QUERY_KEYS]
    for k in unknown[:3]:
        notes.add(f"unknown setting {shown(k)} ignored")
    if len(unknown) > 3:
        notes.add(f"… and {len(unknown) - 3} more unknown settings ignored")

    def get(key: str) -> Any:
        v = raw.get(key)
        if isinstance(v, str) and len(v) > MAX_QUERY_VALUE:
            notes.add(f"{key}: the value is too long ({len(v):,} characters); using the default")
            return None
        return v

    def has(key: str) -> bool:
        return get(key) is not None

    data = _choice(get("data"), tuple(SOURCES), d.data, "data", notes, _SOURCE_ALIASES) if has("data") else d.data
    samples = _whole(get("samples"), MIN_SAMPLES, MAX_SAMPLES, d.samples, "samples", notes) \
        if has("samples") else d.samples  # fmt: skip
    hidden = parse_hidden_text(get("hidden"), notes) if has("hidden") else d.hidden
    act = _choice(get("act"), ACTIVATIONS, d.act, "activation", notes) if has("act") else d.act
    out = _choice(get("out"), ("sigmoid", "linear"), d.out, "output activation", notes) if has("out") else d.out
    loss = _choice(get("loss"), LOSSES, d.loss, "loss", notes) if has("loss") else d.loss
    if loss == "bce" and out != "sigmoid":
        notes.add("binary cross-entropy needs a sigmoid output; using sigmoid")
        out = "sigmoid"
    init = _choice(get("init"), INITS, d.init, "init", notes) if has("init") else d.init
    bn = _flag(get("bn"), d.bn, "batch norm", notes) if has("bn") else d.bn
    skip = _flag(get("skip"), d.skip, "skip connection", notes) if has("skip") else d.skip
    noise = _choice(get("noise"), NOISES, d.noise, "noise", notes, _NOISE_ALIASES) if has("noise") else d.noise
    if noise == "none":
        level = 0.0
    else:
        _, default_level, lo, hi, what = KINDS[noise]
        level = _number(get("level"), lo, hi, default_level, f"{NOISE_LABELS[noise]} strength ({what})", notes) \
            if has("level") else default_level  # fmt: skip
    epochs = _whole(get("epochs"), 1, MAX_EPOCHS, d.epochs, "epochs", notes) if has("epochs") else d.epochs
    batch = _whole(get("batch"), 1, MAX_BATCH, d.batch, "batch size", notes) if has("batch") else d.batch
    seed = _whole(get("seed"), 0, MAX_SEED, d.seed, "seed", notes) if has("seed") else d.seed
    limit = _number(get("limit"), MIN_TIME_LIMIT, MAX_TIME_LIMIT, d.limit, "time limit (s)", notes) \
        if has("limit") else d.limit  # fmt: skip
    opts = sanitize_opts(get("opt"), notes) if has("opt") else d.opts
    settings = LabSettings(data=data, samples=samples, hidden=hidden, act=act, out=out, loss=loss, init=init, bn=bn,
                           skip=skip, noise=noise, level=float(level), epochs=epochs, batch=batch, seed=seed,
                           limit=float(limit), opts=opts)  # fmt: skip
    return settings, notes.result()


def to_query(s: LabSettings) -> dict[str, str]:
    """The link keys that differ from the defaults (``sanitize`` reads them back to ``s``)."""
    d = DEFAULT
    q: dict[str, str] = {}
    pairs = (("data", s.data, d.data), ("samples", s.samples, d.samples), ("hidden", s.hidden, d.hidden),
             ("act", s.act, d.act), ("out", s.out, d.out), ("loss", s.loss, d.loss), ("init", s.init, d.init),
             ("bn", s.bn, d.bn), ("skip", s.skip, d.skip), ("noise", s.noise, d.noise),
             ("epochs", s.epochs, d.epochs), ("batch", s.batch, d.batch), ("seed", s.seed, d.seed),
             ("limit", s.limit, d.limit))  # fmt: skip
    for key, v, dv in pairs:
        if v != dv:
            q[key] = ",".join(map(str, v)) if key == "hidden" else _fmt(v)
    if s.noise != "none":
        q["level"] = _fmt(s.level)
    if s.opts != d.opts:
        q["opt"] = ",".join(o.text() for o in s.opts)
    return q


def share_href(s: LabSettings) -> str:
    q = to_query(s)
    return "?" + urlencode(q, safe="(),=") if q else "?"


# --------------------------------------------------------------------------- checks before a run


def source_shape(s: LabSettings, upload: Mapping[str, Any] | None) -> tuple[int | None, tuple[int, int] | None]:
    """(features, image shape) of the chosen data, as far as known before loading it."""
    if s.data == "file":
        if not isinstance(upload, Mapping):
            return None, None
        shape = upload.get("image_shape")
        return int(upload.get("n_features") or 0) or None, (tuple(shape) if shape else None)
    _, feats, shape = SOURCES[s.data]
    return feats, shape


def param_count(s: LabSettings, n_features: int) -> int:
    """Parameters of the autoencoder (the model's own count, without building it)."""
    sizes = (n_features, *s.hidden, n_features)
    n = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1)) + n_features
    return n + sum(s.hidden) * (2 if s.bn else 1) + (n_features**2 if s.skip else 0)


def model_summary(s: LabSettings, n_features: int | None) -> tuple[str, int | None]:
    """'64 → 32 → 8 → 32 → 64 · 4,840 parameters' and the count (None when unknown or invalid)."""
    widths = [str(n_features or "d"), *map(str, s.hidden), str(n_features or "d")]
    arch = " → ".join(widths)
    if not n_features:
        return arch, None
    n = param_count(s, n_features)
    if n > MAX_PARAMS:
        return f"{arch} · {n:,} parameters (too many)", n
    try:
        n = s.model_spec().build(n_features).n_params
    except ValueError as exc:
        return f"{arch} · {exc}", None
    return f"{arch} · {n:,} parameters", n


def check_run(s: LabSettings, upload: Mapping[str, Any] | None) -> list[str]:
    """Reasons this race cannot start (model too large, missing upload, noise needing images, …)."""
    errors = []
    n_features, shape = source_shape(s, upload)
    if s.data == "file" and n_features is None:
        errors.append("Upload a .npy, .npz or .csv file first (or choose another data source).")
    if n_features:
        n: int | None = param_count(s, n_features)
        if n > MAX_PARAMS:
            errors.append(f"The model would have {n:,} parameters; the lab allows {MAX_PARAMS:,}. "
                          "Use fewer or narrower hidden layers.")  # fmt: skip
        else:
            try:
                n = s.model_spec().build(n_features).n_params
            except ValueError as exc:
                errors.append(f"Model: {exc}.")
                n = None
        from autoencoder.train import NEWTON_MAX_PARAMS

        if n is not None and any(o.name == "newton" for o in s.opts) and n > NEWTON_MAX_PARAMS:
            errors.append(f"Newton's method builds the exact Hessian and is limited to {NEWTON_MAX_PARAMS} parameters; "
                          f"this model has {n:,} (try hidden size 1 or 2 on a small input).")  # fmt: skip
    if s.noise in GRID_KINDS and s.data == "file" and n_features and shape is None:
        errors.append(f"{NOISE_LABELS[s.noise].capitalize()} needs images; this file's samples have no image shape.")
    return errors


def psnr_columns(s: LabSettings) -> tuple[Corruption, ...]:
    """The lecture's table, with the trained corruption at the trained strength."""
    c = s.corruption()
    if c is None:
        return DEFAULT_TABLE
    return tuple(c if col.kind == c.kind else col for col in DEFAULT_TABLE)


def landscape_plan(n_params: int, n_rows: int) -> tuple[int, int]:
    """(grid resolution, samples) for the two loss slices, within :data:`LANDSCAPE_BUDGET`."""
    for res in (25, 21, 17, 13, 9):
        for samples in (500, 250, 100, 50):
            samples = min(samples, max(1, n_rows))
            if 2 * res * res * samples * 2 * n_params <= LANDSCAPE_BUDGET:
                return res, samples
    return 7, min(20, max(1, n_rows))


# --------------------------------------------------------------------------- uploads


def upload_key(digest: str) -> str:
    return f"{KEY_PREFIX}upload:{digest}"


def read_upload(contents: Any, filename: Any, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[bytes, str]:
    """dcc.Upload's data URL → (bytes, safe file name); ValueError with a one-line reason."""
    name = filename if isinstance(filename, str) else "upload"
    name = re.sub(r"[^\w.\- ]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])[:80] or "upload"
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError("the upload is empty or unreadable")
    b64 = contents.split(",", 1)[1]
    if len(b64) > (max_bytes + 2) // 3 * 4 + 4:
        raise ValueError(f"{name} is larger than {max_bytes // 2**20} MB, the upload limit")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name}: the upload is not valid base64") from None
    if len(data) > max_bytes:
        raise ValueError(f"{name} is {len(data) / 2**20:.1f} MB; the upload limit is {max_bytes // 2**20} MB")
    if not data:
        raise ValueError(f"{name} is empty")
    return data, name


def accept_upload(kv: Any, contents: Any, filename: Any) -> dict[str, Any]:
    """Validate an uploaded file (the data module's checks: no pickle, numeric, finite, sizes) and keep it.

    Returns the reference the form stores: key, name, features, image shape, samples, description.
    """
    from autoencoder.data import load_file

    data, name = read_upload(contents, filename)
    ds = load_file(data, filename=name)
    digest = hashlib.sha256(data).hexdigest()
    kv.set(upload_key(digest), data, UPLOAD_TTL)
    return {"key": digest, "name": name, "n_features": ds.n_features, "n_samples": ds.n_samples,
            "image_shape": list(ds.image_shape) if ds.image_shape else None, "description": ds.description}  # fmt: skip


def _upload_bytes(kv: Any, upload: Any) -> tuple[bytes, str]:
    if not isinstance(upload, Mapping) or not re.fullmatch(r"[0-9a-f]{64}", str(upload.get("key", ""))):
        raise ValueError("no uploaded file: upload a .npy, .npz or .csv file first")
    data = kv.get(upload_key(str(upload["key"])))
    if data is None:
        raise ValueError("the uploaded file has expired from the server; upload it again")
    if hashlib.sha256(data).hexdigest() != upload["key"]:
        raise ValueError("the uploaded file does not match its reference; upload it again")
    name = upload.get("name") if isinstance(upload.get("name"), str) else "upload"
    return data, name[:80]


def load_dataset(s: LabSettings, kv: Any, upload: Any) -> Any:
    from autoencoder.data import load_data, load_file

    if s.data == "file":
        data, name = _upload_bytes(kv, upload)
        return load_file(data, filename=name, seed=s.seed, max_samples=s.samples)
    if s.data == "sample_images":
        return load_data("sample_images", seed=s.seed, n_patches=s.samples)
    if s.data == "synthetic":
        return load_data("synthetic", seed=s.seed, n_synthetic=s.samples)
    return load_data("digits", seed=s.seed, max_samples=s.samples)


# --------------------------------------------------------------------------- the job


class Reporter:
    """Turns the race's snapshots into progress updates, at most every ``interval`` seconds.

    ``push(loss_figure, status_text, percent)`` is Dash's ``set_progress`` (wrapped);
    each update carries the whole downsampled history, since Dash keeps only the last.
    """

    def __init__(self, push: Callable[[dict[str, Any], str, float], None], epochs: int, time_limit: float | None,
                 interval: float = PROGRESS_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.push = push
        self.epochs = epochs
        self.time_limit = time_limit
        self.interval = interval
        self.clock = clock
        self.last = -math.inf
        self.snap: dict[str, Any] | None = None
        self.pushes = 0

    def figure(self) -> dict[str, Any]:
        if self.snap is None:
            return lf.message_figure("The loss curves appear after the first epoch.")
        return lf.loss_figure(self.snap.get("runs") or [], self.epochs)

    def phase(self, text: str, percent: float | None = None) -> None:
        pct = percent if percent is not None else (100.0 * float(self.snap["fraction"]) if self.snap else 0.0)
        self.push(self.figure(), text, pct)
        self.pushes += 1
        self.last = self.clock()

    def snapshot(self, snap: dict[str, Any]) -> None:
        self.snap = snap
        now = self.clock()
        if now - self.last >= self.interval or float(snap.get("fraction", 0.0)) >= 1.0:
            self.phase(lf.status_line(snap, self.time_limit))


def _race_status(race: Any, s: LabSettings) -> str:
    last = max((r.history[-1].epoch for r in race.runs), default=0)
    if race.stopped == "cancelled":
        head = f"Cancelled after epoch {last} of {s.epochs}; the results below are for the epochs completed."
    elif race.stopped == "time_limit":
        head = f"Stopped at the time limit ({s.limit:g} s) after epoch {last} of {s.epochs}."
    else:
        head = f"Finished {s.epochs} epochs in {race.elapsed:.1f} s."
    ok = [r for r in race.runs if r.history]
    if ok:
        best = min(ok, key=lambda r: r.final_val_loss)
        head += f" Lowest validation loss: {best.label} ({best.final_val_loss:.4g})."
    for r in race.runs:
        if r.status in ("diverged", "stalled"):
            head += f" {r.label} {r.message}."
    return head


def waiting_text(turn: Turn, slots: int, waited: float) -> str:
    races = "race is" if turn.running == 1 else "races are"
    return (f"Waiting for a free training slot: you are number {turn.position} of {turn.waiting} in the queue "
            f"({turn.running} {races} training, at most {slots} at once; waited {waited:.0f} s)…")  # fmt: skip


def _exit_now() -> None:
    os._exit(70)  # the job's own process (DiskcacheManager): Dash sees it gone, the page reports why


class QueuedJob:
    """The job's side of the race queue: begin, wait for a slot, publish status, end (always).

    ``own_process``: the job has a process of its own (DiskcacheManager), which its heartbeat ends
    if the job runs past its hard bound; on a Celery worker the bound cancels the race instead
    (and Celery's task time limit is the last resort).
    """

    def __init__(self, queue: RaceQueue, token: str | None, browser: str | None, *, own_process: bool = False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 exit_now: Callable[[], None] = _exit_now, kv: Any = None) -> None:  # fmt: skip
        self.queue = queue
        self.token = valid_token(token)
        self.browser = valid_token(browser)
        self.own_process = own_process
        self.clock = clock
        self.sleep = sleep
        self.exit_now = exit_now
        self.kv = kv if kv is not None else queue.kv
        self.heart: Heartbeat | None = None
        self.began = False

    def status(self, text: str, pct: float | None) -> None:
        if self.token is None or self.browser is None:
            return
        if self.heart is not None:
            self.heart.status = (self.browser, text, pct)
        self.queue.publish(self.browser, self.token, text, pct)

    def begin(self) -> str | None:
        """Claim the queued race; a sentence saying why it cannot run, or None."""
        if self.token is None or self.browser is None:
            return "This race request is not valid; reload the page and press Start again."
        record = job_record()
        try:
            state = self.queue.begin(self.token, self.browser, record)
        except QueueBusy:
            return "The server's race queue is too busy right now; press Start again in a minute."
        if state == "missing":
            return "This race request expired before it could start; press Start again."
        if state == "again":
            return ("This race was interrupted when its worker was lost and is not run a second time; "
                    "press Start to run it again.")  # fmt: skip
        self.began = True
        self.heart = Heartbeat(self.queue, self.token, record, self.clock() + JOB_WALL_LIMIT, self._overrun,
                               clock=self.clock).start()  # fmt: skip
        return None

    def bound(self, seconds: float) -> None:
        """From now on the job may run at most ``seconds`` more (its hard bound)."""
        if self.heart is not None:
            self.heart.deadline = min(self.heart.deadline, self.clock() + seconds)

    def _overrun(self) -> None:
        assert self.token is not None
        text = (f"The race was stopped: its job ran past its time bound (training limit plus "
                f"{LOAD_LIMIT + MEASURE_LIMIT + HARD_MARGIN:g} s for loading and measuring).")  # fmt: skip
        self.queue.set_fate(self.token, text)
        if self.own_process:
            self.queue.leave(self.token)
            self.exit_now()
        else:
            request_cancel(self.kv, self.token)

    def wait_turn(self, cancelled: Callable[[], bool], waiting: Callable[[str], None]) -> str:
        """Wait for a training slot: "run", "cancelled", "timeout" or "missing" (bounded in time and rounds)."""
        assert self.token is not None
        start = self.clock()
        for _ in range(int(SLOT_WAIT_LIMIT / WAIT_POLL) + 10):
            turn = self.queue.turn(self.token)
            if turn.kind in ("run", "missing"):
                return turn.kind
            if cancelled():
                return "cancelled"
            waited = self.clock() - start
            if waited > SLOT_WAIT_LIMIT:
                return "timeout"
            waiting(waiting_text(turn, self.queue.slots, waited))
            self.sleep(WAIT_POLL)
        return "timeout"

    def end(self, out: Mapping[str, Any] | None) -> None:
        """The job is over (whatever happened): stop the heartbeat, leave the done marker, free the entry."""
        if self.heart is not None:
            self.heart.stop()
        if self.token is None:
            return
        ok = bool(out and out.get("ok"))
        text = str(out.get("status", "")) if out else "The race ended without a result."
        if self.browser is not None:
            self.queue.publish(self.browser, self.token, text, 100.0 if ok else None, final=True)
        self.queue.finish(self.token, ok, text)


def run_job(form: Mapping[str, Any], upload: Any, *, kv: Any, token: str | None,
            push: Callable[[dict[str, Any], str, float], None], queue: RaceQueue | None = None,
            browser: str | None = None, own_process: bool = False,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:  # fmt: skip
    """One race from the form's raw values: validate, wait for a slot, load, train, measure, slice.

    With a ``queue`` the race must have been queued by the page (``RaceQueue.join``) for ``browser``:
    the job claims it, waits for a training slot, keeps a heartbeat and publishes its status while
    it runs, and always leaves a done marker and frees its entry at the end.

    Returns ``ok``, ``status`` (a sentence), and when trained the figures: ``loss``,
    ``recon``, ``psnr`` (table rows), ``landscapes`` (``random`` and ``pca`` figures)
    and ``summary``.  Never raises: failures come back as ``ok=False`` with the reason.
    """
    settings, notes = sanitize(form)
    job = QueuedJob(queue, token, browser, own_process=own_process, clock=clock, sleep=sleep, kv=kv) \
        if queue is not None else None  # fmt: skip

    def publish(fig: dict[str, Any], text: str, pct: float) -> None:
        push(fig, text, pct)
        if job is not None:
            job.status(text, pct)

    reporter = Reporter(publish, settings.epochs, settings.limit, clock=clock)
    out: dict[str, Any] | None = None
    try:
        out = _run_checked(settings, notes, upload, kv, token, reporter, job, clock)
        return out
    finally:
        if job is not None:
            job.end(out)
        if token is not None:
            kv.delete(cancel_key(token))


_FAILED = {"ok": False, "loss": None, "recon": None, "psnr": None, "landscapes": None, "summary": ""}


def _run_checked(settings: LabSettings, notes: list[str], upload: Any, kv: Any, token: str | None,
                 reporter: Reporter, job: QueuedJob | None, clock: Callable[[], float]) -> dict[str, Any]:  # fmt: skip
    def fail(text: str, pct: float | None = 0.0) -> dict[str, Any]:
        reporter.phase(text, pct)
        return {**_FAILED, "status": text}

    if notes:
        return fail("Fix these settings first: " + "; ".join(notes) + ".")
    errors = check_run(settings, upload)
    if errors:
        return fail(" ".join(errors))
    cancelled = cancel_check(kv, token, clock)
    try:
        if job is not None:
            refusal = job.begin()
            if refusal is not None:
                return fail("Cancelled before training started." if cancelled() else refusal)
            got = job.wait_turn(cancelled, lambda text: reporter.phase(text, 0.0))
            if got == "cancelled":
                return fail("Cancelled before training started.")
            if got == "timeout":
                return fail(f"No training slot became free within {SLOT_WAIT_LIMIT / 60:g} minutes; "
                            "try again later.")  # fmt: skip
            if got == "missing":
                return fail("This race was dropped from the queue (its page stopped answering); press Start again.")
            job.bound(LOAD_LIMIT + settings.limit + MEASURE_LIMIT + HARD_MARGIN)
        reporter.phase("Loading data…", 0.0)
        data = load_dataset(settings, kv, upload)
        problems = check_run(settings, {"n_features": data.n_features, "image_shape": data.image_shape})
        if problems:
            return fail(" ".join(problems))
        return _train_and_measure(settings, data, reporter, cancelled, clock)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message on the page
        if not isinstance(exc, ValueError):
            traceback.print_exc(file=sys.stderr)
        text = f"The race could not run: {exc}" if isinstance(exc, ValueError) else \
            f"The race failed ({type(exc).__name__}: {exc})."  # fmt: skip
        return fail(text, 0.0 if reporter.snap is None else None)


def _train_and_measure(s: LabSettings, data: Any, reporter: Reporter, cancelled: Callable[[], bool],
                       clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:  # fmt: skip
    from autoencoder.landscape import race_landscape
    from autoencoder.train import RaceEntry, train_race

    reporter.phase("Training…", 0.0)
    spec = s.model_spec()
    race = train_race(
        data, [RaceEntry(o.config()) for o in s.opts], spec, epochs=s.epochs, batch_size=s.batch, seed=s.seed,
        corruption=s.corruption(), time_limit=s.limit, progress=reporter.snapshot, cancel=cancelled, n_show=N_SHOW,
        psnr_corruptions=psnr_columns(s), psnr_samples=PSNR_SAMPLES, landscape_samples=500,
    )  # fmt: skip
    keys = [r.key for r in race.runs]
    labels = [r.label for r in race.runs]
    runs = [r.summary() for r in race.runs]
    reporter.snap = {"runs": runs, "fraction": 1.0}
    landscapes: dict[str, Any] = {}
    if race.stopped == "cancelled":
        msg = lf.message_figure("The loss landscape is skipped when a race is cancelled.")
        landscapes = {"random": msg, "pca": msg}
    else:
        reporter.phase("Computing the loss landscape…", 100.0)
        res, samples = landscape_plan(race.model.n_params, race.landscape_inputs.shape[0])
        measure_end = clock() + MEASURE_LIMIT

        def stop_slicing() -> bool:
            return cancelled() or clock() > measure_end

        for method in ("random", "pca"):
            try:
                land = race_landscape(race, method=method, resolution=res, samples=samples, seed=s.seed,
                                      cancel=stop_slicing)  # fmt: skip
                landscapes[method] = lf.landscape_figure(land.to_dict(), labels, keys)
            except ValueError as exc:
                name = "PCA" if method == "pca" else "random"
                landscapes[method] = lf.message_figure(f"No {name} slice: {exc}.")
            except InterruptedError:
                why = "was cancelled" if cancelled() else f"took longer than the {MEASURE_LIMIT:g} s it may use"
                landscapes[method] = lf.message_figure(f"The loss landscape {why}.")
    c = s.corruption()
    recon = lf.recon_figure(race.originals, race.inputs if c is not None else None,
                            [race.reconstructions[k] for k in keys], labels, data.image_shape,
                            input_label=c.label() if c is not None else None)  # fmt: skip
    status = _race_status(race, s)
    reporter.phase(status, 100.0)
    return {
        "ok": True,
        "status": status,
        "loss": lf.loss_figure(runs, s.epochs),
        "recon": recon,
        "psnr": lf.psnr_rows(race.psnr.to_dict() if race.psnr is not None else None),
        "landscapes": landscapes,
        "summary": _summary(s, data, race),
    }


def _summary(s: LabSettings, data: Any, race: Any) -> str:
    arch, _ = model_summary(s, data.n_features)
    extras = [INIT_LABELS.get(s.init, s.init) + " init", f"{s.act} hidden units", f"{s.loss.upper()} loss"]
    if s.bn:
        extras.append("batch norm")
    if s.skip:
        extras.append("skip connection")
    c = s.corruption()
    noise = f"denoising {c.label()}" if c is not None else "no input noise"
    return (f"{data.description}. {data.train.shape[0]:,} training and {data.val.shape[0]:,} validation samples. "
            f"Model {arch} ({', '.join(extras)}). Batch size {s.batch}, seed {s.seed}, {noise}.")  # fmt: skip


# --------------------------------------------------------------------------- what the page shows about jobs
#
# Plain functions behind the Start gate, the running page's watch and the other tabs' follow mode.
# Each returns the outputs to change (a dict; a missing key means "leave as is").


def browser_of(browser: Any, nonce: Any) -> str | None:
    """The id a race is counted under: the browser's own, or (without a usable one) this page's."""
    b = valid_token(browser)
    if b is not None:
        return b
    n = nonce if isinstance(nonce, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,48}", nonce) else None
    return f"page-{n}" if n is not None else None


def run_of(run: Any) -> tuple[str, str] | None:
    """(token, browser) of the page's current race, from its store (validated: it came back from the browser)."""
    if not isinstance(run, Mapping):
        return None
    token, browser = valid_token(run.get("token")), valid_token(run.get("browser"))
    return (token, browser) if token is not None and browser is not None else None


def queue_text(turn: Turn, slots: int) -> str:
    if turn.kind != "wait":
        return "Starting the race…"
    races = "race is" if turn.running == 1 else "races are"
    return (f"Queued: number {turn.position} of {turn.waiting} waiting ({turn.running} {races} training, at most "
            f"{slots} at once). The race starts when a slot frees up…")  # fmt: skip


def _following(token: str, text: str, pct: float | None = None) -> dict[str, Any]:
    out = {"status": text, "status_class": "lab-status lab-status-other", "start_disabled": True,
           "follow_disabled": False, "following": {"token": token}}  # fmt: skip
    if pct is not None:
        out["bar"] = f"{max(0.0, min(100.0, float(pct))):.1f}"
    return out


def _stopped(text: str, failed: bool) -> dict[str, Any]:
    return {"status": text, "status_class": "lab-status lab-status-failed" if failed else "lab-status",
            "start_disabled": False, "cancel_disabled": True, "results_class": "lab-results",
            "watch_disabled": True}  # fmt: skip


def gate(queue: RaceQueue, browser: Any, nonce: Any, run: Any) -> dict[str, Any]:
    """Start pressed: queue a new race, or show the race this browser already has, or say why not."""
    who = browser_of(browser, nonce)
    if who is None:
        return {"status": "This page could not identify itself; reload it and press Start again.",
                "status_class": "lab-status lab-status-failed"}  # fmt: skip
    token = secrets.token_urlsafe(18)
    state, entry = queue.join(who, token)
    if state == "new":
        return {"run": {"token": token, "browser": who}, "status": "Starting the race…", "status_class": "lab-status",
                "follow_disabled": True, "following": None}  # fmt: skip
    if state == "existing" and entry is not None:
        mine = run_of(run)
        if mine is not None and mine[0] == entry["t"]:
            return {}  # this page's own race (a second click before Start was disabled)
        st = queue.status(who, entry["t"])
        now = st["text"] if st else queue_text(queue.place(entry["t"]), queue.slots)
        return _following(entry["t"], "This browser already has a race running (in another tab or window), so no "
                                      f"second race was started. Its status: {now}",
                          st.get("pct") if st else None)  # fmt: skip
    if state == "full":
        return {"status": f"The lab is full: {queue.max_entries} races are queued or training. "
                          "Try again in a few minutes.", "status_class": "lab-status lab-status-failed"}  # fmt: skip
    return {"status": "The server is busy; press Start again in a moment.",
            "status_class": "lab-status lab-status-failed"}  # fmt: skip


def check_job(queue: RaceQueue, run: Any, ended: bool, *, kv: Any, manager: Any = None) -> dict[str, Any]:
    """The page's own race: every few seconds while it runs (``ended`` False), and when Dash stops polling it.

    A race that ended without leaving its done marker died (its process or worker was killed): the
    page says so, frees its queue entry and lets Start be pressed again.  If the job is still alive
    when Dash stopped polling (the server did not answer), the page follows its status instead.
    """
    mine = run_of(run)
    if mine is None:
        return {}
    token, _ = mine
    v = queue.verdict(token, cancel_requested=kv.get(cancel_key(token)) is not None)
    if v.kind == "done":
        return {}
    if v.kind == "queued" and not ended:
        queue.want(token)  # the page still waits for it (no job has begun it yet)
        return {"status": queue_text(queue.place(token), queue.slots)}
    if v.kind == "running" and not ended:
        return {}
    if v.kind == "running" or (v.kind == "queued" and is_celery(manager)):
        return {**_following(token, "This page lost contact with its race, which is still running; following its "
                                    "status here (its results will not be shown on this page)…"),
                "cancel_disabled": True, "results_class": "lab-results", "watch_disabled": True}  # fmt: skip
    queue.forget(token, manager)
    return _stopped(v.text or LOST_TEXT, failed=v.kind != "cancelled")


def follow(queue: RaceQueue, browser: Any, nonce: Any, following: Any, run: Any, on_load: bool,
           manager: Any = None) -> dict[str, Any]:  # fmt: skip
    """Another tab's race (or one this page lost contact with): its live status, until it ends."""
    who = browser_of(browser, nonce)
    if who is None:
        return {}
    mine = run_of(run)
    if on_load:
        entry = queue.for_browser(who)
        if entry is None or (mine is not None and mine[0] == entry["t"]):
            return {}
        token = entry["t"]
    else:
        token = valid_token(following.get("token")) if isinstance(following, Mapping) else None
        if token is None:
            return {"follow_disabled": True}
    prefix = OTHER_PREFIX if mine is None or mine[0] != token else "Your race (this page lost contact with it): "
    v = queue.verdict(token)
    if v.kind == "running":
        st = queue.status(who, token)
        return _following(token, prefix + (st["text"] if st else "training…"), st.get("pct") if st else None)
    if v.kind == "queued":
        return _following(token, prefix + queue_text(queue.place(token), queue.slots), 0.0)
    if v.kind == "done":
        st = queue.status(who, token)
        text = st["text"] if st else v.text
        return {"status": f"{prefix}it has ended. {text} Start is free again.", "status_class": "lab-status",
                "start_disabled": False, "follow_disabled": True, "following": None}  # fmt: skip
    queue.forget(token, manager)
    return {"status": f"{prefix}{v.text or LOST_TEXT}", "status_class": "lab-status lab-status-failed",
            "start_disabled": False, "follow_disabled": True, "following": None}  # fmt: skip


# --------------------------------------------------------------------------- the form's values


def form_deps(kind: type) -> dict[str, Any]:
    """The form's values as a grouping of ``kind`` (Input or State) dependencies."""
    return {
        "data": kind(Ids.DATA, "value"),
        "samples": kind(Ids.SAMPLES, "value"),
        "hidden": kind(Ids.HIDDEN, "value"),
        "act": kind(Ids.ACT, "value"),
        "out": kind(Ids.OUT, "value"),
        "loss": kind(Ids.LOSS, "value"),
        "init": kind(Ids.INIT, "value"),
        "arch": kind(Ids.ARCH, "value"),
        "noise": kind(Ids.NOISE, "value"),
        "level": kind(Ids.LEVEL, "value"),
        "epochs": kind(Ids.EPOCHS, "value"),
        "batch": kind(Ids.BATCH, "value"),
        "seed": kind(Ids.SEED, "value"),
        "limit": kind(Ids.LIMIT, "value"),
        "opt_names": kind({"type": OPT_NAME, "index": ALL}, "value"),
        "opt_ids": kind({"type": OPT_NAME, "index": ALL}, "id"),
        "opt_lr": kind({"type": OPT_LR, "index": ALL}, "value"),
        "opt_lr_ids": kind({"type": OPT_LR, "index": ALL}, "id"),
        "opt_p1": kind({"type": OPT_P1, "index": ALL}, "value"),
        "opt_p1_ids": kind({"type": OPT_P1, "index": ALL}, "id"),
        "opt_p2": kind({"type": OPT_P2, "index": ALL}, "value"),
        "opt_p2_ids": kind({"type": OPT_P2, "index": ALL}, "id"),
    }


def _by_index(values: Any, ids: Any) -> dict[Any, Any]:
    if not isinstance(values, list) or not isinstance(ids, list) or len(values) != len(ids):
        return {}
    return {i["index"]: v for v, i in zip(values, ids)
            if isinstance(i, Mapping) and isinstance(i.get("index"), int)}  # fmt: skip


def form_rows(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The optimizer cards as raw dicts (name, lr and key hyperparameters), in page order."""
    names = _by_index(form.get("opt_names"), form.get("opt_ids"))
    lrs = _by_index(form.get("opt_lr"), form.get("opt_lr_ids"))
    p1 = _by_index(form.get("opt_p1"), form.get("opt_p1_ids"))
    p2 = _by_index(form.get("opt_p2"), form.get("opt_p2_ids"))
    rows = []
    for idx, name in names.items():
        name = name if isinstance(name, str) else None  # a hostile page may send anything
        row: dict[str, Any] = {"name": name, "lr": lrs.get(idx)}
        keys = KEY_PARAMS.get(name, ()) if isinstance(name, str) else ()
        for key, col in zip(keys, (p1, p2)):
            row[key] = col.get(idx)
        rows.append(row)
    return rows


def form_raw(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values in the shape ``sanitize`` reads (as a link's query would give them)."""
    arch = form.get("arch") if isinstance(form.get("arch"), list) else []
    raw = {k: form.get(k) for k in ("data", "samples", "hidden", "act", "out", "loss", "init", "noise", "epochs",
                                    "batch", "seed", "limit")}  # fmt: skip
    raw["bn"] = "bn" in arch
    raw["skip"] = "skip" in arch
    if raw.get("noise") not in (None, "none"):
        raw["level"] = form.get("level")
    raw["opt"] = form_rows(form)
    return raw


def edit_rows(rows: list[dict[str, Any]], action: str, index: int | None = None) -> list[dict[str, Any]]:
    """Add a card (a copy of the last, so copies with other settings are one click away) or remove one."""
    rows = [dict(r) for r in rows]
    if action == "add" and len(rows) < MAX_OPTIMIZERS:
        rows.append(dict(rows[-1]) if rows else {"name": "adam", "lr": 0.003})
    elif action == "remove" and index is not None and len(rows) > 1 and 0 <= index < len(rows):
        del rows[index]
    return rows


# --------------------------------------------------------------------------- layout builders


def _param_field(kind: str, index: int, p: Any | None, value: Any) -> html.Div:
    cid = {"type": kind, "index": index}
    if p is None:
        return html.Div(
            dcc.Input(id=cid, type="number", value=None, className="lab-num", disabled=True),
            className="lab-param", hidden=True,
        )
    integer = p.kind == "int"
    lo, hi = p.slider_range()
    return html.Div(
        className="lab-param",
        title=f"{p.description} (valid {p.describe_range()})",
        children=[
            html.Label([html.Span(symbol_text(p), className="lab-sym"), html.Span(p.key, className="lab-key")]
                       if symbol_text(p) != p.key else [html.Span(p.key.replace("_", " "), className="lab-key-only")],
                       htmlFor=_dom_id(cid)),
            dcc.Input(id=cid, type="number", value=value, min=p.low if not p.low_open else None,
                      max=p.high if not p.high_open else None, step=1 if integer else "any", debounce=True,
                      className="lab-num", placeholder=f"{lo:g}–{hi:g}"),
        ],
    )  # fmt: skip


def _dom_id(cid: Any) -> str:
    """The DOM id Dash gives a pattern-matching id (sorted compact JSON)."""
    import json

    if isinstance(cid, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(cid[k])}" for k in sorted(cid)) + "}"
    return str(cid)


def opt_params(index: int, name: str, values: Mapping[str, Any] | None = None) -> list[Any]:
    """The learning rate and key hyperparameter fields of one card (defaults where ``values`` lacks them)."""
    spec = get_spec(name)
    values = dict(values or {})
    keys = KEY_PARAMS.get(name, ())
    fields = [_param_field(OPT_LR, index, spec.param("lr"), values.get("lr", spec.param("lr").default_value()))]
    for kind, j in ((OPT_P1, 0), (OPT_P2, 1)):
        if j < len(keys):
            p = spec.param(keys[j])
            fields.append(_param_field(kind, index, p, values.get(keys[j], p.default_value())))
        else:
            fields.append(_param_field(kind, index, None, None))
    return fields


def opt_card(index: int, row: Mapping[str, Any], total: int) -> html.Div:
    name = row.get("name") if row.get("name") in KEY_PARAMS else "adam"
    col = lf.color(index)
    spec = get_spec(name)
    return html.Div(
        className="lab-opt",
        style={"--slot": col},
        children=[
            html.Div(className="lab-opt-head", children=[
                html.Span(className="lab-swatch", title=f"colour of optimizer {index + 1}"),
                dcc.Dropdown(id={"type": OPT_NAME, "index": index},
                             options=[{"label": s.display_name, "value": s.name} for s in OPTIMIZER_SPECS],
                             value=name, clearable=False, searchable=False, className="lab-opt-select"),
                html.Button("×", id={"type": OPT_REMOVE, "index": index}, className="lab-icon-btn",
                            disabled=total <= 1, title="Remove this optimizer",
                            **{"aria-label": f"Remove optimizer {index + 1} ({spec.display_name})"}),
            ]),
            html.Div(opt_params(index, name, row), id={"type": OPT_PARAMS, "index": index}, className="lab-opt-params"),
            dcc.Store(id={"type": OPT_FOR, "index": index}, data=name),
        ],
    )  # fmt: skip


def opt_cards(rows: Sequence[Mapping[str, Any]]) -> list[html.Div]:
    return [opt_card(i, r, len(rows)) for i, r in enumerate(rows)]


def _rows_of(s: LabSettings) -> list[dict[str, Any]]:
    return [{"name": o.name, **dict(o.values)} for o in s.opts]


def _field(label: str, control: Any, cid: str, hint: str | None = None) -> html.Div:
    return html.Div(className="lab-field", children=[html.Label(label, htmlFor=cid), control]
                    + ([html.Span(hint, className="lab-hint")] if hint else []))  # fmt: skip


def _panel(title: str, children: list[Any], open_: bool = True) -> html.Details:
    return html.Details([html.Summary(title)] + children, open=open_, className="lab-panel")


LEVEL_NAMES = {"gaussian": "σ", "salt_pepper": "fraction", "blur": "σ (pixels)", "knockout": "square side"}


def level_props(noise: str, level: float | None = None) -> dict[str, Any]:
    """Strength field for a noise kind: label, hint, range and value (disabled for none)."""
    if noise not in KINDS or noise == "none":
        return {"label": "strength", "hint": "no corruption: a plain autoencoder", "min": 0, "max": 1,
                "value": None, "disabled": True}  # fmt: skip
    name, default, lo, hi, what = KINDS[noise]
    v = default if level is None else level
    return {"label": f"strength {LEVEL_NAMES.get(noise, '')}".strip(), "hint": f"{what}, {lo:g} to {hi:g}",
            "min": lo, "max": hi, "value": v, "disabled": False}  # fmt: skip


def notice(notes: Sequence[str]) -> list[Any]:
    return [
        html.Button("×", id=Ids.NOTICE_CLOSE, className="lab-icon-btn lab-notice-close", title="Dismiss",
                    **{"aria-label": "Dismiss notice"}),
        html.Strong("Some settings from the link could not be used and were replaced: "),
        html.Ul([html.Li(n) for n in notes]),
    ]  # fmt: skip


def psnr_table(rows: Mapping[str, Any] | None) -> Any:
    """The PSNR table (mean ± std in dB) as HTML; the best optimizer per column in bold."""
    if not rows or not rows.get("rows"):
        return html.P("No PSNR table for this race.", className="lab-hint")
    head = html.Tr([html.Th("PSNR (dB), mean ± std", scope="col")]
                   + [html.Th(c, scope="col") for c in rows["columns"]])  # fmt: skip
    body = []
    for i, r in enumerate(rows["rows"]):
        cells = [html.Th(r["label"], scope="row", className="lab-input-row" if i == 0 else None)]
        for text, best in zip(r["cells"], r["best"]):
            cells.append(html.Td(html.Strong(text) if best else text, className="lab-best" if best else None))
        body.append(html.Tr(cells))
    caption = (f"Each column corrupts {rows.get('samples', 0)} validation images once; the input row compares the "
               "corrupted images with the clean ones, the others each optimizer's reconstruction. Higher is better; "
               "bold marks the best optimizer per column.")  # fmt: skip
    return html.Table([html.Caption(caption), html.Thead(head), html.Tbody(body)], className="lab-psnr-table")


#: what the result panels say before the first race
WAITING = {
    "recon": "Reconstructions of validation images appear here after a race.",
    "landscape": "The loss landscape around the final weights appears here after a race.",
    "psnr": "The denoising PSNR table (input and each optimizer, per noise type) appears here after a race.",
}


def result_outputs(out: Mapping[str, Any]) -> dict[str, Any]:
    """The race callback's outputs for ``run_job``'s result (a failed race clears the panels with its reason)."""
    if not out.get("ok"):
        why = f"No results: {out.get('status', 'the race did not run')}"
        msg = lf.message_figure(why)
        return {"recon": msg, "psnr": html.P(why, className="lab-hint"), "land": {"pca": msg, "random": msg},
                "summary": ""}  # fmt: skip
    return {"recon": out["recon"], "psnr": psnr_table(out["psnr"]), "land": out["landscapes"],
            "summary": out["summary"]}  # fmt: skip


def layout(query: Mapping[str, str] | None = None) -> html.Div:
    """The lab page for a link's query; what could not be used is listed in a visible notice."""
    try:
        settings, notes = sanitize(query if isinstance(query, Mapping) else {})
    except Exception as exc:  # noqa: BLE001 - a link must never break the page
        settings, notes = DEFAULT, [f"the link could not be read ({type(exc).__name__}); using the defaults"]
    return build_layout(settings, notes)


def build_layout(s: LabSettings, notes: Sequence[str] = ()) -> html.Div:
    lvl = level_props(s.noise, s.level if s.noise != "none" else None)
    n_features, _ = source_shape(s, None)
    summary, _ = model_summary(s, n_features)
    form = [
        _panel("Data", [
            dcc.RadioItems(id=Ids.DATA, options=[{"label": v[0], "value": k} for k, v in SOURCES.items()],
                           value=s.data, className="lab-radios", inputClassName="lab-radio"),
            html.Div(id=Ids.UPLOAD_BOX, hidden=s.data != "file", className="lab-upload-box", children=[
                dcc.Upload(id=Ids.UPLOAD, max_size=MAX_UPLOAD_BYTES, accept=".npy,.npz,.csv,.txt",
                           className="lab-upload", className_active="lab-upload active",
                           className_reject="lab-upload reject",
                           children=html.Div(["Drop a .npy, .npz or .csv file here, or ",
                                              html.Span("choose one", className="lab-link")])),
                html.Div(id=Ids.UPLOAD_MSG, className="lab-upload-msg", role="status", **{"aria-live": "polite"},
                         children=f"Samples × features (or samples × height × width), numeric, at most "
                                  f"{MAX_UPLOAD_BYTES // 2**20} MB and {MAX_SAMPLES:,} samples; no pickles."),
            ]),
            _field("samples", dcc.Input(id=Ids.SAMPLES, type="number", min=MIN_SAMPLES, max=MAX_SAMPLES,
                                                  step=1, value=s.samples, debounce=True, className="lab-num"),
                   Ids.SAMPLES, "at most; a seeded subset, 20 % held out for validation"),
        ]),
        _panel("Model", [
            _field("hidden sizes", dcc.Input(id=Ids.HIDDEN, type="text", value=",".join(map(str, s.hidden)),
                                             debounce=True, className="lab-text", spellCheck=False,
                                             placeholder="e.g. 32,8,32"), Ids.HIDDEN, "comma-separated widths"),
            _field("activation", dcc.Dropdown(id=Ids.ACT, options=[{"label": a, "value": a} for a in ACTIVATIONS],
                                              value=s.act, clearable=False, searchable=False), Ids.ACT),
            _field("output", dcc.Dropdown(id=Ids.OUT, options=[{"label": "sigmoid", "value": "sigmoid"},
                                                                {"label": "linear", "value": "linear"}],
                                          value=s.out, clearable=False, searchable=False), Ids.OUT),
            _field("loss", dcc.Dropdown(id=Ids.LOSS, options=[{"label": "mean squared error", "value": "mse"},
                                                              {"label": "binary cross-entropy", "value": "bce"}],
                                        value=s.loss, clearable=False, searchable=False), Ids.LOSS),
            _field("init", dcc.Dropdown(id=Ids.INIT, options=[{"label": INIT_LABELS[i], "value": i} for i in INITS],
                                        value=s.init, clearable=False, searchable=False), Ids.INIT),
            dcc.Checklist(id=Ids.ARCH, options=[{"label": "batch norm", "value": "bn"},
                                                {"label": "skip connection (input → output)", "value": "skip"}],
                          value=[k for k, on in (("bn", s.bn), ("skip", s.skip)) if on], className="lab-checks",
                          inline=True),
            html.P(summary, id=Ids.MODEL_SUMMARY, className="lab-model-summary"),
        ]),
        _panel("Denoising", [
            dcc.RadioItems(id=Ids.NOISE, options=[{"label": NOISE_LABELS[k], "value": k} for k in NOISES],
                           value=s.noise, className="lab-radios", inline=True),
            html.Div(className="lab-field", children=[
                html.Label(lvl["label"], id=Ids.LEVEL_LABEL, htmlFor=Ids.LEVEL),
                dcc.Input(id=Ids.LEVEL, type="number", min=lvl["min"], max=lvl["max"], step="any", value=lvl["value"],
                          disabled=lvl["disabled"], debounce=True, className="lab-num"),
                html.Span(lvl["hint"], id=Ids.LEVEL_HINT, className="lab-hint"),
            ]),
            html.P("Inputs are corrupted, targets stay clean; the PSNR table measures all noise types.",
                   className="lab-hint"),
        ], open_=s.noise != "none"),
        _panel("Training", [
            html.Div(className="lab-grid2", children=[
                _field("epochs", dcc.Input(id=Ids.EPOCHS, type="number", min=1, max=MAX_EPOCHS, step=1,
                                           value=s.epochs, debounce=True, className="lab-num"), Ids.EPOCHS),
                _field("batch size", dcc.Input(id=Ids.BATCH, type="number", min=1, max=MAX_BATCH, step=1,
                                               value=s.batch, debounce=True, className="lab-num"), Ids.BATCH),
                _field("seed", dcc.Input(id=Ids.SEED, type="number", min=0, max=MAX_SEED, step=1, value=s.seed,
                                         debounce=True, className="lab-num"), Ids.SEED),
                _field("time limit (s)", dcc.Input(id=Ids.LIMIT, type="number", min=MIN_TIME_LIMIT,
                                                   max=MAX_TIME_LIMIT, step=1, value=s.limit, debounce=True,
                                                   className="lab-num"), Ids.LIMIT),
            ]),
        ]),
        _panel("Optimizers in the race", [
            html.Div(opt_cards(_rows_of(s)), id=Ids.OPT_ROWS, className="lab-opts"),
            html.Button("+ Add optimizer", id=Ids.OPT_ADD, className="lab-btn lab-btn-secondary",
                        disabled=len(s.opts) >= MAX_OPTIMIZERS,
                        title=f"Add a copy of the last card (up to {MAX_OPTIMIZERS})"),
            html.P("All start from the same weights and see the same minibatches.", className="lab-hint"),
        ]),
        html.Div(id=Ids.ISSUES, className="lab-issues", role="alert"),
        html.A("Link to these settings", id=Ids.SHARE, href=share_href(s), className="lab-share"),
    ]  # fmt: skip

    runbar = html.Div(className="lab-runbar", children=[
        html.Button("▶ Start race", id=Ids.START, className="lab-btn lab-start", n_clicks=0),
        html.Button("■ Cancel", id=Ids.CANCEL, className="lab-btn lab-btn-secondary", disabled=True),
        html.Span("running", id=Ids.RUNNING, className="lab-running", hidden=True),
        html.Progress(id=Ids.BAR, value="0", max="100", className="lab-bar", **{"aria-label": "Progress of the race"}),
        html.Div("Set up a race on the left and press Start: every optimizer trains the same network from the "
                 "same weights.", id=Ids.STATUS, className="lab-status", role="status", **{"aria-live": "polite"}),
    ])  # fmt: skip

    graph_config = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
    view = [
        runbar,
        html.Div(dcc.Graph(id=Ids.LOSS_GRAPH, config=graph_config, style={"height": "100%"},
                           figure=lf.message_figure("The loss curves appear here while the race runs.")),
                 className="lab-loss-wrap"),
        html.Section(id=Ids.RESULTS, className="lab-results", **{"aria-label": "Results of the race"}, children=[
            html.P(id=Ids.SUMMARY, className="lab-summary"),
            html.Div(className="lab-results-grid", children=[
                html.Div(className="lab-card", children=[
                    html.Div(dcc.Graph(id=Ids.RECON, config=graph_config, style={"height": "100%"},
                                       figure=lf.message_figure(WAITING["recon"])), className="lab-recon-wrap"),
                ]),
                html.Div(className="lab-card", children=[
                    html.Div(className="lab-land-head", children=[
                        html.Span("Loss landscape directions:", className="lab-hint"),
                        dcc.RadioItems(id=Ids.LAND_METHOD, value="pca", inline=True, className="lab-radios",
                                       options=[{"label": "PCA of the trajectory", "value": "pca"},
                                                {"label": "random (filter-normalised)", "value": "random"}]),
                    ]),
                    html.Div(dcc.Graph(id=Ids.LAND_GRAPH, config=graph_config, style={"height": "100%"},
                                       figure=lf.message_figure(WAITING["landscape"])), className="lab-land-wrap"),
                ]),
            ]),
            html.Div(html.P(WAITING["psnr"], className="lab-hint"), id=Ids.PSNR, className="lab-card lab-psnr"),
        ]),
    ]  # fmt: skip

    return html.Div(
        id=Ids.PAGE,
        className="lab-page",
        children=[
            dcc.Store(id=Ids.NONCE, data=secrets.token_urlsafe(12)),
            # this browser's id (kept in its local storage): one race at a time per browser
            dcc.Store(id=Ids.BROWSER, storage_type="local"),
            dcc.Store(id=Ids.RUN),
            dcc.Store(id=Ids.FOLLOWING),
            dcc.Interval(id=Ids.WATCH, interval=WATCH_MS, disabled=True),
            dcc.Interval(id=Ids.FOLLOW, interval=FOLLOW_MS, disabled=True),
            dcc.Store(id=Ids.UPLOAD_STORE),
            dcc.Store(id=Ids.LAND_STORE),
            html.Div(notice(notes) if notes else [], id=Ids.NOTICE, className="lab-notice", role="alert",
                     hidden=not notes),
            html.Div(className="lab-head", children=[
                html.H2(TITLE),
                html.P("Train one autoencoder with several optimizers from the same start, watch the losses, then "
                       "compare reconstructions, denoising PSNR and the loss landscape around the final weights."),
            ]),
            html.Div(className="lab-main", children=[html.Aside(form, className="lab-form"),
                                                     html.Main(view, className="lab-view")]),
        ],
    )  # fmt: skip


def warm() -> None:
    """Load what every race needs (the compiled kernels, scikit-learn's data loaders) once, in this process.

    DiskcacheManager forks a job process per race from the web process, and
    Celery's prefork pool forks its children from the worker: warming before
    the fork saves each race a second or two.
    """
    import sklearn.datasets  # noqa: F401 - the digits and sample images come from here

    from autoencoder.train import warm_kernels

    warm_kernels()


def standalone_app(manager: Any = None, *, warm_up: bool = True, **dash_kwargs: Any) -> Any:
    """A Dash app serving only this page at ``/`` (tests, demos).

    ``manager`` defaults to :func:`app.hosting.jobs.make_manager` (Celery when REDIS_URL is set);
    ``warm_up`` calls :func:`warm` first.
    """
    if warm_up:
        warm()
    from dash import Dash

    from app import ASSETS_DIR
    from app.hosting.jobs import make_manager

    options: dict[str, Any] = {"title": f"Descent Lab · {TITLE}", "update_title": None,
                               "assets_folder": str(ASSETS_DIR), "suppress_callback_exceptions": True}  # fmt: skip
    options.update(dash_kwargs)
    dash_app = Dash("app.lab", background_callback_manager=manager if manager is not None else make_manager(),
                    **options)  # fmt: skip

    def serve() -> Any:
        # Dash fetches the layout from the page, so the page's own query is in the Referer
        from urllib.parse import parse_qsl, urlsplit

        from flask import has_request_context, request

        query: dict[str, str] = {}
        if has_request_context() and request.referrer:
            parts = urlsplit(request.referrer)
            if parts.netloc == request.host:
                query = dict(parse_qsl(parts.query[:20_000], keep_blank_values=True))
        return html.Div(layout(query), className="lab-standalone")

    dash_app.layout = serve
    register_callbacks(dash_app)
    return dash_app


# --------------------------------------------------------------------------- callbacks

#: blocks the browser's file picker and drop for files over the limit, with a message (dcc.Upload drops them silently)
_UPLOAD_GUARD_JS = """
function (nonce) {
    if (window.__labUploadGuard) { return window.dash_clientside.no_update; }
    window.__labUploadGuard = true;
    var LIMIT = %d;
    function check(files) {
        if (!files || !files.length) { return; }
        var f = files[0];
        if (f.size > LIMIT) {
            window.dash_clientside.set_props('%s', {children: 'Refused: ' + f.name + ' is ' +
                (f.size / 1048576).toFixed(1) + ' MB; the upload limit is ' + (LIMIT / 1048576) + ' MB.'});
        }
    }
    document.addEventListener('change', function (e) {
        if (e.target && e.target.closest && e.target.closest('#%s')) { check(e.target.files); }
    }, true);
    document.addEventListener('drop', function (e) {
        if (e.target && e.target.closest && e.target.closest('#%s') && e.dataTransfer) { check(e.dataTransfer.files); }
    }, true);
    return window.dash_clientside.no_update;
}
""" % (MAX_UPLOAD_BYTES, Ids.UPLOAD_MSG, Ids.UPLOAD, Ids.UPLOAD)

#: this browser's id: kept in local storage (the dcc.Store), made once from random bytes; the server checks its form
_BROWSER_ID_JS = """
function (nonce, current) {
    var ok = /^[A-Za-z0-9_-]{16,64}$/;
    if (typeof current === 'string' && ok.test(current)) { return current; }
    var stored = null;
    try { stored = JSON.parse(window.localStorage.getItem('%s')); } catch (e) { stored = null; }
    if (typeof stored === 'string' && ok.test(stored)) { return stored; }
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    var text = btoa(String.fromCharCode.apply(null, bytes));
    return text.replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
}
""" % Ids.BROWSER

_PICK_LANDSCAPE_JS = """
function (method, figs) {
    if (!figs) { return window.dash_clientside.no_update; }
    return figs[method] || figs.pca || figs.random;
}
"""


def _manager_of(app: Any) -> Any:
    manager = getattr(app, "_background_manager", None)
    if manager is None:
        raise RuntimeError("the Autoencoder lab needs Dash(background_callback_manager=app.hosting.jobs.make_manager())")
    return manager


#: the outputs a job-related callback may change, by the names the decision functions use
_OUTPUT_PROPS = {
    "run": (Ids.RUN, "data"),
    "status": (Ids.STATUS, "children"),
    "status_class": (Ids.STATUS, "className"),
    "start_disabled": (Ids.START, "disabled"),
    "cancel_disabled": (Ids.CANCEL, "disabled"),
    "results_class": (Ids.RESULTS, "className"),
    "watch_disabled": (Ids.WATCH, "disabled"),
    "follow_disabled": (Ids.FOLLOW, "disabled"),
    "following": (Ids.FOLLOWING, "data"),
    "bar": (Ids.BAR, "value"),
}


def _outputs(*names: str) -> dict[str, Output]:
    return {n: Output(*_OUTPUT_PROPS[n], allow_duplicate=True) for n in names}


def _changes(out: Mapping[str, Any], *names: str) -> dict[str, Any]:
    if not out:
        raise PreventUpdate
    return {n: out[n] if n in out else no_update for n in names}


def cancel_race(queue: RaceQueue, kv: Any, token: str) -> str:
    """Cancel pressed: flag the race (its job stops after the current minibatch); a queued one leaves the queue."""
    request_cancel(kv, token)
    entry = queue.entry(token)
    if entry is not None and entry["s"] == "queued":
        queue.leave(token)
        return CANCELLED_QUEUED
    return "Cancelling: the race stops after the current minibatch…"



def register_callbacks(app: Any) -> None:
    """Register the lab's callbacks on ``app`` (a Dash app with a background callback manager)."""
    manager = _manager_of(app)
    kv = kv_for(manager)
    queue = RaceQueue(kv, training_slots(manager))
    own_process = not is_celery(manager)

    app.clientside_callback(_BROWSER_ID_JS, Output(Ids.BROWSER, "data"), Input(Ids.NONCE, "data"),
                            State(Ids.BROWSER, "data"))  # fmt: skip

    @app.callback(
        output=_outputs("run", "status", "status_class", "follow_disabled", "following", "start_disabled", "bar"),
        inputs={"n_clicks": Input(Ids.START, "n_clicks")},
        state={"browser": State(Ids.BROWSER, "data"), "nonce": State(Ids.NONCE, "data"), "run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_start(n_clicks, browser, nonce, run):  # type: ignore[no-untyped-def]
        if not n_clicks:
            raise PreventUpdate
        return _changes(gate(queue, browser, nonce, run), "run", "status", "status_class", "follow_disabled",
                        "following", "start_disabled", "bar")  # fmt: skip

    @app.callback(
        output={
            "recon": Output(Ids.RECON, "figure"),
            "psnr": Output(Ids.PSNR, "children"),
            "land": Output(Ids.LAND_STORE, "data"),
            "summary": Output(Ids.SUMMARY, "children"),
        },
        inputs={"run": Input(Ids.RUN, "data")},
        state={"upload": State(Ids.UPLOAD_STORE, "data"), **form_deps(State)},
        background=True,
        progress=[Output(Ids.LOSS_GRAPH, "figure"), Output(Ids.STATUS, "children"), Output(Ids.BAR, "value")],
        running=[
            (Output(Ids.START, "disabled"), True, False),
            (Output(Ids.CANCEL, "disabled"), False, True),
            (Output(Ids.RUNNING, "hidden"), False, True),
            (Output(Ids.RESULTS, "className"), "lab-results stale", "lab-results"),
            (Output(Ids.WATCH, "disabled"), False, True),
        ],
        interval=500,
        prevent_initial_call=True,
    )
    def lab_race(set_progress, run, upload, **form):  # type: ignore[no-untyped-def]
        mine = run_of(run)
        if mine is None:
            raise PreventUpdate

        def push(fig: dict[str, Any], text: str, pct: float) -> None:
            set_progress((fig, text, f"{max(0.0, min(100.0, pct)):.1f}"))

        out = run_job(form_raw(form), upload, kv=kv, token=mine[0], browser=mine[1], push=push, queue=queue,
                      own_process=own_process)  # fmt: skip
        return result_outputs(out)

    job_outputs = ("status", "status_class", "start_disabled", "cancel_disabled", "results_class", "watch_disabled",
                   "follow_disabled", "following")  # fmt: skip

    @app.callback(
        output=_outputs(*job_outputs),
        inputs={"tick": Input(Ids.WATCH, "n_intervals"), "hidden": Input(Ids.RUNNING, "hidden")},
        state={"run": State(Ids.RUN, "data")},
        prevent_initial_call=True,
    )
    def lab_watch(tick, hidden, run):  # type: ignore[no-untyped-def]
        ended = ctx.triggered_id == Ids.RUNNING
        if ended and hidden is not True:
            raise PreventUpdate  # the race has just started
        return _changes(check_job(queue, run, ended, kv=kv, manager=manager), *job_outputs)

    follow_outputs = ("status", "status_class", "bar", "start_disabled", "follow_disabled", "following")

    @app.callback(
        output=_outputs(*follow_outputs),
        inputs={"tick": Input(Ids.FOLLOW, "n_intervals"), "browser": Input(Ids.BROWSER, "data")},
        state={"nonce": State(Ids.NONCE, "data"), "following": State(Ids.FOLLOWING, "data"),
               "run": State(Ids.RUN, "data")},  # fmt: skip
        prevent_initial_call=True,
    )
    def lab_follow(tick, browser, nonce, following, run):  # type: ignore[no-untyped-def]
        on_load = ctx.triggered_id == Ids.BROWSER
        return _changes(follow(queue, browser, nonce, following, run, on_load, manager), *follow_outputs)

    @app.callback(
        Output(Ids.STATUS, "children", allow_duplicate=True),
        Input(Ids.CANCEL, "n_clicks"),
        State(Ids.RUN, "data"),
        prevent_initial_call=True,
    )
    def lab_cancel(n_cancel, run):  # type: ignore[no-untyped-def]
        mine = run_of(run)
        if not n_cancel or mine is None:
            raise PreventUpdate
        return cancel_race(queue, kv, mine[0])

    app.clientside_callback(
        _PICK_LANDSCAPE_JS, Output(Ids.LAND_GRAPH, "figure"), Input(Ids.LAND_METHOD, "value"),
        Input(Ids.LAND_STORE, "data"),
    )  # fmt: skip
    app.clientside_callback(_UPLOAD_GUARD_JS, Output(Ids.UPLOAD, "className"), Input(Ids.NONCE, "data"))

    @app.callback(
        Output(Ids.UPLOAD_STORE, "data"),
        Output(Ids.UPLOAD_MSG, "children"),
        Output(Ids.UPLOAD, "contents"),
        Input(Ids.UPLOAD, "contents"),
        State(Ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def lab_upload(contents, filename):  # type: ignore[no-untyped-def]
        if not contents:
            raise PreventUpdate
        try:
            ref = accept_upload(kv, contents, filename)
        except ValueError as exc:
            return None, f"Refused: {exc}.", None
        return ref, f"Loaded {ref['description']}.", None

    @app.callback(
        Output(Ids.UPLOAD_BOX, "hidden"),
        Input(Ids.DATA, "value"),
    )
    def lab_source(source):  # type: ignore[no-untyped-def]
        return source != "file"

    @app.callback(
        Output(Ids.LEVEL, "value"),
        Output(Ids.LEVEL, "min"),
        Output(Ids.LEVEL, "max"),
        Output(Ids.LEVEL, "disabled"),
        Output(Ids.LEVEL_LABEL, "children"),
        Output(Ids.LEVEL_HINT, "children"),
        Input(Ids.NOISE, "value"),
        prevent_initial_call=True,
    )
    def lab_noise(noise):  # type: ignore[no-untyped-def]
        p = level_props(noise if isinstance(noise, str) else "none")
        return p["value"], p["min"], p["max"], p["disabled"], p["label"], p["hint"]

    @app.callback(
        Output(Ids.MODEL_SUMMARY, "children"),
        Output(Ids.ISSUES, "children"),
        Output(Ids.SHARE, "href"),
        inputs={"upload": Input(Ids.UPLOAD_STORE, "data"), **form_deps(Input)},
    )
    def lab_check(upload, **form):  # type: ignore[no-untyped-def]
        s, notes = sanitize(form_raw(form))
        n_features, _ = source_shape(s, upload)
        summary, _ = model_summary(s, n_features)
        problems = [*notes, *check_run(s, upload)]
        issues = [html.Strong("Before starting:"), html.Ul([html.Li(p) for p in problems])] if problems else []
        return summary, issues, share_href(s)

    @app.callback(
        Output(Ids.OPT_ROWS, "children"),
        Output(Ids.OPT_ADD, "disabled"),
        inputs={"add": Input(Ids.OPT_ADD, "n_clicks"),
                "removes": Input({"type": OPT_REMOVE, "index": ALL}, "n_clicks")},  # fmt: skip
        state=form_deps(State),
        prevent_initial_call=True,
    )
    def lab_rows(add, removes, **form):  # type: ignore[no-untyped-def]
        trig = ctx.triggered_id
        rows = form_rows(form)
        if trig == Ids.OPT_ADD and add:
            rows = edit_rows(rows, "add")
        elif isinstance(trig, Mapping) and trig.get("type") == OPT_REMOVE and any(
            t.get("value") for t in ctx.triggered
        ):
            ids = form.get("opt_ids")
            order = [i.get("index") for i in ids if isinstance(i, Mapping)] if isinstance(ids, list) else []
            if trig.get("index") not in order:
                raise PreventUpdate
            rows = edit_rows(rows, "remove", order.index(trig.get("index")))
        else:
            raise PreventUpdate
        return opt_cards(rows), len(rows) >= MAX_OPTIMIZERS

    @app.callback(
        Output({"type": OPT_PARAMS, "index": MATCH}, "children"),
        Output({"type": OPT_FOR, "index": MATCH}, "data"),
        Input({"type": OPT_NAME, "index": MATCH}, "value"),
        State({"type": OPT_FOR, "index": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def lab_opt_kind(name, built_for):  # type: ignore[no-untyped-def]
        if not isinstance(name, str) or name == built_for or name not in KEY_PARAMS:
            raise PreventUpdate
        index = ctx.triggered_id.get("index") if isinstance(ctx.triggered_id, Mapping) else 0
        if isinstance(index, bool) or not isinstance(index, int):
            raise PreventUpdate
        return opt_params(index, name), name

    @app.callback(
        Output(Ids.NOTICE, "hidden"),
        Input(Ids.NOTICE_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    def lab_notice_close(n):  # type: ignore[no-untyped-def]
        if not n:
            raise PreventUpdate
        return True


__all__ = [
    "DEFAULT",
    "PATH",
    "TITLE",
    "Ids",
    "LabSettings",
    "OptChoice",
    "RaceQueue",
    "build_layout",
    "check_run",
    "layout",
    "register_callbacks",
    "run_job",
    "sanitize",
    "standalone_app",
    "to_query",
    "training_slots",
    "warm",
]
