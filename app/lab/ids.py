"""The names the lab uses outside Python: its path and title, component ids, and its keys in the job store.

Every component id of the page is an :class:`Ids` value or a pattern id of an optimizer card
(:func:`card_id`, one of the ``OPT_*`` types with the card's index).  The clientside functions in
``assets/lab.js`` get the ids they need as callback arguments (a component's ``id`` property),
so no id is written twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dash import ALL

PATH = "/lab"
TITLE = "Autoencoder lab"

#: the lab's keys in the job store (uploads, cancel flags, heartbeats, the race queue)
KEY_PREFIX = "descent-lab:lab:"


class Ids(StrEnum):
    PAGE = "lab-page"
    VIEW = "lab-view"  # the run bar and the race's curves (the skip link's target)
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
    SKIP = "lab-skip"
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
    PCA = "lab-pca"  # a linear autoencoder against PCA: principal angles and validation errors
    LAST_RACE = "lab-last-race"  # the record of the race that just finished (app.lab.compare)
    KEPT = "lab-kept"  # the finished races kept side by side (session storage)
    KEPT_SECTION = "lab-kept-section"
    KEPT_GRAPH = "lab-kept-graph"
    KEPT_TABLE = "lab-kept-table"
    KEPT_CLEAR = "lab-kept-clear"
    LAND_METHOD = "lab-land-method"
    LAND_STORE = "lab-land-store"
    LAND_GRAPH = "lab-land-graph"
    SPECTRUM = "lab-spectrum-graph"
    CURV_LINKS = "lab-curvature-links"


#: pattern-matching id types of the optimizer cards: the optimizer, its learning rate, its first and
#: second key hyperparameter, the optimizer its fields were built for, the fields' box, the remove button
OPT_NAME = "lab-opt-name"
OPT_LR = "lab-opt-lr"
OPT_P1 = "lab-opt-p1"
OPT_P2 = "lab-opt-p2"
OPT_FOR = "lab-opt-for"
OPT_PARAMS = "lab-opt-params"
OPT_REMOVE = "lab-opt-remove"
#: pattern-matching id type of a kept race's Remove button (its index is the race record's id)
KEPT_REMOVE = "lab-kept-remove"
#: the card field types that hold the key hyperparameters, in the order of the registry's ``card_keys``
OPT_KEY_FIELDS = (OPT_P1, OPT_P2)


def card_id(kind: str, index: Any) -> dict[str, Any]:
    """The id of one part (``kind``, an ``OPT_*`` type) of the card at ``index`` (or ALL / MATCH)."""
    return {"type": kind, "index": index}


def every_card(kind: str) -> dict[str, Any]:
    """The pattern id of that part on every card (values arrive as a list, in page order)."""
    return card_id(kind, ALL)
