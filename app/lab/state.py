"""The lab's settings and their link form: what the form sets, validated, and the URL codec.

``sanitize`` reads a link's query (strings) or the form's values into :class:`LabSettings`,
repairing what it cannot use with one short note each; ``to_query`` / ``share_href`` write the
link back (only what differs from :data:`DEFAULT`).  Optimizers come from the registry: a card
sets the learning rate and the optimizer's ``card_keys``.  Nothing here touches Dash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from app.lab.limits import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_NOTICES,
    MAX_OPTIMIZERS,
    MAX_QUERY_KEYS,
    MAX_QUERY_VALUE,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_TIME_LIMIT,
    MAX_WIDTH,
    MIN_SAMPLES,
    MIN_TIME_LIMIT,
)
from app.shell.theme import QUERY_KEY as THEME_KEY
from app.shell.validation import clamp_hyper, parse_number, shown
from autoencoder.corrupt import KINDS, Corruption
from autoencoder.model import ACTIVATIONS, INITS, LOSSES, SKIPS, ModelSpec
from optimizers.registry import BY_NAME as OPTIMIZERS
from optimizers.registry import make_config

#: data sources: label, features and image shape (None where the file decides)
SOURCES = {
    "digits": ("Digits (8×8)", 64, (8, 8)),
    "sample_images": ("Photo patches (12×12)", 144, (12, 12)),
    "synthetic": ("Synthetic strokes (28×28)", 784, (28, 28)),
    "file": ("Upload a file", None, None),
}
NOISES = ("none", "gaussian", "salt_pepper", "blur", "knockout")
NOISE_LABELS = {"none": "none", "gaussian": "Gaussian", "salt_pepper": "salt and pepper", "blur": "blur",
                "knockout": "knockout"}  # fmt: skip
SKIP_LABELS = {"none": "none", "shallow": "shallow (input → output)", "deep": "deep (around the bottleneck)",
               "both": "both (shallow and deep)"}  # fmt: skip
INIT_LABELS = {"xavier": "Xavier (normal)", "xavier_uniform": "Glorot (uniform)", "he": "He",
               "naive": "naive (σ = 0.01)"}  # fmt: skip


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
    skip: str = "none"  # one of autoencoder.model.SKIPS
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


def _skip(raw: Any, default: str, notes: Notes) -> str:
    """A skip variant (SKIPS); a true/false flag (older links, a checkbox) reads as shallow / none."""
    if isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on", "0",
                                                                                     "false", "no", "off", "")):
        return "shallow" if _flag(raw, False, "skip connection", notes) else "none"
    return _choice(raw, SKIPS, default, "skip connection", notes)


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
        spec = OPTIMIZERS.get(name) if isinstance(name, str) else None
        if spec is None:
            notes.add(f"optimizer {n}: {shown(name)} is not an optimizer; left out")
            continue
        allowed = ("lr",) + spec.card_keys
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
    unknown = [k for k in raw if k not in QUERY_KEYS and k != THEME_KEY]  # the theme is the browser's (assets/theme.js)
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
    skip = _skip(get("skip"), d.skip, notes) if has("skip") else d.skip
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
