"""Component ids of the Sweep maps page: the :class:`Ids` of its fixed components and the
builders of its pattern-matching ids (surface parameters, hyperparameters, lesson buttons).

Every id starts with ``maps-``, so the page never collides with the Explorer's or the lab's.
"""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    """Component ids of the page (all prefixed ``maps-``; the Explorer's ids never are)."""

    ROOT = "maps-root"
    VIEW = "maps-view"  # the map and its toolbar (the skip link's target)
    STATE = "maps-state"  # the current, validated configuration (+ its query)
    REQUEST = "maps-request"  # the configuration to compute (written by Compute and the lessons)
    JOB_REQUEST = "maps-job-request"  # a request the result cache cannot answer: the background job's input
    META = "maps-meta"  # the configuration of the map on screen (for clicks)
    URL_SINK = "maps-url-sink"
    NOTICE = "maps-notice"
    LESSON = "maps-lesson"
    PRESETS = "maps-presets"

    KIND = "maps-kind"
    SHOW = "maps-show"
    GRID = "maps-grid"
    STEPS = "maps-steps"
    WORK = "maps-work"

    SURFACE = "maps-surface"
    SURFACE_PARAMS = "maps-surface-params"
    FORMULA_BOX = "maps-formula-box"
    FORMULA = "maps-formula"
    XMIN = "maps-xmin"
    XMAX = "maps-xmax"
    YMIN = "maps-ymin"
    YMAX = "maps-ymax"

    OPTIMIZER = "maps-optimizer"
    HYPER = "maps-hyper"
    CONVENTION = "maps-convention"

    AXES_BOX = "maps-axes-box"
    AX_KEY = "maps-ax-key"
    AX_LOW = "maps-ax-low"
    AX_HIGH = "maps-ax-high"
    AX_LOG = "maps-ax-log"
    AY_KEY = "maps-ay-key"
    AY_LOW = "maps-ay-low"
    AY_HIGH = "maps-ay-high"
    AY_LOG = "maps-ay-log"
    START_X = "maps-start-x"
    START_Y = "maps-start-y"

    NOISE = "maps-noise"
    SEED = "maps-seed"
    BATCH = "maps-batch-size"  # data surfaces: minibatch size (0: the full batch)
    CLIP = "maps-clip"
    CLIP_VALUE = "maps-clip-value"
    SCHEDULE_NOTE = "maps-schedule-note"

    RUN = "maps-run"
    CANCEL = "maps-cancel"
    PROGRESS_BOX = "maps-progress-box"
    PROGRESS = "maps-progress"
    PROGRESS_TEXT = "maps-progress-text"
    STATUS = "maps-status"
    GRAPH = "maps-graph"
    GRAPH_CAPTION = "maps-graph-caption"  # the map's title as text that wraps, on a phone (assets/maps.js)
    CAPTION_SINK = "maps-caption-sink"
    EXPLAIN = "maps-explain"
    PIXEL = "maps-pixel"
    PICK_X = "maps-pick-x"
    PICK_Y = "maps-pick-y"
    PICK = "maps-pick"
    PICK_LABEL_X = "maps-pick-label-x"
    PICK_LABEL_Y = "maps-pick-label-y"

    LIVE = "maps-live"  # the live slider's panel (app.maps.live)
    LIVE_SETTING = "maps-live-setting"  # which setting the slider drags
    LIVE_SLIDER = "maps-live-slider"
    LIVE_VALUE = "maps-live-value"
    LIVE_STATUS = "maps-live-status"
    LIVE_INFO = "maps-live-info"  # the dragged setting: id, label, range, scale, value, and the map's query
    LIVE_COMMIT = "maps-live-commit"  # a released value {p, v, n}: the full map follows
    LIVE_SINK = "maps-live-sink"

    EXPORT_BOX = "maps-export-box"
    EXPORT_FORMAT = "maps-export-format"
    EXPORT_SIZE = "maps-export-size"
    EXPORT = "maps-export"
    EXPORT_STATUS = "maps-export-status"
    EXPORT_DOWNLOAD = "maps-export-download"


class Pattern(StrEnum):
    """The ``type`` of the page's pattern-matching ids (one per family of generated controls)."""

    SURFACE_PARAM = "maps-sp"  # number input of a surface parameter
    HYPER_NUM = "maps-hp"  # number input of a numeric hyperparameter
    HYPER_FLAG = "maps-hf"  # checklist (bool) or radio items (choice) of a hyperparameter
    PRESET = "maps-preset"


def sp_id(key: str) -> dict[str, str]:
    """The number input of the surface parameter ``key``."""
    return {"type": Pattern.SURFACE_PARAM.value, "key": key}


def hp_id(key: str) -> dict[str, str]:
    """The number input of the numeric hyperparameter ``key``."""
    return {"type": Pattern.HYPER_NUM.value, "key": key}


def hf_id(key: str) -> dict[str, str]:
    """The checklist (bool) or radio items (choice) of the hyperparameter ``key``."""
    return {"type": Pattern.HYPER_FLAG.value, "key": key}


def preset_id(name: str) -> dict[str, str]:
    """The button of the lesson ``name``."""
    return {"type": Pattern.PRESET.value, "name": name}
