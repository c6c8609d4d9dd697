"""Component ids of the Explorer, and every other name its Python and ``assets/explorer.js`` share.

Plain ids are members of :class:`Ids` (a ``StrEnum``, so a member *is* its
string).  The controls that come and go with the configuration (optimizer
cards, surface and schedule parameters, presets) use pattern-matching ids built
by the helpers below; their ``type`` values are members of :class:`Kind`.
A pattern id's ``slot`` is a card's position in the race (the optimizer's index
in the configuration's list); its ``color`` is something else (0–7, the colour
and the place in the map's traces).

The browser's code names none of these itself: the page's root carries
:data:`BROWSER_NAMES` as JSON in its :data:`NAMES_ATTRIBUTE`, which
``assets/explorer.js`` reads the first time it needs a name (the layout is in
the page by then: every lookup runs in an event handler or a clientside
callback).  ``tests/app/explorer/test_explorer_ids.py`` checks that the script
has no literal of any of them.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class Ids(StrEnum):
    URL = "url"
    CONFIG = "config-store"  # the current, validated configuration (dict)
    PAYLOAD = "payload-store"  # trajectories for the animation engine
    PAYLOAD_FIRST = "payload-first-store"  # the same, for the server-rendered page (no callback writes it)
    MAP_META = "map-meta-store"  # key of the surface drawn on the map
    ENGINE_SINK = "engine-sink"  # output of clientside callbacks that only act
    ENGINE_SINK_FIRST = "engine-sink-first"
    CLICK = "click-store"  # the last point clicked on the map (set by assets/explorer.js)
    TEX_READY = "tex-ready-store"  # set by assets/explorer.js once the first map is on screen: MathJax may run
    SLIDER_COMMIT = "slider-commit-store"  # {id, n}: a slider settled on a new position (set by assets/explorer.js)
    RENDERED = "rendered-store"
    BOOT = "boot-store"  # set once the first callback has compared the page with its URL  # bumped whenever the controls are re-rendered from a configuration
    NOTICE = "notice"
    LESSON = "lesson"
    PRESETS = "presets"

    SURFACE = "surface"
    SURFACE_PARAMS = "surface-params"
    SURFACE_INFO = "surface-info"
    SURFACE_TEX = "surface-tex"
    FORMULA_BOX = "formula-box"
    FORMULA = "formula"
    FORMULA_ERROR = "formula-error"
    XMIN = "formula-xmin"
    XMAX = "formula-xmax"
    YMIN = "formula-ymin"
    YMAX = "formula-ymax"

    START_X = "start-x"
    START_Y = "start-y"
    STEPS = "steps"

    SCHEDULE = "schedule"
    SCHEDULE_PARAMS = "schedule-params"
    CLIP = "clip"
    CLIP_VALUE = "clip-value"
    NOISE = "noise"
    SEED = "seed"
    BATCH = "batch-size"
    BATCH_ROW = "batch-row"  # shown on data surfaces only
    BATCH_INFO = "batch-info"  # the regime ("online", "mini-batch", "full batch") and n

    # the data panel (data surfaces only): drawn and edited by assets/data_panel.js
    DATA_PANEL = "data-panel"
    DATA_PLOT = "data-plot"
    DATA_NOTE = "data-note"  # what the panel shows and whether the edits are in the link
    POINTS = "points-store"  # {"points", "key", "n"}: the edited points (set by assets/data_panel.js and uploads)
    UPLOAD = "points-upload"
    UPLOAD_ERROR = "points-upload-error"
    DOWNLOAD = "points-download"
    DOWNLOAD_BUTTON = "points-download-button"
    REMOVE_LAST = "points-remove-last"
    RESET_POINTS = "points-reset"
    DELETE_MODE = "points-delete-mode"
    POINTS_TABLE = "points-table"  # the first points as number fields (filled by assets/data_panel.js)
    BATCH_CONTOURS = "batch-contours"  # toggle: the current step's minibatch loss over the map

    ADD_CHOICE = "add-optimizer-choice"
    ADD = "add-optimizer"
    CARDS = "optimizer-cards"

    VIEW = "view"
    ARROWS = "arrows"
    CROSS = "curvature-cross"  # toggle of the curvature cross at the balls (read by assets/explorer.js)
    BASINS = "basins-toggle"  # toggle: the map coloured by where each start ends (assets/explorer_basins.js)
    BASINS_NOTE = "basins-note"  # what the basins layer's colours mean (its caption and legend)
    MAP = "map"
    MAP_WRAP = "map-wrap"
    LEGEND = "legend"
    DIAGNOSTICS = "diagnostics"
    VIEW_SECTION = "explorer-view"  # the section holding map, player, race board and diagnostics
    STAGE = "explorer-stage"  # toolbar, map, race board and player: what goes full screen
    SIDEBAR = "explorer-controls"  # the controls column (collapsed by assets/explorer_layout.js)
    SIDEBAR_TOGGLE = "sidebar-toggle"  # hides or shows the controls column (aria-expanded)
    FULL_SCREEN = "map-full-screen"  # puts the stage full screen (or maximised where the API is missing)
    JUMP = "view-jump"  # narrow screens: the floating "Controls ↓ / Map ↑" switch
    KEYS_OPEN = "keys-open"  # opens the keyboard shortcuts' dialog (as "?" does)
    KEYS_DIALOG = "keys-dialog"  # the modal <dialog> listing the shortcuts
    KEYS_CLOSE = "keys-close"
    RACE_SUMMARY = "race-summary"  # a polite live region: one sentence on the race when playback stops

    # the player: wired in assets/explorer.js, not through Dash callbacks
    PLAYER = "player"
    PLAY = "play"
    TO_START = "to-start"
    STEP_BACK = "step-back"
    STEP_FORWARD = "step-forward"
    SPEED = "speed"
    SCRUBBER = "scrubber"
    STEP_LABEL = "step-label"


class Kind(StrEnum):
    """``type`` of the pattern-matching ids."""

    NUM = "num"  # the exact number input of a numeric parameter (source of truth)
    SLIDER = "slider"  # its slider (log10 of the value when scale == "log")
    FLAG = "flag"  # a bool (checklist) or choice (radio) hyperparameter
    CARD_META = "card-meta"  # dcc.Store with the optimizer name and colour of a card
    RULE = "rule"  # the card's update rule (MathJax), filled after the first paint
    REMOVE = "remove"
    DUPLICATE = "duplicate"
    PRESET = "preset"


class Group(StrEnum):
    """Which family a numeric parameter belongs to."""

    HYPER = "hp"  # optimizer hyperparameter; slot = the card's position
    SURFACE = "sp"  # surface parameter; slot = 0
    SCHEDULE = "sch"  # schedule parameter; slot = 0


def num_id(group: str, slot: int, key: str, scale: str) -> dict[str, Any]:
    return {"type": Kind.NUM.value, "group": group, "slot": slot, "key": key, "scale": scale}


def slider_id(group: str, slot: int, key: str, scale: str) -> dict[str, Any]:
    return {"type": Kind.SLIDER.value, "group": group, "slot": slot, "key": key, "scale": scale}


def flag_id(slot: int, key: str) -> dict[str, Any]:
    return {"type": Kind.FLAG.value, "slot": slot, "key": key}


def card_id(kind: Kind, slot: int) -> dict[str, Any]:
    return {"type": kind.value, "slot": slot}


def preset_id(name: str) -> dict[str, Any]:
    return {"type": Kind.PRESET.value, "name": name}


class BrowserIds(StrEnum):
    """Ids of elements ``assets/explorer.js`` creates itself (the layout has none of them)."""

    SCRUBBER_RANGE = "scrubber-range"  # the player's step slider, inside Ids.SCRUBBER
    EPOCH_TICKS = "epoch-ticks"  # the epoch boundaries under the step slider (minibatch runs)


class Hooks(StrEnum):
    """Class names and attributes the layout sets and ``assets/explorer.js`` finds elements by."""

    NOTICE_CLOSE = "notice-close"  # class of a notice's dismiss button
    NUM_SLIDER = "num-slider"  # class of a numeric parameter's slider
    DIAG_PANEL = "diag-panel"  # class of the element a diagnostic panel is drawn into
    CARD_STATUS = "data-card-status"  # attribute of a card's outcome line; its value: the optimizer's colour


#: the fast path's route (served by :mod:`app.explorer.fastpath`, asked for by assets/explorer.js)
RACE_ROUTE = "/_descent/race"

#: the basins layer's route (served by :mod:`app.explorer.basins`, asked for by assets/explorer_basins.js)
BASINS_ROUTE = "/_descent/basins"

#: the revision of the map figure and payload in the served page (the engine prefers any newer one)
PAGE_REV = "page"

#: the namespace of the clientside functions ``assets/explorer.js`` defines
CLIENTSIDE_NAMESPACE = "descent"

#: the attribute of the page's root holding :data:`BROWSER_NAMES` (the one name the script spells out)
NAMES_ATTRIBUTE = "data-explorer-names"

#: every name ``assets/explorer.js`` looks up, under the key it uses for it
BROWSER_NAMES: dict[str, str] = {
    "map": Ids.MAP,
    "mapWrap": Ids.MAP_WRAP,
    "legend": Ids.LEGEND,
    "diagnostics": Ids.DIAGNOSTICS,
    "cross": Ids.CROSS,
    "notice": Ids.NOTICE,
    "player": Ids.PLAYER,
    "play": Ids.PLAY,
    "toStart": Ids.TO_START,
    "stepBack": Ids.STEP_BACK,
    "stepForward": Ids.STEP_FORWARD,
    "speed": Ids.SPEED,
    "scrubber": Ids.SCRUBBER,
    "scrubberRange": BrowserIds.SCRUBBER_RANGE,
    "stepLabel": Ids.STEP_LABEL,
    "dataPanel": Ids.DATA_PANEL,
    "dataPlot": Ids.DATA_PLOT,
    "dataNote": Ids.DATA_NOTE,
    "points": Ids.POINTS,
    "removeLast": Ids.REMOVE_LAST,
    "resetPoints": Ids.RESET_POINTS,
    "deleteMode": Ids.DELETE_MODE,
    "batchContours": Ids.BATCH_CONTOURS,
    "basins": Ids.BASINS,
    "basinsNote": Ids.BASINS_NOTE,
    "basinsRoute": BASINS_ROUTE.lstrip("/"),  # relative to Dash's requests prefix
    "pointsTable": Ids.POINTS_TABLE,
    "uploadError": Ids.UPLOAD_ERROR,
    "epochTicks": BrowserIds.EPOCH_TICKS,
    "click": Ids.CLICK,
    "texReady": Ids.TEX_READY,
    "sliderCommit": Ids.SLIDER_COMMIT,
    "num": Kind.NUM,
    "slider": Kind.SLIDER,
    "hyper": Group.HYPER,
    "noticeClose": Hooks.NOTICE_CLOSE,
    "numSlider": Hooks.NUM_SLIDER,
    "diagPanel": Hooks.DIAG_PANEL,
    "cardStatus": Hooks.CARD_STATUS,
    "race": RACE_ROUTE.lstrip("/"),  # relative to Dash's requests prefix
    "pageRev": PAGE_REV,
    # assets/explorer_layout.js: collapse, full screen, the narrow screens' jump switch
    "stage": Ids.STAGE,
    "sidebar": Ids.SIDEBAR,
    "sidebarToggle": Ids.SIDEBAR_TOGGLE,
    "fullScreen": Ids.FULL_SCREEN,
    "jump": Ids.JUMP,
    # assets/explorer_input.js: page-wide keys, the shortcuts' dialog, tap and drag on the map, the
    # spoken race summary
    "keysOpen": Ids.KEYS_OPEN,
    "keysDialog": Ids.KEYS_DIALOG,
    "keysClose": Ids.KEYS_CLOSE,
    "raceSummary": Ids.RACE_SUMMARY,
}


def names_json() -> str:
    """:data:`BROWSER_NAMES` as the compact JSON the page's root carries."""
    return json.dumps({k: str(v) for k, v in BROWSER_NAMES.items()}, separators=(",", ":"))
