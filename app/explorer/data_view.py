"""What the Explorer shows of a data surface's points: the payload's ``data`` part, the batch regime, CSV in and out.

:func:`data_payload` is what ``assets/data_panel.js`` draws the data panel and the minibatch contours
from: the points (float64, base64, one array per column, as given: not centred), the model's fixed
parts (centring, bias, λ), the data set's key (an edit applies to it only) and, when the steps use
minibatches, the batch schedule: each epoch's order of the points (uint16, base64), the batch size and
the steps per epoch, so that step t's batch is ``orders[e][lo:hi]`` exactly as
:meth:`optimizers.batches.BatchSchedule.indices` gives it.  The orders are bounded
(:data:`MAX_ORDER_ENTRIES`): a run with more epochs lists the first ones, and the page says the later
steps' minibatch contours are not drawn.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from app.explorer.config import ExplorerConfig
from app.explorer.points import MAX_LINK_CHARS, MAX_LINK_POINTS, canonical, in_link
from optimizers.batches import regime, schedule
from surfaces.data import COLUMNS, KIND_OF_SURFACE, MAX_CSV_BYTES, parse_csv, to_csv

#: the most point indices the batch schedule sends (epochs × n)
MAX_ORDER_ENTRIES = 65536


def n_points(cfg: ExplorerConfig) -> int:
    """The number of points of a data surface's configuration (edited, or the generator's n)."""
    if cfg.points is not None:
        return len(cfg.points)
    return int(dict(cfg.surface_params).get("n", 0))


def batch_info(cfg: ExplorerConfig) -> str:
    """'mini-batch · B = 8 of n = 256 · 32 steps per epoch' (the lecture notes' names); '' off a data surface."""
    if not cfg.is_data:
        return ""
    n = n_points(cfg)
    name = regime(n, cfg.batch_size)
    if name == "full batch":
        return f"full batch · n = {n}"
    per = -(-n // cfg.batch_size)
    return f"{name} · B = {cfg.batch_size} of n = {n} · {per} steps per epoch"


def _b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def batch_payload(cfg: ExplorerConfig, n: int) -> dict[str, Any] | None:
    """The batch schedule the browser needs (None on the full batch)."""
    sched = schedule(n, cfg.modifiers(), cfg.steps)
    if sched is None:
        return None
    epochs = max(1, min(sched.orders.shape[0], MAX_ORDER_ENTRIES // max(n, 1)))
    return {
        "size": sched.batch_size,
        "perEpoch": sched.per_epoch,
        "epochs": int(epochs),
        "allEpochs": -(-cfg.steps // sched.per_epoch),
        "orders": _b64(sched.orders[:epochs].reshape(-1), "<u2"),
    }


def data_payload(result: Any) -> dict[str, Any] | None:
    """The ``data`` part of the race's payload (None off a data surface or without a surface)."""
    cfg, surface = result.config, result.surface
    if not cfg.is_data or surface is None or surface.points is None:
        return None
    pts = np.asarray(surface.points, dtype=np.float64)
    params = dict(cfg.surface_params)
    n = int(pts.shape[0])
    kind = KIND_OF_SURFACE[cfg.surface]
    return {
        "surface": cfg.surface,
        "kind": kind,
        "columns": list(COLUMNS[kind]),
        "n": n,
        "cols": [_b64(pts[:, c], "<f8") for c in range(pts.shape[1])],
        "center": bool(params.get("center", 0.0)),
        "bias": float(params.get("bias", 0.0)),
        "l2": float(params.get("l2", 0.0)),
        "key": cfg.data_key(),
        "edited": cfg.points is not None,
        "inLink": cfg.points is None or in_link(cfg.points),
        "maxLink": MAX_LINK_POINTS,
        "maxLinkChars": MAX_LINK_CHARS,
        "maxCsvBytes": MAX_CSV_BYTES,
        "regime": batch_info(cfg),
        "batch": batch_payload(cfg, n),
    }


# --------------------------------------------------------------------------- CSV in and out

#: the longest data URL an upload may be (base64 of MAX_CSV_BYTES plus its header)
MAX_UPLOAD_CHARS = 4 * (MAX_CSV_BYTES // 3 + 1) + 200


def upload_answer(contents: Any, filename: Any, cfg: ExplorerConfig | None) -> dict[str, Any]:
    """The points store and the error line after an upload: ``{"points": store or None, "error": text}``.

    The size is checked on the encoded text before anything is decoded; the text is then read by
    :func:`surfaces.data.parse_csv` (plain numbers only, line-numbered errors)."""
    name = filename if isinstance(filename, str) and 0 < len(filename) <= 80 else "the file"
    if cfg is None or not cfg.is_data:
        return {"points": None, "error": "uploads are for data surfaces (linear regression, logistic regression, tiny network)"}
    if not isinstance(contents, str) or "," not in contents[:200]:
        return {"points": None, "error": f"{name} could not be read"}
    if len(contents) > MAX_UPLOAD_CHARS:
        return {"points": None, "error": f"{name} is larger than {MAX_CSV_BYTES // 1024} kB, the limit for points"}
    try:
        raw = base64.b64decode(contents.split(",", 1)[1], validate=True)
        pts = canonical(cfg.surface, parse_csv(raw, cfg.surface, name))
    except (binascii.Error, ValueError) as exc:
        text = str(exc).strip().splitlines()
        return {"points": None, "error": text[0] if text else f"{name} could not be read"}
    return {"points": {"points": [list(r) for r in pts], "key": cfg.data_key()}, "error": ""}


def download_answer(surface: Any) -> dict[str, Any] | None:
    """The dcc.Download data of the surface's points as CSV (None without points)."""
    if surface is None or surface.points is None:
        return None
    return {"content": to_csv(surface.name, surface.points), "filename": f"{surface.name}-points.csv",
            "type": "text/csv"}  # fmt: skip
